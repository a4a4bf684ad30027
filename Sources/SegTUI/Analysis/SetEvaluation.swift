import SegCore
import SegEval

/// Metric values as the metrics view shows them: one row per class (per image for binary masks),
/// one column per metric, plus the set's headline numbers and, for instances, the TIDE errors.
public struct MetricsTable: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var name: String
        public var values: [Double]  // -1 where undefined, as pycocotools writes it
        /// Instances: precision at recall 0, 0.01, …, 1 (IoU 0.5, all areas, 100 detections), -1 where undefined.
        public var precisionCurve: [Double] = []
    }

    public var title: String
    public var rowLabel: String
    public var columns: [String]
    public var rows: [Row]
    public var summary: [(name: String, value: Double)]
    /// TIDE: AP gained by fixing each error type, in tidecv's order.
    public var errors: [(name: String, gain: Double)]

    public static func == (a: MetricsTable, b: MetricsTable) -> Bool {
        a.title == b.title && a.columns == b.columns && a.rows == b.rows && a.summary.map(\.name) == b.summary.map(\.name)
            && a.summary.map(\.value) == b.summary.map(\.value) && a.errors.map(\.name) == b.errors.map(\.name)
    }
}

/// What the workbench knows about one prediction set once the evaluation engine has run on it:
/// the per-image numbers of the image list, the metrics view's table and the failure rows.
public struct SetEvaluation: Sendable {
    public var scores: ImageScores
    public var metrics: MetricsTable
    public var failures: [FailureRow]
    /// `failures` indices in each sort order.
    public var failureOrders: [FailureSort: [Int]]
    /// Each row's filter keys as small integers, so that filtering 100,000 rows touches no string.
    public var failureKeys: FailureKeys
    /// Instance sets: the files as read, to draw a detection's mask.
    public var instances: COCOInputs?
    /// The engine's own result, for comparing two sets as `segterm compare` does.
    public var result: EngineResult?

    public enum EngineResult: Sendable {
        case instance(COCOEvaluation), semantic(SemanticEvaluation), binary(BinaryEvaluation)
    }

    public init(scores: ImageScores, metrics: MetricsTable, failures: [FailureRow], instances: COCOInputs? = nil,
                result: EngineResult? = nil) {
        self.scores = scores
        self.metrics = metrics
        self.failures = failures
        self.instances = instances
        self.result = result
        failureOrders = Self.failureOrders(failures)
        failureKeys = FailureKeys(failures)
    }

    /// B against A with `segterm compare`'s defaults (200 bootstrap replicates for instances, 1000
    /// otherwise, seed 0), so the view and the command print the same interval.
    public static func compare(_ a: SetEvaluation, _ b: SetEvaluation) throws -> Comparison {
        switch (a.result, b.result) {
        case let (.instance(x)?, .instance(y)?): return Comparison.instance(x, y, replicates: 200, seed: 0)
        case let (.semantic(x)?, .semantic(y)?): return try Comparison.semantic(x, y, replicates: 1000, seed: 0)
        case let (.binary(x)?, .binary(y)?): return try Comparison.binary(x, y, replicates: 1000, seed: 0)
        default: throw SegError(.invalid, file: "", "the two prediction sets are not of the same kind")
        }
    }

    /// The predicted mask a failure row is about (a detection of an instance set), if any.
    public func predictionMask(for row: FailureRow) -> Mask? {
        guard let instances, row.reference.hasPrefix("results["), let index = Int(row.reference.dropFirst(8).dropLast()) else { return nil }
        return instances.detectionMask(index)
    }

    /// COCO JSON files are instances; folders are semantic label maps when `classes` has more than
    /// background and one class, else binary masks (with `ignoreValue`).
    public static func compute(groundTruth: String, predictions: String, classes: [String] = [],
                               ignoreValue: UInt32? = nil, workers: Int = 1) throws -> SetEvaluation {
        if FileIO.isDirectory(groundTruth) {
            let files = try FilePairs.match(groundTruth: groundTruth, predictions: predictions)
            if classes.count > 2 {
                let ev = try SemanticEvaluator(classes: classes, ignoreIndex: ignoreValue ?? 255).evaluate(files, workers: workers)
                return SetEvaluation(scores: ImageScores(semantic: ev), metrics: semanticTable(ev), failures: FailureTable.semantic(ev).rows,
                                     result: .semantic(ev))
            }
            let ev = try BinaryEvaluator(ignoreValue: ignoreValue).evaluate(files, workers: workers)
            return SetEvaluation(scores: ImageScores(binary: ev), metrics: binaryTable(ev), failures: FailureTable.binary(ev).rows,
                                 result: .binary(ev))
        }
        var request = EvalRequest(groundTruth: groundTruth, predictions: predictions)
        request.workers = workers
        let (report, inputs) = try Evaluation.instance(request)
        let tide = try TIDE.evaluate(inputs, mask: true, workers: workers)
        return SetEvaluation(scores: ImageScores(instance: report.evaluation), metrics: instanceTable(report, tide: tide),
                             failures: FailureTable.instance(report.evaluation, inputs: inputs).rows, instances: inputs,
                             result: .instance(report.evaluation))
    }

    /// The columns of `segterm eval`'s per-class table, from the same numbers.
    static func instanceTable(_ report: InstanceReport, tide: TIDEResult) -> MetricsTable {
        let ev = report.evaluation
        let columns = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"]
        // precision is T × R × K × A × M: IoU 0.5 is t = 0, all areas a = 0, 100 detections the last m.
        let R = ev.params.recallThresholds.count, K = ev.categories.count, A = ev.params.areaRanges.count, M = ev.params.maxDets.count
        let rows = ev.categories.indices.map { k in
            MetricsTable.Row(name: ev.categories[k].name, values: columns.map { ev.perCategory[k][$0] ?? -1 },
                             precisionCurve: (0..<R).map { r in ev.precision[((r * K + k) * A + 0) * M + (M - 1)] })
        }
        return MetricsTable(title: "instance (\(ev.params.iouType.rawValue)), \(ev.images.count) images, \(report.detectionCount) detections",
                            rowLabel: "class", columns: columns, rows: rows,
                            summary: zip(COCOSummary.names, ev.stats).map { ($0, $1) },
                            errors: TIDEResult.ErrorType.allCases.map { ($0.rawValue, tide.gains[$0] ?? 0) })
    }

    static func semanticTable(_ ev: SemanticEvaluation) -> MetricsTable {
        let c = ev.cumulative
        let rows = ev.classes.indices.map { k in MetricsTable.Row(name: ev.classes[k], values: [c.iou[k], c.dice[k], c.precision[k], c.recall[k]]) }
        return MetricsTable(title: "semantic, \(ev.images.count) images (dataset-cumulative)", rowLabel: "class",
                            columns: ["IoU", "Dice", "precision", "recall"], rows: rows,
                            summary: [("mIoU", c.meanIoU), ("mDice", c.meanDice), ("pixel acc", c.pixelAccuracy), ("fwIoU", c.frequencyWeightedIoU)],
                            errors: [])
    }

    static func binaryTable(_ ev: BinaryEvaluation) -> MetricsTable {
        let rows = ev.images.map { r in
            MetricsTable.Row(name: r.stem, values: [r.iou, r.groundTruthArea + r.predictedArea == 0 ? -1
                                                        : 2 * Double(r.intersection) / Double(r.groundTruthArea + r.predictedArea)])
        }
        return MetricsTable(title: "binary masks, \(ev.images.count) images", rowLabel: "image", columns: ["IoU", "Dice"], rows: rows,
                            summary: [("mean IoU", ev.meanIoU), ("cumulative IoU", ev.cumulativeIoU)], errors: [])
    }
}
