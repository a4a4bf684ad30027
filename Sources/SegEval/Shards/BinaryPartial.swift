import Foundation
import SegCore

/// One shard's binary-mask records: the number of pairs of the whole run and each owned pair's
/// counts and IoU, by its index among all pairs. The merge puts them back in pair order, so the
/// mean and the sums are added in the unsharded run's order.
struct BinaryPartial: Codable, Sendable {
    var pairCount: Int
    var unpairedPredictions: [String]
    var images: [Image]

    struct Image: Codable, Sendable {
        var index: Int
        var stem: String, groundTruthFile: String, predictionFile: String
        var intersection: Int, union: Int, groundTruthArea: Int, predictedArea: Int
        var box: PixelBox?
        /// The IoU's bit pattern: a decimal round trip would be exact too, this says so by itself.
        var iou: UInt64
    }

    init(files: FilePairs, results: [BinaryImageResult], indices: [Int]) {
        pairCount = files.pairs.count
        unpairedPredictions = files.unpairedPredictions
        images = zip(indices, results).map { index, r in
            Image(index: index, stem: r.stem, groundTruthFile: r.groundTruthFile, predictionFile: r.predictionFile,
                  intersection: r.intersection, union: r.union, groundTruthArea: r.groundTruthArea, predictedArea: r.predictedArea,
                  box: r.box, iou: r.iou.bitPattern)
        }
    }

    /// The shards' results in pair order, checked to cover every pair once, combined as the
    /// unsharded run combines them.
    static func merge(_ parts: [(path: String, partial: BinaryPartial)], groundTruth: String, predictions: String,
                      query: FailureQuery) throws -> EvaluationResult {
        let head = parts[0].partial, file = parts[0].path
        var results = [BinaryImageResult?](repeating: nil, count: head.pairCount)
        for (path, part) in parts {
            guard part.pairCount == head.pairCount else {
                throw SegError(.invalid, file: path, "holds a run of \(part.pairCount) pairs, \(file) of \(head.pairCount)")
            }
            for image in part.images {
                guard image.index >= 0, image.index < head.pairCount, image.intersection >= 0, image.intersection <= image.union else {
                    throw SegError(.corrupt, file: path, "image \(image.stem): index or counts out of range")
                }
                guard results[image.index] == nil else {
                    throw SegError(.invalid, file: path, "image \(image.stem) is in two partials: the shards overlap")
                }
                results[image.index] = BinaryImageResult(
                    stem: image.stem, groundTruthFile: image.groundTruthFile, predictionFile: image.predictionFile,
                    intersection: image.intersection, union: image.union, groundTruthArea: image.groundTruthArea,
                    predictedArea: image.predictedArea, box: image.box, iou: Double(bitPattern: image.iou))
            }
        }
        if let lost = results.firstIndex(where: { $0 == nil }) {
            throw SegError(.invalid, file: file, "image pair \(lost) is in no shard: the partials do not cover the run")
        }
        let evaluation = BinaryEvaluator.combine(results.compactMap { $0 }, unpaired: head.unpairedPredictions)
        let failures = try FailureTable.binary(evaluation, query: query, file: groundTruth)
        return EvaluationResult(groundTruth: groundTruth, predictions: predictions, engine: .binary(evaluation), failures: failures)
    }
}
