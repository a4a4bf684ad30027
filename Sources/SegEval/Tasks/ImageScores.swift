import SegCore

/// One number per image for a prediction set, for lists that rank or flag images: F1 at IoU 0.5
/// for instance predictions (as `compare` reports per image), mIoU for semantic label maps, IoU
/// for binary masks. Undefined values (no objects on either side, no classes present) are -1.
public struct ImageScores: Sendable, Equatable {
    public var metric: String
    /// By image file stem (the last path component without its extension).
    public var byStem: [String: Double]

    public init(metric: String, byStem: [String: Double]) {
        self.metric = metric
        self.byStem = byStem
    }

    /// Evaluates `predictions` against `groundTruth` with the engine: COCO JSON files as
    /// instances; folders as semantic label maps when `classes` has more than background and one
    /// class, else as binary masks (with `ignoreValue`).
    public static func compute(groundTruth: String, predictions: String, classes: [String] = [],
                               ignoreValue: UInt32? = nil, workers: Int = Parallel.coreCount) throws -> ImageScores {
        if FileIO.isDirectory(groundTruth) {
            let files = try FilePairs.match(groundTruth: groundTruth, predictions: predictions)
            if classes.count > 2 {
                let evaluation = try SemanticEvaluator(classes: classes, ignoreIndex: ignoreValue ?? 255).evaluate(files, workers: workers)
                return ImageScores(metric: "mIoU", byStem: Dictionary(evaluation.images.map { ($0.stem, $0.scores.meanIoU) },
                                                                     uniquingKeysWith: { a, _ in a }))
            }
            let evaluation = try BinaryEvaluator(ignoreValue: ignoreValue).evaluate(files, workers: workers)
            return ImageScores(metric: "IoU", byStem: Dictionary(evaluation.images.map { ($0.stem, $0.iou) }, uniquingKeysWith: { a, _ in a }))
        }
        var request = EvalRequest(groundTruth: groundTruth, predictions: predictions)
        request.workers = workers
        let evaluation = try Evaluation.instance(request).report.evaluation
        let f1 = Comparison.imageF1(evaluation)
        var byStem: [String: Double] = [:]
        for (i, image) in evaluation.images.enumerated() {
            let name = image.fileName.split(separator: "/").last.map(String.init) ?? image.fileName
            byStem[FilePairs.stem(name)] = f1[i]
        }
        return ImageScores(metric: "F1@.5", byStem: byStem)
    }
}
