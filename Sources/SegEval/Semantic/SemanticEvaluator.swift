import SegCore

/// Per-class and mean metrics from one confusion matrix. -1 where a number is undefined (a class
/// absent from both ground truth and prediction), as the COCO numbers are reported.
public struct SemanticScores: Sendable, Equatable {
    public var iou: [Double]
    public var dice: [Double]
    public var precision: [Double]
    public var recall: [Double]
    /// Ground-truth pixels per class (not ignored), predicted pixels per class (over those pixels).
    public var groundTruthPixels: [Int]
    public var predictedPixels: [Int]
    public var meanIoU: Double
    public var meanDice: Double
    public var pixelAccuracy: Double
    public var frequencyWeightedIoU: Double

    /// `confusion` is K × (K + 1), rows ground truth, columns prediction; the last column counts
    /// predicted values that are not a class (they are wrong for every class). `firstClass` 1
    /// leaves class 0 (background) out of mIoU and mDice (torchmetrics' `include_background=False`).
    public init(confusion: [Int], classes K: Int, firstClass: Int = 0) {
        let stride = K + 1
        var iou = [Double](repeating: -1, count: K), dice = iou, precision = iou, recall = iou
        var gtPixels = [Int](repeating: 0, count: K), predPixels = [Int](repeating: 0, count: K)
        var total = 0, correct = 0
        for g in 0..<K {
            for p in 0...K {
                let n = confusion[g * stride + p]
                gtPixels[g] += n
                if p < K { predPixels[p] += n }
                total += n
            }
            correct += confusion[g * stride + g]
        }
        var iouSum = 0.0, iouCount = 0, diceSum = 0.0, fw = 0.0
        for c in 0..<K {
            let tp = Double(confusion[c * stride + c])
            let fp = Double(predPixels[c]) - tp, fn = Double(gtPixels[c]) - tp
            if tp + fp + fn > 0 {
                iou[c] = tp / (tp + fp + fn)
                dice[c] = 2 * tp / (2 * tp + fp + fn)
                if c >= firstClass { iouSum += iou[c]; diceSum += dice[c]; iouCount += 1 }
                if total > 0 { fw += Double(gtPixels[c]) / Double(total) * iou[c] }
            }
            if tp + fp > 0 { precision[c] = tp / (tp + fp) }
            if tp + fn > 0 { recall[c] = tp / (tp + fn) }
        }
        self.iou = iou; self.dice = dice; self.precision = precision; self.recall = recall
        groundTruthPixels = gtPixels; predictedPixels = predPixels
        meanIoU = iouCount > 0 ? iouSum / Double(iouCount) : -1
        meanDice = iouCount > 0 ? diceSum / Double(iouCount) : -1
        pixelAccuracy = total > 0 ? Double(correct) / Double(total) : -1
        frequencyWeightedIoU = total > 0 ? fw : -1
    }
}

/// A ground-truth segment (a 4-connected region of one class) and how well it was found.
public struct SemanticSegment: Sendable, Equatable {
    public var imageIndex: Int
    public var classId: Int
    public var area: Int
    /// Half-open pixel box.
    public var box: PixelBox
    /// IoU with the predicted regions of its class that touch it (ignored pixels left out).
    public var iou: Double
    public var found: Bool { iou >= 0.5 }
}

/// One image's share of the semantic evaluation.
public struct SemanticImageResult: Sendable {
    public var stem: String
    public var groundTruthFile: String
    public var predictionFile: String
    public var width: Int
    public var height: Int
    /// The non-zero cells of this image's K × (K + 1) confusion matrix (see `SemanticScores`),
    /// by index: an image holds a few classes, and a dense matrix kept per image would cost
    /// K² × 8 bytes each, whatever the image's size.
    public var confusion: [ConfusionCell]
    public var scores: SemanticScores
    public var segments: [SemanticSegment]
    /// Per class: pixels in both boundaries and in either (ignored pixels left out).
    public var boundaryIntersection: [Int]
    public var boundaryUnion: [Int]
}

public struct SemanticEvaluation: Sendable {
    public var classes: [String]
    public var ignoreIndex: UInt32
    public var images: [SemanticImageResult]
    /// The benchmark convention: per-image confusion matrices summed, then the metrics.
    public var cumulative: SemanticScores
    public var confusion: [Int]
    /// Per-image metrics averaged over the images where each is defined.
    public var perImageMean: SemanticScores
    /// Segment recall per class and size bucket (all, small, medium, large): found / total, -1
    /// when a class has no segment of that size.
    public var segmentRecall: [[Double]]
    public var segmentCounts: [[Int]]
    /// Whether class 0 counts in mIoU and mDice (`--include-background`).
    public var includeBackground = true
    /// torchmetrics' MeanIoU (one update per image): the mean IoU over every (image, class) pair
    /// whose union is not empty, class 0 left out without the background; -1 when there is none.
    public var meanIoUOverImageClassPairs = -1.0
    /// Per class: boundary IoU (band 2% of the image diagonal), intersections and unions summed
    /// over images; -1 for a class with no boundary anywhere.
    public var boundaryIoU: [Double]
    public var unpairedPredictions: [String]

    public static let sizeBuckets = COCOEvalParams().areaRanges
}

/// One non-zero cell of a confusion matrix: its index (row × (K + 1) + column) and its count.
public struct ConfusionCell: Sendable, Equatable {
    public var index: Int
    public var count: Int
}

public struct SemanticEvaluator: Sendable {
    /// The most classes a semantic evaluation takes. Its tables grow with the class count (the
    /// confusion matrix with its square: 4096 classes are 134 MB while an image is counted), so a
    /// label map whose values run up to 2^16 or 2^32 must not size them; larger sets are refused.
    public static let maxClasses = 4096

    public var classes: [String]
    public var ignoreIndex: UInt32
    public var resizePredictions: Bool
    public var limits: ImageFile.Limits
    /// mmsegmentation's `label_map` (old → new), applied to the ground truth first.
    public var labelMap: [UInt32: UInt32] = [:]
    /// mmsegmentation's `reduce_zero_label`: ground-truth 0 becomes the ignore index and every
    /// other label moves down by one (the ignore index itself stays).
    public var reduceZeroLabel = false
    /// torchmetrics' `include_background`: false leaves class 0 out of the means.
    public var includeBackground = true
    var firstClass: Int { includeBackground ? 0 : 1 }

    public init(classes: [String], ignoreIndex: UInt32 = 255, resizePredictions: Bool = false, limits: ImageFile.Limits = .standard) {
        self.classes = classes; self.ignoreIndex = ignoreIndex; self.resizePredictions = resizePredictions; self.limits = limits
    }

    public func evaluate(_ files: FilePairs, workers: Int = Parallel.coreCount,
                         progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> SemanticEvaluation {
        guard classes.count <= Self.maxClasses else {
            // The class list came with the ground truth (a file the caller names when it has one).
            let first = files.pairs.first?.groundTruth ?? ""
            let folder = first.lastIndex(of: "/").map { String(first[..<$0]) } ?? first
            throw SegError(.tooLarge, file: folder, "\(classes.count) classes, above the limit of \(Self.maxClasses)")
        }
        return combine(try imageResults(files, workers: workers, progress: progress, shard: .whole), unpaired: files.unpairedPredictions)
    }

    /// The per-image results of the pairs `shard` owns (keyed by the pair's stem), each with its
    /// index among all the pairs: what `combine` sums, and what a sharded run writes.
    func imageResults(_ files: FilePairs, workers: Int, progress: (@Sendable (Int, Int) -> Void)?,
                      shard: Shard) throws -> [SemanticImageResult] {
        let pairs = files.pairs
        let owned = shard.isWhole ? Array(pairs.indices) : pairs.indices.filter { shard.contains(pairs[$0].stem) }
        let counter = ProgressCounter(total: owned.count, report: progress)
        let me = self
        return try Parallel.map(owned.count, workers: workers, block: 1) { (j) throws(SegError) -> SemanticImageResult in
            defer { counter.advance() }
            let i = owned[j]
            let pair = pairs[i]
            do {
                var gt = try ImageFile.read(pair.groundTruth, limits: me.limits).labelMap()
                me.remapGroundTruth(&gt.labels)
                let pred = try ImageFile.read(pair.prediction, limits: me.limits).labelMap()
                return try me.evaluateImage(index: i, stem: pair.stem, gtFile: pair.groundTruth, predFile: pair.prediction,
                                            gt: gt, pred: pred)
            } catch let error as SegError {
                throw error
            } catch {
                throw SegError(.unreadable, file: pair.groundTruth, "\(error)")
            }
        }
    }

    /// mmsegmentation's order in `intersect_and_union`: the label map on the original labels,
    /// then reduce_zero_label.
    func remapGroundTruth(_ labels: inout [UInt32]) {
        if !labelMap.isEmpty {
            for i in labels.indices { if let to = labelMap[labels[i]] { labels[i] = to } }
        }
        if reduceZeroLabel {
            for i in labels.indices where labels[i] != ignoreIndex {
                labels[i] = labels[i] == 0 ? ignoreIndex : labels[i] - 1
            }
        }
    }

    func combine(_ results: [SemanticImageResult], unpaired: [String]) -> SemanticEvaluation {
        let K = classes.count
        var confusion = [Int](repeating: 0, count: K * (K + 1))
        for r in results { for cell in r.confusion { confusion[cell.index] += cell.count } }
        let cumulative = SemanticScores(confusion: confusion, classes: K, firstClass: firstClass)
        var mean = cumulative
        func average(_ values: [[Double]]) -> [Double] {
            (0..<K).map { c in
                let defined = values.map { $0[c] }.filter { $0 > -1 }
                return defined.isEmpty ? -1 : defined.reduce(0, +) / Double(defined.count)
            }
        }
        func averageScalar(_ values: [Double]) -> Double {
            let defined = values.filter { $0 > -1 }
            return defined.isEmpty ? -1 : defined.reduce(0, +) / Double(defined.count)
        }
        mean.iou = average(results.map(\.scores.iou))
        mean.dice = average(results.map(\.scores.dice))
        mean.precision = average(results.map(\.scores.precision))
        mean.recall = average(results.map(\.scores.recall))
        mean.meanIoU = averageScalar(results.map(\.scores.meanIoU))
        mean.meanDice = averageScalar(results.map(\.scores.meanDice))
        mean.pixelAccuracy = averageScalar(results.map(\.scores.pixelAccuracy))
        mean.frequencyWeightedIoU = averageScalar(results.map(\.scores.frequencyWeightedIoU))
        let buckets = SemanticEvaluation.sizeBuckets
        var found = [[Int]](repeating: [Int](repeating: 0, count: buckets.count), count: K)
        var total = found
        for r in results {
            for s in r.segments {
                for (b, range) in buckets.enumerated() where !range.excludes(Double(s.area)) {
                    total[s.classId][b] += 1
                    if s.found { found[s.classId][b] += 1 }
                }
            }
        }
        var recall: [[Double]] = []
        for c in 0..<K {
            var row: [Double] = []
            for b in 0..<buckets.count {
                row.append(total[c][b] > 0 ? Double(found[c][b]) / Double(total[c][b]) : -1)
            }
            recall.append(row)
        }
        var bi = [Int](repeating: 0, count: K), bu = bi
        for r in results { for c in 0..<K { bi[c] += r.boundaryIntersection[c]; bu[c] += r.boundaryUnion[c] } }
        var evaluation = SemanticEvaluation(classes: classes, ignoreIndex: ignoreIndex, images: results, cumulative: cumulative,
                                            confusion: confusion, perImageMean: mean, segmentRecall: recall, segmentCounts: total,
                                            boundaryIoU: (0..<K).map { bu[$0] > 0 ? Double(bi[$0]) / Double(bu[$0]) : -1 },
                                            unpairedPredictions: unpaired)
        evaluation.includeBackground = includeBackground
        let pairs = results.flatMap { r in r.scores.iou[min(firstClass, K)...].filter { $0 > -1 } }
        evaluation.meanIoUOverImageClassPairs = pairs.isEmpty ? -1 : pairs.reduce(0, +) / Double(pairs.count)
        return evaluation
    }

    public func evaluateImage(index: Int, stem: String, gtFile: String, predFile: String,
                              gt: LabelMap, pred input: LabelMap) throws(SegError) -> SemanticImageResult {
        let K = classes.count
        var pred = input
        if pred.width != gt.width || pred.height != gt.height {
            guard resizePredictions else {
                throw SegError(.invalid, file: predFile, "prediction is \(pred.width)x\(pred.height) but the ground truth \(gtFile) is \(gt.width)x\(gt.height) (use --resize-pred nearest to resize it)")
            }
            do {
                pred = try pred.resizedNearest(to: gt.size)
            } catch {
                throw SegError(.invalid, file: predFile, "cannot resize: \(error)")
            }
        }
        let stride = K + 1
        var confusion = [Int](repeating: 0, count: K * stride)
        let ignore = ignoreIndex
        var badValue: UInt32?
        gt.labels.withUnsafeBufferPointer { g in
            pred.labels.withUnsafeBufferPointer { p in
                confusion.withUnsafeMutableBufferPointer { c in
                    for i in 0..<g.count {
                        let gv = g[i]
                        if gv == ignore { continue }
                        guard gv < UInt32(K) else { badValue = gv; return }
                        let pv = p[i]
                        c[Int(gv) * stride + (pv < UInt32(K) ? Int(pv) : K)] += 1
                    }
                }
            }
        }
        if let badValue {
            throw SegError(.invalid, file: gtFile, "label \(badValue) is not a class (\(K) classes, ignore index \(ignore))")
        }
        let segments = try Self.segments(gt: gt, pred: pred, classes: K, ignore: ignore, imageIndex: index, file: gtFile)
        let (bi, bu) = Self.boundaryOverlap(gt: gt, pred: pred, classes: K, ignore: ignore)
        return SemanticImageResult(stem: stem, groundTruthFile: gtFile, predictionFile: predFile, width: gt.width, height: gt.height,
                                   confusion: confusion.indices.compactMap { confusion[$0] != 0 ? ConfusionCell(index: $0, count: confusion[$0]) : nil },
                                   scores: SemanticScores(confusion: confusion, classes: K, firstClass: firstClass), segments: segments,
                                   boundaryIntersection: bi, boundaryUnion: bu)
    }

    /// Per class, the boundary bands of the ground truth's and the prediction's class masks.
    static func boundaryOverlap(gt: LabelMap, pred: LabelMap, classes K: Int, ignore: UInt32) -> ([Int], [Int]) {
        let d = BoundaryIoU.dilation(width: gt.width, height: gt.height, ratio: 0.02)
        var inter = [Int](repeating: 0, count: K), union = inter
        var present = [Bool](repeating: false, count: K)
        for v in gt.labels where v < UInt32(K) { present[Int(v)] = true }
        for v in pred.labels where v < UInt32(K) { present[Int(v)] = true }
        for c in 0..<K where present[c] {
            let cv = UInt32(c)
            let bg = BoundaryIoU.boundary(of: Mask(width: gt.width, height: gt.height, bits: gt.labels.map { $0 == cv ? 1 : 0 }), dilation: d)
            let bp = BoundaryIoU.boundary(of: Mask(width: gt.width, height: gt.height, bits: pred.labels.map { $0 == cv ? 1 : 0 }), dilation: d)
            for i in 0..<gt.labels.count where gt.labels[i] != ignore {
                let a = bg.bits[i] != 0, b = bp.bits[i] != 0
                if a && b { inter[c] += 1 }
                if a || b { union[c] += 1 }
            }
        }
        return (inter, union)
    }

    /// The ground-truth segments of every class and their IoU with the predicted components of
    /// the same class that overlap them (4-connectivity, scipy.ndimage.label's default).
    static func segments(gt: LabelMap, pred: LabelMap, classes K: Int, ignore: UInt32, imageIndex: Int,
                         file: String) throws(SegError) -> [SemanticSegment] {
        let n = gt.width * gt.height
        var present = [Bool](repeating: false, count: K)
        for v in gt.labels where v < UInt32(K) { present[Int(v)] = true }
        var out: [SemanticSegment] = []
        for c in 0..<K where present[c] {
            let cv = UInt32(c)
            let gtMask = Mask(width: gt.width, height: gt.height, bits: gt.labels.map { $0 == cv ? 1 : 0 })
            let predMask = Mask(width: gt.width, height: gt.height, bits: pred.labels.map { $0 == cv ? 1 : 0 })
            let gc: ConnectedComponents, pc: ConnectedComponents
            do {
                gc = try gtMask.connectedComponents(.four)
                pc = try predMask.connectedComponents(.four)
            } catch {
                throw SegError(.tooLarge, file: file, "\(error)")
            }
            let S = gc.count, P = pc.count
            var segArea = [Int](repeating: 0, count: S + 1)
            var predArea = [Int](repeating: 0, count: P + 1)
            var minX = [Int](repeating: Int.max, count: S + 1), minY = minX
            var maxX = [Int](repeating: -1, count: S + 1), maxY = maxX
            var overlap: [Int: Int] = [:]
            let w = gt.width
            for i in 0..<n {
                if gt.labels[i] == ignore { continue }
                let s = Int(gc.labels.labels[i]), p = Int(pc.labels.labels[i])
                if p > 0 { predArea[p] += 1 }
                if s > 0 {
                    segArea[s] += 1
                    let x = i % w, y = i / w
                    minX[s] = min(minX[s], x); maxX[s] = max(maxX[s], x)
                    minY[s] = min(minY[s], y); maxY[s] = max(maxY[s], y)
                    if p > 0 { overlap[s * (P + 1) + p, default: 0] += 1 }
                }
            }
            var inter = [Int](repeating: 0, count: S + 1)
            var touchedArea = [Int](repeating: 0, count: S + 1)
            for (key, count) in overlap {
                let s = key / (P + 1), p = key % (P + 1)
                inter[s] += count
                touchedArea[s] += predArea[p]
            }
            for s in 1...max(1, S) where s <= S {
                let union = segArea[s] + touchedArea[s] - inter[s]
                out.append(SemanticSegment(imageIndex: imageIndex, classId: c, area: segArea[s],
                                           box: PixelBox(minX: minX[s], minY: minY[s], maxX: maxX[s] + 1, maxY: maxY[s] + 1),
                                           iou: union > 0 ? Double(inter[s]) / Double(union) : 0))
            }
        }
        return out
    }
}
