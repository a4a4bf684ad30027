import Foundation
import Testing
import SegCore
@testable import SegEval

/// The streamed instance evaluation (`segterm eval` on COCO JSON: a batch of images at a time,
/// cells spilled to a file) must give the in-memory evaluation's report — every number, the counts
/// and the failure table, bit for bit — for any batch size, and the same errors for bad input.
/// The in-memory path is the one checked against pycocotools and LVISEval (COCOEvalTests,
/// LVISTests, COCOParamsTests); this suite ties the streamed path to it.
@Suite struct StreamedEvalTests {
    static func report(_ request: EvalRequest, streamed: Bool, batchSize: Int = 1024) throws -> EvaluationResult {
        var r = request
        r.streamInstances = streamed
        r.streamBatchSize = batchSize
        return try Evaluation.run(r)
    }

    /// The streamed report equals the in-memory one for batch sizes 1, 2 and 3 when the set has
    /// more images than that (a set of one batch or less is read whole, see `smallSets`).
    static func expectSame(_ request: EvalRequest, _ label: String) throws {
        let whole = try report(request, streamed: false)
        let images = try #require(COCOStreamIndex.imageCount(request.groundTruth))
        #expect(images > 1, "\(label): a set of one image is never streamed")
        for size in [1, 2, 3] where size < images {
            let streamed = try report(request, streamed: true, batchSize: size)
            guard case .instance(let r, _, _) = streamed.engine else { Issue.record("not instance"); return }
            #expect(r.evaluation.cells.isEmpty && !r.evaluation.images.isEmpty, "the streamed path keeps no cells (\(label))")
            #expect(streamed.report == whole.report, "\(label), batch size \(size)")
            #expect(streamed.warnings == whole.warnings, "\(label), batch size \(size)")
        }
    }

    @Test("pycocotools' test sets (segm and bbox, every results file) and the sample data", arguments: COCOEvalTests.cases.map {
        "\($0.set)/\($0.results)/\($0.iouType)"
    })
    func referenceSets(_ name: String) throws {
        let parts = name.split(separator: "/").map(String.init)
        let (gt, results) = COCOEvalTests.paths(set: parts[0], results: parts[1])
        var request = EvalRequest(groundTruth: gt, predictions: results)
        request.iouType = COCOIoUType(rawValue: parts[2]) ?? .segm
        request.failureQuery = FailureQuery(limit: .max)
        request.workers = 2
        try Self.expectSame(request, name)
    }

    @Test("ties across images, crowd regions, every failure order and filter, the parameters", arguments: [COCOIoUType.bbox, .segm])
    func tiesFailuresAndParameters(iouType: COCOIoUType) throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (gt, pred) = try ShardedEvalTests.makeSet(in: folder)
        var request = EvalRequest(groundTruth: gt, predictions: pred)
        request.iouType = iouType
        request.workers = 2
        for sort in FailureTable.SortKey.allCases {
            request.failureQuery = FailureQuery(sort: sort, limit: 7)
            try Self.expectSame(request, "sort \(sort)")
        }
        request.failureQuery = FailureQuery(className: "class 2", sizeBucket: .small, limit: 5)
        try Self.expectSame(request, "class and size filter")
        request.failureQuery = FailureQuery(kind: .missed, limit: 0)
        try Self.expectSame(request, "counts only")
        request.failureQuery = FailureQuery(limit: .max)
        request.imageIds = ["1007", "1000", "1140", "1301"]
        try Self.expectSame(request, "--image-ids")
        request.imageIds = nil
        request.useCategories = false
        try Self.expectSame(request, "--no-categories")
        request.useCategories = true
        request.maxDets = [1, 2, 3]
        request.iouThresholds = [0.3, 0.5, 0.7]
        try Self.expectSame(request, "--max-dets, --iou-thrs")
    }

    @Test("LVIS's federated rules (detections left out per image, not-exhaustive categories)",
          arguments: ["results-a.json", "results-b.json"])
    func lvis(_ results: String) throws {
        var request = EvalRequest(groundTruth: Fixtures.url("lvis", "gt.json").path, predictions: Fixtures.url("lvis", results).path)
        request.iouType = .segm
        request.workers = 2
        request.failureQuery = FailureQuery(limit: .max)
        try Self.expectSame(request, "LVIS \(results)")
    }

    @Test("string image ids, and --image-ids by their strings")
    func stringIds() throws {
        var request = EvalRequest(groundTruth: Fixtures.url("coco", "strings", "gt.json").path,
                                  predictions: Fixtures.url("coco", "strings", "results.json").path)
        request.workers = 2
        request.failureQuery = FailureQuery(limit: .max)
        for iouType in [COCOIoUType.segm, .bbox] {
            request.iouType = iouType
            request.imageIds = nil
            try Self.expectSame(request, "strings \(iouType)")
            request.imageIds = ["img2", "img10"]
            try Self.expectSame(request, "strings subset \(iouType)")
        }
    }

    @Test("a set of at most one batch of images is read whole (the streamed path only when it has more)")
    func smallSets() throws {
        let gt = Fixtures.url("coco", "many", "gt.json").path
        var request = EvalRequest(groundTruth: gt, predictions: Fixtures.url("coco", "many", "results-rle.json").path)
        request.streamInstances = true
        let images = try #require(COCOStreamIndex.imageCount(gt))
        #expect(images > 1)
        for (size, streams) in [(images, false), (images - 1, true)] {
            request.streamBatchSize = size
            guard case .instance(let r, _, _) = try Evaluation.run(request).engine else { Issue.record("not instance"); return }
            #expect(r.evaluation.cells.isEmpty == streams, "batch size \(size) of \(images) images")
        }
    }

    @Test("the quick first pass (image ids only, checks left to the batches) unless --image-ids asks for a subset")
    func quickFirstPass() throws {
        let gt = Fixtures.url("coco", "many", "gt.json").path, pred = Fixtures.url("coco", "many", "results-rle.json").path
        let quick = try COCOStreamIndex(groundTruth: gt, results: pred, boxesOnly: false, batchSize: 2) { _ in COCOEvalParams() }
        #expect(!quick.entriesChecked)
        #expect(quick.batches.reduce(0) { $0 + $1.detections.count } > 0)
        let subset = try COCOStreamIndex(groundTruth: gt, results: pred, boxesOnly: false, batchSize: 2) { groundTruth in
            var params = COCOEvalParams()
            params.imageIds = [groundTruth.images[0].id]
            return params
        }
        #expect(subset.entriesChecked)
    }

    /// Both paths stop at the same entry with the same message.
    static func sameError(gt: String, pred: String, iouType: COCOIoUType = .segm, folder: URL) throws -> String {
        let gtPath = folder.appendingPathComponent("gt.json").path, predPath = folder.appendingPathComponent("pred.json").path
        try Data(gt.utf8).write(to: URL(fileURLWithPath: gtPath))
        try Data(pred.utf8).write(to: URL(fileURLWithPath: predPath))
        var request = EvalRequest(groundTruth: gtPath, predictions: predPath)
        request.iouType = iouType
        func message(_ streamed: Bool) -> String {
            do { _ = try report(request, streamed: streamed, batchSize: 1); return "no error" } catch { return "\(error)" }
        }
        let inMemory = message(false), streamed = message(true)
        #expect(streamed == inMemory)
        return streamed
    }

    @Test("bad input: the same error, naming the same file and entry, in both paths")
    func badInput() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gt = #"{"images": [{"id": 1, "width": 4, "height": 3}, {"id": 2, "width": 4, "height": 3}], "categories": [{"id": 5, "name": "a"}], "annotations": [%@]}"#
        func with(_ anns: String) -> String { gt.replacingOccurrences(of: "%@", with: anns) }
        let good = #"{"id": 9, "image_id": 2, "category_id": 5, "area": 2, "bbox": [0, 0, 1, 2], "iscrowd": 0, "segmentation": {"size": [3, 4], "counts": [0, 2, 10]}}"#
        let seg = #""segmentation": {"size": [3, 4], "counts": "02:"}"#
        let det = #"{"image_id": 2, "category_id": 5, "score": 0.5, \#(seg)}"#
        let cases: [(gt: String, pred: String, expected: String)] = [
            (with(good), #"[\#(det), {"image_id": 3, "category_id": 5, "score": 0.5, \#(seg)}]"#, "results[1]: image id 3"),
            (with(good), #"[\#(det), \#(det), {"image_id": 1, "category_id": 6, "score": 0.5, \#(seg)}]"#, "results[2]: category id 6"),
            (with(good), #"[{"image_id": 1, "category_id": 5, "score": NaN, \#(seg)}]"#, "score"),
            (with(good), #"[\#(det), {"image_id": 1, "category_id": 5, "score": 0.5, "segmentation": {"size": [3, 4], "counts": "0~"}}]"#, "results[1]"),
            (with(good), #"[{"image_id": 1, "category_id": 5, "score": 0.5, "segmentation": {"size": [5, 4], "counts": "05"}}]"#, "differs from the image"),
            (with(good), #"[{"image_id": 1, "category_id": 5, "score": 0.5 "bbox": [1, 2, 3, 4]}]"#, "line 1"),
            (with(good), #"{"not": "a list"}"#, "JSON array"),
            // Two bad entries in different batches (batch size 1): the first in file order is named,
            // though the quick first pass leaves the checks to the batches and image 1's comes first.
            (with(good), #"[{"image_id": 2, "category_id": 6, "score": 0.5, \#(seg)}, {"image_id": 1, "category_id": 5, "score": NaN, \#(seg)}]"#,
             "results[0]: category id 6"),
            (with(good), #"[\#(det), {"image_id": 2, "category_id": 5, "score": 0.5, "bbox": [1, 2, 3, 4}}, {"image_id": 1, "category_id": 5, "score": NaN, \#(seg)}]"#,
             "line 1"),
            (with(good), #"[\#(det), {"image_id": "2", "category_id": 5, "score": 0.5, \#(seg)}]"#, "pred.json"),
            (with(good + #", {"id": 3, "image_id": 1, "category_id": 5, "segmentation": {"size": [3, 4], "counts": [1, 2]}}"#),
             #"[{"image_id": 1, "category_id": 5, "score": 0.5, "segmentation": {"size": [3, 4], "counts": "0~"}}]"#, "add up to 3"),
            (with(good + #", {"id": 9, "image_id": 1, "category_id": 5, "bbox": [0,0,1,1]}"#), "[]", "annotations[1] (id 9): duplicate"),
            (with(good + #", {"id": 3, "image_id": 7, "category_id": 5, "bbox": [0,0,1,1]}"#), "[]", "annotations[1] (id 3): unknown image id 7"),
            (with(#"{"id": 1, "image_id": 1, "category_id": 5, "segmentation": {"size": [3, 4], "counts": [1, 2]}}"#), "[]", "add up to 3"),
            (#"{"images": [{"id": 1, "width": 4, "height": 3}, {"id": 1, "width": 4, "height": 3}], "categories": [], "annotations": []}"#, "[]",
             "duplicate image id 1"),
            (#"{"images": [{"id": "a", "width": 4, "height": 3}], "categories": [{"id": 5}], "annotations": [{"id": 1, "image_id": "z", "category_id": 5, "bbox": [0,0,1,1]}]}"#,
             "[]", "unknown image id \"z\""),
            (#"{"images": [{"id": "a", "width": 4, "height": 3}], "categories": [{"id": 5}], "annotations": []}"#,
             #"[{"image_id": "b", "category_id": 5, "score": 0.5, "bbox": [0, 0, 1, 1]}]"#, "image id \"b\" is not in the ground truth"),
            (#"{"images": [{"id": 1, "width": 4, "height": 3}], "categories": [{"id": 5}], "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [0,0,1,1]"#,
             "[]", "gt.json"),
        ]
        for c in cases {
            let message = try Self.sameError(gt: c.gt, pred: c.pred, folder: folder)
            #expect(message.contains(c.expected), "\(message) should say \(c.expected)")
        }
    }

    @Test("damaged files (one byte changed at random): the same error or the same report in both paths")
    func damagedFiles() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gt = #"{"images": [{"id": 1, "width": 4, "height": 3}, {"id": 2, "width": 4, "height": 3}, {"id": 3, "width": 4, "height": 3}], "categories": [{"id": 5, "name": "a"}, {"id": 6}], "annotations": [{"id": 9, "image_id": 2, "category_id": 5, "area": 2, "bbox": [0, 0, 1, 2], "iscrowd": 0, "segmentation": {"size": [3, 4], "counts": [0, 2, 10]}}, {"id": 4, "image_id": 1, "category_id": 6, "segmentation": [[0.5, 0.5, 3, 0.5, 3, 2.5]]}, {"id": 7, "image_id": 3, "category_id": 5, "segmentation": {"size": [3, 4], "counts": "02:"}}]}"#
        let pred = #"[{"image_id": 3, "category_id": 5, "score": 0.5, "segmentation": {"size": [3, 4], "counts": "02:"}, "bbox": [0, 0, 1, 2]}, {"image_id": 1, "category_id": 6, "score": 0.25, "segmentation": {"size": [3, 4], "counts": "1\\2"}, "bbox": [0, 1, 2, 1]}, {"image_id": 2, "category_id": 5, "score": 0.75, "segmentation": {"size": [3, 4], "counts": "03:"}, "bbox": [1, 0, 1, 3]}]"#
        var generator = SeededGenerator(seed: 2026)
        let replacements = Array(#"{}[]",:0123456789.-e\ n"#.utf8)
        var differing: [String] = []
        for trial in 0..<300 {
            var g = Array(gt.utf8), p = Array(pred.utf8)
            if trial % 2 == 0 {
                g[Int.random(in: 0..<g.count, using: &generator)] = replacements.randomElement(using: &generator) ?? 0
            } else {
                p[Int.random(in: 0..<p.count, using: &generator)] = replacements.randomElement(using: &generator) ?? 0
            }
            let gtPath = folder.appendingPathComponent("gt.json").path, predPath = folder.appendingPathComponent("pred.json").path
            try Data(g).write(to: URL(fileURLWithPath: gtPath))
            try Data(p).write(to: URL(fileURLWithPath: predPath))
            let request = EvalRequest(groundTruth: gtPath, predictions: predPath)
            func outcome(_ streamed: Bool) -> String {
                do { return "\(try Self.report(request, streamed: streamed, batchSize: 1).report)" } catch { return "\(error)" }
            }
            let inMemory = outcome(false), streamed = outcome(true)
            if streamed != inMemory { differing.append("trial \(trial):\n  in memory: \(inMemory.prefix(300))\n  streamed:  \(streamed.prefix(300))") }
        }
        #expect(differing.isEmpty, "\(differing.count) of 300 differ:\n\(differing.prefix(3).joined(separator: "\n"))")
    }

    @Test("the temporary file: an unwritable folder is a clear error; what is written reads back")
    func spill() throws {
        #expect { try CellSpill(categories: 1, areaRanges: 4, thresholds: 10, folder: "/nonexistent-folder") } throws: { error in
            guard let e = error as? SegError else { return false }
            return e.kind == .writeFailed && e.reason.contains("TMPDIR")
        }
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let spill = try CellSpill(categories: 2, areaRanges: 1, thresholds: 2, folder: folder.path)
        // Nothing of it stays in the folder: the file is removed as soon as it is open.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        let a = COCOImageCategoryEval(imageIndex: 0, categoryIndex: 1, tables: .init(
            detections: [0, 1], groundTruths: [0], ious: [0.7, 0.2], scores: [0.9, 0.25], gtAreas: [10], dtAreas: [9, 3],
            gtCrowd: [false], nonIgnoredCount: [1], flags: [1, 0, 2, 0], matches: [0, -1, -1, -1], gtMatched: [true, false],
            gtIgnored: [false], crossClassIoU: [0, 0]))
        try spill.append([a], imageOffset: 5)
        let back = try spill.cells(ofCategory: 1)
        #expect(back.count == 1 && back[0].imageIndex == 5 && back[0].scores == a.scores && back[0].flags == a.flags
                && back[0].nonIgnoredCount == a.nonIgnoredCount)
        #expect(try spill.cells(ofCategory: 0).isEmpty)
    }
}
