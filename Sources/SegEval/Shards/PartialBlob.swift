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

/// A partial result file as JSON: written atomically with sorted keys, read back with one error
/// for anything that is not such a file (`what` names the kind in the messages).
enum PartialFile {
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(value) } catch {
            throw SegError(.writeFailed, file: path, "the partial result could not be encoded: \(error)")
        }
        try FileIO.writeAtomically([UInt8](data), to: path)
    }

    /// Decodes `path` and checks its format name and version (`format`, `version` of the value).
    static func read<T: Decodable>(_ path: String, as: T.Type, what: String, format: (T) -> (name: String, version: Int),
                                   expected: (name: String, version: Int)) throws -> T {
        let bytes = try FileIO.read(path, maxBytes: 1 << 40)
        let value: T
        do { value = try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw SegError(.corrupt, file: path, "not a segterm \(what) (\(error))")
        }
        let found = format(value)
        guard found.name == expected.name else { throw SegError(.unsupported, file: path, "not a segterm \(what)") }
        guard found.version == expected.version else {
            throw SegError(.unsupported, file: path, "partial format version \(found.version); this segterm reads version \(expected.version)")
        }
        return value
    }
}
