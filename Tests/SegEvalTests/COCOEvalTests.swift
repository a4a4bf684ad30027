import Foundation
import Testing
import SegCore
@testable import SegEval

/// Paths of the fixtures bundled with this target and of the repository's sample data.
enum Fixtures {
    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func url(_ parts: String...) -> URL { parts.reduce(root) { $0.appendingPathComponent($1) } }

    static func json(_ url: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: url)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SegError(.corrupt, file: url.path, "not a JSON object")
        }
        return object
    }
}

/// Largest absolute difference between our numbers and the reference's (both -1 where undefined).
func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite("COCO instance evaluation against pycocotools")
struct COCOEvalTests {
    nonisolated(unsafe) static let expected: [String: Any] = (try? Fixtures.json(Fixtures.url("coco", "expected.json"))) ?? [:]

    static var cases: [(set: String, results: String, iouType: String)] {
        guard let sets = expected["sets"] as? [String: [String: Any]] else { return [] }
        var out: [(String, String, String)] = []
        for (set, files) in sets.sorted(by: { $0.key < $1.key }) {
            for file in files.keys.sorted() {
                for iouType in ["segm", "bbox"] { out.append((set, file, iouType)) }
            }
        }
        return out
    }

    static func paths(set: String, results: String) -> (gt: String, results: String) {
        if set == "sample-data" {
            let sample = Fixtures.repository.appendingPathComponent("sample-data")
            return (sample.appendingPathComponent("instances.json").path,
                    sample.appendingPathComponent("predictions/\(results).json").path)
        }
        return (Fixtures.url("coco", set, "gt.json").path, Fixtures.url("coco", set, results).path)
    }

    @Test("IoU and recall thresholds are numpy's linspace to the bit")
    func thresholds() throws {
        let p = COCOEvalParams()
        let iou = try #require(Self.expected["iouThrs"] as? [String])
        let rec = try #require(Self.expected["recThrs"] as? [String])
        #expect(p.iouThresholds.map { hex($0) } == iou)
        #expect(p.recallThresholds.map { hex($0) } == rec)
    }

    @Test("stats, AP per threshold/class/area/maxDets, recall and per-class AP agree to 1e-6",
          arguments: cases.map { "\($0.set)/\($0.results)/\($0.iouType)" })
    func agrees(_ name: String) throws {
        let parts = name.split(separator: "/").map(String.init)
        let (set, results, iouType) = (parts[0], parts[1], parts[2])
        let reference = try #require(((Self.expected["sets"] as? [String: Any])?[set] as? [String: Any])?[results] as? [String: Any])
        let ref = try #require(reference[iouType] as? [String: Any])
        let (gtPath, resultsPath) = Self.paths(set: set, results: results)
        let gt = try COCOReader.readGroundTruth(gtPath)
        let res = try COCOReader.readResults(resultsPath, groundTruth: gt)
        let params = COCOEvalParams(iouType: COCOIoUType(rawValue: iouType)!)
        for workers in [1, 2] {
            let ev = try COCOEvaluator(params: params).evaluate(COCOInputs(groundTruth: gt, results: res), workers: workers)
            let stats = try #require(ref["stats"] as? [Double])
            #expect(maxAbsDiff(ev.stats, stats) <= 1e-6, "stats \(ev.stats) vs \(stats)")
            let shape = try #require(ref["shape_TRKAM"] as? [Int])
            let (T, R, K, A, M) = (shape[0], shape[1], shape[2], shape[3], shape[4])
            #expect(K == ev.categories.count)
            var apTKAM: [Double] = []
            for t in 0..<T { for k in 0..<K { for a in 0..<A { for m in 0..<M {
                var sum = 0.0, n = 0
                for r in 0..<R {
                    let v = ev.precision[t, r, k, a, m]
                    if v > -1 { sum += v; n += 1 }
                }
                apTKAM.append(n == 0 ? -1 : sum / Double(n))
            } } } }
            #expect(maxAbsDiff(apTKAM, try #require(ref["ap_tkam"] as? [Double])) <= 1e-6)
            #expect(maxAbsDiff(ev.recall.values, try #require(ref["recall_tkam"] as? [Double])) <= 1e-6)
            let perClass = try #require(ref["per_class"] as? [String: [String: Double]])
            for (k, category) in ev.categories.enumerated() {
                let r = try #require(perClass["\(category.id)"])
                #expect(abs(ev.perCategory[k].stats[0] - r["AP"]!) <= 1e-6, "AP of \(category.id)")
                #expect(abs(ev.perCategory[k].stats[1] - r["AP50"]!) <= 1e-6, "AP50 of \(category.id)")
                #expect(abs(ev.perCategory[k].stats[8] - r["AR100"]!) <= 1e-6, "AR100 of \(category.id)")
            }
        }
    }
}

func hex(_ v: Double) -> String {
    // Python's float.hex(): 0x1.<13 hex digits>p<exp>, or 0x0.0p+0.
    if v == 0 { return "0x0.0p+0" }
    let bits = v.bitPattern
    let exponent = Int((bits >> 52) & 0x7FF) - 1023
    let mantissa = bits & ((1 << 52) - 1)
    var digits = String(mantissa, radix: 16)
    digits = String(repeating: "0", count: 13 - digits.count) + digits
    return "0x1.\(digits)p\(exponent >= 0 ? "+" : "")\(exponent)"
}
