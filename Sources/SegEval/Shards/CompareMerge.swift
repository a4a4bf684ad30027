import SegCore

extension Evaluation {
    /// Two sharded evaluations merged for a comparison (`segterm compare merge`): each set's
    /// partials give its unsharded evaluation (`merge`), which `compare` then resamples, so the
    /// comparison is the unsharded one for any shard counts. Both sets must have been evaluated
    /// on the same ground truth (by content) with the same task and parameters, as `compare`
    /// evaluates both.
    public static func mergeForComparison(a: [String], b: [String], workers: Int = Parallel.coreCount) throws
        -> (a: EvaluationResult, b: EvaluationResult) {
        guard let firstA = a.first, let firstB = b.first else {
            throw SegError(.invalid, file: "compare merge", "give both sets' partial results")
        }
        let x = try EvalPartial.read(firstA).fingerprint, y = try EvalPartial.read(firstB).fingerprint
        guard x.groundTruthSHA256 == y.groundTruthSHA256 else {
            throw SegError(.invalid, file: firstB, "B was evaluated on another ground truth than A (\(y.groundTruth), not \(x.groundTruth))")
        }
        guard x.task == y.task, x.parameters == y.parameters else {
            throw SegError(.invalid, file: firstB, "B was evaluated with another task or other parameters than A (\(firstA))")
        }
        // As `segterm compare`: the failure table is no part of a comparison.
        let none = FailureQuery(limit: 0)
        return (try merge(a, query: none, workers: workers), try merge(b, query: none, workers: workers))
    }
}
