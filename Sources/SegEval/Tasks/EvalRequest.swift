import SegCore

/// What to evaluate and how: the one request `segterm eval`, `segterm compare` and the workbench
/// hand to `Evaluation.run`.
public struct EvalRequest: Sendable {
    public enum Task: String, Sendable, CaseIterable { case instance, semantic, panoptic, binary, volume }

    public var groundTruth: String
    public var predictions: String
    /// nil: inferred from the inputs (`Evaluation.task(of:)`).
    public var task: Task?
    public var iouType: COCOIoUType = .segm
    /// Instance: coco (pycocotools) or lvis (LVISEval); nil: lvis when the ground truth is
    /// federated (LVIS's image and category fields), else coco.
    public var evaluationProtocol: EvaluationProtocol?
    /// Instance, pycocotools' parameters (nil: the protocol's defaults): `iouThrs`, `recThrs`, `maxDets`.
    public var iouThresholds: [Double]?
    public var recallThresholds: [Double]?
    public var maxDets: [Int]?
    /// Area ranges that replace the one of the same name or are added after the others.
    public var areaRanges: [COCOAreaRange] = []
    /// pycocotools' `useCats`; false: class-agnostic.
    public var useCategories = true
    /// pycocotools' `imgIds`: evaluate only these images, ids as the ground truth writes them
    /// (numbers, or the strings of a file with string ids).
    public var imageIds: [String]?
    /// A class-list file (text or JSON), read when `classNames` is nil.
    public var classesFile: String?
    /// Class names already read (the workbench's `classes`): they take the place of `classesFile`.
    public var classNames: [String]?
    public var ignoreIndex: UInt32 = 255
    /// Semantic: mmsegmentation's `label_map` (ground-truth label old → new) and `reduce_zero_label`.
    public var labelMap: [UInt32: UInt32] = [:]
    public var reduceZeroLabel = false
    /// Semantic: torchmetrics' `include_background`; false leaves class 0 out of mIoU and mDice.
    public var includeBackground = true
    /// Binary masks: the mask value that marks ignored pixels (none by default).
    public var ignoreValue: UInt32?
    public var resizePredictions = false
    public var workers = Parallel.coreCount
    public var limits = ImageFile.Limits.standard
    /// Which failure rows to keep, in what order (the limit defaults to 50).
    public var failureQuery = FailureQuery(limit: 50)
    /// Instance: also compute the TIDE error breakdown.
    public var tide = false
    /// Volumes: the dataset.json (nil: looked for beside the ground truth), the surface metrics
    /// (off to get nnU-Net's numbers only, faster) and the NSD tolerance in millimetres.
    public var datasetJSON: String?
    public var surfaceMetrics = true
    public var nsdTolerance = 1.0
    /// Instance, two COCO JSON files, no TIDE: evaluate a batch of images at a time, keeping no
    /// per-detection records (`COCOStreamedEvaluation`), so that memory does not grow with the
    /// data set. The result's evaluation then has no cells: for reports only (`segterm eval`),
    /// not for comparisons or the workbench.
    public var streamInstances = false
    /// Images per batch of the streamed path.
    public var streamBatchSize = COCOStreamedEvaluation.defaultBatchSize
    /// Called with (images done, images) as the evaluation goes.
    public var progress: (@Sendable (Int, Int) -> Void)?

    public init(groundTruth: String, predictions: String) {
        self.groundTruth = groundTruth
        self.predictions = predictions
    }
}

/// Output of an evaluation in every form the CLI writes.
public struct EvalOutput: Sendable {
    public var json: JSONValue
    public var tables: [ReportTable]
    public var csv: ReportTable

    public init(json: JSONValue, tables: [ReportTable], csv: ReportTable) {
        self.json = json; self.tables = tables; self.csv = csv
    }

    /// The output of a report type: its JSON is the report encoded.
    public init(report: some Encodable, tables: [ReportTable], csv: ReportTable) {
        do {
            json = try JSONValue(encoding: report)
        } catch {
            // The report types encode numbers, strings and arrays only: nothing there can throw.
            preconditionFailure("a report could not be encoded: \(error)")
        }
        self.tables = tables
        self.csv = csv
    }
}
