import Foundation
import Testing
import SegCore
@testable import SegEval

@Suite("TIDE error breakdown against tidecv")
struct TIDETests {
    nonisolated(unsafe) static let expected: [String: Any] = (try? Fixtures.json(Fixtures.url("tide", "expected.json"))) ?? [:]
    static var cases: [String] { ((expected["cases"] as? [String: Any])?.keys.sorted()) ?? [] }

    @Test("AP50, dAP per error type, error counts, per class and per size, and the special errors (FalsePos, FalseNeg) overall and per class agree to 1e-9", arguments: cases)
    func agrees(_ name: String) throws {
        let ref = try #require((Self.expected["cases"] as? [String: Any])?[name] as? [String: Any])
        let gtPath = Fixtures.repository.appendingPathComponent(try #require(ref["gt"] as? String)).path
        let resPath = Fixtures.repository.appendingPathComponent(try #require(ref["results"] as? String)).path
        // The fixture paths are relative to the repository (the copies in the bundle are identical).
        let gt = try COCOReader.readGroundTruth(gtPath)
        let res = try COCOReader.readResults(resPath, groundTruth: gt)
        let result = try TIDE.evaluate(COCOInputs(groundTruth: gt, results: res), mask: name.hasSuffix("/mask"))
        #expect(abs(result.ap - (try #require(ref["AP"] as? Double))) <= 1e-9, "AP \(result.ap)")
        let dAP = try #require(ref["dAP"] as? [String: Double])
        let counts = try #require(ref["counts"] as? [String: Int])
        for type in TIDEResult.ErrorType.allCases {
            #expect(abs((result.gains[type] ?? -1) - dAP[type.rawValue]!) <= 1e-9, "dAP \(type.rawValue): \(result.gains[type] ?? -1)")
            #expect(result.counts[type] == counts[type.rawValue], "count \(type.rawValue)")
        }
        let perSize = try #require(ref["perSize"] as? [String: [String: Double]])
        for (size, gains) in perSize {
            for type in TIDEResult.ErrorType.allCases {
                #expect(abs((result.perSize[size]?[type] ?? -1) - gains[type.rawValue]!) <= 1e-9, "\(size) \(type.rawValue)")
            }
        }
        let special = try #require(ref["special"] as? [String: Double])
        for type in TIDEResult.SpecialError.allCases {
            #expect(abs((result.special[type] ?? -9) - special[type.rawValue]!) <= 1e-9, "special \(type.rawValue): \(result.special[type] ?? -9)")
        }
        let perClassSpecial = try #require(ref["perClassSpecial"] as? [String: [String: Double]])
        #expect(Set(perClassSpecial.keys) == Set(result.perClassSpecial.keys.map(String.init)))
        for (c, gains) in perClassSpecial {
            for type in TIDEResult.SpecialError.allCases {
                #expect(abs((result.perClassSpecial[Int(c)!]?[type] ?? -9) - gains[type.rawValue]!) <= 1e-9, "class \(c) \(type.rawValue)")
            }
        }
        let perClass = try #require(ref["perClass"] as? [String: [String: Double]])
        #expect(Set(perClass.keys) == Set(result.perClass.keys.map(String.init)))
        for (c, gains) in perClass {
            for type in TIDEResult.ErrorType.allCases {
                #expect(abs((result.perClass[Int(c)!]?[type] ?? -1) - gains[type.rawValue]!) <= 1e-9, "class \(c) \(type.rawValue)")
            }
        }
    }
}
