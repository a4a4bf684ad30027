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

    public static func load(_ path: String) throws -> NocCurve {
        let bytes = try FileIO.read(path, maxBytes: 1 << 30)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw SegError(.corrupt, file: path, "not a JSON object (expected the report of segterm noc --out)")
        }
        func number(_ key: String) throws -> Double {
            guard let value = object[key] as? NSNumber, value.doubleValue.isFinite else {
                throw SegError(.invalid, file: path, "'\(key)' is missing or not a number (expected the report of segterm noc --out)")
            }
            return value.doubleValue
        }
        guard let curve = object["miou_at"] as? [NSNumber], !curve.isEmpty else {
            throw SegError(.invalid, file: path, "'miou_at' is missing or empty (expected the report of segterm noc --out)")
        }
        return NocCurve(model: object["model"] as? String ?? "?", objects: Int(try number("images")), noc85: try number("noc85"),
                        noc90: try number("noc90"), overMax90: Int(try number("over_max_90")), meanIoU: curve.map(\.doubleValue))
    }
}
