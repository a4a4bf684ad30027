import SegCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pull parser over JSON bytes that reads values straight into the caller's structs.
///
/// COCO files are large arrays of small objects; building a dictionary tree for each of them
/// (what JSONSerialization and JSONDecoder do) costs more than the whole evaluation (see
/// BENCHMARKS.md, "JSON reading"). The cursor never allocates except for strings the caller asks
/// for. It is used only inside `withUnsafeBufferPointer` of the file's bytes and never escapes it.
struct JSONCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Errors carry an empty file name; the reader that knows the path fills it in.
    func error(_ what: String) -> SegError {
        var line = 1
        var column = 1
        let end = min(position, bytes.count)
        for i in 0..<end {
            if bytes[i] == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return SegError(.corrupt, file: "", "JSON: \(what) at line \(line), column \(column)")
    }

    @inline(__always) mutating func skipWhitespace() {
        while position < bytes.count {
            let c = bytes[position]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 } else { return }
        }
    }

    /// The next significant byte, or 0 at the end.
    @inline(__always) mutating func peek() -> UInt8 {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : 0
    }

    @inline(__always) mutating func expect(_ c: UInt8, _ what: @autoclosure () -> String) throws(SegError) {
        guard peek() == c else { throw error("expected \(what())") }
        position += 1
    }

    mutating func expectEnd() throws(SegError) {
        guard peek() == 0, position >= bytes.count else { throw error("unexpected content after the top-level value") }
    }

    // MARK: Containers

    /// Iterates an object: call `beginObject`, then `nextKey` until it returns nil; after each key
    /// the caller reads or skips exactly one value.
    mutating func beginObject() throws(SegError) -> ObjectState {
        try expect(UInt8(ascii: "{"), "an object ('{')")
        return ObjectState()
    }

    struct ObjectState { var first = true }

    mutating func nextKey(_ state: inout ObjectState) throws(SegError) -> Range<Int>? {
        var c = peek()
        if c == UInt8(ascii: "}") { position += 1; return nil }
        if !state.first {
            guard c == UInt8(ascii: ",") else { throw error("expected ',' or '}' in an object") }
            position += 1
            c = peek()
        }
        state.first = false
        guard c == UInt8(ascii: "\"") else { throw error("expected a key string") }
        let key = try rawStringRange()
        try expect(UInt8(ascii: ":"), "':' after a key")
        return key
    }

    mutating func beginArray() throws(SegError) -> ArrayState {
        try expect(UInt8(ascii: "["), "an array ('[')")
        return ArrayState()
    }

    struct ArrayState { var first = true }

    /// True when another element follows (positioned at it), false at the closing bracket.
    mutating func nextElement(_ state: inout ArrayState) throws(SegError) -> Bool {
        let c = peek()
        if c == UInt8(ascii: "]") { position += 1; return false }
        if !state.first {
            guard c == UInt8(ascii: ",") else { throw error("expected ',' or ']' in an array") }
            position += 1
            if peek() == UInt8(ascii: "]") { throw error("expected a value after ','") }
        }
        state.first = false
        return true
    }

    /// Whether the key bytes spell `name` (an ASCII name without escapes).
    @inline(__always) func key(_ range: Range<Int>, is name: StaticString) -> Bool {
        guard range.count == name.utf8CodeUnitCount else { return false }
        let p = name.utf8Start
        var i = 0
        while i < range.count {
            if bytes[range.lowerBound + i] != p[i] { return false }
            i += 1
        }
        return true
    }

    func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    // MARK: Scalars

    /// The bytes between the quotes of a string, escapes left in place (keys and RLE counts
    /// never need unescaping; `string()` resolves them for text).
    mutating func rawStringRange() throws(SegError) -> Range<Int> {
        guard peek() == UInt8(ascii: "\""), let base = bytes.baseAddress else { throw error("expected a string") }
        position += 1
        let start = position, n = bytes.count
        var i = start
        while true {
            // Eight bytes at a time to the next quote or control character: the RLE texts that
            // fill a results file are a hundred letters or more, and this scan ran twice over
            // each (the streamed evaluation's index, then its batch). A byte below 0x20 (or
            // equal to 0x22 once xored) makes `w - 0x20…` borrow into its top bit where the
            // byte's own top bit is clear: the test is exact for whether there is one.
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while i + 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                let q = w ^ (ones &* 0x22)
                if ((w &- ones &* 0x20) & ~w | (q &- ones) & ~q) & highs != 0 { break }
                i += 8
            }
            while i < n, base[i] != 0x22, base[i] >= 0x20 { i += 1 }
            guard i < n else {
                position = n
                throw error("unterminated string")
            }
            // Escaped when an odd number of backslashes precede it (the byte after a backslash
            // is skipped whatever it is, control characters included).
            var k = i
            while k > start, base[k - 1] == UInt8(ascii: "\\") { k -= 1 }
            if (i - k) & 1 == 1 {
                i += 1
                continue
            }
            if base[i] == 0x22 {
                position = i + 1
                return start..<i
            }
            position = i
            throw error("control character in a string")
        }
    }

    /// A string with its escapes resolved.
    mutating func string() throws(SegError) -> String {
        let range = try rawStringRange()
        return try unescape(range)
    }

    /// The string's bytes with escapes resolved (RLE counts are ASCII, but `\\` is legal JSON for a backslash).
    mutating func stringBytes() throws(SegError) -> [UInt8] {
        let range = try rawStringRange()
        var hasEscape = false
        for i in range where bytes[i] == UInt8(ascii: "\\") { hasEscape = true; break }
        if !hasEscape { return Array(bytes[range]) }
        return Array(try unescape(range).utf8)
    }

    private func unescape(_ range: Range<Int>) throws(SegError) -> String {
        var hasEscape = false
        for i in range where bytes[i] == UInt8(ascii: "\\") { hasEscape = true; break }
        if !hasEscape { return text(range) }
        // RLE counts strings are ASCII with only `\\` escaped: resolve those without the general path.
        var simple = true
        var k = range.lowerBound
        while k < range.upperBound {
            let c = bytes[k]
            if c >= 0x80 { simple = false; break }
            if c == UInt8(ascii: "\\") {
                guard k + 1 < range.upperBound else { simple = false; break }
                let e = bytes[k + 1]
                if e == UInt8(ascii: "u") { simple = false; break }
                k += 2
            } else {
                k += 1
            }
        }
        if simple {
            return String(unsafeUninitializedCapacity: range.count) { out in
                var n = 0
                var i = range.lowerBound
                while i < range.upperBound {
                    var c = bytes[i]
                    if c == UInt8(ascii: "\\") {
                        i += 1
                        switch bytes[i] {
                        case UInt8(ascii: "b"): c = 0x08
                        case UInt8(ascii: "f"): c = 0x0C
                        case UInt8(ascii: "n"): c = 0x0A
                        case UInt8(ascii: "r"): c = 0x0D
                        case UInt8(ascii: "t"): c = 0x09
                        default: c = bytes[i]
                        }
                    }
                    out[n] = c
                    n += 1
                    i += 1
                }
                return n
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        var pendingHigh: UInt32? = nil
        func appendScalar(_ v: UInt32, into out: inout [UInt8]) {
            let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        while i < range.upperBound {
            let c = bytes[i]
            if c != UInt8(ascii: "\\") {
                if let high = pendingHigh { appendScalar(high, into: &out); pendingHigh = nil }
                out.append(c); i += 1; continue
            }
            guard i + 1 < range.upperBound else { throw error("bad escape in a string") }
            let e = bytes[i + 1]
            i += 2
            if e != UInt8(ascii: "u"), let high = pendingHigh { appendScalar(high, into: &out); pendingHigh = nil }
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard i + 4 <= range.upperBound else { throw error("bad \\u escape in a string") }
                var v: UInt32 = 0
                for k in 0..<4 {
                    let h = bytes[i + k]
                    let d: UInt32
                    switch h {
                    case 0x30...0x39: d = UInt32(h - 0x30)
                    case 0x41...0x46: d = UInt32(h - 0x41 + 10)
                    case 0x61...0x66: d = UInt32(h - 0x61 + 10)
                    default: throw error("bad \\u escape in a string")
                    }
                    v = v << 4 | d
                }
                i += 4
                if (0xD800...0xDBFF).contains(v) {
                    if let high = pendingHigh { appendScalar(high, into: &out) }
                    pendingHigh = v
                } else if (0xDC00...0xDFFF).contains(v), let high = pendingHigh {
                    appendScalar(0x10000 + ((high - 0xD800) << 10) + (v - 0xDC00), into: &out)
                    pendingHigh = nil
                } else {
                    if let high = pendingHigh { appendScalar(high, into: &out); pendingHigh = nil }
                    appendScalar(v, into: &out)
                }
            default: throw error("bad escape in a string")
            }
        }
        if let high = pendingHigh { appendScalar(high, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// True (and consumed) when the next value is `null`.
    mutating func null() -> Bool {
        if peek() == UInt8(ascii: "n"), position + 4 <= bytes.count,
           bytes[position + 1] == UInt8(ascii: "u"), bytes[position + 2] == UInt8(ascii: "l"),
           bytes[position + 3] == UInt8(ascii: "l") {
            position += 4
            return true
        }
        return false
    }

    mutating func bool() throws(SegError) -> Bool {
        let c = peek()
        if c == UInt8(ascii: "t"), position + 4 <= bytes.count, bytes[position + 1] == UInt8(ascii: "r"),
           bytes[position + 2] == UInt8(ascii: "u"), bytes[position + 3] == UInt8(ascii: "e") {
            position += 4
            return true
        }
        if c == UInt8(ascii: "f"), position + 5 <= bytes.count, bytes[position + 1] == UInt8(ascii: "a"),
           bytes[position + 2] == UInt8(ascii: "l"), bytes[position + 3] == UInt8(ascii: "s"),
           bytes[position + 4] == UInt8(ascii: "e") {
            position += 5
            return false
        }
        throw error("expected true or false")
    }

    /// A JSON number as the nearest double (correctly rounded, as Python's json module reads it).
    ///
    /// Clinger's fast path covers the numbers COCO files hold (up to 15 significant digits, small
    /// exponents); anything else goes through strtod, which rounds correctly too.
    mutating func double() throws(SegError) -> Double {
        skipWhitespace()
        let start = position
        var i = position
        let n = bytes.count
        var negative = false
        if i < n, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        // Python's json module writes and reads NaN and Infinity; accept them so that the caller
        // can say which entry holds one instead of reporting a syntax error.
        if i < n, bytes[i] &- 0x30 >= 10, let special = specialNumber(at: i) {
            position = i + special.length
            return negative ? -special.value : special.value
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var sawDigit = false
        let intStart = i
        while i < n, bytes[i] &- 0x30 < 10 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 0x30); if mantissa != 0 { digits += 1 } } else { exponent += 1 }
            i += 1; sawDigit = true
        }
        guard sawDigit else { position = start; throw error("expected a number") }
        if i - intStart > 1, bytes[intStart] == UInt8(ascii: "0") { position = start; throw error("a number with a leading zero") }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var fracDigit = false
            while i < n, bytes[i] &- 0x30 < 10 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 0x30)
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                }
                i += 1; fracDigit = true
            }
            guard fracDigit else { position = start; throw error("a number with no digits after '.'") }
        }
        var exact = digits < 19
        if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < n, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { expNegative = bytes[i] == UInt8(ascii: "-"); i += 1 }
            var e = 0
            var expDigit = false
            while i < n, bytes[i] &- 0x30 < 10 {
                if e < 100_000 { e = e * 10 + Int(bytes[i] &- 0x30) }
                i += 1; expDigit = true
            }
            guard expDigit else { position = start; throw error("a number with an empty exponent") }
            exponent += expNegative ? -e : e
            if e >= 100_000 { exact = false }
        }
        position = i
        if exact && mantissa < (1 << 53) && exponent >= -22 && exponent <= 22 {
            var v = Double(mantissa)
            if exponent < 0 { v /= Self.powersOfTen[-exponent] } else if exponent > 0 { v *= Self.powersOfTen[exponent] }
            return negative ? -v : v
        }
        return slowDouble(start..<i)
    }

    private func specialNumber(at i: Int) -> (value: Double, length: Int)? {
        func matches(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard i + count <= bytes.count else { return false }
            for k in 0..<count where bytes[i + k] != word.utf8Start[k] { return false }
            return true
        }
        if matches("NaN") { return (.nan, 3) }
        if matches("Infinity") { return (.infinity, 8) }
        return nil
    }

    private static let powersOfTen: [Double] = (0...22).map { e in
        var v = 1.0
        for _ in 0..<e { v *= 10 }  // exact: 10^22 < 2^53 · 2^22 needs no rounding
        return v
    }

    private func slowDouble(_ range: Range<Int>) -> Double {
        var text = Array(bytes[range])
        text.append(0)
        return text.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { strtod($0, nil) }
        }
    }

    /// An integer value. COCO ids are integers; a float with an integral value (`3.0`) is accepted
    /// as Python would use it as a dictionary key equal to 3.
    mutating func integer() throws(SegError) -> Int {
        skipWhitespace()
        let start = position
        var i = position
        let n = bytes.count
        var negative = false
        if i < n, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var value = 0
        var sawDigit = false
        while i < n, bytes[i] &- 0x30 < 10 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(bytes[i] &- 0x30))
            if o1 || o2 { position = start; throw error("integer out of range") }
            value = a; i += 1; sawDigit = true
        }
        guard sawDigit else { throw error("expected an integer") }
        if i < n, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            position = start
            let d = try double()
            guard d.isFinite, d == d.rounded(), abs(d) < 9.0e15 else { position = start; throw error("expected an integer, found \(d)") }
            return Int(d)
        }
        position = i
        return negative ? -value : value
    }

    /// Skips one value, finding where it ends without checking what lies inside (strings are read
    /// exactly, so brackets in them do not count): the streamed evaluation's first pass, whose
    /// entries are all parsed and checked again. For valid JSON it ends where `skipValue` does.
    mutating func skipUnchecked() throws(SegError) {
        let n = bytes.count
        switch peek() {
        case UInt8(ascii: "\""): _ = try rawStringRange()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while position < n {
                switch bytes[position] {
                case UInt8(ascii: "\""):
                    _ = try rawStringRange()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        position += 1
                        return
                    }
                default: break
                }
                position += 1
            }
            throw error("unexpected end of file")
        case 0: throw error("unexpected end of file")
        default:
            while position < n {
                let c = bytes[position]
                if c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                    return
                }
                position += 1
            }
        }
    }

    /// Skips one value of any kind, checking its syntax.
    mutating func skipValue(depth: Int = 0) throws(SegError) {
        guard depth < 512 else { throw error("nesting deeper than 512 levels") }
        switch peek() {
        case UInt8(ascii: "{"):
            var state = try beginObject()
            while try nextKey(&state) != nil { try skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            var state = try beginArray()
            while try nextElement(&state) { try skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try rawStringRange()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): if !null() { throw error("unexpected 'n'") }
        case 0: throw error("unexpected end of file")
        default: _ = try double()
        }
    }
}
