import SegCore

/// The twelve COCO summary numbers, in pycocotools' `stats` order.
public struct COCOSummary: Equatable, Sendable {
    public static let names = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
    /// -1 where undefined (no counted ground truth), as pycocotools reports it.
    public var stats: [Double]

    public init(stats: [Double]) { self.stats = stats }

    public subscript(name: String) -> Double? {
        guard let i = Self.names.firstIndex(of: name) else { return nil }
        return stats[i]
    }
}

extension COCOEvaluation {
    /// pycocotools' `summarize`: the twelve numbers as means over the table's defined entries
    /// (-1 where none is), over every category or only `category`.
    static func summarize(params: COCOEvalParams, precision: COCOTable, recall: COCOTable, categoryCount K: Int,
                          only category: Int?) -> COCOSummary {
        let maxDets = params.maxDets
        let top = maxDets.last ?? 100
        func value(ap: Bool, iou: Double? = nil, area: String = "all", maxDet: Int) -> Double {
            let T = params.iouThresholds.count, R = params.recallThresholds.count
            let A = params.areaRanges.count, M = maxDets.count
            let ts = (0..<T).filter { iou == nil || params.iouThresholds[$0] == iou }
            let aInd = (0..<A).filter { params.areaRanges[$0].label == area }
            let mInd = (0..<M).filter { maxDets[$0] == maxDet }
            let ks = category.map { [$0] } ?? Array(0..<K)
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
        let m0 = maxDets.first ?? 1
        let m1 = maxDets.count > 1 ? maxDets[1] : m0
        return COCOSummary(stats: [
            value(ap: true, maxDet: top),
            value(ap: true, iou: 0.5, maxDet: top),
            value(ap: true, iou: 0.75, maxDet: top),
            value(ap: true, area: "small", maxDet: top),
            value(ap: true, area: "medium", maxDet: top),
            value(ap: true, area: "large", maxDet: top),
            value(ap: false, maxDet: m0),
            value(ap: false, maxDet: m1),
            value(ap: false, maxDet: top),
            value(ap: false, area: "small", maxDet: top),
            value(ap: false, area: "medium", maxDet: top),
            value(ap: false, area: "large", maxDet: top),
        ])
    }
}
