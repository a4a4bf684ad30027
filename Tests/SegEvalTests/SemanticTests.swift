import Foundation
import Testing
import SegCore
@testable import SegEval

@Suite("Semantic and binary metrics against numpy")
struct SemanticTests {
    static func evaluate() throws -> (SemanticEvaluation, [String: Any]) {
        let folder = Fixtures.url("semantic")
        let expected = try Fixtures.json(folder.appendingPathComponent("expected.json"))
        let classes = try ClassNames.load(folder.appendingPathComponent("classes.txt").path)
        let files = try FilePairs.match(groundTruth: folder.appendingPathComponent("gt").path,
                                        predictions: folder.appendingPathComponent("pred").path)
        return (try SemanticEvaluator(classes: classes).evaluate(files, workers: 2), expected)
    }

    static func check(_ s: SemanticScores, _ ref: [String: Any]) throws {
        #expect(maxAbsDiff(s.iou, try #require(ref["iou"] as? [Double])) <= 1e-12)
        #expect(maxAbsDiff(s.dice, try #require(ref["dice"] as? [Double])) <= 1e-12)
        #expect(maxAbsDiff(s.precision, try #require(ref["precision"] as? [Double])) <= 1e-12)
        #expect(maxAbsDiff(s.recall, try #require(ref["recall"] as? [Double])) <= 1e-12)
        for key in ["mIoU", "mDice", "pixelAccuracy", "fwIoU"] {
            let ours = ["mIoU": s.meanIoU, "mDice": s.meanDice, "pixelAccuracy": s.pixelAccuracy, "fwIoU": s.frequencyWeightedIoU][key]!
            #expect(abs(ours - (try #require(ref[key] as? Double))) <= 1e-12, "\(key)")
        }
    }

    @Test("class list skips comments; confusion, cumulative and per-image-mean metrics match numpy")
    func metrics() throws {
        let (ev, expected) = try Self.evaluate()
        #expect(ev.classes == ["background", "road", "car", "person"])
        let confusion = try #require(expected["confusion"] as? [[Int]])
        #expect(ev.confusion == confusion.flatMap { $0 })
        let cumulative = try #require(expected["cumulative"] as? [String: Any])
        try Self.check(ev.cumulative, cumulative)
        #expect(ev.cumulative.groundTruthPixels == cumulative["gtPixels"] as? [Int])
        #expect(ev.cumulative.predictedPixels == cumulative["predPixels"] as? [Int])
        try Self.check(ev.perImageMean, try #require(expected["perImageMean"] as? [String: Any]))
    }

    @Test("segment IoUs and segment recall by size match scipy.ndimage.label + numpy")
    func segments() throws {
        let (ev, expected) = try Self.evaluate()
        let ref = try #require(expected["segmentIoUs"] as? [[Double]])
        let ours = ev.images.enumerated().flatMap { i, image in image.segments.map { [Double(i), Double($0.classId), Double($0.area), $0.iou] } }
        // Both list segments per image, per class, in scipy's label order.
        #expect(ours.count == ref.count)
        for (a, b) in zip(ours, ref) { #expect(maxAbsDiff(a, b) <= 1e-12, "\(a) vs \(b)") }
        let recall = try #require(expected["segmentRecall"] as? [[Double]])
        #expect(maxAbsDiff(ev.segmentRecall.flatMap { $0 }, recall.flatMap { $0 }) <= 1e-12)
    }

    @Test("binary IoU with an ignore value matches numpy, through the shared BinaryMetrics.iou")
    func binary() throws {
        let folder = Fixtures.url("binary")
        let expected = try #require(try Fixtures.json(folder.appendingPathComponent("expected.json"))["iou"] as? [String: Double])
        let files = try FilePairs.match(groundTruth: folder.appendingPathComponent("gt").path,
                                        predictions: folder.appendingPathComponent("pred").path)
        let ev = try BinaryEvaluator(ignoreValue: 128).evaluate(files)
        #expect(ev.images.count == 4)
        for image in ev.images { #expect(abs(image.iou - expected[image.stem]!) <= 1e-12, "\(image.stem)") }
        #expect(abs(ev.meanIoU - expected.values.reduce(0, +) / 4) <= 1e-12)
        let a = Mask(width: 2, height: 1, bits: [1, 1]), b = Mask(width: 2, height: 1, bits: [1, 0])
        #expect(try BinaryMetrics.iou(a, b) == 0.5)
        #expect(try BinaryMetrics.iou(a, b, ignoring: Mask(width: 2, height: 1, bits: [0, 1])) == 1)
    }

    @Test("a prediction of another size is an error unless resizing is asked for")
    func sizes() throws {
        let evaluator = SemanticEvaluator(classes: ["a", "b"])
        let gt = LabelMap(width: 4, height: 2, fill: 1)
        let pred = LabelMap(width: 2, height: 1, fill: 1)
        #expect(throws: SegError.self) {
            try evaluator.evaluateImage(index: 0, stem: "x", gtFile: "gt/x.png", predFile: "pred/x.png", gt: gt, pred: pred)
        }
        let resized = SemanticEvaluator(classes: ["a", "b"], resizePredictions: true)
        let r = try resized.evaluateImage(index: 0, stem: "x", gtFile: "gt/x.png", predFile: "pred/x.png", gt: gt, pred: pred)
        #expect(r.scores.iou[1] == 1)
        do {
            _ = try evaluator.evaluateImage(index: 0, stem: "x", gtFile: "gt/x.png", predFile: "pred/x.png",
                                            gt: LabelMap(width: 1, height: 1, fill: 9), pred: LabelMap(width: 1, height: 1, fill: 0))
            Issue.record("an unknown label must throw")
        } catch {
            #expect(error.file == "gt/x.png")
            #expect(error.reason.contains("label 9"))
        }
    }
}

@Suite("Boundary IoU against the boundary-iou-api rules (cv2 + pycocotools)")
struct BoundaryTests {
    nonisolated(unsafe) static let expected: [String: Any] = (try? Fixtures.json(Fixtures.url("boundary", "expected.json"))) ?? [:]

    @Test("instance boundary AP/AR agree to 1e-6", arguments: ["mixed", "sample-a"])
    func instance(_ name: String) throws {
        let ref = try #require(Self.expected[name] as? [String: Any])
        let gt = try COCOReader.readGroundTruth(Fixtures.repository.appendingPathComponent(try #require(ref["gt"] as? String)).path)
        let res = try COCOReader.readResults(Fixtures.repository.appendingPathComponent(try #require(ref["results"] as? String)).path, groundTruth: gt)
        let ev = try COCOEvaluator(params: COCOEvalParams(iouType: .boundary)).evaluate(COCOInputs(groundTruth: gt, results: res))
        #expect(maxAbsDiff(ev.stats, try #require(ref["stats"] as? [Double])) <= 1e-6, "\(ev.stats)")
    }

    @Test("semantic per-class boundary IoU matches")
    func semantic() throws {
        let (ev, _) = try SemanticTests.evaluate()
        #expect(maxAbsDiff(ev.boundaryIoU, try #require(Self.expected["semantic"] as? [Double])) <= 1e-12, "\(ev.boundaryIoU)")
    }

    @Test("the band is 2% of the diagonal, rounded half to even, at least 1")
    func dilation() {
        #expect(BoundaryIoU.dilation(width: 640, height: 480, ratio: 0.02) == 16)
        #expect(BoundaryIoU.dilation(width: 10, height: 10, ratio: 0.02) == 1)
        // 0.02 * 125 = 2.5 rounds to 2, as Python's round does
        #expect(BoundaryIoU.dilation(width: 75, height: 100, ratio: 0.02) == 2)
    }
}
