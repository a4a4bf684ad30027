import SegCore

/// The result of a COCO instance evaluation: pycocotools' `eval` arrays and `stats`, the
/// same twelve numbers per category, and the per-(image, category) matching that the failure
/// table, the error breakdown and the comparison read.
public struct COCOEvaluation: Sendable {
    public let params: COCOEvalParams
    /// The inputs as the protocol evaluated them (`COCOInputs.prepared(for:)`): the cells' indices
    /// point into these.
    public let inputs: COCOInputs
    /// Sorted by id: pycocotools' `imgIds` order.
    public let images: [COCOImage]
    /// Sorted by id: pycocotools' `catIds` order.
    public let categories: [COCOCategory]
    /// Image-major, category order within an image.
    public let cells: [COCOImageCategoryEval]
    /// pycocotools' `eval['precision']`, T × R × K × A × M.
    public let precision: COCOTable
    /// pycocotools' `eval['recall']`, T × K × A × M.
    public let recall: COCOTable
    public let summary: COCOSummary
    /// Index k as in `categories`.
    public let perCategory: [COCOSummary]

    init(params: COCOEvalParams, inputs: COCOInputs, images: [COCOImage], categories: [COCOCategory],
         cells: [COCOImageCategoryEval], workers: Int) {
        var clock = PhaseClock()
        let (precision, recall) = Self.accumulate(params: params, categoryCount: categories.count, cells: cells, workers: workers)
        clock.lap("  accumulate proper")
        self.init(params: params, inputs: inputs, images: images, categories: categories, cells: cells,
                  precision: precision, recall: recall)
    }

    /// An evaluation whose tables are already accumulated (the streamed evaluation's, which keeps
    /// no cells: `cells` is then empty).
    init(params: COCOEvalParams, inputs: COCOInputs, images: [COCOImage], categories: [COCOCategory],
         cells: [COCOImageCategoryEval], precision: COCOTable, recall: COCOTable) {
        self.params = params
        self.inputs = inputs
        self.images = images
        self.categories = categories
        self.cells = cells
        var clock = PhaseClock()
        self.precision = precision
        self.recall = recall
        summary = Self.summarize(params: params, precision: precision, recall: recall, categories: categories, only: nil)
        perCategory = (0..<categories.count).map {
            Self.summarize(params: params, precision: precision, recall: recall, categories: categories, only: $0)
        }
        clock.lap("  summarize")
    }

    public var stats: [Double] { summary.stats }

    /// Category `k`'s precision at recall 0, 0.01, …, 1 for IoU 0.5, all areas and the largest
    /// maxDets (the precision–recall curve the metrics view draws), -1 where undefined.
    public func precisionCurve(category k: Int) -> [Double] {
        let t = params.iouThresholds.firstIndex { $0 == 0.5 } ?? 0
        let a = params.areaRanges.firstIndex { $0.label == "all" } ?? 0
        return (0..<precision.layout.recallPoints).map { r in precision[t, r, k, a, precision.layout.maxDets - 1] }
    }

    // MARK: accumulate

    /// pycocotools' `accumulate`. Categories are independent, so they run in parallel.
    static func accumulate(params: COCOEvalParams, categoryCount K: Int, cells: [COCOImageCategoryEval],
                           workers: Int) -> (precision: COCOTable, recall: COCOTable) {
        var byCategory = [[Int]](repeating: [], count: K)
        for (i, cell) in cells.enumerated() { byCategory[cell.categoryIndex].append(i) }
        let members = byCategory
        do {
            return try accumulate(params: params, categoryCount: K, workers: workers) { (k) throws(SegError) in
                accumulateCategory(params: params, cells: cells, members: members[k])
            }
        } catch {
            preconditionFailure("accumulate does not throw")
        }
    }

    /// The same with each category's tables from `category` (its cells may come from a file).
    static func accumulate(params: COCOEvalParams, categoryCount K: Int, workers: Int,
                           category: @Sendable (Int) throws(SegError) -> (precision: COCOTable, recall: COCOTable))
        throws(SegError) -> (precision: COCOTable, recall: COCOTable) {
        let T = params.iouThresholds.count, R = params.recallThresholds.count
        let A = params.areaRanges.count, M = params.maxDets.count
        var clock = PhaseClock()
        defer { clock.lap("    assemble") }
        let perCategory = try Parallel.map(K, workers: workers, block: 1) { (k) throws(SegError) in try category(k) }
        clock.lap("    per category")
        var precision = COCOTable(iouThresholds: T, recallPoints: R, categories: K, areaRanges: A, maxDets: M)
        var recall = COCOTable(iouThresholds: T, categories: K, areaRanges: A, maxDets: M)
        // A category's table holds, for each (t, r), its A × M values in a row, which the whole
        // table holds in a row too: copied as blocks (entry by entry, this serial step took as
        // long as a third of the parallel one before it).
        let block = A * M
        func place(_ local: COCOTable, into table: inout COCOTable, rows: Int, category k: Int) {
            table.values.withUnsafeMutableBufferPointer { out in
                local.values.withUnsafeBufferPointer { source in
                    guard let from = source.baseAddress, let to = out.baseAddress else { return }
                    for row in 0..<rows { (to + (row * K + k) * block).update(from: from + row * block, count: block) }
                }
            }
        }
        for k in 0..<K {
            place(perCategory[k].precision, into: &precision, rows: T * R, category: k)
            place(perCategory[k].recall, into: &recall, rows: T, category: k)
        }
        return (precision, recall)
    }

    /// One category, as pycocotools' loop over (k, a, m) does it: gather and sort the
    /// detections, then per IoU threshold the cumulative curves, their precision envelope and
    /// the precision at each recall threshold. Local tables have one category.
    static func accumulateCategory(params: COCOEvalParams, cells: [COCOImageCategoryEval],
                                   members: [Int]) -> (precision: COCOTable, recall: COCOTable) {
        let T = params.iouThresholds.count, R = params.recallThresholds.count
        let A = params.areaRanges.count, M = params.maxDets.count
        var precision = COCOTable(iouThresholds: T, recallPoints: R, categories: 1, areaRanges: A, maxDets: M)
        var recall = COCOTable(iouThresholds: T, categories: 1, areaRanges: A, maxDets: M)
        if members.isEmpty { return (precision, recall) }
        let detections = SortedDetections(cells: cells, members: members, areaRanges: A)
        let n = detections.count
        // Scratch for one curve per IoU threshold, allocated once per category; the loops below
        // run A × M times over every detection of the category, each time for every threshold.
        let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, 2 * T * n))
        defer { scratch.deallocate() }
        let curves = (0..<T).map { t in
            Curve(recall: UnsafeMutableBufferPointer(rebasing: scratch[(2 * t * n)..<((2 * t + 1) * n)]),
                  precision: UnsafeMutableBufferPointer(rebasing: scratch[((2 * t + 1) * n)..<((2 * t + 2) * n)]))
        }
        var counted = [Int](repeating: 0, count: T)
        var kept = KeptDetections(capacity: n)
        let (precisionAt, recallAt) = (precision.layout, recall.layout)
        // Written through pointers: checked, uniqueness-tested array stores were a visible part
        // of this loop.
        precision.values.withUnsafeMutableBufferPointer { precisionOut in
        recall.values.withUnsafeMutableBufferPointer { recallOut in
        params.recallThresholds.withUnsafeBufferPointer { thresholds in
        detections.flags.withUnsafeBufferPointer { flags in
            var keptCounts: [Int] = []
            for m in 0..<M {
                kept.select(detections, maxDet: params.maxDets[m])
                // A maxDets that keeps as many detections as an earlier one keeps the very same
                // ones (both keep the ranks below a limit), so its tables are that one's. COCO's
                // 10 and 100 usually do: few images hold more than 10 detections of one category.
                if let same = keptCounts.firstIndex(of: kept.count) {
                    keptCounts.append(kept.count)
                    for a in 0..<A where detections.npig[a] > 0 {
                        for t in 0..<T {
                            recallOut[recallAt.offset(t: t, k: 0, a: a, m: m)] = recallOut[recallAt.offset(t: t, k: 0, a: a, m: same)]
                            for r in 0..<R {
                                precisionOut[precisionAt.offset(t: t, r: r, k: 0, a: a, m: m)]
                                    = precisionOut[precisionAt.offset(t: t, r: r, k: 0, a: a, m: same)]
                            }
                        }
                    }
                    continue
                }
                keptCounts.append(kept.count)
                for a in 0..<A where detections.npig[a] > 0 {
                    Curve.cumulate(kept, flags: flags, area: a, into: curves, counted: &counted, npig: Double(detections.npig[a]))
                    for t in 0..<T {
                        let curve = curves[t], n = counted[t]
                        recallOut[recallAt.offset(t: t, k: 0, a: a, m: m)] = n > 0 ? curve.recall[n - 1] : 0
                        curve.envelope(n)
                        curve.sample(n, at: thresholds) { r, p in precisionOut[precisionAt.offset(t: t, r: r, k: 0, a: a, m: m)] = p }
                    }
                }
            }
        }
        }
        }
        }
        return (precision, recall)
    }

    /// A category's detections over its images, sorted once (score descending, ties in
    /// pycocotools' concatenation order: image order, then rank within the image). Flags are
    /// copied into one flat array so that the per-threshold walks touch contiguous memory.
    struct SortedDetections {
        var order: [Int] = []
        var rank: [Int32] = []         // the detection's rank within its image and category
        var flagBase: [Int] = []       // offset of the detection's cell in `flags`
        var cellDetections: [Int] = [] // D of the detection's cell
        var flags: [UInt8] = []
        /// Ground truths that count, per area range (pycocotools' `npig`).
        var npig: [Int]

        var count: Int { order.count }

        init(cells: [COCOImageCategoryEval], members: [Int], areaRanges A: Int) {
            npig = [Int](repeating: 0, count: A)
            var scores: [Double] = []
            // Sized once: the category's detections and flags are known before the copy.
            var total = 0, flagTotal = 0
            for c in members {
                total += cells[c].detectionCount
                flagTotal += cells[c].flags.count
            }
            scores.reserveCapacity(total); rank.reserveCapacity(total)
            flagBase.reserveCapacity(total); cellDetections.reserveCapacity(total); flags.reserveCapacity(flagTotal)
            for c in members {
                let cell = cells[c]
                let D = cell.detectionCount
                let base = flags.count
                cell.flags.withUnsafeBufferPointer { flags.append(contentsOf: $0) }
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
            self.order = order
        }
    }

    /// The detections a maxDets keeps, in score order: the subset keeps the sorted order, so it
    /// needs no sort of its own. Per detection, where its flag for (area 0, threshold 0) is and
    /// the step from one (area, threshold) to the next (its cell's D).
    struct KeptDetections {
        var count = 0
        var flagIndex: [Int]
        var flagStride: [Int]

        init(capacity: Int) {
            flagIndex = [Int](repeating: 0, count: capacity)
            flagStride = [Int](repeating: 0, count: capacity)
        }

        mutating func select(_ detections: SortedDetections, maxDet: Int) {
            count = 0
            for j in detections.order where Int(detections.rank[j]) < maxDet {
                flagIndex[count] = detections.flagBase[j] + Int(detections.rank[j])
                flagStride[count] = detections.cellDetections[j]
                count += 1
            }
        }
    }

    /// The recall and precision curves of one (area, threshold, maxDets), in scratch memory.
    struct Curve {
        let recall: UnsafeMutableBufferPointer<Double>
        let precision: UnsafeMutableBufferPointer<Double>

        /// Cumulative true and false positives, recall and precision, over the detections that
        /// are not ignored, for every IoU threshold (`curves[t]`) in one pass over the detections
        /// (a detection's flags for one area range lie close together; a pass per threshold
        /// fetched each again ten times); `counted[t]`: how many count at threshold t.
        /// pycocotools keeps an entry for an ignored one too, but it repeats its predecessor's
        /// recall and precision (or is 0, 0 before the first counted detection), so neither the
        /// envelope, nor the search, nor the last recall can tell the difference; leaving them
        /// out saves most of the work for the size ranges.
        static func cumulate(_ kept: KeptDetections, flags: UnsafeBufferPointer<UInt8>, area a: Int, into curves: [Curve],
                             counted: inout [Int], npig: Double) {
            // np.spacing(1): the gap after 1.0, added to the denominator as pycocotools does.
            let epsilon = Double.ulpOfOne
            let T = curves.count
            // First the running counts, without a branch (an ignored detection's entry is
            // written and then overwritten by the next counted one), then the divisions in loops
            // of their own, which the compiler vectorises. The counts are whole numbers, so each
            // quotient is the one pycocotools' float cumsums give.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * T) { sums in
                sums.initialize(repeating: 0)
                curves.withUnsafeBufferPointer { curve in
                kept.flagIndex.withUnsafeBufferPointer { fi in
                kept.flagStride.withUnsafeBufferPointer { fs in
                    for i in 0..<kept.count {
                        let stride = fs[i]
                        var at = fi[i] + a * T * stride
                        for t in 0..<T {
                            let flag = Int(flags[at])
                            at += stride
                            let isCounted = 1 - (flag >> 1) & 1, isTrue = flag & 1
                            let tp = sums[t] + (isCounted & isTrue), fp = sums[T + t] + (isCounted & (1 - isTrue))
                            let c = sums[2 * T + t]
                            sums[t] = tp
                            sums[T + t] = fp
                            curve[t].recall[c] = Double(tp)
                            curve[t].precision[c] = Double(fp)
                            sums[2 * T + t] = c + isCounted
                        }
                    }
                }
                }
                }
                for t in 0..<T { counted[t] = sums[2 * T + t] }
            }
            for t in 0..<T {
                let recall = curves[t].recall, precision = curves[t].precision
                for i in 0..<counted[t] {
                    let tp = recall[i]
                    recall[i] = tp / npig
                    precision[i] = tp / (precision[i] + tp + epsilon)
                }
            }
        }

        /// pycocotools' `pr[i-1] = max(pr[i-1], pr[i])` from the end: precision never rises
        /// with recall.
        @inline(__always)
        func envelope(_ counted: Int) {
            var i = counted - 1
            while i > 0 {
                if precision[i] > precision[i - 1] { precision[i - 1] = precision[i] }
                i -= 1
            }
        }

        /// `searchsorted(rc, recThrs, side='left')`: the precision at each recall threshold. An
        /// index past the end stops the filling (pycocotools' try/except), leaving zeros.
        @inline(__always)
        func sample(_ counted: Int, at thresholds: UnsafeBufferPointer<Double>, _ write: (Int, Double) -> Void) {
            var p = 0
            for r in 0..<thresholds.count {
                while p < counted && recall[p] < thresholds[r] { p += 1 }
                if p >= counted {
                    for rr in r..<thresholds.count { write(rr, 0) }
                    return
                }
                write(r, precision[p])
            }
        }
    }
}
