import Foundation
import SegCore
#if canImport(Glibc)
import Glibc
#endif

extension Evaluation {
    /// One shard of `run`: the same reading, parameters and matching, restricted to the images the
    /// shard owns, written as records for `merge`. Instance tasks (COCO and LVIS rules).
    public static func partial(_ request: EvalRequest, shard: Shard) throws -> EvalPartial {
        let classes = try classList(request)
        let task = task(of: request, classes: classes)
        func fingerprint(_ parameters: String) throws -> EvalPartial.Fingerprint {
            EvalPartial.Fingerprint(
                task: task.rawValue, parameters: parameters,
                groundTruth: request.groundTruth, groundTruthSHA256: try InputDigest.sha256(request.groundTruth),
                predictions: request.predictions, predictionsSHA256: try InputDigest.sha256(request.predictions))
        }
        switch task {
        case .instance:
            let (gt, results, notes) = try readInstances(request)
            let params = try cocoParams(request, groundTruth: gt)
            try checkClasses(classes, against: gt.categories, request)
            let matching = try COCOEvaluator(params: params)
                .match(COCOInputs(groundTruth: gt, results: results), workers: request.workers, progress: request.progress, shard: shard)
            let tide = request.tide
                ? try TIDEPartial(matching.inputs, mask: request.iouType != .bbox, shard: shard, workers: request.workers) : nil
            return EvalPartial(shardIndex: shard.index, shardCount: shard.count,
                               fingerprint: try fingerprint(params.canonicalText + " tide=\(request.tide)"),
                               instance: InstancePartial(matching: matching, params: params, notes: notes, tide: tide))
        case .semantic:
            let (evaluator, files) = try semanticEvaluator(request, classes: classes)
            let pairs = files.pairs
            let owned = pairs.indices.filter { shard.contains(pairs[$0].stem) }
            let results = try evaluator.imageResults(files, workers: request.workers, progress: request.progress, shard: shard)
            let settings = "classes=\(evaluator.classes) ignore=\(evaluator.ignoreIndex) labelMap=\(evaluator.labelMap.sorted { $0.key < $1.key }) "
                + "reduceZero=\(evaluator.reduceZeroLabel) background=\(evaluator.includeBackground) resize=\(evaluator.resizePredictions)"
            var partial = EvalPartial(shardIndex: shard.index, shardCount: shard.count, fingerprint: try fingerprint(settings), instance: nil)
            partial.semantic = SemanticPartial(evaluator: evaluator, files: files, results: results, indices: owned)
            return partial
        case .panoptic:
            let evaluator = PanopticEvaluator(limits: request.limits)
            let run = try evaluator.pairs(groundTruth: request.groundTruth, predictions: request.predictions, gtFolder: nil, predFolder: nil)
            try checkClasses(classes, against: run.categories, request)
            let owned = run.pairs.indices.filter { shard.contains(String(run.pairs[$0].0.imageId)) }
            let results = try evaluator.results(run, owned: owned, workers: request.workers, progress: request.progress)
            // The PNG folders are inputs too.
            let folders = "gtPNGs=\(try InputDigest.sha256(run.gtDir)) predPNGs=\(try InputDigest.sha256(run.predDir))"
            var partial = EvalPartial(shardIndex: shard.index, shardCount: shard.count, fingerprint: try fingerprint(folders), instance: nil)
            partial.panoptic = PanopticPartial(run: run, owned: owned, results: results)
            return partial
        case .binary:
            let files = try FilePairs.match(groundTruth: request.groundTruth, predictions: request.predictions)
            let evaluator = BinaryEvaluator(ignoreValue: request.ignoreValue, resizePredictions: request.resizePredictions,
                                            limits: request.limits)
            let owned = files.pairs.indices.filter { shard.contains(files.pairs[$0].stem) }
            let results = try evaluator.imageResults(files, owned: owned, workers: request.workers, progress: request.progress)
            let settings = "ignore=\(request.ignoreValue.map(String.init) ?? "none") resize=\(request.resizePredictions)"
            var partial = EvalPartial(shardIndex: shard.index, shardCount: shard.count, fingerprint: try fingerprint(settings), instance: nil)
            partial.binary = BinaryPartial(files: files, results: results, indices: owned)
            return partial
        case .volume:
            throw SegError(.unsupported, file: request.groundTruth,
                           "a sharded evaluation (--shard with --partial-out) is implemented for instance, semantic, panoptic and binary tasks; not \(task)")
        }
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
        for (path, p) in zip(paths, partials) where p.fingerprint != first.fingerprint {
            throw SegError(.invalid, file: path, "comes from another run than \(firstPath): "
                + Self.difference(p.fingerprint, first.fingerprint))
        }
        try Shard.checkComplete(zip(paths, partials).map { path, p in (path, try p.shard) })
        /// Every partial's records of the first partial's task.
        func parts<T>(_ records: (EvalPartial) -> T?, _ task: String) throws -> [(path: String, partial: T)] {
            try zip(paths, partials).map { path, p in
                guard let found = records(p) else { throw SegError(.corrupt, file: path, "no \(task) records") }
                return (path, found)
            }
        }
        let (groundTruth, predictions) = (first.fingerprint.groundTruth, first.fingerprint.predictions)
        if first.instance != nil {
            return try InstanceMerge(paths: paths, partials: partials, query: query, workers: workers).result()
        }
        if first.semantic != nil {
            return try SemanticPartial.merge(parts(\.semantic, "semantic"), groundTruth: groundTruth, predictions: predictions, query: query)
        }
        if first.panoptic != nil {
            return try PanopticPartial.merge(parts(\.panoptic, "panoptic"), groundTruth: groundTruth, predictions: predictions, query: query)
        }
        if first.binary != nil {
            return try BinaryPartial.merge(parts(\.binary, "binary"), groundTruth: groundTruth, predictions: predictions, query: query)
        }
        throw SegError(.unsupported, file: firstPath, "a partial of a task this segterm cannot merge")
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

/// The SHA-256 of an input: a file's bytes; for a folder (label maps, YOLO, LabelMe), of its
/// files' relative paths, sizes and modification times in sorted order — reading every image of
/// a large set in every shard would cost more than the shard's own work, and a folder changed
/// between the shards' runs changes those.
enum InputDigest {
    static func sha256(_ path: String) throws -> String {
        guard FileIO.isDirectory(path) else { return try FileDigest.sha256(path: path) }
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            throw SegError(.unreadable, file: path, "cannot list the folder")
        }
        var lines: [String] = []
        while let name = walker.nextObject() as? String {
            var st = stat()
            guard stat(path + "/" + name, &st) == 0 else { throw SegError(.unreadable, file: path + "/" + name, "cannot read its size") }
            if (st.st_mode & S_IFMT) == S_IFDIR { continue }
            lines.append("\(name) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)")
        }
        return FileDigest.sha256(bytes: Array(lines.sorted().joined(separator: "\n").utf8))
    }
}
