import Foundation
import Testing
import SegCore
@testable import SegEval

/// `Evaluation.run`, the one entry point of `segterm eval`, `segterm compare` and the workbench.
@Suite("One evaluation pipeline")
struct EvaluationTests {
    static func request(_ gt: String, _ pred: String) -> EvalRequest {
        var r = EvalRequest(groundTruth: gt, predictions: pred)
        r.workers = 2
        return r
    }

    static func temporaryClasses(_ names: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("classes-\(UUID().uuidString).txt").path
        try (names.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("one task rule: JSON with segments_info is panoptic, other JSON instance; a folder is semantic only with more than background and one class")
    func taskInference() throws {
        let panoptic = Self.request(Fixtures.url("panoptic", "gt.json").path, "")
        #expect(Evaluation.task(of: panoptic, classes: nil) == .panoptic)
        let instance = Self.request(Fixtures.url("coco", "mixed", "gt.json").path, "")
        #expect(Evaluation.task(of: instance, classes: nil) == .instance)
        let folder = Self.request(Fixtures.url("semantic", "gt").path, "")
        #expect(Evaluation.task(of: folder, classes: nil) == .binary)
        #expect(Evaluation.task(of: folder, classes: ["background", "object"]) == .binary)
        #expect(Evaluation.task(of: folder, classes: ["background", "road", "car"]) == .semantic)
        var forced = folder
        forced.task = .semantic
        #expect(Evaluation.task(of: forced, classes: nil) == .semantic)
        // The class file is read for the rule: the semantic fixture's list names three classes.
        var withFile = folder
        withFile.classesFile = Fixtures.url("semantic", "classes.txt").path
        #expect(try Evaluation.task(of: withFile) == .semantic)
    }

    @Test("a panoptic run gives panopticapi's numbers and its failure table")
    func panoptic() throws {
        let folder = Fixtures.url("panoptic")
        let expected = try Fixtures.json(folder.appendingPathComponent("expected.json"))
        let result = try Evaluation.run(Self.request(folder.appendingPathComponent("gt.json").path, folder.appendingPathComponent("pred.json").path))
        guard case .panoptic(let ev) = result.engine else { Issue.record("not panoptic: \(result.task)"); return }
        let all = try #require(expected["All"] as? [String: Double])
        #expect(abs(ev.all.pq - all["PQ"]!) <= 1e-12 && abs(ev.all.sq - all["SQ"]!) <= 1e-12)
        #expect(result.failures.total == ev.segmentFailures.count)
        #expect(result.output.json["task"] == .string("panoptic"))
        #expect(result.output.json["failures"] != nil)
        #expect(result.imageScores.metric == "PQ" && result.imageScores.byStem.count == ev.images.count)
        // An image's own PQ is the average over its categories of panopticapi's per-class PQ.
        for (i, image) in ev.images.enumerated() {
            #expect(result.imageScores.byStem[FileName.stem(image.fileName)] == ev.imagePQ(i))
        }
    }

    @Test("a class list beside COCO ground truth is matched by name, in any order; a class that is no category stops the run naming both files")
    func instanceClasses() throws {
        let gt = Fixtures.repository.appendingPathComponent("sample-data/instances.json").path
        let pred = Fixtures.repository.appendingPathComponent("sample-data/predictions/model-a.json").path
        var request = Self.request(gt, pred)
        let plain = try Evaluation.run(request)
        request.classesFile = try Self.temporaryClasses(["background", "seed", "stone", "leaf", "cell"])
        let reordered = try Evaluation.run(request)
        #expect(reordered.output.json == plain.output.json)
        let wrong = try Self.temporaryClasses(["background", "cell", "tree"])
        request.classesFile = wrong
        #expect { try Evaluation.run(request) } throws: { error in
            let text = "\(error)"
            return text.contains(wrong) && text.contains(gt) && text.contains("\"tree\"")
        }
    }

    @Test("compare uses the task's default bootstrap (200 instance, 1000 otherwise) and refuses sets of two tasks")
    func compareDefaults() throws {
        #expect(Comparison.defaultReplicates(.instance) == 200)
        #expect(Comparison.defaultReplicates(.semantic) == 1000 && Comparison.defaultReplicates(.panoptic) == 1000)
        let folder = Fixtures.url("panoptic")
        let p = try Evaluation.run(Self.request(folder.appendingPathComponent("gt.json").path, folder.appendingPathComponent("pred.json").path))
        let c = try Evaluation.compare(p, p)
        #expect(c.replicates == 1000 && c.seed == 0 && c.headline.delta == 0)
        let gt = Fixtures.repository.appendingPathComponent("sample-data/instances.json").path
        let i = try Evaluation.run(Self.request(gt, Fixtures.repository.appendingPathComponent("sample-data/predictions/model-a.json").path))
        #expect(try Evaluation.compare(i, i).replicates == 200)
        #expect(throws: SegError.self) { try Evaluation.compare(i, p) }
    }
}
