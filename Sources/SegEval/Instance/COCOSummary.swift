import SegCore

/// The summary numbers of an instance evaluation, named: pycocotools' twelve `stats` (AR names
/// follow the maxDets given: AR1, AR10, AR100 by default), or LVISEval's thirteen results, then
/// AP and AR of any area range beyond all/small/medium/large.
public struct COCOSummary: Equatable, Sendable {
    public var names: [String]
    /// -1 where undefined (no counted ground truth), as the reference tools report it.
    public var stats: [Double]

    public init(names: [String], stats: [Double]) {
        self.names = names
        self.stats = stats
    }

    public subscript(name: String) -> Double? {
        guard let i = names.firstIndex(of: name) else { return nil }
        return stats[i]
    }

    /// The headline (AP over IoU 0.50:0.95) comes first in both protocols.
    public var ap: Double { stats[0] }

    /// pycocotools' `summarize` reads maxDets[0], [1] and [2] (its evaluation truncates at the last).
    public static let cocoMaxDetsNeeded = 3
    static let standardAreas: Set<String> = ["all", "small", "medium", "large"]
}

extension COCOEvaluation {
    /// pycocotools' `summarize` or LVISEval's `summarize` (by the parameters' protocol): means over
    /// the table's defined entries (-1 where none is), over every category or only `category`.
    static func summarize(params: COCOEvalParams, precision: COCOTable, recall: COCOTable, categories: [COCOCategory],
                          only category: Int?) -> COCOSummary {
        let all = category.map { [$0] } ?? Array(categories.indices)
        func value(ap: Bool, iou: Double? = nil, area: String = "all", maxDet: Int, among ks: [Int] = all) -> Double {
            let T = params.iouThresholds.count, R = params.recallThresholds.count
            let ts = (0..<T).filter { iou == nil || params.iouThresholds[$0] == iou }
            let aInd = params.areaRanges.indices.filter { params.areaRanges[$0].label == area }
            let mInd = params.maxDets.indices.filter { params.maxDets[$0] == maxDet }
            var sum = 0.0
            var count = 0
            for t in ts {
                for a in aInd {
                    for m in mInd {
                        for k in ks {
                            if ap {
                                for r in 0..<R {
                                    let v = precision[t, r, k, a, m]
                                    if v > -1 { sum += v; count += 1 }
                                }
                            } else {
                                let v = recall[t, k, a, m]
                                if v > -1 { sum += v; count += 1 }
                            }
                        }
                    }
                }
            }
            return count == 0 ? -1 : sum / Double(count)
        }
        var names: [String] = []
        var stats: [Double] = []
        func add(_ name: String, _ v: Double) { names.append(name); stats.append(v) }
        let maxDets = params.maxDets
        switch params.evaluationProtocol {
        case .coco:
            let m0 = maxDets[0], m1 = maxDets[min(1, maxDets.count - 1)], m2 = maxDets[min(2, maxDets.count - 1)]
            // pycocotools' `_summarize(1)` for stats[0] keeps its default maxDets=100 whatever the
            // parameters say (-1 when 100 is not among them); kept to agree with it, and the AP at
            // maxDets[2] is added below under its own name.
            add("AP", value(ap: true, maxDet: 100))
            add("AP50", value(ap: true, iou: 0.5, maxDet: m2))
            add("AP75", value(ap: true, iou: 0.75, maxDet: m2))
            add("APs", value(ap: true, area: "small", maxDet: m2))
            add("APm", value(ap: true, area: "medium", maxDet: m2))
            add("APl", value(ap: true, area: "large", maxDet: m2))
            add("AR\(m0)", value(ap: false, maxDet: m0))
            add("AR\(m1)", value(ap: false, maxDet: m1))
            add("AR\(m2)", value(ap: false, maxDet: m2))
            add("ARs", value(ap: false, area: "small", maxDet: m2))
            add("ARm", value(ap: false, area: "medium", maxDet: m2))
            add("ARl", value(ap: false, area: "large", maxDet: m2))
            for range in params.areaRanges where !COCOSummary.standardAreas.contains(range.label) {
                add("AP_\(range.label)", value(ap: true, area: range.label, maxDet: m2))
                add("AR_\(range.label)", value(ap: false, area: range.label, maxDet: m2))
            }
            if m2 != 100 { add("AP@\(m2)", value(ap: true, maxDet: m2)) }
        case .lvis:
            // LVISEval: one maxDets; AP of the rare, common and frequent categories (by the
            // ground truth's `frequency`), then AR at maxDets.
            let m = maxDets[0]
            add("AP", value(ap: true, maxDet: m))
            add("AP50", value(ap: true, iou: 0.5, maxDet: m))
            add("AP75", value(ap: true, iou: 0.75, maxDet: m))
            add("APs", value(ap: true, area: "small", maxDet: m))
            add("APm", value(ap: true, area: "medium", maxDet: m))
            add("APl", value(ap: true, area: "large", maxDet: m))
            for group in ["r", "c", "f"] {
                add("AP\(group)", value(ap: true, maxDet: m, among: all.filter { categories[$0].frequency == group }))
            }
            add("AR@\(m)", value(ap: false, maxDet: m))
            for area in ["small", "medium", "large"] {
                add("AR\(area.first!)@\(m)", value(ap: false, area: area, maxDet: m))
            }
            for range in params.areaRanges where !COCOSummary.standardAreas.contains(range.label) {
                add("AP_\(range.label)", value(ap: true, area: range.label, maxDet: m))
                add("AR_\(range.label)@\(m)", value(ap: false, area: range.label, maxDet: m))
            }
        }
        return COCOSummary(names: names, stats: stats)
    }
}
