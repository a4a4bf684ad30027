import SegCore

/// One number per image for a prediction set, for lists that rank or flag images: F1 at IoU 0.5
/// for instance predictions (as `compare` reports per image), mIoU for semantic label maps, IoU
/// for binary masks, PQ for panoptic segments. Undefined values (no objects on either side, no classes present) are -1.
public struct ImageScores: Sendable, Equatable {
    public var metric: String
    /// By image file stem (the last path component without its extension).
    public var byStem: [String: Double]

    public init(metric: String, byStem: [String: Double]) {
        self.metric = metric
        self.byStem = byStem
    }

    public init(instance evaluation: COCOEvaluation) {
        let f1 = Comparison.imageF1(evaluation)
        var byStem: [String: Double] = [:]
        for (i, image) in evaluation.images.enumerated() {
            byStem[FileName.stem(image.fileName)] = f1[i]
        }
        self.init(metric: "F1@.5", byStem: byStem)
    }

    public init(semantic evaluation: SemanticEvaluation) {
        self.init(metric: "mIoU", byStem: Dictionary(evaluation.images.map { ($0.stem, $0.scores.meanIoU) }, uniquingKeysWith: { a, _ in a }))
    }

    public init(panoptic evaluation: PanopticEvaluation) {
        self.init(metric: "PQ", byStem: Dictionary(evaluation.images.indices.map { (FileName.stem(evaluation.images[$0].fileName), evaluation.imagePQ($0)) },
                                                   uniquingKeysWith: { a, _ in a }))
    }

    /// Volumes: each case's mean Dice over the structures it defines (-1 when none is).
    public init(volume evaluation: VolumeEvaluation) {
        self.init(metric: "Dice", byStem: Dictionary(evaluation.cases.map { c in
            let defined = c.overlaps.map(\.dice).filter { !$0.isNaN }
            return (c.name, defined.isEmpty ? -1 : defined.reduce(0, +) / Double(defined.count))
        }, uniquingKeysWith: { a, _ in a }))
    }

    public init(binary evaluation: BinaryEvaluation) {
        self.init(metric: "IoU", byStem: Dictionary(evaluation.images.map { ($0.stem, $0.iou) }, uniquingKeysWith: { a, _ in a }))
    }
}
