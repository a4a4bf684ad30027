import Foundation
import Testing
@testable import SegCore
@testable import SegEval

/// `segterm compare merge --a A-PARTS --b B-PARTS`: two sharded evaluations compared must give the
/// unsharded `compare` — deltas, per-class and per-image tables and the bootstrap interval — for
/// any shard counts.
@Suite struct ShardedCompareTests {
    /// The partials of an N-way run of `request`, written to files (scrambled order).
    static func partials(_ request: EvalRequest, count: Int, folder: URL, name: String) throws -> [String] {
        var paths: [String] = []
        for index in 0..<count {
            let path = folder.appendingPathComponent("\(name)-\(index)-of-\(count).json").path
            try Evaluation.partial(request, shard: try Shard(index: index, count: count)).write(to: path)
            paths.append(path)
        }
        return paths.reversed()
    }

    static func check(_ a: EvalRequest, _ b: EvalRequest, folder: URL) throws {
        var runA = a, runB = b
        runA.failureQuery = FailureQuery(limit: 0); runB.failureQuery = FailureQuery(limit: 0)
        let whole = try Evaluation.compare(try Evaluation.run(runA), try Evaluation.run(runB), replicates: 200, seed: 7)
        let expected = whole.document(groundTruth: a.groundTruth, a: a.predictions, b: b.predictions)
        for (countA, countB) in [(1, 1), (3, 7), (7, 3)] {
            let (x, y) = try Evaluation.mergeForComparison(
                a: try partials(a, count: countA, folder: folder, name: "a"),
                b: try partials(b, count: countB, folder: folder, name: "b"), workers: 2)
            let merged = try Evaluation.compare(x, y, replicates: 200, seed: 7)
            #expect(merged.document(groundTruth: a.groundTruth, a: a.predictions, b: b.predictions) == expected,
                    "A in \(countA) shards, B in \(countB)")
        }
    }

    @Test func instanceCompareMergesToTheUnshardedCompare() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (gt, pred) = try ShardedEvalTests.makeSet(in: folder)
        // B: A's detections without every third one, the scores turned around.
        let list = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: pred))) as? [[String: Any]] ?? []
        let other: [[String: Any]] = list.enumerated().compactMap { k, d in
            guard k % 3 != 2, let score = d["score"] as? Double else { return nil }
            var e = d
            e["score"] = 1 - score
            return e
        }
        let predB = folder.appendingPathComponent("predB.json")
        try JSONSerialization.data(withJSONObject: other).write(to: predB)
        let a = ShardedEvalTests.request(gt, pred, iouType: .segm), b = ShardedEvalTests.request(gt, predB.path, iouType: .segm)
        try Self.check(a, b, folder: folder)
    }

    @Test func semanticCompareMergesToTheUnshardedCompare() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        func request(_ pred: String) -> EvalRequest {
            var r = EvalRequest(groundTruth: Fixtures.url("semantic", "gt").path, predictions: Fixtures.url("semantic", pred).path)
            r.classesFile = Fixtures.url("semantic", "classes.txt").path
            r.workers = 2
            return r
        }
        try Self.check(request("pred"), request("gt"), folder: folder)
    }

    @Test func setsOnAnotherGroundTruthAreRefused() throws {
        let folder = TestFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (gt, pred) = try ShardedEvalTests.makeSet(in: folder)
        let a = ShardedEvalTests.request(gt, pred, iouType: .bbox)
        var b = EvalRequest(groundTruth: Fixtures.url("semantic", "gt").path, predictions: Fixtures.url("semantic", "pred").path)
        b.classesFile = Fixtures.url("semantic", "classes.txt").path
        let error = #expect(throws: SegError.self) {
            _ = try Evaluation.mergeForComparison(a: try Self.partials(a, count: 2, folder: folder, name: "a"),
                                                  b: try Self.partials(b, count: 2, folder: folder, name: "b"))
        }
        #expect(error?.reason.contains("another ground truth") == true)
    }
}
