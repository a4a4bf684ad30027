import Foundation
import Testing
import SegCore
@testable import SegEval

/// LVIS evaluation (federated rules) against the lvis package's LVISEval on a synthetic LVIS-style
/// set (scripts/make_lvis_fixtures.py): negative and not-exhaustive category lists, frequency
/// groups, an image with more than 300 detections, `ignore` flags.
@Suite("LVIS evaluation against LVISEval")
struct LVISTests {
    static let expected: [String: [String: [String: Double]]] = {
        struct File: Decodable { var results: [String: [String: [String: Double]]] }
        guard let data = try? Data(contentsOf: Fixtures.url("lvis", "expected.json")) else { return [:] }
        return (try? JSONDecoder().decode(File.self, from: data).results) ?? [:]
    }()

    static let cases: [String] = expected.keys.sorted().flatMap { file in ["segm", "bbox"].map { "\(file) \($0)" } }

    static func request(_ results: String, _ iouType: String, protocol rules: EvaluationProtocol? = nil) -> EvalRequest {
        var r = EvalRequest(groundTruth: Fixtures.url("lvis", "gt.json").path, predictions: Fixtures.url("lvis", results).path)
        r.iouType = iouType == "bbox" ? .bbox : .segm
        r.evaluationProtocol = rules
        r.workers = 2
        return r
    }

    @Test("the fixture has two results files")
    func fixture() { #expect(Self.cases.count == 4) }

    @Test("detected from the ground truth; the 13 results equal LVISEval's under its names", arguments: cases)
    func equal(_ name: String) throws {
        let parts = name.split(separator: " ").map(String.init)
        let reference = try #require(Self.expected[parts[0]]?[parts[1]])
        let result = try Evaluation.run(Self.request(parts[0], parts[1]))
        guard case .instance(let report, _, _) = result.engine else { Issue.record("not instance"); return }
        let summary = report.evaluation.summary
        #expect(report.evaluation.params.evaluationProtocol == .lvis)
        #expect(summary.names == ["AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf", "AR@300", "ARs@300", "ARm@300", "ARl@300"])
        for (key, value) in reference {
            let ours = try #require(summary[key], "no \(key)")
            #expect(abs(ours - value) <= 1e-12, "\(key): \(ours) vs LVISEval \(value)")
        }
        // The JSON carries the same names and the protocol.
        #expect(result.output.json["protocol"] == .string("lvis"))
        #expect(result.output.json["metrics"]?["AR@300"] == .number(summary["AR@300"]!))
    }

    @Test("the federated rules change the numbers: COCO's rules on the same files differ")
    func rulesMatter() throws {
        let lvis = try Evaluation.run(Self.request("results-a.json", "segm"))
        let coco = try Evaluation.run(Self.request("results-a.json", "segm", protocol: .coco))
        guard case .instance(let a, _, _) = lvis.engine, case .instance(let b, _, _) = coco.engine else { Issue.record("not instance"); return }
        #expect(b.evaluation.params.evaluationProtocol == .coco && b.evaluation.summary.names.count == 12)
        #expect(abs(a.evaluation.summary.ap - b.evaluation.summary.ap) > 1e-3)
        // LVIS keeps at most 300 detections per image and only judged categories: fewer evaluated.
        #expect(a.detectionCount < b.detectionCount)
    }

    @Test("failures and the comparison work under LVIS's rules")
    func failuresAndCompare() throws {
        let a = try Evaluation.run(Self.request("results-a.json", "segm"))
        let b = try Evaluation.run(Self.request("results-b.json", "segm"))
        #expect(a.failures.total > 0 && b.failures.total > a.failures.total)
        let comparison = try Evaluation.compare(a, b, replicates: 40)
        #expect(comparison.headline.delta < 0)
        #expect(comparison.perClass.first?.metrics.contains { $0.0 == "APr" } == true)
    }

    @Test("LVIS has no class-agnostic mode: asking for one is an error")
    func noCategories() {
        var r = Self.request("results-a.json", "segm")
        r.useCategories = false
        #expect { try Evaluation.run(r) } throws: { "\($0)".contains("no class-agnostic mode") }
    }
}
