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

    @OptionGroup var output: EvalOutputOptions

    @OptionGroup var failureOptions: FailureOptions

    func validate() throws {
        guard !partials.isEmpty else { throw ValidationError("give the partial results to merge") }
    }

    func run() throws {
        Threads.parkBLASThreads()
        let result = try Evaluation.merge(partials, query: failureOptions.query, workers: output.workers)
        for warning in result.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        try output.emit(result.output)
        keepUntilExit(result)
    }
}
