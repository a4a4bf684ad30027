import Foundation
import Testing
import SegCore
@testable import SegEval

/// pycocotools' parameters (`segterm eval --iou-thrs --rec-thrs --max-dets --area-range
/// --no-categories --image-ids`) against pycocotools with the same `Params`
/// (scripts/make_coco_params_fixtures.py).
@Suite("pycocotools' parameters")
struct COCOParamsTests {
    struct Case: Decodable, CustomTestStringConvertible {
        struct Params: Decodable {
            var name: String
            var iouThrs: [Double]?
            var recThrs: [Double]?
            var maxDets: [Int]?
            var areaRng: [String: [Double]]?
            var useCats: Int?
            var iouType: String?
        }
        var set: String
        var gt: String
        var results: String
        var params: Params
        var expected: [String: AnyNumbers]
        var testDescription: String { "\(set) \(params.name)" }
    }

    /// A number or a list of numbers.
    enum AnyNumbers: Decodable {
        case one(Double), many([Double])
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Double.self) { self = .one(v) } else { self = .many(try c.decode([Double].self)) }
        }
        var values: [Double] { switch self { case .one(let v): [v]; case .many(let v): v } }
    }

    static let cases: [Case] = {
        struct File: Decodable { var cases: [Case] }
        guard let data = try? Data(contentsOf: Fixtures.url("coco", "params.json")) else { return [] }
        return (try? JSONDecoder().decode(File.self, from: data).cases) ?? []
    }()

    static func request(_ c: Case) -> EvalRequest {
        var r = EvalRequest(groundTruth: Fixtures.repository.appendingPathComponent(c.gt).path,
                            predictions: Fixtures.repository.appendingPathComponent(c.results).path)
        r.workers = 2
        r.iouType = c.params.iouType == "bbox" ? .bbox : .segm
        r.iouThresholds = c.params.iouThrs
        r.recallThresholds = c.params.recThrs
        r.maxDets = c.params.maxDets
        r.areaRanges = (c.params.areaRng ?? [:]).sorted { $0.key < $1.key }.map { COCOAreaRange(label: $0.key, min: $0.value[0], max: $0.value[1]) }
        r.useCategories = c.params.useCats != 0
        r.imageIds = c.expected["imageIds"]?.values.map { String(Int($0)) }
        return r
    }

    @Test("the fixture has every case")
    func fixture() { #expect(Self.cases.count == 27) }

    @Test("stats and added area ranges equal pycocotools'", arguments: cases)
    func equal(_ c: Case) throws {
        let result = try Evaluation.run(Self.request(c))
        guard case .instance(let report, _, _) = result.engine else { Issue.record("not instance"); return }
        let summary = report.evaluation.summary
        let stats = try #require(c.expected["stats"]).values
        #expect(maxAbsDiff(Array(summary.stats.prefix(12)), stats) <= 1e-12, "\(summary.stats) vs \(stats)")
        for (name, value) in c.expected where name.hasPrefix("AP_") || name.hasPrefix("AR_") {
            let ours = try #require(summary[name], "no \(name) among \(summary.names)")
            #expect(abs(ours - value.values[0]) <= 1e-12, "\(name): \(ours) vs \(value.values[0])")
        }
        if let m = c.params.maxDets {
            #expect(summary.names[6...8] == ["AR\(m[0])", "AR\(m[1])", "AR\(m[2])"])
        }
        if c.params.useCats == 0 {
            #expect(report.evaluation.categories.count == 1 && report.evaluation.perCategory[0].stats == summary.stats)
        }
    }

    @Test("bad parameters are errors naming the option")
    func badParameters() throws {
        let c = try #require(Self.cases.first)
        var r = Self.request(c)
        r.maxDets = [1, 10]
        #expect { try Evaluation.run(r) } throws: { "\($0)".contains("--max-dets") && "\($0)".contains("three values") }
        r = Self.request(c)
        r.iouThresholds = [0.75, 0.5]
        #expect { try Evaluation.run(r) } throws: { "\($0)".contains("--iou-thrs") }
        r = Self.request(c)
        r.imageIds = ["123456"]
        #expect { try Evaluation.run(r) } throws: { "\($0)".contains("image id 123456") }
        r = Self.request(c)
        r.areaRanges = [COCOAreaRange(label: "odd", min: 10, max: 1)]
        #expect { try Evaluation.run(r) } throws: { "\($0)".contains("--area-range odd") }
    }
}

/// What real files contain that pycocotools handles its own way.
@Suite("Quirks of real files")
struct RealFileQuirkTests {
    static func write(_ text: String, _ name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-quirks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("an annotation with id 0: the number is pycocotools', a warning says why, and its perfect detection is no 'duplicate' failure")
    func annotationIdZero() throws {
        let gt = try Self.write("""
            {"images": [{"id": 1, "width": 40, "height": 30, "file_name": "a.png"}],
             "categories": [{"id": 1, "name": "cell"}],
             "annotations": [{"id": 0, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "area": 100, "iscrowd": 0},
                             {"id": 7, "image_id": 1, "category_id": 1, "bbox": [20, 10, 10, 10], "area": 100, "iscrowd": 0}]}
            """, "gt.json")
        let pred = try Self.write("""
            [{"image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.9},
             {"image_id": 1, "category_id": 1, "bbox": [20, 10, 10, 10], "score": 0.8}]
            """, "pred.json")
        var request = EvalRequest(groundTruth: gt, predictions: pred)
        request.iouType = .bbox
        let result = try Evaluation.run(request)
        #expect(result.warnings.contains { $0.contains("annotation id 0") })
        guard case .instance(let report, _, _) = result.engine else { Issue.record("not instance"); return }
        // pycocotools: the first detection reads as a false positive ranked first, the object as missed.
        #expect(report.evaluation.summary["AR100"] == 0.5)
        // Both detections are perfect: the failure table lists neither them nor the objects.
        #expect(result.failures.total == 0, "\(result.failures.rows)")
    }

    @Test("masks encoded at another size than the image: no matter for bbox evaluation (never decoded), an error naming the entry for segm")
    func masksOfAnotherSize() throws {
        let gt = try Self.write("""
            {"images": [{"id": 1, "width": 40, "height": 30, "file_name": "a.png"}],
             "categories": [{"id": 1, "name": "cell"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "area": 100, "iscrowd": 0,
                              "segmentation": [[5, 5, 15, 5, 15, 15, 5, 15]]}]}
            """, "gt.json")
        // A 20x20 mask (the model's own resolution) for a 40x30 image.
        let pred = try Self.write("""
            [{"image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.9, "segmentation": {"size": [20, 20], "counts": [400]}}]
            """, "pred.json")
        var request = EvalRequest(groundTruth: gt, predictions: pred)
        request.iouType = .bbox
        let boxes = try Evaluation.run(request)
        guard case .instance(let report, _, _) = boxes.engine else { Issue.record("not instance"); return }
        #expect(abs(report.evaluation.summary.ap - 1) < 1e-12)  // pycocotools: precision 1 − eps at every recall point
        request.iouType = .segm
        #expect { try Evaluation.run(request) } throws: { "\($0)".contains("results[0]") && "\($0)".contains("differs from the image") }
    }

    @Test("string image ids: numbered in Python's sort order, the numbers equal pycocotools' (which break score ties by that order)",
          arguments: ["segm", "bbox"])
    func stringImageIds(_ iouType: String) throws {
        struct Expected: Decodable { var segm: [Double]; var bbox: [Double]; var order: [String] }
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.url("coco", "strings", "expected.json")))
        var request = EvalRequest(groundTruth: Fixtures.url("coco", "strings", "gt.json").path,
                                  predictions: Fixtures.url("coco", "strings", "results.json").path)
        request.iouType = iouType == "bbox" ? .bbox : .segm
        request.workers = 2
        let result = try Evaluation.run(request)
        guard case .instance(let report, _, _) = result.engine else { Issue.record("not instance"); return }
        let ev = report.evaluation
        #expect(maxAbsDiff(Array(ev.stats.prefix(12)), iouType == "bbox" ? expected.bbox : expected.segm) <= 1e-12)
        #expect(ev.images.map { ev.inputs.groundTruth.idText($0) } == expected.order)
        #expect(result.failures.rows.allSatisfy { $0.imageId == nil })
        // --image-ids by the file's strings: the subset of pycocotools' order.
        request.imageIds = ["img2", "img10"]
        guard case .instance(let subset, _, _) = try Evaluation.run(request).engine else { Issue.record("not instance"); return }
        #expect(subset.evaluation.images.map { subset.evaluation.inputs.groundTruth.idText($0) } == ["img10", "img2"])
        request.imageIds = ["img99"]
        #expect { try Evaluation.run(request) } throws: { "\($0)".contains("image id \"img99\" (of --image-ids)") }
    }

    @Test("string image ids: a results id the ground truth lacks, and ids mixing numbers and strings, are errors naming them")
    func badStringImageIds() throws {
        let gt = try Self.write("""
            {"images": [{"id": "a", "width": 40, "height": 30}, {"id": "b", "width": 40, "height": 30}],
             "categories": [{"id": 1, "name": "cell"}],
             "annotations": [{"id": 1, "image_id": "b", "category_id": 1, "bbox": [5, 5, 10, 10], "area": 100, "iscrowd": 0}]}
            """, "gt.json")
        let pred = try Self.write("""
            [{"image_id": "c", "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.9}]
            """, "pred.json")
        var request = EvalRequest(groundTruth: gt, predictions: pred)
        request.iouType = .bbox
        #expect { try Evaluation.run(request) } throws: { "\($0)".contains("image id \"c\" is not in the ground truth") }
        let mixed = try Self.write("""
            {"images": [{"id": "a", "width": 40, "height": 30}, {"id": 2, "width": 40, "height": 30}],
             "categories": [{"id": 1, "name": "cell"}], "annotations": []}
            """, "mixed.json")
        #expect { try COCOReader.readGroundTruth(mixed) } throws: { "\($0)".contains("mix numbers (2) and strings") }
    }

    @Test("string image ids in a results file large enough to be read in two halves at once equal the same file with numbers")
    func stringIdsInLargeResults() throws {
        // Names in Python order z0 < z1 < z2 stand for the numbers 0, 1, 2.
        func files(_ id: (Int) -> String) throws -> (String, String) {
            let images = (0..<3).map { #"{"id": \#(id($0)), "width": 200, "height": 200}"# }.joined(separator: ",")
            let annotations = (0..<30).map { i in
                #"{"id": \#(i + 1), "image_id": \#(id(i % 3)), "category_id": 1, "bbox": [\#(i * 6 % 180), \#(i * 7 % 180), 12, 12], "area": 144, "iscrowd": 0}"#
            }.joined(separator: ",")
            let gt = try Self.write(#"{"images": [\#(images)], "categories": [{"id": 1, "name": "cell"}], "annotations": [\#(annotations)]}"#, "gt.json")
            var lines: [String] = []
            for i in 0..<14_000 {
                let x = (i * 13) % 190, y = (i * 29) % 190
                lines.append(#"{"image_id": \#(id(i % 3)), "category_id": 1, "bbox": [\#(x), \#(y), 11.5, 12.25], "score": \#(Double(i % 97) / 97)}"#)
            }
            return (gt, try Self.write("[" + lines.joined(separator: ",\n") + "]", "pred.json"))
        }
        let (gtS, predS) = try files { "\"z\($0)\"" }
        let (gtN, predN) = try files { "\($0)" }
        #expect(try FileManager.default.attributesOfItem(atPath: predS)[.size] as! Int > 1 << 20)
        var a = EvalRequest(groundTruth: gtS, predictions: predS), b = EvalRequest(groundTruth: gtN, predictions: predN)
        a.iouType = .bbox; b.iouType = .bbox
        guard case .instance(let x, _, _) = try Evaluation.run(a).engine, case .instance(let y, _, _) = try Evaluation.run(b).engine else {
            Issue.record("not instance"); return
        }
        #expect(x.evaluation.stats == y.evaluation.stats && x.detectionCount == 14_000)
    }

    @Test("the failure table's size buckets follow a replaced area range")
    func failuresFollowAreaRanges() throws {
        var request = EvalRequest(groundTruth: Fixtures.url("coco", "mixed", "gt.json").path,
                                  predictions: Fixtures.url("coco", "mixed", "results-rle.json").path)
        request.failureQuery = FailureQuery(limit: 1000)
        let plain = try Evaluation.run(request).failures.rows
        request.areaRanges = [COCOAreaRange(label: "small", min: 0, max: 4096), COCOAreaRange(label: "medium", min: 4096, max: 9216)]
        let moved = try Evaluation.run(request).failures.rows
        #expect(plain.count == moved.count)
        let between = plain.indices.filter { plain[$0].area >= 1024 && plain[$0].area < 4096 }
        #expect(!between.isEmpty, "the fixture has failures between 32² and 64²")
        for i in between {
            #expect(plain[i].sizeBucket == .medium)
            #expect(moved.first { $0.reference == plain[i].reference }?.sizeBucket == .small)
        }
    }

    @Test("TIDE's size buckets follow the area ranges: a 'small' covering every object gains what fixing every error gains; added ranges get their own row")
    func tideFollowsAreaRanges() throws {
        var request = EvalRequest(groundTruth: Fixtures.url("coco", "mixed", "gt.json").path,
                                  predictions: Fixtures.url("coco", "mixed", "results-rle.json").path)
        request.tide = true
        request.areaRanges = [COCOAreaRange(label: "small", min: 0, max: 1e10), COCOAreaRange(label: "tiny", min: 0, max: 256)]
        guard case .instance(_, _, let tide?) = try Evaluation.run(request).engine else { Issue.record("no TIDE"); return }
        #expect(tide.sizeNames == ["small", "medium", "large", "tiny"])
        for type in TIDEResult.ErrorType.allCases {
            #expect(abs((tide.perSize["small"]?[type] ?? -1) - (tide.gains[type] ?? -2)) <= 1e-12, "\(type)")
        }
        #expect(try Evaluation.run(request).output.json["tide"]?["perSize"]?["tiny"] != nil)
    }
}
