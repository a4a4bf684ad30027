import SegCore

/// What to evaluate and how: the one entry point the CLI and the workbench call.
public struct EvalRequest: Sendable {
    public enum Task: String, Sendable, CaseIterable { case instance, semantic, panoptic, binary }

    public var groundTruth: String
    public var predictions: String
    public var task: Task?
    public var iouType: COCOIoUType = .segm
    public var classesFile: String?
    public var ignoreIndex: UInt32 = 255
    /// Binary masks: the mask value that marks ignored pixels (none by default).
    public var ignoreValue: UInt32?
    public var resizePredictions = false
    public var workers = Parallel.coreCount
    public var limits = ImageFile.Limits.standard
    public var failureLimit = 50

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
}

public enum Evaluation {
    /// The task the inputs imply: a JSON ground truth with `segments_info` is panoptic, other
    /// JSON is instance; folders are semantic with a class list and binary without.
    public static func inferTask(_ request: EvalRequest, isDirectory: (String) -> Bool,
                                 looksPanoptic: (String) -> Bool) -> EvalRequest.Task {
        if let task = request.task { return task }
        if isDirectory(request.groundTruth) { return request.classesFile != nil ? .semantic : .binary }
        return looksPanoptic(request.groundTruth) ? .panoptic : .instance
    }

    public static func instance(_ request: EvalRequest, progress: (@Sendable (Int, Int) -> Void)? = nil) throws
        -> (report: InstanceReport, inputs: COCOInputs) {
        let gt = try COCOReader.readGroundTruth(request.groundTruth)
        let results = try COCOReader.readResults(request.predictions, groundTruth: gt)
        let inputs = COCOInputs(groundTruth: gt, results: results)
        let evaluation = try COCOEvaluator(params: COCOEvalParams(iouType: request.iouType))
            .evaluate(inputs, workers: request.workers, progress: progress)
        return (InstanceReport(evaluation: evaluation, inputs: inputs), inputs)
    }
}
