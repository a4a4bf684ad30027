import Foundation
import Testing
@testable import SegNN

enum Fixture {
    static var root: URL {
        (Bundle.module.resourceURL ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent()).appendingPathComponent("Fixtures")
    }

    static func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// ops.json: op name → fields; tensors are {"shape": [...], "data": [...]}.
    nonisolated(unsafe) static let ops: [String: [String: Any]] = {
        guard let d = try? Data(contentsOf: root.appendingPathComponent("ops.json")),
              let o = try? JSONSerialization.jsonObject(with: d) as? [String: [String: Any]] else { return [:] }
        return o
    }()

    static func tensor(_ op: String, _ field: String) throws -> Tensor {
        guard let t = ops[op]?[field] as? [String: Any], let shape = t["shape"] as? [Int], let data = t["data"] as? [Double] else {
            throw FixtureError.missing("\(op).\(field)")
        }
        return Tensor(shape: shape, data: data.map(Float.init))
    }

    static func int(_ op: String, _ field: String) throws -> Int {
        guard let v = ops[op]?[field] as? Int else { throw FixtureError.missing("\(op).\(field)") }
        return v
    }

    static func double(_ op: String, _ field: String) throws -> Double {
        guard let v = ops[op]?[field] as? Double else { throw FixtureError.missing("\(op).\(field)") }
        return v
    }
}

enum FixtureError: Error { case missing(String) }

/// Checks |a − b| ≤ atol + rtol·|b| elementwise (float32 results of different summation orders).
func expectClose(_ a: [Float], _ b: Tensor, atol: Float = 1e-5, rtol: Float = 1e-5, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what): \(a.count) values, expected \(b.count)", sourceLocation: sourceLocation)
    guard a.count == b.count else { return }
    var worst: Float = 0, at = -1
    for i in 0..<a.count {
        let e = abs(a[i] - b.data[i]) - rtol * abs(b.data[i])
        if e > worst { worst = e; at = i }
    }
    #expect(worst <= atol, "\(what): value \(at) is \(at >= 0 ? a[at] : 0), expected \(at >= 0 ? b.data[at] : 0)", sourceLocation: sourceLocation)
}

extension Array where Element == Float {
    func withPointer<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
        withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(bitPattern: 16)!) }
    }
}

func output(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    out.withUnsafeMutableBufferPointer { if let b = $0.baseAddress { body(b) } }
    return out
}
