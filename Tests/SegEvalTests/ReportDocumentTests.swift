import Foundation
import Testing
import SegCore
@testable import SegEval

/// The reports as Codable types: what `segterm eval` and `compare` write is the report type
/// encoded, and a program reads it back with the same types.
@Suite("Reports as Codable types")
struct ReportDocumentTests {
    static func request(_ gt: URL, _ pred: URL) -> EvalRequest {
        var r = EvalRequest(groundTruth: gt.path, predictions: pred.path)
        r.workers = 2
        return r
    }

    /// The JSON text as the CLI writes it, decoded with Foundation's decoder.
    static func readBack(_ output: EvalOutput) throws -> EvalReport {
        try JSONDecoder().decode(EvalReport.self, from: Data(output.json.serialized().utf8))
    }

    @Test("every task's written JSON decodes to the report it was made from", arguments: ["instance", "semantic", "binary", "panoptic"])
    func roundTrip(task: String) throws {
        var request: EvalRequest
        switch task {
        case "instance":
            request = Self.request(Fixtures.url("coco", "mixed", "gt.json"), Fixtures.url("coco", "mixed", "results-rle.json"))
            request.tide = true
        case "semantic":
            request = Self.request(Fixtures.url("semantic", "gt"), Fixtures.url("semantic", "pred"))
            request.classesFile = Fixtures.url("semantic", "classes.txt").path
        case "binary":
            request = Self.request(Fixtures.url("binary", "gt"), Fixtures.url("binary", "pred"))
        default:
            request = Self.request(Fixtures.url("panoptic", "gt.json"), Fixtures.url("panoptic", "pred.json"))
        }
        let result = try Evaluation.run(request)
        #expect(result.task.rawValue == task)
        let decoded = try Self.readBack(result.output)
        #expect(decoded == result.report)
        // The JSON's keys are the report type's, in its declaration order.
        guard case .object(let pairs) = result.output.json else { Issue.record("not an object"); return }
        #expect(pairs.first?.0 == "task" && pairs.last?.0 == "failures")
    }

    @Test("instance: the 12 numbers under pycocotools' names; tide only when asked; undefined numbers read back as nil")
    func instance() throws {
        var request = Self.request(Fixtures.url("coco", "mixed", "gt.json"), Fixtures.url("coco", "mixed", "results-rle.json"))
        let plain = try Evaluation.run(request)
        guard case .instance(let document) = plain.report, case .instance(let report, _, _) = plain.engine else {
            Issue.record("not instance"); return
        }
        #expect(document.tide == nil && plain.output.json["tide"] == nil)
        #expect(document.stats == report.evaluation.stats && document.metrics["AP"] == report.evaluation.stats[0]
                && document.metrics["ARl"] == report.evaluation.stats[11] && document.evaluationProtocol == "coco")
        #expect(plain.output.json["metrics"]?["AR100"] == .number(report.evaluation.stats[8]))
        request.tide = true
        let withTide = try Evaluation.run(request)
        #expect(withTide.output.json["tide"]?["AP50"] != nil)

        let undefined = try JSONDecoder().decode(BinaryReportDocument.PerImage.self, from: Data(#"{"image": "a", "IoU": null, "intersection": 0, "union": 0, "groundTruthArea": 0, "predictedArea": 0}"#.utf8))
        #expect(undefined.IoU == nil)
        let nan = BinaryReportDocument.PerImage(image: "a", IoU: defined(.nan), intersection: 0, union: 0, groundTruthArea: 0, predictedArea: 0)
        #expect(try JSONValue(encoding: nan)["IoU"] == .null)
    }

    @Test("compare: the written comparison decodes to its document")
    func comparison() throws {
        let gt = Fixtures.url("coco", "mixed", "gt.json")
        let a = try Evaluation.run(Self.request(gt, Fixtures.url("coco", "mixed", "results-rle.json")))
        let b = try Evaluation.run(Self.request(gt, Fixtures.url("coco", "mixed", "results-polygon.json")))
        let comparison = try Evaluation.compare(a, b, replicates: 50)
        let output = comparison.output(groundTruth: gt.path, a: "a.json", b: "b.json", worst: 5)
        let decoded = try JSONDecoder().decode(ComparisonDocument.self, from: Data(output.json.serialized().utf8))
        #expect(decoded == comparison.document(groundTruth: gt.path, a: "a.json", b: "b.json"))
        #expect(decoded.headline.bootstrap == 50 && decoded.a == "a.json" && !decoded.perClass.isEmpty)
    }

    @Test("a report of an unknown task is a decoding error naming the task")
    func unknownTask() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(EvalReport.self, from: Data(#"{"task": "video"}"#.utf8)) }
    }
}
