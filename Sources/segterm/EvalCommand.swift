import ArgumentParser
import Foundation
import SegCore
import SegEval
import SegNN
#if canImport(Glibc)
import Glibc
#endif

extension EvalRequest.Task: ExpressibleByArgument {}
extension COCOIoUType: ExpressibleByArgument {}
extension FailureTable.SortKey: ExpressibleByArgument {}
extension FailureRow.Kind: ExpressibleByArgument {}
extension SizeBucket: ExpressibleByArgument {}
extension EvaluationProtocol: ExpressibleByArgument {}

/// `name=low,high` (pixels², both ends inclusive as pycocotools' `areaRng`).
extension COCOAreaRange: ExpressibleByArgument {
    public init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty else { return nil }
        let ends = parts[1].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard ends.count == 2, let low = ends[0], let high = ends[1], low.isFinite, high.isFinite else { return nil }
        self.init(label: String(parts[0]), min: low, max: high)
    }
}

/// `old:new` label pairs, comma-separated ("2:1,5:255").
struct LabelMapping: ExpressibleByArgument {
    var pairs: [UInt32: UInt32] = [:]
    init?(argument: String) {
        for item in argument.split(separator: ",") {
            let parts = item.split(separator: ":").map { UInt32($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let from = parts[0], let to = parts[1], pairs[from] == nil else { return nil }
            pairs[from] = to
        }
        if pairs.isEmpty { return nil }
    }
}

/// A comma-separated list of numbers ("0.5,0.75").
struct NumberList<Value: LosslessStringConvertible>: ExpressibleByArgument {
    var values: [Value]
    init?(argument: String) {
        let parsed = argument.split(separator: ",").map { Value(String($0).trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { return nil }
        values = parsed.compactMap { $0 }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

/// Options `eval` and `compare` share.
struct EvalOptions: ParsableArguments {
    @Option(help: "Ground truth: COCO instances or panoptic JSON, or a folder of label maps or masks.")
    var gt: String

    @Option(help: "instance, semantic, panoptic, binary or volume (default: inferred from the inputs; a folder of .nii/.nii.gz files is volume).")
    var task: EvalRequest.Task?

    @Option(help: "Instance IoU: segm, bbox or boundary.")
    var iouType: COCOIoUType = .segm

    @Option(help: "Class names (text, one a line, line index = class id; or JSON). Label maps: more than background and one class make the task semantic. JSON ground truth: matched to its categories by name; a class that is no category is an error.")
    var classes: String?

    @Option(help: "Label value that is ignored in semantic ground truth.")
    var ignoreIndex: UInt32 = 255

    @Option(help: "Semantic: ground-truth labels renamed before evaluation, old:new pairs comma-separated (mmsegmentation's label_map).")
    var labelMap: LabelMapping?

    @Flag(help: "Semantic: ground-truth 0 is ignored and every other label moves down by one (mmsegmentation's reduce_zero_label).")
    var reduceZeroLabel = false

    @Option(help: "Semantic: whether class 0 (background) counts in mIoU and mDice: true (default) or false (torchmetrics' include_background).")
    var includeBackground = true

    @Option(help: "Binary masks: the value that marks pixels to ignore (e.g. 128 for GrabCut).")
    var ignoreValue: UInt32?

    @Option(help: "Resize predictions whose size differs from the ground truth: 'nearest'. Without it a size mismatch is an error.")
    var resizePred: ResizeMode?

    @OptionGroup var output: EvalOutputOptions

    @OptionGroup var failureOptions: FailureOptions

    @Flag(help: "Instance: add the TIDE error breakdown (AP gain from fixing each error type, per class and size).")
    var tide = false

    @Option(help: "Instance rules: coco (pycocotools) or lvis (LVISEval, federated). Default: lvis when the ground truth has LVIS's fields (neg_category_ids, not_exhaustive_category_ids, category frequency), else coco.")
    var `protocol`: EvaluationProtocol?

    @Option(help: "Instance: IoU thresholds, comma-separated ascending (pycocotools' iouThrs; default 0.50:0.05:0.95).")
    var iouThrs: NumberList<Double>?

    @Option(help: "Instance: recall thresholds (pycocotools' recThrs; default 0:0.01:1).")
    var recThrs: NumberList<Double>?

    @Option(help: "Instance: detections kept per image and category, ascending (pycocotools' maxDets, three values, default 1,10,100; LVIS: one value per image, default 300).")
    var maxDets: NumberList<Int>?

    @Option(help: "Instance: an area range name=low,high in pixels² (repeatable): replaces the range of that name (all, small, medium, large) or adds one, reported as AP_name and AR_name.")
    var areaRange: [COCOAreaRange] = []

    @Flag(help: "Instance: class-agnostic, every category as one (pycocotools' useCats=0).")
    var noCategories = false

    @Option(help: "Instance: evaluate only these image ids, comma-separated (pycocotools' imgIds; numbers, or the strings of a file with string ids).")
    var imageIds: String?

    @OptionGroup var imageOptions: ImageOptions

    @OptionGroup var volumeOptions: VolumeOptions

    enum ResizeMode: String, ExpressibleByArgument { case nearest }

    func request(predictions: String) -> EvalRequest {
        var r = EvalRequest(groundTruth: gt, predictions: predictions)
        r.task = task
        r.iouType = iouType
        r.classesFile = classes
        r.ignoreIndex = ignoreIndex
        r.labelMap = labelMap?.pairs ?? [:]
        r.reduceZeroLabel = reduceZeroLabel
        r.includeBackground = includeBackground
        r.ignoreValue = ignoreValue
        r.resizePredictions = resizePred == .nearest
        r.workers = output.workers
        r.limits = imageOptions.limits
        r.failureQuery = failureOptions.query
        r.tide = tide
        r.evaluationProtocol = self.`protocol`
        r.iouThresholds = iouThrs?.values
        r.recallThresholds = recThrs?.values
        r.maxDets = maxDets?.values
        r.areaRanges = areaRange
        r.useCategories = !noCategories
        r.imageIds = imageIds?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        volumeOptions.apply(to: &r)
        return r
    }

    func emit(_ evalOutput: EvalOutput) throws { try output.emit(evalOutput) }
}

/// Where an evaluation's output goes, and the threads that make it: `eval`, `compare` and the merges.
struct EvalOutputOptions: ParsableArguments {
    @Option(help: "Output: table, json or csv.")
    var format: OutputFormat = .table

    @Option(help: "Write the output to this file (atomically) instead of stdout.")
    var out: String?

    @Option(help: "Worker threads (default: the number of cores).")
    var workers: Int = Parallel.coreCount

    func validate() throws {
        guard workers > 0 else { throw ValidationError("--workers must be positive") }
    }

    func emit(_ output: EvalOutput) throws { try emitEvalOutput(output, format: format, out: out) }
}

/// The failure table: how many rows, in which order, which failures.
struct FailureOptions: ParsableArguments {
    @Option(help: "Rows of the failure table to write, worst first (the counts cover every failure that passes the filters).")
    var failures: Int = 20

    @Option(help: "Order of the failure table: iou (lowest first), score (highest first), area (largest first), image or kind.")
    var failureSort: FailureTable.SortKey = .iou

    @Option(help: "Only failures of this class (name, or id as a number).")
    var failureClass: String?

    @Option(help: "Only failures of this size: small, medium or large (COCO's area buckets).")
    var failureSize: SizeBucket?

    @Option(help: "Only failures of this type: \(FailureRow.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var failureType: FailureRow.Kind?

    func validate() throws {
        guard failures >= 0 else { throw ValidationError("--failures must not be negative") }
    }

    var query: FailureQuery {
        FailureQuery(sort: failureSort, className: failureClass, sizeBucket: failureSize, kind: failureType, limit: failures)
    }
}

/// The output written as `--format` says, to `--out` (atomically) or stdout.
func emitEvalOutput(_ output: EvalOutput, format: OutputFormat, out: String?) throws {
    let text: String
    switch format {
    case .json: text = output.json.serialized() + "\n"
    case .csv: text = output.csv.csv()
    case .table:
        let color = out == nil && isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        text = output.tables.map { $0.render(color: color) }.joined(separator: "\n")
    }
    if let out {
        try FileIO.writeAtomically(Array(text.utf8), to: out)
    } else {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate predictions against ground truth (COCO instance, semantic, panoptic or binary masks).",
        discussion: """
            Instance: COCO AP/AR exactly as pycocotools computes them (--iou-type segm, bbox or boundary), \
            with its parameters (--iou-thrs, --rec-thrs, --max-dets, --area-range, --no-categories, \
            --image-ids), or LVIS AP as the lvis package's LVISEval (detected from the ground truth, or \
            --protocol lvis), per-class AP/AR and a failure table. Semantic: per-class IoU, Dice, precision, recall, mIoU, \
            pixel accuracy, fwIoU and the confusion matrix (dataset-cumulative and per-image mean), and \
            recall of ground-truth segments by size. Panoptic: PQ/SQ/RQ as panopticapi. Binary: IoU with an \
            ignore value. JSON keys are listed in the README. On a cluster: --shard I/N --partial-out PART \
            per shard, then `segterm eval merge PART…` (README "On a cluster").
            """,
        subcommands: [EvalMerge.self]
    )

    @OptionGroup var options: EvalOptions

    @Option(help: "Predictions: COCO results JSON, panoptic JSON, or a folder of label maps or masks.")
    var pred: String

    @OptionGroup var sharding: ShardOptions

    @Option(help: "Write this shard's records for `segterm eval merge` to this file instead of the output (instance tasks).")
    var partialOut: String?

    func run() throws {
        // The evaluation never calls BLAS: OpenBLAS's idle threads would only take cores from it.
        Threads.parkBLASThreads()
        keepFreedMemoryForReuse()
        var clock = PhaseClock()
        var request = options.request(predictions: pred)
        request.progress = ProgressBar("evaluating").callback
        // The report is all this command writes: COCO JSON inputs are evaluated a batch of images
        // at a time, in memory that does not grow with the data set.
        request.streamInstances = true
        let shard = try sharding.resolve()
        if shard != nil || partialOut != nil {
            guard let partialOut else { throw ValidationError("--shard writes a partial result: give --partial-out PART") }
            try Evaluation.partial(request, shard: shard ?? .whole).write(to: partialOut)
            return
        }
        let result = try Evaluation.run(request)
        for warning in result.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        clock.lap("evaluate (all)")
        try options.emit(result.output)
        try options.volumeOptions.writeSummary(result)
        clock.lap("write output")
        keepUntilExit(result)
    }
}

/// Asks malloc to keep freed memory for reuse rather than hand it back to the system at once:
/// the evaluation allocates and frees the same per-image sizes over and over, and every page
/// returned and taken again is a page fault plus a zeroed page. Measured on the 1,000-image
/// benchmark: 23,500 → 16,000 page faults, about 30 ms of CPU less. The peak does not grow.
/// (`mallopt` is looked up at run time: the Glibc module does not export malloc.h; the option
/// numbers are glibc's.)
func keepFreedMemoryForReuse() {
    typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }  // RTLD_DEFAULT
    let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
    let trimThreshold: Int32 = -1, topPad: Int32 = -2, mmapThreshold: Int32 = -3
    _ = mallopt(mmapThreshold, 32 << 20)  // glibc's largest: big buffers come from the heap too
    _ = mallopt(trimThreshold, 1 << 30)
    _ = mallopt(topPad, 64 << 20)         // address space only; pages are touched when used
}

/// The CLI exits right after writing its output; freeing every annotation and per-image table
/// one by one first would only delay that (about 15 ms for 50,000 detections), while the system
/// takes the memory back at once. Only for values the process needs until it ends anyway.
func keepUntilExit<T>(_ value: T) {
    _ = Unmanaged.passRetained(KeptUntilExit(value))
}

final class KeptUntilExit<T> {
    let value: T
    init(_ value: T) { self.value = value }
}
