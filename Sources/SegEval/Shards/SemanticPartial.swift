import Foundation
import SegCore

/// One shard's semantic records: the evaluator's settings (what `combine` reads), the number of
/// image pairs of the whole run, and each owned pair's result — its sparse confusion matrix,
/// scores, segments and boundary counts — by its index among all pairs. The merge sums them in
/// index order, so every sum is added in the unsharded run's order.
struct SemanticPartial: Codable, Sendable {
    var classes: [String]
    var ignoreIndex: UInt32
    var includeBackground: Bool
    var pairCount: Int
    var unpairedPredictions: [String]
    var images: [Image]

    struct Image: Codable, Sendable {
        var index: Int
        var stem: String, groundTruthFile: String, predictionFile: String
        var width: Int, height: Int
        var confusionIndices: [Int], confusionCounts: [Int]
        var scores: Scores
        var segmentClasses: [Int], segmentAreas: [Int], segmentBoxes: [Int], segmentIoUs: [UInt64]
        var boundaryIntersection: [Int], boundaryUnion: [Int]
    }

    struct Scores: Codable, Sendable {
        var iou: [UInt64], dice: [UInt64], precision: [UInt64], recall: [UInt64]
        var groundTruthPixels: [Int], predictedPixels: [Int]
        var meanIoU: UInt64, meanDice: UInt64, pixelAccuracy: UInt64, frequencyWeightedIoU: UInt64
    }

    init(evaluator: SemanticEvaluator, files: FilePairs, results: [SemanticImageResult], indices: [Int]) {
        classes = evaluator.classes
        ignoreIndex = evaluator.ignoreIndex
        includeBackground = evaluator.includeBackground
        pairCount = files.pairs.count
        unpairedPredictions = files.unpairedPredictions
        images = zip(indices, results).map { index, r in
            let s = r.scores
            return Image(index: index, stem: r.stem, groundTruthFile: r.groundTruthFile, predictionFile: r.predictionFile,
                         width: r.width, height: r.height, confusionIndices: r.confusion.map(\.index),
                         confusionCounts: r.confusion.map(\.count),
                         scores: Scores(iou: s.iou.map(\.bitPattern), dice: s.dice.map(\.bitPattern), precision: s.precision.map(\.bitPattern),
                                        recall: s.recall.map(\.bitPattern), groundTruthPixels: s.groundTruthPixels,
                                        predictedPixels: s.predictedPixels, meanIoU: s.meanIoU.bitPattern, meanDice: s.meanDice.bitPattern,
                                        pixelAccuracy: s.pixelAccuracy.bitPattern, frequencyWeightedIoU: s.frequencyWeightedIoU.bitPattern),
                         segmentClasses: r.segments.map(\.classId), segmentAreas: r.segments.map(\.area),
                         segmentBoxes: r.segments.flatMap { [$0.box.minX, $0.box.minY, $0.box.maxX, $0.box.maxY] },
                         segmentIoUs: r.segments.map(\.iou.bitPattern),
                         boundaryIntersection: r.boundaryIntersection, boundaryUnion: r.boundaryUnion)
        }
    }
}

extension SemanticPartial.Image {
    /// The result back, every list checked against the class count (a damaged partial is an error).
    func result(classes K: Int, file: String) throws -> SemanticImageResult {
        let s = scores
        let S = segmentClasses.count
        guard confusionIndices.count == confusionCounts.count, confusionIndices.allSatisfy({ $0 >= 0 && $0 < K * (K + 1) }),
              [s.iou.count, s.dice.count, s.precision.count, s.recall.count, s.groundTruthPixels.count, s.predictedPixels.count,
               boundaryIntersection.count, boundaryUnion.count].allSatisfy({ $0 == K }),
              segmentAreas.count == S, segmentIoUs.count == S, segmentBoxes.count == 4 * S,
              segmentClasses.allSatisfy({ $0 >= 0 && $0 < K }) else {
            throw SegError(.corrupt, file: file, "image \(stem): its records do not fit \(K) classes")
        }
        func doubles(_ bits: [UInt64]) -> [Double] { bits.map(Double.init(bitPattern:)) }
        var scores = SemanticScores(confusion: [Int](repeating: 0, count: K * (K + 1)), classes: K)
        scores.iou = doubles(s.iou); scores.dice = doubles(s.dice); scores.precision = doubles(s.precision); scores.recall = doubles(s.recall)
        scores.groundTruthPixels = s.groundTruthPixels; scores.predictedPixels = s.predictedPixels
        scores.meanIoU = Double(bitPattern: s.meanIoU); scores.meanDice = Double(bitPattern: s.meanDice)
        scores.pixelAccuracy = Double(bitPattern: s.pixelAccuracy); scores.frequencyWeightedIoU = Double(bitPattern: s.frequencyWeightedIoU)
        let segments = (0..<S).map { j in
            SemanticSegment(imageIndex: index, classId: segmentClasses[j], area: segmentAreas[j],
                            box: PixelBox(minX: segmentBoxes[4 * j], minY: segmentBoxes[4 * j + 1], maxX: segmentBoxes[4 * j + 2],
                                          maxY: segmentBoxes[4 * j + 3]),
                            iou: Double(bitPattern: segmentIoUs[j]))
        }
        return SemanticImageResult(stem: stem, groundTruthFile: groundTruthFile, predictionFile: predictionFile, width: width,
                                   height: height, confusion: zip(confusionIndices, confusionCounts).map { ConfusionCell(index: $0, count: $1) },
                                   scores: scores, segments: segments, boundaryIntersection: boundaryIntersection,
                                   boundaryUnion: boundaryUnion)
    }
}

extension SemanticPartial {
    /// The shards' results in pair order, checked to cover every pair once, combined as the
    /// unsharded run combines them.
    static func merge(_ parts: [(path: String, partial: SemanticPartial)], groundTruth: String, predictions: String,
                      query: FailureQuery) throws -> EvaluationResult {
        let head = parts[0].partial, file = parts[0].path
        var results = [SemanticImageResult?](repeating: nil, count: head.pairCount)
        for (path, part) in parts {
            guard part.classes == head.classes, part.pairCount == head.pairCount, part.ignoreIndex == head.ignoreIndex,
                  part.includeBackground == head.includeBackground else {
                throw SegError(.invalid, file: path, "its classes or settings differ from \(file)'s though the inputs are the same")
            }
            for image in part.images {
                guard image.index >= 0, image.index < head.pairCount else { throw SegError(.corrupt, file: path, "image index out of range") }
                guard results[image.index] == nil else {
                    throw SegError(.invalid, file: path, "image \(image.stem) is in two partials: the shards overlap")
                }
                results[image.index] = try image.result(classes: head.classes.count, file: path)
            }
        }
        if let lost = results.firstIndex(where: { $0 == nil }) {
            throw SegError(.invalid, file: file, "image pair \(lost) is in no shard: the partials do not cover the run")
        }
        var evaluator = SemanticEvaluator(classes: head.classes, ignoreIndex: head.ignoreIndex)
        evaluator.includeBackground = head.includeBackground
        let evaluation = evaluator.combine(results.compactMap { $0 }, unpaired: head.unpairedPredictions)
        let failures = try FailureTable.semantic(evaluation, query: query, file: groundTruth)
        return EvaluationResult(groundTruth: groundTruth, predictions: predictions, engine: .semantic(evaluation), failures: failures)
    }
}
