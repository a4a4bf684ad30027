import Foundation
import SegCore

/// Flat arrays of numbers in a partial file: their bytes, little-endian, base64 in the JSON. Numbers
/// stored as bytes come back bit for bit (a decimal round trip of a Double is exact too, but
/// this is also smaller and faster). Decoding checks the length against what the caller expects,
/// so a damaged partial is a `SegError`, never an out-of-range read.
enum PartialBlob {
    static func data<T: FixedWidthInteger>(_ values: [T]) -> Data {
        values.map { $0.littleEndian }.withUnsafeBytes { Data($0) }
    }

    static func data(_ values: [Double]) -> Data { data(values.map(\.bitPattern)) }
    static func data(_ values: [Bool]) -> Data { Data(values.map { $0 ? 1 : 0 }) }

    static func integers<T: FixedWidthInteger>(_ data: Data, as: T.Type, count: Int? = nil, field: String, file: String) throws -> [T] {
        let size = MemoryLayout<T>.size
        guard data.count % size == 0 else {
            throw SegError(.corrupt, file: file, "\(field): \(data.count) bytes is no whole number of \(size)-byte values")
        }
        let n = data.count / size
        if let count, n != count { throw SegError(.corrupt, file: file, "\(field): \(n) values where \(count) belong") }
        var out = [T](repeating: 0, count: n)
        out.withUnsafeMutableBytes { target in data.withUnsafeBytes { target.copyMemory(from: $0) } }
        return out.map { T(littleEndian: $0) }
    }

    static func doubles(_ data: Data, count: Int? = nil, field: String, file: String) throws -> [Double] {
        try integers(data, as: UInt64.self, count: count, field: field, file: file).map(Double.init(bitPattern:))
    }

    static func bools(_ data: Data, count: Int? = nil, field: String, file: String) throws -> [Bool] {
        try integers(data, as: UInt8.self, count: count, field: field, file: file).map { $0 != 0 }
    }
}
