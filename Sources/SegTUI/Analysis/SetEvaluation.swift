import SegCore
import SegEval

/// Metric values as the metrics view shows them: one row per class (per image for binary masks),
/// one column per metric, plus the set's headline numbers and, for instances, the TIDE errors.
public struct MetricsTable: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var name: String
        /// nil where undefined (the engines write -1 there, as pycocotools does)
        public var values: [Double?]
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

    public init(title: String, rowLabel: String, columns: [String], rows: [Row], summary: [(name: String, value: Double)],
                errors: [(name: String, gain: Double)]) {
        self.title = title; self.rowLabel = rowLabel; self.columns = columns; self.rows = rows; self.summary = summary; self.errors = errors
    }

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
    /// The engine's own result: to compare two sets as `segterm compare` does and to draw masks.
    public var result: EvaluationResult?

    public init(scores: ImageScores, metrics: MetricsTable, failures: [FailureRow], result: EvaluationResult? = nil) {
        self.scores = scores
        self.metrics = metrics
        self.failures = failures
        self.result = result
        failureOrders = Self.failureOrders(failures)
        failureKeys = FailureKeys(failures)
    }

    public init(_ result: EvaluationResult) {
        self.init(scores: result.imageScores, metrics: MetricsTable(result), failures: result.failures.rows, result: result)
    }

    /// Evaluates a prediction set as `segterm eval` does, with the workspace's settings: the class
    /// list (which, with the ground truth, decides the task: `Evaluation.task(of:)`), the ignore
    /// value (of binary masks, and the ignore index of label maps), every failure row, and TIDE.
    public static func compute(groundTruth: String, predictions: String, classes: [String] = [],
                               ignoreValue: UInt32? = nil, workers: Int = 1) throws -> SetEvaluation {
        var request = EvalRequest(groundTruth: groundTruth, predictions: predictions)
        request.classNames = classes.isEmpty ? nil : classes
        request.ignoreValue = ignoreValue
        request.ignoreIndex = ignoreValue ?? request.ignoreIndex
        request.workers = workers
        request.failureQuery = FailureQuery()
        request.tide = true
        return SetEvaluation(try Evaluation.run(request))
    }

    /// B against A with `segterm compare`'s defaults, so the view and the command print the same interval.
    public static func compare(_ a: SetEvaluation, _ b: SetEvaluation) throws -> Comparison {
        guard let x = a.result, let y = b.result else { throw SegError(.invalid, file: "", "a prediction set is not evaluated yet") }
        return try Evaluation.compare(x, y)
    }
}
