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
    /// Which failure rows to keep, in what order (the limit defaults to 50).
    public var failureQuery = FailureQuery(limit: 50)
    /// Instance: also compute the TIDE error breakdown.
    public var tide = false

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
        var clock = PhaseClock()
        let (gt, results) = try COCOReader.readBoth(groundTruth: request.groundTruth, results: request.predictions)
        clock.lap("read ground truth and results")
        let inputs = COCOInputs(groundTruth: gt, results: results)
        let evaluation = try COCOEvaluator(params: COCOEvalParams(iouType: request.iouType))
            .evaluate(inputs, workers: request.workers, progress: progress)
        clock.lap("evaluate + accumulate")
        return (InstanceReport(evaluation: evaluation, inputs: inputs), inputs)
    }
}

extension Evaluation {
    public static func semantic(_ request: EvalRequest, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> SemanticEvaluation {
        let files = try FilePairs.match(groundTruth: request.groundTruth, predictions: request.predictions)
        var classes: [String]
        if let file = request.classesFile {
            classes = try ClassNames.load(file)
            guard classes.count <= SemanticEvaluator.maxClasses else {
                throw SegError(.tooLarge, file: file, "\(classes.count) classes, above the limit of \(SemanticEvaluator.maxClasses)")
            }
        } else {
            // Without a class list, the classes are 0...the largest label in the ground truth. The
            // tables are sized by that, so a stray large value (a 16-bit map holding 65535, a
            // label map with ids up to 2^24) is refused here, naming its file, before any is made.
            var largest: UInt32 = 0
            for pair in files.pairs {
                for v in try ImageFile.read(pair.groundTruth, limits: request.limits).labelMap().labels where v != request.ignoreIndex {
                    largest = max(largest, v)
                }
                guard largest < UInt32(SemanticEvaluator.maxClasses) else {
                    throw SegError(.tooLarge, file: pair.groundTruth, "label \(largest) would make \(UInt64(largest) + 1) classes, above the limit of "
                        + "\(SemanticEvaluator.maxClasses)")
                }
            }
            classes = (0...Int(largest)).map { "class \($0)" }
        }
        let evaluator = SemanticEvaluator(classes: classes, ignoreIndex: request.ignoreIndex,
                                          resizePredictions: request.resizePredictions, limits: request.limits)
        return try evaluator.evaluate(files, workers: request.workers, progress: progress)
    }

    public static func binary(_ request: EvalRequest, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> BinaryEvaluation {
        let files = try FilePairs.match(groundTruth: request.groundTruth, predictions: request.predictions)
        return try BinaryEvaluator(ignoreValue: request.ignoreValue, resizePredictions: request.resizePredictions, limits: request.limits)
            .evaluate(files, workers: request.workers, progress: progress)
    }
}

/// Phase timings on stderr when SEGTERM_TIMING is set (for BENCHMARKS.md).
public struct PhaseClock {
    private let enabled = getenv("SEGTERM_TIMING") != nil
    private var last = PhaseClock.now()

    public init() {}

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public mutating func lap(_ name: String) {
        guard enabled else { return }
        let t = PhaseClock.now()
        let line = "timing: \(name) \(Int((t - last) * 1000)) ms\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        last = t
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
