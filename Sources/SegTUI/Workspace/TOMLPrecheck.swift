import SegCore

/// Checks what toml++ 3.4.0 (inside TOMLKit 0.6.0) does not: a table header's `[` or `[[` must be
/// followed by a key. toml++ asserts that before parsing the key (`parse_key`'s precondition), so a
/// file with `[/mask]`, `[[[a]]]` or `[=` aborted segterm (fuzzing found it; upstream fixed it in
/// marzer/tomlplusplus#301, not in the TOMLKit release we build). Every TOML file segterm reads goes
/// through this first; a valid TOML document always passes.
///
/// The scan follows strings (basic, literal, multi-line), comments and the nesting of arrays and
/// inline tables, so a `[` that starts a line inside a multi-line array value is not a header.
enum TOMLPrecheck {
    static func check(_ text: String, path: String) throws {
        let bytes = Array(text.utf8)
        var i = 0, line = 1, depth = 0
        var atLineStart = true
        func isKeyStart(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'")
        }
        func starts(_ s: String, at j: Int) -> Bool {
            let p = Array(s.utf8)
            return j + p.count <= bytes.count && Array(bytes[j..<(j + p.count)]) == p
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\n") { line += 1; atLineStart = true; i += 1; continue }
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") { i += 1; continue }
            if atLineStart && depth == 0 && b == UInt8(ascii: "[") {
                var j = i + 1
                if j < bytes.count && bytes[j] == UInt8(ascii: "[") { j += 1 }
                while j < bytes.count && (bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t")) { j += 1 }
                if j < bytes.count && bytes[j] != UInt8(ascii: "]") && !isKeyStart(bytes[j]) {
                    throw SegError(.corrupt, file: path, "TOML error at line \(line): a table header must start with a key")
                }
            }
            atLineStart = false
            switch b {
            case UInt8(ascii: "#"):
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let quote = b
                let triple = starts(String(repeating: String(UnicodeScalar(quote)), count: 3), at: i)
                i += triple ? 3 : 1
                while i < bytes.count {
                    let c = bytes[i]
                    if c == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") { i += 2; continue }
                    if c == UInt8(ascii: "\n") {
                        if !triple { break }  // an unterminated one-line string: toml++ reports it
                        line += 1
                    }
                    if c == quote && (!triple || starts(String(repeating: String(UnicodeScalar(quote)), count: 3), at: i)) {
                        i += triple ? 3 : 1
                        // A closing run of up to two extra quotes belongs to the string ("""a""""").
                        if triple { while i < bytes.count && bytes[i] == quote { i += 1 } }
                        break
                    }
                    i += 1
                }
                continue
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
            i += 1
        }
    }
}
