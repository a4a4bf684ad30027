/// `.safetensors`: an 8-byte little-endian header length, a JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}}`, then the raw little-endian data.
public enum SafeTensors {
    static func looksLike(_ file: MappedFile) -> Bool {
        guard let n = ByteReader(bytes: file.all).u64(0), n > 1, n <= file.count - 8, let b = file.bytes(8, 1) else { return false }
        return b[0] == UInt8(ascii: "{")
    }

    public static func read(_ file: MappedFile) throws(CheckpointError) -> StateDict {
        let path = file.path
        guard let n = ByteReader(bytes: file.all).u64(0), n <= 100 << 20, let header = file.bytes(8, n) else {
            throw CheckpointError(.truncated, file: path, "safetensors header is larger than the file")
        }
        let json: JSON
        do { json = try JSON.parse(header) } catch {
            throw CheckpointError(.corrupt, file: path, "safetensors header: \(error.reason)")
        }
        guard case .object(let fields) = json else { throw CheckpointError(.corrupt, file: path, "safetensors header is not an object") }
        let dataStart = 8 + n
        var records: [String: TensorRecord] = [:]
        var keys: [String] = []
        for (key, value) in fields where key != "__metadata__" {
            guard case .object(let info) = value, case .string(let dt)? = info["dtype"],
                  case .array(let shapeValues)? = info["shape"], case .array(let offs)? = info["data_offsets"], offs.count == 2,
                  let begin = offs[0].int, let end = offs[1].int, begin >= 0, end >= begin else {
                throw CheckpointError(.corrupt, file: path, "safetensors entry \(key) is malformed")
            }
            let shape = shapeValues.compactMap(\.int)
            guard shape.count == shapeValues.count else { throw CheckpointError(.corrupt, file: path, "safetensors entry \(key) has a bad shape") }
            let dtype: DType
            switch dt {
            case "F32": dtype = .float32
            case "F16": dtype = .float16
            case "BF16": dtype = .bfloat16
            case "F64": dtype = .float64
            case "I64": dtype = .int64
            case "I32": dtype = .int32
            default: throw CheckpointError(.unsupported, file: path, "tensor \(key) has dtype \(dt)")
            }
            guard let count = checkedProduct(shape), let bytes = checkedMul(count, dtype.byteSize), bytes == end - begin else {
                throw CheckpointError(.corrupt, file: path, "safetensors entry \(key): \(end - begin) bytes for shape \(shape) of \(dt)")
            }
            guard let s = checkedAdd(dataStart, begin), let e = checkedAdd(s, bytes), e <= file.count else {
                throw CheckpointError(.truncated, file: path, "tensor \(key) lies past the end of the file")
            }
            var strides = [Int](repeating: 1, count: shape.count)
            var acc = 1
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                strides[d] = acc
                // checkedProduct bounds the element count only: with a zero dimension the others
                // may still multiply past Int.max (shape [0, 2^40, 2^40]).
                guard let next = checkedMul(acc, max(shape[d], 1)) else {
                    throw CheckpointError(.corrupt, file: path, "safetensors entry \(key): shape \(shape) is too large")
                }
                acc = next
            }
            records[key] = try TensorRecord(dtype: dtype, shape: shape, strides: strides, offset: 0, storageByteOffset: s,
                                            storageCount: count, crc32: nil, storageName: key, key: key, file: path)
            keys.append(key)
        }
        guard !records.isEmpty else { throw CheckpointError(.invalid, file: path, "safetensors file holds no tensors") }
        return StateDict(file: file, records: records, keys: keys.sorted())
    }
}

/// Just enough JSON for a safetensors header (SegNN has no Foundation).
enum JSON {
    case null, bool(Bool), number(Double), string(String), array([JSON]), object([String: JSON])

    struct ParseError: Error { let reason: String }

    var int: Int? {
        if case .number(let d) = self, d == d.rounded(), abs(d) < 9.0e15 { return Int(d) }
        return nil
    }

    static func parse(_ b: UnsafeRawBufferPointer) throws(ParseError) -> JSON {
        var p = Parser(b: b)
        let v = try p.value(depth: 0)
        p.skip()
        guard p.i == b.count else { throw ParseError(reason: "trailing bytes after JSON") }
        return v
    }

    private struct Parser {
        let b: UnsafeRawBufferPointer
        var i = 0

        mutating func skip() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }

        mutating func expect(_ c: UInt8) throws(ParseError) {
            skip()
            guard i < b.count, b[i] == c else { throw ParseError(reason: "expected '\(Character(Unicode.Scalar(c)))' at byte \(i)") }
            i += 1
        }

        mutating func value(depth: Int) throws(ParseError) -> JSON {
            guard depth < 64 else { throw ParseError(reason: "nesting too deep") }
            skip()
            guard i < b.count else { throw ParseError(reason: "unexpected end") }
            switch b[i] {
            case UInt8(ascii: "{"):
                i += 1
                var o: [String: JSON] = [:]
                skip()
                if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                while true {
                    skip()
                    let k = try string()
                    try expect(UInt8(ascii: ":"))
                    o[k] = try value(depth: depth + 1)
                    skip()
                    guard i < b.count else { throw ParseError(reason: "unterminated object") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                    throw ParseError(reason: "bad object at byte \(i)")
                }
            case UInt8(ascii: "["):
                i += 1
                var a: [JSON] = []
                skip()
                if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    a.append(try value(depth: depth + 1))
                    skip()
                    guard i < b.count else { throw ParseError(reason: "unterminated array") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw ParseError(reason: "bad array at byte \(i)")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            default:
                let start = i
                while i < b.count, let c = Optional(b[i]), (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2B || c == 0x2E || c == 0x65 || c == 0x45 { i += 1 }
                guard i > start, let d = Double(String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)) else {
                    throw ParseError(reason: "bad value at byte \(start)")
                }
                return .number(d)
            }
        }

        mutating func word(_ w: String) throws(ParseError) {
            for c in w.utf8 {
                guard i < b.count, b[i] == c else { throw ParseError(reason: "bad literal at byte \(i)") }
                i += 1
            }
        }

        mutating func string() throws(ParseError) -> String {
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw ParseError(reason: "expected a string at byte \(i)") }
            i += 1
            var out: [UInt8] = []
            while i < b.count {
                let c = b[i]
                i += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard i < b.count else { break }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard i + 4 <= b.count, let v = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: b[i..<i + 4]), as: UTF8.self), radix: 16) else {
                        throw ParseError(reason: "bad \\u escape")
                    }
                    i += 4
                    out.append(contentsOf: String(Character(Unicode.Scalar(v) ?? "?")).utf8)
                default: out.append(e)
                }
            }
            throw ParseError(reason: "unterminated string")
        }
    }
}
