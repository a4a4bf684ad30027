import ArgumentParser
import Foundation
import SegCore
import SegEval
import SegNN

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two prediction sets on the same ground truth: per-class and per-image deltas (B − A) with a paired bootstrap 95% interval.",
        discussion: """
            Give --pred twice: the first is A, the second B. The headline is AP (instance), mIoU (semantic) or \
            mean IoU (binary); its interval comes from resampling images with replacement (--bootstrap times, \
            seeded by --seed, so it is reproducible).
            """
    )

    @OptionGroup var options: EvalOptions

    @Option(help: "The two prediction sets: --pred A --pred B.")
    var pred: [String]

    @Option(help: "Bootstrap resamples (default: 1000; 200 for instance tasks).")
    var bootstrap: Int?

    @Option(help: "Seed of the bootstrap.")
    var seed: UInt64 = Comparison.defaultSeed

    @Option(help: "Rows of the per-image table (worst for B first).")
    var worst: Int = 10

    func validate() throws {
        guard pred.count == 2 else { throw ValidationError("give exactly two prediction sets: --pred A --pred B") }
        if let bootstrap, bootstrap < 0 { throw ValidationError("--bootstrap must not be negative") }
    }

    func run() throws {
        // The evaluation never calls BLAS: OpenBLAS's idle threads would only take cores from it.
        Threads.parkBLASThreads()
        keepFreedMemoryForReuse()
        // The failure table is not part of a comparison: count nothing, list nothing.
        let results = try pred.map { path in
            var request = options.request(predictions: path)
            request.failureQuery = FailureQuery(limit: 0)
            request.tide = false
            return try Evaluation.run(request)
        }
        for warning in Set(results.flatMap(\.warnings)).sorted() { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let comparison = try Evaluation.compare(results[0], results[1], replicates: bootstrap, seed: seed)
        try options.emit(comparison.output(groundTruth: options.gt, a: pred[0], b: pred[1], worst: worst))
    }
}
