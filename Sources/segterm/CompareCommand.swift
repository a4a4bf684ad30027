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
    var seed: UInt64 = 0

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
        let ra = options.request(predictions: pred[0]), rb = options.request(predictions: pred[1])
        let comparison: Comparison
        switch TaskRunner.task(of: ra) {
        case .instance:
            let (a, _) = try Evaluation.instance(ra), (b, _) = try Evaluation.instance(rb)
            comparison = Comparison.instance(a.evaluation, b.evaluation, replicates: bootstrap ?? 200, seed: seed)
        case .semantic:
            comparison = try Comparison.semantic(try Evaluation.semantic(ra), try Evaluation.semantic(rb), replicates: bootstrap ?? 1000, seed: seed)
        case .binary:
            comparison = try Comparison.binary(try Evaluation.binary(ra), try Evaluation.binary(rb), replicates: bootstrap ?? 1000, seed: seed)
        case .panoptic:
            let evaluator = PanopticEvaluator(limits: options.imageOptions.limits)
            comparison = try Comparison.panoptic(try evaluator.evaluate(groundTruth: options.gt, predictions: pred[0], workers: options.workers),
                                                 try evaluator.evaluate(groundTruth: options.gt, predictions: pred[1], workers: options.workers),
                                                 replicates: bootstrap ?? 1000, seed: seed)
        }
        var json = comparison.json
        if case .object(var pairs) = json {
            pairs.insert(("a", .string(pred[0])), at: 1)
            pairs.insert(("b", .string(pred[1])), at: 2)
            pairs.insert(("groundTruth", .string(options.gt)), at: 1)
            json = .object(pairs)
        }
        try options.emit(EvalOutput(json: json, tables: comparison.tables(worst: worst), csv: comparison.csvTable))
    }
}
