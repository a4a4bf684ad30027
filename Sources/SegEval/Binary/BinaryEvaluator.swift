import SegCore

/// Binary object masks (one object per file, e.g. the interactive benchmarks): IoU with an
/// ignore region. The interactive engine calls `BinaryMetrics.iou` so both report the same number.
public enum BinaryMetrics {
    /// IoU of `prediction` with `groundTruth` over the pixels not in `ignore`; 1 when both are
    /// empty there (SegCore's `MaskOverlap.iou`).
    public static func iou(_ prediction: Mask, _ groundTruth: Mask, ignoring ignore: Mask? = nil) throws -> Double {
        try prediction.overlap(with: groundTruth, ignoring: ignore).iou
    }
}

public struct BinaryImageResult: Sendable {
    public var stem: String
    public var groundTruthFile: String
    public var predictionFile: String
    public var intersection: Int
    public var union: Int
    public var groundTruthArea: Int
    public var predictedArea: Int
    public var box: PixelBox?
    public var iou: Double
}

public struct BinaryEvaluation: Sendable {
    public var images: [BinaryImageResult]
    /// Mean of the per-image IoUs.
    public var meanIoU: Double
    /// Sum of intersections over sum of unions.
    public var cumulativeIoU: Double
    public var unpairedPredictions: [String]
}

public struct BinaryEvaluator: Sendable {
    public var ignoreValue: UInt32?
    public var resizePredictions: Bool
    public var limits: ImageFile.Limits

    public init(ignoreValue: UInt32? = nil, resizePredictions: Bool = false, limits: ImageFile.Limits = .standard) {
        self.ignoreValue = ignoreValue; self.resizePredictions = resizePredictions; self.limits = limits
    }

    public func evaluate(_ files: FilePairs, workers: Int = Parallel.coreCount,
                         progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> BinaryEvaluation {
        Self.combine(try imageResults(files, owned: Array(files.pairs.indices), workers: workers, progress: progress),
                     unpaired: files.unpairedPredictions)
    }

    /// The results of the pairs at `owned` (all of them, or a shard's), in that order.
    func imageResults(_ files: FilePairs, owned: [Int], workers: Int = Parallel.coreCount,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [BinaryImageResult] {
        let counter = ProgressCounter(total: owned.count, report: progress)
        let pairs = owned.map { files.pairs[$0] }
        let me = self
        return try Parallel.map(pairs.count, workers: workers, block: 1) { (i) throws(SegError) -> BinaryImageResult in
            defer { counter.advance() }
            let pair = pairs[i]
            do {
                let gt = try ImageFile.read(pair.groundTruth, limits: me.limits).objectMask(ignoreValue: me.ignoreValue)
                var pred = try ImageFile.read(pair.prediction, limits: me.limits).objectMask(ignoreValue: nil).object
                if pred.size != gt.object.size {
                    guard me.resizePredictions else {
                        throw SegError(.invalid, file: pair.prediction, "prediction is \(pred.width)x\(pred.height) but the ground truth \(pair.groundTruth) is \(gt.object.width)x\(gt.object.height) (use --resize-pred nearest to resize it)")
                    }
                    pred = try pred.resizedNearest(to: gt.object.size)
                }
                let overlap = try pred.overlap(with: gt.object, ignoring: gt.ignored)
                return BinaryImageResult(stem: pair.stem, groundTruthFile: pair.groundTruth, predictionFile: pair.prediction,
                                         intersection: overlap.intersection, union: overlap.union,
                                         groundTruthArea: gt.object.area, predictedArea: pred.area,
                                         box: gt.object.boundingBox, iou: overlap.iou)
            } catch let error as SegError {
                throw error
            } catch {
                throw SegError(.invalid, file: pair.prediction, "\(error)")
            }
        }
    }

    /// The set's figures from its images' results, summed in the order given.
    static func combine(_ results: [BinaryImageResult], unpaired: [String]) -> BinaryEvaluation {
        let mean = results.isEmpty ? -1 : results.map(\.iou).reduce(0, +) / Double(results.count)
        let i = results.map(\.intersection).reduce(0, +), u = results.map(\.union).reduce(0, +)
        return BinaryEvaluation(images: results, meanIoU: mean, cumulativeIoU: u == 0 ? 1 : Double(i) / Double(u),
                                unpairedPredictions: unpaired)
    }
}
