import ArgumentParser
import Foundation
import SegCore
import SegEval
import SegNN

/// `segterm eval merge PART…`: the partial results of a sharded `eval` put together into the
/// unsharded run's output (README "On a cluster").
struct EvalMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segterm eval merge",
        abstract: "Merge the partial results of `segterm eval --shard I/N --partial-out PART` into the whole run's output.",
        discussion: """
            Every shard 0..N-1 must be given exactly once, all from the same run (the same inputs, \
            by content, and the same parameters); the output is the unsharded run's, number for \
            number, with the failure table of the options below and TIDE when the shards ran --tide.
            """
    )

    @Argument(help: "The partial results, one per shard, in any order.")
    var partials: [String]

    @Option(help: "Output: table, json or csv.")
    var format: OutputFormat = .table

    @Option(help: "Write the output to this file (atomically) instead of stdout.")
    var out: String?

    @Option(help: "Worker threads (default: the number of cores).")
    var workers: Int = Parallel.coreCount

    @Option(help: "Rows of the failure table to write, worst first.")
    var failures: Int = 20

    @Option(help: "Order of the failure table: iou, score, area, image or kind.")
    var failureSort: FailureTable.SortKey = .iou

    @Option(help: "Only failures of this class (name, or id as a number).")
    var failureClass: String?

    @Option(help: "Only failures of this size: small, medium or large.")
    var failureSize: SizeBucket?

    @Option(help: "Only failures of this type.")
    var failureType: FailureRow.Kind?

    func validate() throws {
        guard !partials.isEmpty else { throw ValidationError("give the partial results to merge") }
        guard workers > 0 else { throw ValidationError("--workers must be positive") }
        guard failures >= 0 else { throw ValidationError("--failures must not be negative") }
    }

    func run() throws {
        Threads.parkBLASThreads()
        let query = FailureQuery(sort: failureSort, className: failureClass, sizeBucket: failureSize, kind: failureType, limit: failures)
        let result = try Evaluation.merge(partials, query: query, workers: workers)
        for warning in result.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        try emitEvalOutput(result.output, format: format, out: out)
        keepUntilExit(result)
    }
}
