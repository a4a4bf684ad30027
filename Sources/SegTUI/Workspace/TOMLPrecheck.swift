import SegCore

/// Checks what toml++ 3.4.0 (inside TOMLKit 0.6.0) asserts instead of reporting. SwiftPM builds that
/// C++ without NDEBUG, so a failed assertion aborted segterm on a hostile theme or `segterm.toml`;
/// both were found by fuzzing (FUZZING.md):
///
/// - a table header whose `[` or `[[` is not followed by a key (`[/mask]`, `[[[a]]]`, `[=`):
///   `parse_key`'s precondition (fixed upstream in marzer/tomlplusplus#301, not in the TOMLKit
///   release we build);
/// - an array whose element position (after `[` or `,`, past whitespace, line breaks and comments)
///   holds `}` or a Unicode line separator (`a = [}]`, `a = [1,}]`): `parse_value`'s precondition;
/// - a date, a space and a single digit (`a = 1979-05-27 0`): toml++ reads on for a time after the
///   space and asserts on the terminator that follows the digit (found while checking the others).
///
/// Every TOML file segterm reads goes through this first. The scan follows strings (basic, literal,
/// multi-line), comments, and the nesting of arrays and inline tables, so a `[` that starts a line
/// inside a multi-line array is not a header. Valid TOML always passes, except a value that starts
/// with a non-ASCII space (which TOML does not allow anyway; toml++ skips it).
enum TOMLPrecheck {
    static func check(_ text: String, path: String) throws {
        let bytes = Array(text.utf8)
        // toml++ skips a UTF-8 byte order mark; so does this scan, or the first line's header would
        // not be at the start of its line (found by the third runs: a BOM, then `[[[l`).
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0, line = 1
        var atLineStart = true
        /// Open brackets: `h` a table header's, `a` an array value's, `t` an inline table's.
        var open: [UInt8] = []
        /// At an array's element position: the next significant byte starts a value or closes it.
        var expectElement = false
        func isKeyStart(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'")
        }
        func starts(_ run: [UInt8], at j: Int) -> Bool {
            j + run.count <= bytes.count && Array(bytes[j..<(j + run.count)]) == run
        }
        func isTokenByte(_ b: UInt8) -> Bool {
            isKeyStart(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: ":") || b == UInt8(ascii: "+")
        }
        /// toml++'s value terminators, for the bytes that matter here (its Unicode spaces start with
        /// a byte >= 0x80, counted too: a stricter reading only refuses more).
        func isTerminator(_ b: UInt8) -> Bool {
            b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C || b >= 0x80
                || b == UInt8(ascii: ",") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}") || b == UInt8(ascii: "#")
        }
        /// At `j`: ten digits and dashes (underscores skipped, as toml++ skips them) with dashes at
        /// 4 and 7, then a space, one digit, and a terminator.
        func isDateSpaceDigit(at j: Int) -> Bool {
            var k = j, chars: [UInt8] = []
            while k < bytes.count, !isTerminator(bytes[k]), chars.count <= 10 {
                if bytes[k] != UInt8(ascii: "_") { chars.append(bytes[k]) }
                k += 1
            }
            guard chars.count == 10, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
                  chars.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }) else { return false }
            guard k + 2 < bytes.count, bytes[k] == 0x20, bytes[k + 1] >= 0x30, bytes[k + 1] <= 0x39 else { return false }
            return isTerminator(bytes[k + 2])
        }
        func refuse(_ what: String) -> SegError {
            SegError(.corrupt, file: path, "TOML error at line \(line): \(what)")
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\n") { line += 1; atLineStart = true; i += 1; continue }
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") { i += 1; continue }
            if b == UInt8(ascii: "#") {
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            }
            if expectElement {
                expectElement = false
                if b == UInt8(ascii: "}") || b >= 0x80 { throw refuse("expected a value or ']' in the array") }
            }
            let header = atLineStart && open.isEmpty && b == UInt8(ascii: "[")
            atLineStart = false
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let quote = b
                let triple = starts([quote, quote, quote], at: i)
                i += triple ? 3 : 1
                while i < bytes.count {
                    let c = bytes[i]
                    if c == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") { i += 2; continue }
                    if c == UInt8(ascii: "\n") {
                        if !triple { break }  // an unterminated one-line string: toml++ reports it
                        line += 1
                    }
                    if c == quote && (!triple || starts([quote, quote, quote], at: i)) {
                        i += triple ? 3 : 1
                        // A closing run of up to two extra quotes belongs to the string ("""a""""").
                        if triple { while i < bytes.count && bytes[i] == quote { i += 1 } }
                        break
                    }
                    i += 1
                }
                continue
            case UInt8(ascii: "["):
                if header {
                    var j = i + 1
                    open.append(UInt8(ascii: "h"))
                    if j < bytes.count && bytes[j] == UInt8(ascii: "[") { j += 1; open.append(UInt8(ascii: "h")) }
                    while j < bytes.count && (bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t")) { j += 1 }
                    if j < bytes.count && bytes[j] != UInt8(ascii: "]") && !isKeyStart(bytes[j]) {
                        throw refuse("a table header must start with a key")
                    }
                    i = j
                    continue
                }
                open.append(UInt8(ascii: "a"))
                expectElement = true
            case UInt8(ascii: "{"): open.append(UInt8(ascii: "t"))
            case UInt8(ascii: ","): if open.last == UInt8(ascii: "a") { expectElement = true }
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if i == 0 || !isTokenByte(bytes[i - 1]), isDateSpaceDigit(at: i) {
                    throw refuse("a date followed by a space must be followed by a time (HH:MM:SS)")
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): _ = open.popLast()
            default: break
            }
            i += 1
        }
    }
}
