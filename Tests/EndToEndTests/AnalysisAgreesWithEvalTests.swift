import Foundation
import Testing
@testable import SegCore
@testable import SegEval
@testable import SegTUI

/// The workbench's metrics view and failure browser show what `segterm eval` prints: one engine.
@Suite("Workbench analysis agrees with segterm eval", .enabled(if: Binary.path != nil, "the segterm binary was not built"))
struct AnalysisAgreesWithEvalTests {
    @Test("per-class table, headline numbers and failure rows of sample-data's model-a and model-b")
    func sampleData() throws {
        let sample = Binary.repositoryRoot.appendingPathComponent("sample-data")
        let gt = sample.appendingPathComponent("instances.json").path
        for set in ["model-a", "model-b"] {
            let pred = sample.appendingPathComponent("predictions/\(set).json").path
            let result = try Binary.run(["eval", "--gt", gt, "--pred", pred, "--format", "json", "--failures", "100000"])
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            // Numbers through JSONDecoder: JSONSerialization here can miss a double by an ulp.
            let numbers = try JSONDecoder().decode(EvalNumbers.self, from: Data(result.stdout.utf8))
            let ours = try SetEvaluation.compute(groundTruth: gt, predictions: pred)

            for (name, value) in ours.metrics.summary { #expect(numbers.metrics[name] == value, "\(set) \(name)") }
            #expect(numbers.perClass.map { $0["name"]?.text } == ours.metrics.rows.map(\.name))
            for (row, theirs) in zip(ours.metrics.rows, numbers.perClass) {
                for (column, value) in zip(ours.metrics.columns, row.values) {
                    // The JSON writes -1 where a number is undefined, as pycocotools does.
                    #expect(theirs[column]?.number == value ?? -1, "\(set) \(row.name) \(column)")
                }
            }

            let failures = try #require(json["failures"] as? [String: Any])
            let rows = try #require(failures["rows"] as? [[String: Any]])
            #expect(failures["total"] as? Int == ours.failures.count)
            // The browser's default order is the CLI's: worst first.
            let shown = ours.failureOrders[.iou]!.map { ours.failures[$0] }
            #expect(rows.map { $0["ref"] as? String } == shown.map(\.reference), "\(set)")
            #expect(rows.map { $0["error"] as? String } == shown.map(\.kind.rawValue))
            // A detection's row opens with that detection's mask, inside the row's box.
            for row in ours.failures where row.reference.hasPrefix("results[") {
                let mask = try #require(ours.predictionMask(for: row), "\(row.reference)")
                let box = try #require(mask.boundingBox)
                let rowBox = try #require(row.box)
                #expect(Double(box.minX) >= rowBox.x - 1 && Double(box.maxX) <= rowBox.x + rowBox.width + 1, "\(row.reference)")
                #expect(Double(box.minY) >= rowBox.y - 1 && Double(box.maxY) <= rowBox.y + rowBox.height + 1, "\(row.reference)")
            }
            #expect(ours.failures.contains { $0.reference.hasPrefix("results[") })
        }
    }
}

/// The numeric parts of `segterm eval --format json` for an instance task.
struct EvalNumbers: Decodable {
    enum Value: Decodable {
        case number(Double), text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
        var number: Double? { if case .number(let d) = self { d } else { nil } }
        var text: String? { if case .text(let s) = self { s } else { nil } }
    }

    let metrics: [String: Double]
    let perClass: [[String: Value]]
}
