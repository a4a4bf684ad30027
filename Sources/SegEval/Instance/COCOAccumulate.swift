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
        var clock = PhaseClock()
        let (precision, recall) = Self.accumulate(params: params, categoryCount: categories.count, cells: cells, workers: workers)
        clock.lap("  accumulate proper")
        self.precision = precision
        self.recall = recall
        summary = Self.summarize(params: params, precision: precision, recall: recall, categoryCount: categories.count, only: nil)
        perCategory = (0..<categories.count).map {
            Self.summarize(params: params, precision: precision, recall: recall, categoryCount: categories.count, only: $0)
        }
        clock.lap("  summarize")
    }

    public var stats: [Double] { summary.stats }

    /// Category `k`'s precision at recall 0, 0.01, …, 1 for IoU 0.5, all areas and the largest
    /// maxDets (the precision–recall curve the metrics view draws), -1 where undefined.
    public func precisionCurve(category k: Int) -> [Double] {
        let t = params.iouThresholds.firstIndex { $0 == 0.5 } ?? 0
        let a = params.areaRanges.firstIndex { $0.label == "all" } ?? 0
        let R = params.recallThresholds.count, K = categories.count, A = params.areaRanges.count, M = params.maxDets.count
        return (0..<R).map { r in precision[(((t * R + r) * K + k) * A + a) * M + (M - 1)] }
    }

    // MARK: accumulate

    /// pycocotools' `accumulate`. Categories are independent, so they run in parallel.
    static func accumulate(params: COCOEvalParams, categoryCount K: Int, cells: [COCOImageCategoryEval],
                           workers: Int) -> (precision: [Double], recall: [Double]) {
        let T = params.iouThresholds.count, R = params.recallThresholds.count
        let A = params.areaRanges.count, M = params.maxDets.count
        var byCategory = [[Int]](repeating: [], count: K)
        for (i, cell) in cells.enumerated() { byCategory[cell.categoryIndex].append(i) }
        let members = byCategory
        var clock = PhaseClock()
        defer { clock.lap("    assemble") }
        let perCategory: [(precision: [Double], recall: [Double])]
        do {
            perCategory = try Parallel.map(K, workers: workers, block: 1) { (k) throws(SegError) in
                accumulateCategory(params: params, cells: cells, members: members[k])
            }
        } catch {
            preconditionFailure("accumulate does not throw")
        }
        clock.lap("    per category")
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
    ///
    /// The category's detections are sorted once (score descending, ties in pycocotools'
    /// concatenation order: image order, then rank within the image); the subset kept for a
    /// smaller maxDets keeps that relative order, so it needs no sort of its own. Flags are copied
    /// into one flat array first so that the per-threshold walks touch contiguous memory.
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
        var rank: [Int32] = []         // the detection's rank within its image and category
        var flagBase: [Int] = []       // offset of the detection's cell in `flags`
        var cellDetections: [Int] = [] // D of the detection's cell
        var flags: [UInt8] = []
        var npig = [Int](repeating: 0, count: A)
        for c in members {
            let cell = cells[c]
            let D = cell.detectionCount
            let base = flags.count
            flags.append(contentsOf: cell.flags)
            for a in 0..<A { npig[a] += Int(cell.nonIgnoredCount[a]) }
            for d in 0..<D {
                scores.append(cell.scores[d])
                rank.append(Int32(d))
                flagBase.append(base)
                cellDetections.append(D)
            }
        }
        var order = Array(0..<scores.count)
        scores.withUnsafeBufferPointer { s in
            order.sort { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
        }
        let n = order.count
        // Scratch for the curves, allocated once per category; the loops below run
        // T × A × M times over every detection of the category.
        let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, 2 * n))
        defer { scratch.deallocate() }
        let rc = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        let pr = UnsafeMutableBufferPointer(rebasing: scratch[n..<(2 * n)])
        var flagIndex = [Int](repeating: 0, count: n)  // flag offset of kept[i] for (a, t) = (0, 0)
        var flagStride = [Int](repeating: 0, count: n) // its cell's D: the step from one (a, t) to the next
        // Written through pointers: checked, uniqueness-tested array stores were a visible part
        // of this loop, which runs T × A × M times over every detection of the category.
        precision.withUnsafeMutableBufferPointer { precisionOut in
        recall.withUnsafeMutableBufferPointer { recallOut in
        recallThresholds.withUnsafeBufferPointer { thresholds in
        flags.withUnsafeBufferPointer { f in
        flagIndex.withUnsafeMutableBufferPointer { fi in
        flagStride.withUnsafeMutableBufferPointer { fs in
            for m in 0..<M {
                let maxDet = params.maxDets[m]
                var nd = 0
                for j in order where Int(rank[j]) < maxDet {
                    fi[nd] = flagBase[j] + Int(rank[j])
                    fs[nd] = cellDetections[j]
                    nd += 1
                }
                for a in 0..<A {
                    if npig[a] == 0 { continue }
                    let npigD = Double(npig[a])
                    for t in 0..<T {
                        let at = a * T + t
                        // Cumulative true and false positives, recall and precision in one pass,
                        // over the detections that are not ignored. pycocotools keeps an entry
                        // for an ignored one too, but it repeats its predecessor's recall and
                        // precision (or is 0, 0 before the first counted detection), so neither
                        // the envelope, nor the search, nor the last recall can tell the
                        // difference; leaving them out saves most of the work for the size ranges.
                        var tpSum = 0.0, fpSum = 0.0
                        var counted = 0
                        for i in 0..<nd {
                            let flag = f[fi[i] + at * fs[i]]
                            if flag & 2 != 0 { continue }
                            if flag & 1 != 0 { tpSum += 1 } else { fpSum += 1 }
                            rc[counted] = tpSum / npigD
                            pr[counted] = tpSum / (fpSum + tpSum + epsilon)
                            counted += 1
                        }
                        recallOut[(t * A + a) * M + m] = counted > 0 ? rc[counted - 1] : 0
                        var i = counted - 1
                        while i > 0 {
                            if pr[i] > pr[i - 1] { pr[i - 1] = pr[i] }
                            i -= 1
                        }
                        // searchsorted(rc, recThrs, side='left'); an index past the end stops the
                        // filling (pycocotools' try/except), leaving zeros.
                        var p = 0
                        for r in 0..<R {
                            let threshold = thresholds[r]
                            while p < counted && rc[p] < threshold { p += 1 }
                            if p >= counted {
                                for rr in r..<R { precisionOut[((t * R + rr) * A + a) * M + m] = 0 }
                                break
                            }
                            precisionOut[((t * R + r) * A + a) * M + m] = pr[p]
                        }
                    }
                }
            }
        }
        }
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
