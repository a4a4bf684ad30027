import Foundation
import SegCore

extension Evaluation {
    /// One shard of `run`: the same reading, parameters and matching, restricted to the images the
    /// shard owns, written as records for `merge`. Instance tasks (COCO and LVIS rules).
    public static func partial(_ request: EvalRequest, shard: Shard) throws -> EvalPartial {
        let classes = try classList(request)
        let task = task(of: request, classes: classes)
        guard task == .instance else {
            throw SegError(.unsupported, file: request.groundTruth,
                           "a sharded evaluation (--shard with --partial-out) is implemented for instance tasks; this is \(task.rawValue)")
        }
        let (gt, results, notes) = try readInstances(request)
        let params = try cocoParams(request, groundTruth: gt)
        try checkClasses(classes, against: gt.categories, request)
        let matching = try COCOEvaluator(params: params)
            .match(COCOInputs(groundTruth: gt, results: results), workers: request.workers, progress: request.progress, shard: shard)
        let tide = request.tide ? try TIDEPartial(matching.inputs, mask: request.iouType != .bbox, shard: shard, workers: request.workers) : nil
        let fingerprint = EvalPartial.Fingerprint(
            task: task.rawValue, parameters: params.canonicalText + " tide=\(request.tide)",
            groundTruth: request.groundTruth, groundTruthSHA256: try InputDigest.sha256(request.groundTruth),
            predictions: request.predictions, predictionsSHA256: try InputDigest.sha256(request.predictions))
        return EvalPartial(shardIndex: shard.index, shardCount: shard.count, fingerprint: fingerprint,
                           instance: InstancePartial(matching: matching, params: params, notes: notes, tide: tide))
    }

    /// The shards of one run put together: the unsharded run's result, number for number. Checks
    /// that every partial has the same fingerprint and that each shard 0..<N is there exactly once,
    /// puts the cells back in pycocotools' image order (its accumulation breaks score ties by it)
    /// and TIDE's outcomes in file order, then accumulates, summarises and builds the failure
    /// table (of `query`) as `run` does.
    public static func merge(_ paths: [String], query: FailureQuery, workers: Int = Parallel.coreCount) throws -> EvaluationResult {
        guard let firstPath = paths.first else { throw SegError(.invalid, file: "eval merge", "no partial results given") }
        let partials = try paths.map { try EvalPartial.read($0) }
        let first = partials[0]
        var seen = [String?](repeating: nil, count: first.shardCount)
        for (path, p) in zip(paths, partials) {
            guard p.fingerprint == first.fingerprint else {
                throw SegError(.invalid, file: path, "comes from another run than \(firstPath): "
                    + Self.difference(p.fingerprint, first.fingerprint))
            }
            guard p.shardCount == first.shardCount else {
                throw SegError(.invalid, file: path, "is shard \(p.shardIndex)/\(p.shardCount), but \(firstPath) is of \(first.shardCount) shards")
            }
            if let other = seen[p.shardIndex] {
                throw SegError(.invalid, file: path, "shard \(p.shardIndex)/\(p.shardCount) is given twice (also \(other))")
            }
            seen[p.shardIndex] = path
        }
        if let missing = seen.firstIndex(where: { $0 == nil }) {
            let absent = seen.indices.filter { seen[$0] == nil }.map { "\($0)/\(first.shardCount)" }
            throw SegError(.invalid, file: paths[0], "shard \(missing)/\(first.shardCount) is missing (missing: \(absent.joined(separator: ", ")))")
        }
        guard first.instance != nil else { throw SegError(.unsupported, file: firstPath, "a partial of a task this segterm cannot merge") }
        return try InstanceMerge(paths: paths, partials: partials, query: query, workers: workers).result()
    }

    private static func difference(_ a: EvalPartial.Fingerprint, _ b: EvalPartial.Fingerprint) -> String {
        if a.splitVersion != b.splitVersion { return "another version of the image split" }
        if a.task != b.task { return "task \(a.task), not \(b.task)" }
        if a.parameters != b.parameters { return "other parameters (\(a.parameters) against \(b.parameters))" }
        if a.groundTruthSHA256 != b.groundTruthSHA256 { return "another ground truth (\(a.groundTruth) against \(b.groundTruth), contents differ)" }
        if a.predictionsSHA256 != b.predictionsSHA256 { return "other predictions (\(a.predictions) against \(b.predictions), contents differ)" }
        return "the inputs are named differently (\(a.groundTruth), \(a.predictions) against \(b.groundTruth), \(b.predictions))"
    }
}

/// The SHA-256 of an input: a file's bytes, or for a folder (YOLO, LabelMe, label maps) of its
/// files' relative paths and digests in sorted order.
enum InputDigest {
    static func sha256(_ path: String) throws -> String {
        guard FileIO.isDirectory(path) else { return try FileDigest.sha256(path: path) }
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            throw SegError(.unreadable, file: path, "cannot list the folder")
        }
        var lines: [String] = []
        while let name = walker.nextObject() as? String {
            let full = path + "/" + name
            if FileIO.isDirectory(full) { continue }
            lines.append(name + " " + (try FileDigest.sha256(path: full)))
        }
        return FileDigest.sha256(bytes: Array(lines.sorted().joined(separator: "\n").utf8))
    }
}
