import SegCore

/// The whole evaluation behind one entry point: `run` infers the task (`task(of:)`), runs the
/// task's engine, TIDE when asked, and the failure table, and returns everything the CLI writes
/// and the workbench shows.
public enum Evaluation {
    public static func run(_ request: EvalRequest) throws -> EvaluationResult {
        let classes = try classList(request)
        var clock = PhaseClock()
        let task = task(of: request, classes: classes)
        let engine: EvaluationResult.Engine
        let failures: FailureTable
        var warnings: [String] = []
        switch task {
        case .instance where canStream(request):
            let streamed = try streamedInstance(request)
            warnings = instanceWarnings(streamed.report.evaluation.params, zeroIdImage: streamed.zeroIdImage,
                                        groundTruth: request.groundTruth)
            try checkClasses(classes, against: streamed.report.evaluation.inputs.groundTruth.categories, request)
            failures = streamed.failures
            engine = .instance(streamed.report, streamed.report.evaluation.inputs, tide: nil)
        case .instance:
            let (report, inputs) = try instance(request)
            let zero = report.evaluation.inputs.groundTruth.annotations.first { $0.id == 0 }
            warnings = report.notes + instanceWarnings(report.evaluation.params, zeroIdImage: zero?.imageId, groundTruth: request.groundTruth)
            try checkClasses(classes, against: inputs.groundTruth.categories, request)
            failures = try FailureTable.instance(report.evaluation, inputs: inputs, query: request.failureQuery, workers: request.workers)
            clock.lap("failure table")
            let tide = request.tide ? try TIDE.evaluate(inputs, mask: request.iouType != .bbox, workers: request.workers,
                                                        areaRanges: report.evaluation.params.areaRanges) : nil
            engine = .instance(report, inputs, tide: tide)
        case .semantic:
            let ev = try semantic(request, classes: classes)
            failures = try FailureTable.semantic(ev, query: request.failureQuery, file: request.groundTruth)
            engine = .semantic(ev)
        case .binary:
            let ev = try binary(request)
            failures = try FailureTable.binary(ev, query: request.failureQuery, file: request.groundTruth)
            engine = .binary(ev)
        case .volume:
            let ev = try volume(request, classes: classes)
            failures = try FailureTable.volume(ev, query: request.failureQuery, file: request.groundTruth)
            engine = .volume(ev)
        case .panoptic:
            let ev = try PanopticEvaluator(limits: request.limits)
                .evaluate(groundTruth: request.groundTruth, predictions: request.predictions, workers: request.workers,
                          progress: request.progress)
            try checkClasses(classes, against: ev.categories, request)
            failures = try FailureTable.panoptic(ev, query: request.failureQuery, file: request.groundTruth)
            engine = .panoptic(ev)
        }
        var result = EvaluationResult(groundTruth: request.groundTruth, predictions: request.predictions, engine: engine, failures: failures)
        result.warnings = warnings
        return result
    }

    /// pycocotools' quirks that the numbers keep, said aloud.
    /// `zeroIdImage`: the image of the ground truth's annotation with id 0, if any.
    static func instanceWarnings(_ params: COCOEvalParams, zeroIdImage: Int?, groundTruth: String) -> [String] {
        var out: [String] = []
        if params.evaluationProtocol == .coco, let zeroIdImage {
            out.append("\(groundTruth): annotation id 0 (image \(zeroIdImage)): pycocotools records a match by the annotation's id and "
                       + "reads 0 as unmatched, so a detection of it counts as a false positive and the object as missed; the numbers keep "
                       + "that to equal pycocotools, the failure table does not list that detection")
        }
        if params.evaluationProtocol == .coco, params.maxDets.count >= 3, !params.maxDets.contains(100) {
            out.append("AP (pycocotools' stats[0]) reads maxDets=100 whatever --max-dets says, so it is -1 here as in pycocotools; "
                       + "AP@\(params.maxDets[2]) is the AP at your maxDets[2]")
        }
        return out
    }

    /// B against A on the same ground truth, with a paired bootstrap of the headline delta.
    /// `replicates` defaults to `Comparison.defaultReplicates` of the task.
    public static func compare(_ a: EvaluationResult, _ b: EvaluationResult, replicates: Int? = nil,
                               seed: UInt64 = Comparison.defaultSeed) throws -> Comparison {
        let n = replicates ?? Comparison.defaultReplicates(a.task)
        switch (a.engine, b.engine) {
        case let (.instance(x, _, _), .instance(y, _, _)): return Comparison.instance(x.evaluation, y.evaluation, replicates: n, seed: seed)
        case let (.semantic(x), .semantic(y)): return try Comparison.semantic(x, y, replicates: n, seed: seed)
        case let (.binary(x), .binary(y)): return try Comparison.binary(x, y, replicates: n, seed: seed)
        case let (.panoptic(x), .panoptic(y)): return try Comparison.panoptic(x, y, replicates: n, seed: seed)
        case let (.volume(x), .volume(y)): return try Comparison.volume(x, y, replicates: n, seed: seed)
        default: throw SegError(.invalid, file: b.predictions, "a \(b.task.rawValue) set cannot be compared with a \(a.task.rawValue) set")
        }
    }

    /// Whether the request may take the streamed path (`EvalRequest.streamInstances`): two COCO
    /// JSON files and nothing that reads the cells afterwards.
    static func canStream(_ request: EvalRequest) -> Bool {
        guard request.streamInstances, !request.tide, objectFormat(request.groundTruth) == nil, objectFormat(request.predictions) == nil else {
            return false
        }
        // A set of at most one batch of images is read whole: a batch holds as much, and the first
        // pass would only cost time (a quarter of it at 1,000 images). A file whose header cannot
        // be read goes the streamed way, which names the problem as the whole reader does.
        if let count = COCOStreamIndex.imageCount(request.groundTruth, atMost: request.streamBatchSize), count <= request.streamBatchSize {
            return false
        }
        return true
    }

    static func streamedInstance(_ request: EvalRequest) throws -> COCOStreamedEvaluation.Result {
        try COCOStreamedEvaluation.run(groundTruth: request.groundTruth, results: request.predictions, boxesOnly: request.iouType == .bbox,
                                       failureQuery: request.failureQuery, workers: request.workers, batchSize: request.streamBatchSize,
                                       progress: request.progress) { gt in
            try cocoParams(request, groundTruth: gt)
        }
    }

    /// The instance evaluation; the inputs returned are the ones evaluated (for LVIS, without the
    /// detections its rules leave out), which the failure table and TIDE read.
    static func instance(_ request: EvalRequest) throws -> (report: InstanceReport, inputs: COCOInputs) {
        var clock = PhaseClock()
        let (gt, results, notes) = try readInstances(request)
        clock.lap("read ground truth and results")
        let params = try cocoParams(request, groundTruth: gt)
        let evaluation = try COCOEvaluator(params: params)
            .evaluate(COCOInputs(groundTruth: gt, results: results), workers: request.workers, progress: request.progress)
        clock.lap("evaluate + accumulate")
        return (InstanceReport(evaluation: evaluation, inputs: evaluation.inputs, notes: notes), evaluation.inputs)
    }

    /// Ground truth and predictions as COCO, whatever their format: COCO JSON through the COCO
    /// reader, YOLO and LabelMe through `Formats` (predictions matched to the ground truth's
    /// images by file name and its categories by name). `notes` say what a conversion changed.
    static func readInstances(_ request: EvalRequest) throws -> (COCOGroundTruth, COCOResults, [String]) {
        let gtFormat = objectFormat(request.groundTruth), predFormat = objectFormat(request.predictions)
        if gtFormat == nil && predFormat == nil {
            let (gt, results) = try COCOReader.readBoth(groundTruth: request.groundTruth, results: request.predictions,
                                                        boxesOnly: request.iouType == .bbox)
            return (gt, results, [])
        }
        var notes: [String] = []
        let gt: COCOGroundTruth
        if let gtFormat {
            var options = FormatOptions()
            options.predictions = false
            let set = try Formats.read(request.groundTruth, format: gtFormat, options: options)
            notes += set.notes
            gt = set.groundTruth
        } else {
            gt = try COCOReader.readGroundTruth(request.groundTruth)
        }
        let results: COCOResults
        if let predFormat {
            var options = FormatOptions()
            options.sizesFrom = gt
            options.predictions = true
            let set = try Formats.read(request.predictions, format: predFormat, options: options)
            notes += set.notes
            results = try set.results(matching: gt)
        } else {
            results = try COCOReader.readResults(request.predictions, groundTruth: gt)
        }
        return (gt, results, notes)
    }

    /// The request's pycocotools parameters over the protocol's defaults: LVIS's when asked for,
    /// or when the ground truth is federated and no protocol is named.
    static func cocoParams(_ request: EvalRequest, groundTruth gt: COCOGroundTruth) throws -> COCOEvalParams {
        let rules = request.evaluationProtocol ?? (gt.isFederated ? .lvis : .coco)
        var params = rules == .lvis ? COCOEvalParams.lvis(iouType: request.iouType) : COCOEvalParams(iouType: request.iouType)
        let file = request.groundTruth
        if let t = request.iouThresholds {
            guard !t.isEmpty, t.allSatisfy({ $0 >= 0 && $0 <= 1 }), t == t.sorted() else {
                throw SegError(.invalid, file: file, "--iou-thrs: IoU thresholds must be ascending values in [0, 1]")
            }
            params.iouThresholds = t
        }
        if let r = request.recallThresholds {
            guard !r.isEmpty, r.allSatisfy({ $0 >= 0 && $0 <= 1 }), r == r.sorted() else {
                throw SegError(.invalid, file: file, "--rec-thrs: recall thresholds must be ascending values in [0, 1]")
            }
            params.recallThresholds = r
        }
        if let m = request.maxDets {
            guard !m.isEmpty, m.allSatisfy({ $0 > 0 }), m == m.sorted() else {
                throw SegError(.invalid, file: file, "--max-dets: positive counts in ascending order")
            }
            switch rules {
            case .coco where m.count < COCOSummary.cocoMaxDetsNeeded:
                throw SegError(.invalid, file: file, "--max-dets: pycocotools' summary reads three values (e.g. 1,10,100), got \(m.count)")
            case .lvis where m.count != 1:
                throw SegError(.invalid, file: file, "--max-dets: LVIS evaluation takes one value (detections per image, 300 by default)")
            default: params.maxDets = m
            }
        }
        for range in request.areaRanges {
            guard range.min <= range.max else {
                throw SegError(.invalid, file: file, "--area-range \(range.label): the low end \(range.min) is above the high end \(range.max)")
            }
            if let at = params.areaRanges.firstIndex(where: { $0.label == range.label }) { params.areaRanges[at] = range } else {
                params.areaRanges.append(range)
            }
        }
        params.useCategories = request.useCategories
        params.imageIds = try request.imageIds.map { try imageNumbers($0, groundTruth: gt) }
        return params
    }

    /// `--image-ids` as the evaluation numbers images: the numbers themselves, or a string-id
    /// file's numbers by the strings.
    static func imageNumbers(_ ids: [String], groundTruth gt: COCOGroundTruth) throws -> [Int] {
        var byName: [String: Int] = [:]
        for (id, name) in gt.imageIdNames { byName[name] = id }
        return try ids.map { text in
            if !byName.isEmpty {
                guard let id = byName[text] else {
                    throw SegError(.invalid, file: gt.file, "image id \"\(text)\" (of --image-ids) is not in the ground truth")
                }
                return id
            }
            guard let id = Int(text) else {
                throw SegError(.invalid, file: gt.file, "--image-ids: \"\(text)\" is not a number (the ground truth's image ids are)")
            }
            return id
        }
    }

    static func semantic(_ request: EvalRequest) throws -> SemanticEvaluation {
        try semantic(request, classes: classList(request))
    }

    static func semantic(_ request: EvalRequest, classes given: [String]?) throws -> SemanticEvaluation {
        let (evaluator, files) = try semanticEvaluator(request, classes: given)
        return try evaluator.evaluate(files, workers: request.workers, progress: request.progress)
    }

    /// The semantic evaluator of a request and the file pairs it evaluates.
    static func semanticEvaluator(_ request: EvalRequest, classes given: [String]?) throws -> (SemanticEvaluator, FilePairs) {
        let files = try FilePairs.match(groundTruth: request.groundTruth, predictions: request.predictions)
        let classes: [String]
        if let given {
            guard given.count <= SemanticEvaluator.maxClasses else {
                throw SegError(.tooLarge, file: request.classesFile ?? request.groundTruth,
                               "\(given.count) classes, above the limit of \(SemanticEvaluator.maxClasses)")
            }
            classes = given
        } else {
            classes = try labelClasses(files, request)
        }
        var evaluator = SemanticEvaluator(classes: classes, ignoreIndex: request.ignoreIndex,
                                          resizePredictions: request.resizePredictions, limits: request.limits)
        evaluator.labelMap = request.labelMap
        evaluator.reduceZeroLabel = request.reduceZeroLabel
        evaluator.includeBackground = request.includeBackground
        return (evaluator, files)
    }

    /// Without a class list, the classes are 0...the largest label in the ground truth. The
    /// tables are sized by that, so a stray large value (a 16-bit map holding 65535, a label map
    /// with ids up to 2^24) is refused here, naming its file, before any is made.
    static func labelClasses(_ files: FilePairs, _ request: EvalRequest) throws -> [String] {
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
        return (0...Int(largest)).map { "class \($0)" }
    }

    static func binary(_ request: EvalRequest) throws -> BinaryEvaluation {
        let files = try FilePairs.match(groundTruth: request.groundTruth, predictions: request.predictions)
        return try BinaryEvaluator(ignoreValue: request.ignoreValue, resizePredictions: request.resizePredictions, limits: request.limits)
            .evaluate(files, workers: request.workers, progress: request.progress)
    }

    /// A class list beside JSON ground truth is matched to its categories by name, never by line
    /// order (category ids need not be 0, 1, 2, …): every class after the first line (background)
    /// must name a category, or the list belongs to another data set and the run stops, naming
    /// both files.
    static func checkClasses(_ classes: [String]?, against categories: [COCOCategory], _ request: EvalRequest) throws {
        guard let classes else { return }
        try checkClasses(classes, against: categories.map(\.name), groundTruth: request.groundTruth, classesFile: request.classesFile)
    }

    /// The same check for any holder of a class list and named categories (the workbench's workspace).
    public static func checkClasses(_ classes: [String], against categories: [String], groundTruth: String, classesFile: String?) throws {
        let known = Set(categories)
        for name in classes.dropFirst() where !name.isEmpty && !known.contains(name) {
            throw SegError(.invalid, file: classesFile ?? "classes",
                           "class \"\(name)\" is no category of \(groundTruth) (its categories: " + categories.joined(separator: ", ") + ")")
        }
    }
}
