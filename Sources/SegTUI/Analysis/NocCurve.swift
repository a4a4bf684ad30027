import Foundation
import SegCore
import SegEval

/// A `segterm noc --out` report as the metrics view's mean-IoU-per-click chart shows it.
public struct NocCurve: Equatable, Sendable {
    public var model: String
    public var objects: Int
    public var noc85: Double
    public var noc90: Double
    public var overMax90: Int
    /// Mean IoU after click 1, 2, …
    public var meanIoU: [Double]

    public init(model: String, objects: Int, noc85: Double, noc90: Double, overMax90: Int, meanIoU: [Double]) {
        self.model = model; self.objects = objects; self.noc85 = noc85; self.noc90 = noc90; self.overMax90 = overMax90; self.meanIoU = meanIoU
    }

    public init(_ report: NoCReport) {
        self.init(model: report.model, objects: report.objects, noc85: report.noc85, noc90: report.noc90, overMax90: report.overMax90,
                  meanIoU: report.meanIoU)
    }

    /// The curves of a `segterm noc --out` report (`NoCReport`, the type the command writes): one,
    /// or two for a run with two models. Only the reports are read from a pair's file.
    public static func load(_ path: String) throws -> [NocCurve] {
        /// A two-model run's file holds its reports under "models".
        struct Pair: Decodable { var models: [NoCReport]? }
        let data = Data(try FileIO.read(path, maxBytes: 1 << 30))
        let decoder = JSONDecoder()
        do {
            if let models = try decoder.decode(Pair.self, from: data).models { return models.map(NocCurve.init) }
            return [NocCurve(try decoder.decode(NoCReport.self, from: data))]
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw SegError(.corrupt, file: path, "not a JSON object (expected the report of segterm noc --out)")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw SegError(.corrupt, file: path, "not a JSON object (expected the report of segterm noc --out)")
        } catch let error as DecodingError {
            throw SegError(.invalid, file: path, reason(error) + " (expected the report of segterm noc --out)")
        }
    }

    /// The key a decoding error is about, and what is wrong with it.
    static func reason(_ error: DecodingError) -> String {
        func key(_ path: [CodingKey]) -> String { "'" + path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") + "'" }
        switch error {
        case .keyNotFound(let k, let context): return key(context.codingPath + [k]) + " is missing"
        case .valueNotFound(_, let context): return key(context.codingPath) + " is null"
        case .typeMismatch(let type, let context): return key(context.codingPath) + " is not of type \(type)"
        case .dataCorrupted(let context): return key(context.codingPath) + " " + context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
