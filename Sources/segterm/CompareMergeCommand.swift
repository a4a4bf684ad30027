import ArgumentParser
import Foundation
import SegCore
import SegEval
import SegNN

/// `segterm compare merge --a PART… --b PART…`: a comparison of two sharded evaluations. Each
/// set's partials merge into its unsharded evaluation (`Evaluation.merge`), and the bootstrap
/// runs on those, so deltas and intervals are the unsharded `compare`'s for any N (README "On a
/// cluster").
struct CompareMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segterm compare merge",
        abstract: "Compare two sharded evaluations: the partials of `segterm eval --shard I/N --partial-out PART` for A and for B.",
        discussion: """
            Run `segterm eval --shard I/N --partial-out` once per shard for each prediction set (same ground \
            truth and parameters), then give A's partials after --a and B's after --b. The output is what \
            `segterm compare --pred A --pred B` writes, number for number, bootstrap interval included.
            """
    )

    @Option(parsing: .upToNextOption, help: "Set A's partial results, one per shard.")
    var a: [String]

    @Option(parsing: .upToNextOption, help: "Set B's partial results, one per shard.")
    var b: [String]

    @Option(help: "Bootstrap resamples (default: 1000; 200 for instance tasks).")
    var bootstrap: Int?

    @Option(help: "Seed of the bootstrap.")
    var seed: UInt64 = Comparison.defaultSeed

    @Option(help: "Rows of the per-image table (worst for B first).")
    var worst: Int = 10

    @OptionGroup var output: EvalOutputOptions

    func validate() throws {
        guard !a.isEmpty, !b.isEmpty else { throw ValidationError("give both sets' partials: --a PART… --b PART…") }
        if let bootstrap, bootstrap < 0 { throw ValidationError("--bootstrap must not be negative") }
    }

    func run() throws {
        Threads.parkBLASThreads()
        let (x, y) = try Evaluation.mergeForComparison(a: a, b: b, workers: output.workers)
        for warning in Set(x.warnings + y.warnings).sorted() { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let comparison = try Evaluation.compare(x, y, replicates: bootstrap, seed: seed)
        try output.emit(comparison.output(groundTruth: x.groundTruth, a: x.predictions, b: y.predictions, worst: worst))
        keepUntilExit((x, y))
    }
}
