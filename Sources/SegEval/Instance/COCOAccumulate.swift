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

/// The result of a COCO instance evaluation: pycocotools' `eval` arrays and `stats`, the
/// same twelve numbers per category, and the per-(image, category) matching that the failure
/// table, the error breakdown and the comparison read.
public struct COCOEvaluation: Sendable {
    public let params: COCOEvalParams
    /// Sorted by id: pycocotools' `imgIds` order.
    public let images: [COCOImage]
    /// Sorted by id: pycocotools' `catIds` order.
    public let categories: [COCOCategory]
    /// Image-major, category order within an image.
    public let cells: [COCOImageCategoryEval]
    /// T × R × K × A × M, -1 where a category has no counted ground truth.
    public let precision: [Double]
    /// T × K × A × M.
    public let recall: [Double]
    public let summary: COCOSummary
    /// Index k as in `categories`.
    public let perCategory: [COCOSummary]

    init(params: COCOEvalParams, images: [COCOImage], categories: [COCOCategory], cells: [COCOImageCategoryEval],
         workers: Int) {
        self.params = params
        self.images = images
        self.categories = categories
        self.cells = cells
        let (precision, recall) = Self.accumulate(params: params, categoryCount: categories.count, cells: cells, workers: workers)
        self.precision = precision
        self.recall = recall
        summary = Self.summarize(params: params, precision: precision, recall: recall, categoryCount: categories.count, only: nil)
        perCategory = (0..<categories.count).map {
            Self.summarize(params: params, precision: precision, recall: recall, categoryCount: categories.count, only: $0)
        }
    }

    public var stats: [Double] { summary.stats }

    // MARK: accumulate

    /// pycocotools' `accumulate`. Categories are independent, so they run in parallel.
    static func accumulate(params: COCOEvalParams, categoryCount K: Int, cells: [COCOImageCategoryEval],
                           workers: Int) -> (precision: [Double], recall: [Double]) {
        let T = params.iouThresholds.count, R = params.recallThresholds.count
        let A = params.areaRanges.count, M = params.maxDets.count
        var byCategory = [[Int]](repeating: [], count: K)
        for (i, cell) in cells.enumerated() { byCategory[cell.categoryIndex].append(i) }
        let members = byCategory
        let perCategory: [(precision: [Double], recall: [Double])]
        do {
            perCategory = try Parallel.map(K, workers: workers, block: 1) { (k) throws(SegError) in
                accumulateCategory(params: params, cells: cells, members: members[k])
            }
        } catch {
            preconditionFailure("accumulate does not throw")
        }
        var precision = [Double](repeating: -1, count: T * R * K * A * M)
        var recall = [Double](repeating: -1, count: T * K * A * M)
        for k in 0..<K {
            let local = perCategory[k]
            for t in 0..<T {
                for a in 0..<A {
                    for m in 0..<M {
                        recall[((t * K + k) * A + a) * M + m] = local.recall[(t * A + a) * M + m]
                        for r in 0..<R {
                            precision[(((t * R + r) * K + k) * A + a) * M + m] = local.precision[((t * R + r) * A + a) * M + m]
                        }
                    }
                }
            }
        }
        return (precision, recall)
    }

    /// One category: local arrays T × R × A × M and T × A × M.
    static func accumulateCategory(params: COCOEvalParams, cells: [COCOImageCategoryEval],
                                   members: [Int]) -> (precision: [Double], recall: [Double]) {
        let T = params.iouThresholds.count, R = params.recallThresholds.count
        let A = params.areaRanges.count, M = params.maxDets.count
        var precision = [Double](repeating: -1, count: T * R * A * M)
        var recall = [Double](repeating: -1, count: T * A * M)
        if members.isEmpty { return (precision, recall) }
        let recallThresholds = params.recallThresholds
        // np.spacing(1): the gap after 1.0, added to the denominator as pycocotools does.
        let epsilon = Double.ulpOfOne
        var scores: [Double] = []
        var refs: [(cell: Int32, d: Int32)] = []
        var tp = [Double](), fp = [Double](), rc = [Double](), pr = [Double]()
        for m in 0..<M {
            let maxDet = params.maxDets[m]
            scores.removeAll(keepingCapacity: true)
            refs.removeAll(keepingCapacity: true)
            for c in members {
                let cell = cells[c]
                for d in 0..<min(cell.detectionCount, maxDet) {
                    scores.append(cell.scores[d])
                    refs.append((Int32(c), Int32(d)))
                }
            }
            // np.argsort(-scores, kind='mergesort'): descending, ties in concatenation order.
            var order = Array(0..<scores.count)
            order.sort { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            let nd = order.count
            tp = [Double](repeating: 0, count: nd)
            fp = [Double](repeating: 0, count: nd)
            rc = [Double](repeating: 0, count: nd)
            pr = [Double](repeating: 0, count: nd)
            for a in 0..<A {
                var npig = 0
                for c in members { npig += Int(cells[c].nonIgnoredCount[a]) }
                if npig == 0 { continue }
                for t in 0..<T {
                    var tpSum = 0.0, fpSum = 0.0
                    for (i, j) in order.enumerated() {
                        let ref = refs[j]
                        let cell = cells[Int(ref.cell)]
                        let f = cell.flags[(a * T + t) * cell.detectionCount + Int(ref.d)]
                        if f & 2 == 0 {
                            if f & 1 != 0 { tpSum += 1 } else { fpSum += 1 }
                        }
                        tp[i] = tpSum
                        fp[i] = fpSum
                    }
                    let npigD = Double(npig)
                    for i in 0..<nd {
                        rc[i] = tp[i] / npigD
                        pr[i] = tp[i] / (fp[i] + tp[i] + epsilon)
                    }
                    recall[(t * A + a) * M + m] = nd > 0 ? rc[nd - 1] : 0
                    var i = nd - 1
                    while i > 0 {
                        if pr[i] > pr[i - 1] { pr[i - 1] = pr[i] }
                        i -= 1
                    }
                    // searchsorted(rc, recThrs, side='left'); an index past the end stops the
                    // filling (pycocotools' try/except), leaving zeros.
                    var p = 0
                    for r in 0..<R {
                        let threshold = recallThresholds[r]
                        while p < nd && rc[p] < threshold { p += 1 }
                        let index = ((t * R + r) * A + a) * M + m
                        if p >= nd {
                            for rr in r..<R { precision[((t * R + rr) * A + a) * M + m] = 0 }
                            break
                        }
                        precision[index] = pr[p]
                    }
                }
            }
        }
        return (precision, recall)
    }

    // MARK: summarize

    static func summarize(params: COCOEvalParams, precision: [Double], recall: [Double], categoryCount K: Int,
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
                                    let v = precision[(((t * R + r) * K + k) * A + a) * M + m]
                                    if v > -1 { sum += v; count += 1 }
                                }
                            } else {
                                let v = recall[((t * K + k) * A + a) * M + m]
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
