import Foundation
import SegCore

/// A `segterm noc --out` report, for the metrics view's mean-IoU-per-click chart.
public struct NocCurve: Equatable, Sendable {
    public var model: String
    public var objects: Int
    public var noc85: Double
    public var noc90: Double
    public var overMax90: Int
    /// Mean IoU after click 1, 2, …
    public var meanIoU: [Double]

    /// The curves of a `segterm noc --out` report: one, or two for a run with two models.
    public static func load(_ path: String) throws -> [NocCurve] {
        let bytes = try FileIO.read(path, maxBytes: 1 << 30)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw SegError(.corrupt, file: path, "not a JSON object (expected the report of segterm noc --out)")
        }
        if let models = object["models"] as? [[String: Any]] { return try models.map { try curve($0, path) } }
        return [try curve(object, path)]
    }

    static func curve(_ object: [String: Any], _ path: String) throws -> NocCurve {
        func number(_ key: String) throws -> Double {
            guard let value = object[key] as? NSNumber, value.doubleValue.isFinite else {
                throw SegError(.invalid, file: path, "'\(key)' is missing or not a number (expected the report of segterm noc --out)")
            }
            return value.doubleValue
        }
        func count(_ key: String) throws -> Int {
            guard let n = Int(exactly: try number(key)), n >= 0 else {
                throw SegError(.invalid, file: path, "'\(key)' must be a count (expected the report of segterm noc --out)")
            }
            return n
        }
        guard let curve = object["miou_at"] as? [NSNumber], !curve.isEmpty, curve.allSatisfy({ $0.doubleValue.isFinite }) else {
            throw SegError(.invalid, file: path, "'miou_at' is missing or empty (expected the report of segterm noc --out)")
        }
        return NocCurve(model: object["model"] as? String ?? "?", objects: try count("images"), noc85: try number("noc85"),
                        noc90: try number("noc90"), overMax90: try count("over_max_90"), meanIoU: curve.map(\.doubleValue))
    }
}
