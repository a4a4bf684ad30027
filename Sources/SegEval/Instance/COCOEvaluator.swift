import SegCore
import Synchronization

/// The overlap that the COCO matching runs on, prepared per image (in parallel): boxes for
/// `bbox`, runs for `segm`, boundary bands for `boundary`.
protocol InstanceOverlap: Sendable {
    associatedtype Shape
    /// Areas (for the size buckets) and shapes of the image's ground truth and of the detections
    /// the matching will look at.
    func prepare(image: COCOImage, gt: [Int], dt: [Int], unused: [Int], data: COCOInputs) throws(SegError)
        -> (gtAreas: [Double], dtAreas: [Double], gtShapes: [Shape], dtShapes: [Shape])
    /// D × G IoUs, row-major by detection, with the crowd rule (a crowd region's IoU is
    /// intersection over the detection's area).
    func ious(dt: [Shape], gt: [Shape], crowd: [Bool]) -> [Double]
    /// The same for `dt[dtRange]` against `gt[gtRange]` (`crowd` parallel to `gt`), written to
    /// `out`: the matching's per-category call, straight into its cell's table.
    func ious(dt: [Shape], _ dtRange: Range<Int>, gt: [Shape], _ gtRange: Range<Int>, crowd: [Bool], into out: UnsafeMutablePointer<Double>)
    /// The shape's box, for the failure table.
    func box(_ shape: Shape) -> COCOBox
    /// The best IoU of one detection with the ground truths at `offsets` (none crowd): the
    /// cross-category IoU of a detection left unmatched.
    func bestIoU(_ d: Shape, with gt: [Shape], at offsets: [Int]) -> Double
}

extension InstanceOverlap {
    func ious(dt: [Shape], _ dtRange: Range<Int>, gt: [Shape], _ gtRange: Range<Int>, crowd: [Bool], into out: UnsafeMutablePointer<Double>) {
        let values = ious(dt: Array(dt[dtRange]), gt: Array(gt[gtRange]), crowd: Array(crowd[gtRange]))
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { out.update(from: base, count: values.count) } }
    }

    func bestIoU(_ d: Shape, with gt: [Shape], at offsets: [Int]) -> Double {
        let others = offsets.map { gt[$0] }
        return ious(dt: [d], gt: others, crowd: [Bool](repeating: false, count: others.count)).max() ?? 0
    }
}

/// Ground truth and detections together.
public struct COCOInputs: Sendable {
    public let groundTruth: COCOGroundTruth
    public let results: COCOResults
    /// Flat copies of the fields the matching reads for every pair: reading them from the
    /// annotation structs would retain and release their segmentation payloads each time.
    let detectionScores: [Double]
    /// Crowd regions (matched many times, IoU over the detection's area); none under LVIS's rules.
    let gtCrowd: [Bool]
    /// Ground truth that does not count: crowd for pycocotools (which overwrites `ignore` with
    /// `iscrowd`), the `ignore` field for LVISEval.
    let gtIgnore: [Bool]
    let gtIds: [Int]

    public init(groundTruth: COCOGroundTruth, results: COCOResults, evaluationProtocol: EvaluationProtocol = .coco) {
        self.groundTruth = groundTruth
        self.results = results
        detectionScores = results.detections.map(\.score)
        switch evaluationProtocol {
        case .coco:
            gtCrowd = groundTruth.annotations.map(\.isCrowd)
            gtIgnore = gtCrowd
        case .lvis:
            gtCrowd = [Bool](repeating: false, count: groundTruth.annotations.count)
            gtIgnore = groundTruth.annotations.map(\.ignore)
        }
        gtIds = groundTruth.annotations.map(\.id)
    }
}

/// The COCO instance evaluation with pycocotools' semantics, number for number.
public struct COCOEvaluator: Sendable {
    public let params: COCOEvalParams

    public init(params: COCOEvalParams = COCOEvalParams()) { self.params = params }

    public func evaluate(_ inputs: COCOInputs, workers: Int = Parallel.coreCount,
                         progress: (@Sendable (Int, Int) -> Void)? = nil) throws(SegError) -> COCOEvaluation {
        switch params.iouType {
        case .bbox: return try evaluate(inputs, overlap: BoxOverlap(), workers: workers, progress: progress)
        case .segm: return try evaluate(inputs, overlap: SegmOverlap(), workers: workers, progress: progress)
        case .boundary:
            return try evaluate(inputs, overlap: BoundaryOverlap(dilationRatio: params.boundaryDilationRatio),
                                workers: workers, progress: progress)
        }
    }

    func evaluate<O: InstanceOverlap>(_ given: COCOInputs, overlap: O, workers: Int,
                                      progress: (@Sendable (Int, Int) -> Void)?) throws(SegError) -> COCOEvaluation {
        let matched = try match(given, overlap: overlap, workers: workers, progress: progress, shard: .whole)
        var clock = PhaseClock()
        let evaluation = COCOEvaluation(params: params, inputs: matched.inputs, images: matched.images,
                                        categories: matched.categories, cells: matched.cells, workers: workers)
        clock.lap("accumulate")
        return evaluation
    }

    /// The per-(image, category) matching of the images `shard` owns (keyed by the id as the file
    /// writes it), before accumulation: what a sharded run writes (`EvalPartial`). Cells keep
    /// their indices into the whole prepared inputs and images, so the shards' cells put together
    /// in image order are the unsharded run's.
    public func match(_ given: COCOInputs, workers: Int = Parallel.coreCount, progress: (@Sendable (Int, Int) -> Void)? = nil,
                      shard: Shard) throws(SegError) -> COCOMatching {
        switch params.iouType {
        case .bbox: return try match(given, overlap: BoxOverlap(), workers: workers, progress: progress, shard: shard)
        case .segm: return try match(given, overlap: SegmOverlap(), workers: workers, progress: progress, shard: shard)
        case .boundary:
            return try match(given, overlap: BoundaryOverlap(dilationRatio: params.boundaryDilationRatio),
                             workers: workers, progress: progress, shard: shard)
        }
    }

    func match<O: InstanceOverlap>(_ given: COCOInputs, overlap: O, workers: Int,
                                   progress: (@Sendable (Int, Int) -> Void)?, shard: Shard) throws(SegError) -> COCOMatching {
        let inputs = try given.prepared(for: params)
        let gt = inputs.groundTruth
        let images = gt.images.sorted { $0.id < $1.id }
        let categories = gt.categories.sorted { $0.id < $1.id }
        var imageIndex: [Int: Int] = [:]
        for (i, image) in images.enumerated() { imageIndex[image.id] = i }
        var categoryIndex: [Int: Int] = [:]
        for (k, category) in categories.enumerated() { categoryIndex[category.id] = k }

        var clock = PhaseClock()
        let gtByImage = Self.group(gt.annotations.map { (imageIndex[$0.imageId] ?? -1, categoryIndex[$0.categoryId] ?? -1) },
                                   imageCount: images.count)
        let dtByImage = Self.group(inputs.results.detections.map { (imageIndex[$0.imageId] ?? -1, categoryIndex[$0.categoryId] ?? -1) },
                                   imageCount: images.count)
        clock.lap("group")
        let params = self.params
        let categoryLookup = categoryIndex
        let owned = shard.isWhole ? Array(images.indices) : images.indices.filter { shard.contains(gt.idText(images[$0])) }
        let counter = ProgressCounter(total: owned.count, report: progress)
        // In batches of images, the mapped files' pages handed back after each: a batch reads its
        // masks' RLE text from the files, and the resident size need not keep what it read.
        var cells: [COCOImageCategoryEval] = []
        var start = 0
        while start < owned.count {
            let end = min(start + Self.imageBatch, owned.count), first = start
            let perImage = try Parallel.map(end - first, workers: workers) { (j) throws(SegError) -> [COCOImageCategoryEval] in
                defer { counter.advance() }
                let i = owned[first + j]
                return try Self.evaluateImage(i, image: images[i], gt: gtByImage[i], dt: dtByImage[i], inputs: inputs,
                                              categoryIndex: categoryLookup, params: params, overlap: overlap)
            }
            for list in perImage { cells.append(contentsOf: list) }
            inputs.releasePages()
            start = end
        }
        clock.lap("per-image matching")
        clock.lap("flatten")
        return COCOMatching(inputs: inputs, images: images, categories: categories, ownedImages: owned, cells: cells)
    }

    /// Images matched between two hand-backs of the mapped files' pages.
    static let imageBatch = 1024

    /// Annotation indices per image, ordered by category then file order (the order pycocotools'
    /// `_gts[img, cat]` lists keep).
    static func group(_ keys: [(Int, Int)], imageCount: Int) -> [[(index: Int, category: Int)]] {
        var out = [[(index: Int, category: Int)]](repeating: [], count: imageCount)
        for (i, key) in keys.enumerated() where key.0 >= 0 && key.1 >= 0 {
            out[key.0].append((i, key.1))
        }
        for i in 0..<imageCount where out[i].count > 1 {
            out[i].sort { $0.category != $1.category ? $0.category < $1.category : $0.index < $1.index }
        }
        return out
    }

    static func evaluateImage<O: InstanceOverlap>(_ imageIndex: Int, image: COCOImage, gt: [(index: Int, category: Int)],
                                                  dt: [(index: Int, category: Int)], inputs: COCOInputs,
                                                  categoryIndex: [Int: Int], params: COCOEvalParams,
                                                  overlap: O) throws(SegError) -> [COCOImageCategoryEval] {
        if gt.isEmpty && dt.isEmpty { return [] }
        let scores = inputs.detectionScores
        let maxDet = params.maxDetLimit
        // Per category: ground truth in file order; detections sorted by score (stable) and cut
        // to maxDets.last, as computeIoU does before anything else looks at them. Every category's
        // lists are ranges of two flat lists: an image has a cell for each of some forty
        // categories, and arrays per cell were millions of allocations in a run.
        var allGt: [Int] = [], allDt: [Int] = [], unused: [Int] = []
        allGt.reserveCapacity(gt.count)
        allDt.reserveCapacity(dt.count)
        var categoryRuns: [(category: Int, gt: Range<Int>, dt: Range<Int>)] = []
        var gi = 0, di = 0
        while gi < gt.count || di < dt.count {
            let c = min(gi < gt.count ? gt[gi].category : Int.max, di < dt.count ? dt[di].category : Int.max)
            let gStart = allGt.count, dStart = allDt.count
            while gi < gt.count && gt[gi].category == c { allGt.append(gt[gi].index); gi += 1 }
            while di < dt.count && dt[di].category == c { allDt.append(dt[di].index); di += 1 }
            if allDt.count - dStart > 1 {
                scores.withUnsafeBufferPointer { s in
                    allDt[dStart...].sort { (a, b) in s[a] != s[b] ? s[a] > s[b] : a < b }
                }
            }
            if allDt.count - dStart > maxDet {
                unused.append(contentsOf: allDt[(dStart + maxDet)...])
                allDt.removeSubrange((dStart + maxDet)...)
            }
            categoryRuns.append((c, gStart..<allGt.count, dStart..<allDt.count))
        }
        let prepared = try overlap.prepare(image: image, gt: allGt, dt: allDt, unused: unused, data: inputs)
        let allCrowd = allGt.map { inputs.gtCrowd[$0] }
        let allIgnore = allGt.map { inputs.gtIgnore[$0] }
        // LVIS: an unmatched detection of a category the image does not annotate exhaustively is
        // ignored, not counted as a false positive.
        let notExhaustive = params.evaluationProtocol == .lvis
            ? Set((image.notExhaustiveCategoryIds ?? []).compactMap { categoryIndex[$0] }) : []
        let GA = allGt.count
        // Other categories' non-crowd ground truth, for the failure table's misclassifications.
        var othersOffsets: [Int] = []
        var out: [COCOImageCategoryEval] = []
        out.reserveCapacity(categoryRuns.count)
        for run in categoryRuns {
            let cell = match(imageIndex: imageIndex, category: run.category, gt: allGt, run.gt, dt: allDt, run.dt, inputs: inputs,
                             gtAreas: prepared.gtAreas, dtAreas: prepared.dtAreas, crowd: allCrowd, ignore: allIgnore,
                             unmatchedIgnored: notExhaustive.contains(run.category), params: params) { iousOut in
                overlap.ious(dt: prepared.dtShapes, run.dt, gt: prepared.gtShapes, run.gt, crowd: allCrowd, into: iousOut)
            }
            // Only detections left unmatched at IoU 0.5 (area "all") need the IoU with other
            // categories' objects, so it is computed for those alone.
            if GA > run.gt.count {
                othersOffsets.removeAll(keepingCapacity: true)
                for g in 0..<GA where !run.gt.contains(g) && !allCrowd[g] { othersOffsets.append(g) }
                if !othersOffsets.isEmpty {
                    let flags = cell.flags
                    for d in 0..<run.dt.count where flags[d] & 3 == 0 {
                        cell.tables.setCrossClassIoU(d, overlap.bestIoU(prepared.dtShapes[run.dt.lowerBound + d], with: prepared.gtShapes,
                                                                        at: othersOffsets))
                    }
                }
            }
            out.append(cell)
        }
        return out
    }

    /// pycocotools' `evaluateImg` (or LVISEval's `evaluate_img`) for every area range, with
    /// maxDet = maxDets.last, for the cell of `gt[gtRange]` and `dt[dtRange]` (indices into the
    /// inputs' annotations and detections; `gtAreas`, `crowd` and `ignore` are parallel to `gt`,
    /// `dtAreas` to `dt`). `ignore`: ground truth that never counts; `unmatchedIgnored`: every
    /// unmatched detection is ignored (LVIS, a category not exhaustively annotated in the image).
    /// `fillIoUs` writes the D × G IoUs (row-major by detection) into the cell when both are there.
    static func match(imageIndex: Int, category: Int, gt: [Int], _ gtRange: Range<Int>, dt: [Int], _ dtRange: Range<Int>,
                      inputs: COCOInputs, gtAreas: [Double], dtAreas: [Double], crowd: [Bool], ignore: [Bool],
                      unmatchedIgnored: Bool = false, params: COCOEvalParams,
                      fillIoUs: (UnsafeMutablePointer<Double>) -> Void) -> COCOImageCategoryEval {
        let G = gtRange.count, D = dtRange.count, g0 = gtRange.lowerBound, d0 = dtRange.lowerBound
        let T = params.iouThresholds.count, A = params.areaRanges.count
        precondition(gtRange.upperBound <= gt.count && gtRange.upperBound <= gtAreas.count && gtRange.upperBound <= crowd.count
                     && gtRange.upperBound <= ignore.count && dtRange.upperBound <= dt.count && dtRange.upperBound <= dtAreas.count,
                     "match: tables of inconsistent sizes")
        let hasIoUs = G > 0 && D > 0
        // The cell's tables are written in place in its one block (zeroed, matches -1).
        let tables = COCOImageCategoryEval.Tables(D: D, G: G, A: A, T: T, iouCount: hasIoUs ? D * G : 0)
        let at = tables.tableLayout
        let flagsOut = tables.pointer(at.flagsAt, as: UInt8.self)
        let matchesOut = tables.pointer(at.matchesAt, as: Int32.self)
        let gtMatched = tables.pointer(at.gtMatchedAt, as: Bool.self)
        let gtIgnored = tables.pointer(at.gtIgnoredAt, as: Bool.self)
        let nonIgnored = tables.pointer(at.nonIgnoredAt, as: Int32.self)
        let iou = UnsafePointer(tables.pointer(at.iousAt, as: Double.self))
        let gtArea = tables.pointer(at.gtAreasAt, as: Double.self), dtArea = tables.pointer(at.dtAreasAt, as: Double.self)
        let gtCrowd = tables.pointer(at.gtCrowdAt, as: Bool.self)
        do {
            let detections = tables.pointer(at.detectionsAt, as: Int32.self), scores = tables.pointer(at.scoresAt, as: Double.self)
            for d in 0..<D {
                let index = dt[d0 + d]
                detections[d] = Int32(index)
                scores[d] = inputs.detectionScores[index]
                dtArea[d] = dtAreas[d0 + d]
            }
            let groundTruths = tables.pointer(at.groundTruthsAt, as: Int32.self)
            for g in 0..<G {
                groundTruths[g] = Int32(gt[g0 + g])
                gtCrowd[g] = crowd[g0 + g]
                gtArea[g] = gtAreas[g0 + g]
            }
            if hasIoUs { fillIoUs(tables.pointer(at.iousAt, as: Double.self)) }
        }
        // The loops below run A × T × D × G times per cell, for every cell of the run: through
        // pointers, without the bounds and uniqueness checks of array stores (visible in the
        // profile), and with the per-ground-truth state in one scratch block on the stack.
        withUnsafeTemporaryAllocation(byteCount: max(1, 8 * G + 3 * G + D), alignment: 8) { block in
            guard let scratch = block.baseAddress else { return }
            let order = scratch.bindMemory(to: Int.self, capacity: G)
            let state = (scratch + 8 * G).bindMemory(to: Bool.self, capacity: 3 * G + D)
            let ignoredInOrder = state, crowdInOrder = state + G, taken = state + 2 * G, dtOutside = state + 3 * G
            for a in 0..<A {
                let range = params.areaRanges[a]
                // Stable sort by the ignore flag: counted ground truth first, file order kept.
                var n = 0
                for g in 0..<G where !(ignore[g0 + g] || range.excludes(gtArea[g])) { order[n] = g; n += 1 }
                nonIgnored[a] = Int32(n)
                for g in 0..<G where ignore[g0 + g] || range.excludes(gtArea[g]) { order[n] = g; n += 1; gtIgnored[a * G + g] = true }
                for k in 0..<G {
                    ignoredInOrder[k] = gtIgnored[a * G + order[k]]
                    crowdInOrder[k] = gtCrowd[order[k]]
                }
                for d in 0..<D { dtOutside[d] = unmatchedIgnored || range.excludes(dtArea[d]) }
                for t in 0..<T {
                    for k in 0..<G { taken[k] = false }
                    let threshold = min(params.iouThresholds[t], 1 - 1e-10)
                    let base = (a * T + t) * D
                    for d in 0..<D {
                        var best = threshold
                        var m = -1
                        if hasIoUs {
                            let row = d * G
                            for k in 0..<G {
                                if taken[k] && !crowdInOrder[k] { continue }
                                // Once matched to counted ground truth, ignored ground truth cannot win.
                                if m > -1 && !ignoredInOrder[m] && ignoredInOrder[k] { break }
                                let v = iou[row + order[k]]
                                if v < best { continue }
                                best = v
                                m = k
                            }
                        }
                        var f: UInt8 = 0
                        if m > -1 {
                            let g = order[m]
                            if ignoredInOrder[m] { f |= 2 }
                            // pycocotools stores the ground truth's id and tests it for truth: a
                            // ground truth with id 0 reads as unmatched. Kept, to agree number for number.
                            if inputs.gtIds[gt[g0 + g]] != 0 { f |= 1 }
                            taken[m] = true
                            if a == 0 {
                                matchesOut[t * D + d] = Int32(g)
                                gtMatched[t * G + g] = true
                            }
                        }
                        if f & 1 == 0 && dtOutside[d] { f |= 2 }
                        flagsOut[base + d] = f
                    }
                }
            }
        }
        return COCOImageCategoryEval(imageIndex: imageIndex, categoryIndex: category, tables: tables)
    }
}

/// The matching of one shard's images (all of them unsharded), before accumulation.
public struct COCOMatching: Sendable {
    /// The inputs as the protocol evaluates them (`COCOInputs.prepared(for:)`).
    public let inputs: COCOInputs
    /// Every image, sorted by id (pycocotools' `imgIds` order), and every category, sorted by id.
    public let images: [COCOImage]
    public let categories: [COCOCategory]
    /// Indices into `images` of the images this shard matched, ascending.
    public let ownedImages: [Int]
    /// Image-major, category order within an image.
    public let cells: [COCOImageCategoryEval]
}

/// Counts finished images for a progress bar; the callback runs on whichever worker finished.
final class ProgressCounter: Sendable {
    private let total: Int
    private let report: (@Sendable (Int, Int) -> Void)?
    private let done = Atomic<Int>(0)

    init(total: Int, report: (@Sendable (Int, Int) -> Void)?) {
        self.total = total
        self.report = report
    }

    func advance() {
        guard let report else { return }
        let now = done.add(1, ordering: .relaxed).newValue
        report(now, total)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
