import Foundation
import Testing
@testable import SegCore
@testable import SegEval

/// `eval --shard I/N --partial-out` then `eval merge` must give the unsharded run's report — every
/// number bit for bit, TIDE and the whole failure table included — for any N.
@Suite struct ShardedEvalTests {
    /// A COCO set made for the merge: many images, scores on a coarse grid (ties across images,
    /// which pycocotools breaks by image order), crowd regions, images without detections and
    /// detections without ground truth.
    static func makeSet(in folder: URL, images: Int = 61) throws -> (gt: String, pred: String) {
        var generator = SeededGenerator(seed: 1919)
        func uniform(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &generator) }
        var imageList: [[String: Any]] = [], annotations: [[String: Any]] = [], results: [[String: Any]] = []
        var nextId = 1
        func polygon(_ b: [Double]) -> [[Double]] { [[b[0], b[1], b[0] + b[2], b[1], b[0] + b[2], b[1] + b[3], b[0], b[1] + b[3]]] }
        for i in 0..<images {
            let id = 1000 + i * 7
            imageList.append(["id": id, "width": 200, "height": 160, "file_name": "img_\(id).jpg"])
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                let b = [uniform(0...120), uniform(0...90), uniform(4...80), uniform(4...70)]
                let crowd = Int.random(in: 0..<12, using: &generator) == 0
                annotations.append(["id": nextId, "image_id": id, "category_id": Int.random(in: 1...4, using: &generator),
                                    "bbox": b, "area": b[2] * b[3], "iscrowd": crowd ? 1 : 0, "segmentation": polygon(b)])
                nextId += 1
                // Detections near the object (some of another class), with scores on a 0.1 grid.
                for _ in 0..<Int.random(in: 0...3, using: &generator) {
                    let d = [b[0] + uniform(-8...8), b[1] + uniform(-8...8), b[2] * uniform(0.6...1.3), b[3] * uniform(0.6...1.3)]
                    results.append(["image_id": id, "category_id": Int.random(in: 1...4, using: &generator), "bbox": d,
                                    "score": Double(Int.random(in: 1...9, using: &generator)) / 10, "segmentation": polygon(d)])
                }
            }
            if i % 5 == 0 {
                let d = [uniform(0...150), uniform(0...120), uniform(4...40), uniform(4...30)]
                results.append(["image_id": id, "category_id": 2, "bbox": d, "score": 0.5, "segmentation": polygon(d)])
            }
        }
        let gt: [String: Any] = ["images": imageList, "annotations": annotations,
                                 "categories": (1...4).map { ["id": $0, "name": "class \($0)"] }]
        let gtURL = folder.appendingPathComponent("gt.json"), predURL = folder.appendingPathComponent("pred.json")
        try JSONSerialization.data(withJSONObject: gt).write(to: gtURL)
        try JSONSerialization.data(withJSONObject: results).write(to: predURL)
        return (gtURL.path, predURL.path)
    }

    /// The partials of an N-way run, written to files, given to the merge in scrambled order.
    static func shardedReport(_ request: EvalRequest, count: Int, folder: URL) throws -> EvalReport {
        var paths: [String] = []
        for index in 0..<count {
            let path = folder.appendingPathComponent("part-\(index)-of-\(count).json").path
            try Evaluation.partial(request, shard: try Shard(index: index, count: count)).write(to: path)
            paths.append(path)
        }
        return try Evaluation.merge(paths.reversed(), query: request.failureQuery, workers: 2).report
    }

    static func request(_ gt: String, _ pred: String, iouType: COCOIoUType) -> EvalRequest {
        var r = EvalRequest(groundTruth: gt, predictions: pred)
        r.iouType = iouType
        r.tide = true
        r.failureQuery = FailureQuery(limit: .max)
        r.workers = 2
        return r
    }

    @Test(arguments: [COCOIoUType.bbox, .segm])
    func instanceMergesToTheUnshardedRun(iouType: COCOIoUType) throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (gt, pred) = try Self.makeSet(in: folder)
        let request = Self.request(gt, pred, iouType: iouType)
        let whole = try Evaluation.run(request).report
        guard case .instance(let document) = whole else { Issue.record("not instance"); return }
        #expect(document.failures.rows.count > 20 && document.tide != nil)
        for count in [1, 3, 7] {
            #expect(try Self.shardedReport(request, count: count, folder: folder) == whole, "N = \(count)")
        }
    }

    @Test func lvisMergesToTheUnshardedRun() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let request = Self.request(Fixtures.url("lvis", "gt.json").path, Fixtures.url("lvis", "results-a.json").path, iouType: .segm)
        let whole = try Evaluation.run(request).report
        guard case .instance(let document) = whole else { Issue.record("not instance"); return }
        #expect(document.evaluationProtocol == "lvis")
        for count in [1, 3, 7] {
            #expect(try Self.shardedReport(request, count: count, folder: folder) == whole, "N = \(count)")
        }
    }

    /// Six image pairs: with 7 shards at least one shard is empty, and must merge all the same.
    @Test func semanticMergesToTheUnshardedRun() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        var request = EvalRequest(groundTruth: Fixtures.url("semantic", "gt").path, predictions: Fixtures.url("semantic", "pred").path)
        request.classesFile = Fixtures.url("semantic", "classes.txt").path
        request.failureQuery = FailureQuery(limit: .max)
        request.workers = 2
        let whole = try Evaluation.run(request).report
        guard case .semantic = whole else { Issue.record("not semantic"); return }
        for count in [1, 3, 7] {
            #expect(try Self.shardedReport(request, count: count, folder: folder) == whole, "N = \(count)")
        }
    }

    @Test func panopticMergesToTheUnshardedRun() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        var request = EvalRequest(groundTruth: Fixtures.url("panoptic", "gt.json").path,
                                  predictions: Fixtures.url("panoptic", "pred.json").path)
        request.failureQuery = FailureQuery(limit: .max)
        request.workers = 2
        let whole = try Evaluation.run(request).report
        guard case .panoptic = whole else { Issue.record("not panoptic"); return }
        for count in [1, 3, 7] {
            #expect(try Self.shardedReport(request, count: count, folder: folder) == whole, "N = \(count)")
        }
    }

    @Test func binaryMergesToTheUnshardedRun() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Thirteen object masks with an ignore band, their predictions (one empty, one missing its
        // ground truth), sizes differing between pairs.
        let gt = folder.appendingPathComponent("gt"), pred = folder.appendingPathComponent("pred")
        for dir in [gt, pred] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        var generator = SeededGenerator(seed: 2025)
        for k in 0..<14 {
            let w = 20 + k * 3, h = 16 + k
            let (cx, cy) = (Double.random(in: 6...Double(w - 6), using: &generator), Double.random(in: 5...Double(h - 5), using: &generator))
            let (r, shift) = (Double.random(in: 3...8, using: &generator), Double.random(in: -3...3, using: &generator))
            var truth = LabelMap(width: w, height: h), guess = LabelMap(width: w, height: h)
            for y in 0..<h {
                for x in 0..<w {
                    let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                    truth[x, y] = d < r ? 255 : (abs(d - r) < 1 ? 128 : 0)
                    let e = ((Double(x) - cx - shift) * (Double(x) - cx - shift) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                    guess[x, y] = k == 4 || e >= r * 1.1 ? 0 : 1
                }
            }
            if k < 13 { try ImageFile.writePNG(truth, to: gt.appendingPathComponent("m\(k).png").path) }
            try ImageFile.writePNG(guess, to: pred.appendingPathComponent("m\(k).png").path)
        }
        var request = EvalRequest(groundTruth: gt.path, predictions: pred.path)
        request.ignoreValue = 128
        request.failureQuery = FailureQuery(limit: .max)
        request.workers = 2
        let whole = try Evaluation.run(request).report
        guard case .binary(let document) = whole else { Issue.record("not binary"); return }
        #expect(document.images == 13 && document.perImage.count == 13)
        for count in [1, 3, 7] {
            #expect(try Self.shardedReport(request, count: count, folder: folder) == whole, "N = \(count)")
        }
    }

    @Test func stringIdsAndParametersMerge() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        var request = Self.request(Fixtures.url("coco", "strings", "gt.json").path, Fixtures.url("coco", "strings", "results.json").path,
                                   iouType: .segm)
        request.iouThresholds = [0.3, 0.5, 0.7]
        request.areaRanges = [COCOAreaRange(label: "tiny", min: 0, max: 256)]
        let whole = try Evaluation.run(request).report
        #expect(try Self.shardedReport(request, count: 3, folder: folder) == whole)
    }

    @Test func theMergeRefusesMissingDuplicateAndForeignShards() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (gt, pred) = try Self.makeSet(in: folder, images: 12)
        let request = Self.request(gt, pred, iouType: .bbox)
        var paths: [String] = []
        for index in 0..<3 {
            let path = folder.appendingPathComponent("p\(index).json").path
            try Evaluation.partial(request, shard: try Shard(index: index, count: 3)).write(to: path)
            paths.append(path)
        }
        let query = FailureQuery(limit: 5)
        #expect { try Evaluation.merge([paths[0], paths[2]], query: query) } throws: { "\($0)".contains("shard 1/3 is missing") }
        #expect { try Evaluation.merge(paths + [paths[1]], query: query) } throws: { "\($0)".contains("given twice") }
        var other = request
        other.iouThresholds = [0.5]
        let foreign = folder.appendingPathComponent("foreign.json").path
        try Evaluation.partial(other, shard: try Shard(index: 1, count: 3)).write(to: foreign)
        #expect { try Evaluation.merge([paths[0], foreign, paths[2]], query: query) } throws: { "\($0)".contains("other parameters") }
        // The same parameters on changed predictions: the digests differ.
        let changed = folder.appendingPathComponent("pred2.json")
        try (try Data(contentsOf: URL(fileURLWithPath: pred)) + Data(" ".utf8)).write(to: changed)
        let moved = folder.appendingPathComponent("moved.json").path
        try Evaluation.partial(EvalRequest(copying: request, predictions: changed.path), shard: try Shard(index: 2, count: 3)).write(to: moved)
        #expect { try Evaluation.merge([paths[0], paths[1], moved], query: query) } throws: { "\($0)".contains("other predictions") }
        // A damaged partial is an error naming it, not a crash.
        let damaged = folder.appendingPathComponent("damaged.json").path
        var text = try String(contentsOfFile: paths[1], encoding: .utf8)
        text = text.replacingOccurrences(of: "\"cellD\":\"", with: "\"cellD\":\"AAAA")
        try text.write(toFile: damaged, atomically: true, encoding: .utf8)
        #expect { try Evaluation.merge([paths[0], damaged, paths[2]], query: query) } throws: { "\($0)".contains("damaged.json") }
        #expect { try Evaluation.merge([folder.appendingPathComponent("gt.json").path], query: query) } throws: { "\($0)".contains("partial") }
    }
}

extension EvalRequest {
    init(copying other: EvalRequest, predictions: String) {
        self = other
        self.predictions = predictions
    }
}

enum TestFolder {
    static func make() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-shard-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
