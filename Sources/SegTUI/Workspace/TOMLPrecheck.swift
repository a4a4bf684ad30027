import SegCore
import TOMLKit

/// Checks what toml++ 3.4.0 (inside TOMLKit 0.6.0) asserts instead of reporting. SwiftPM builds that
/// C++ without NDEBUG, so a failed assertion aborted segterm on a hostile theme or `segterm.toml`;
/// fuzzing found them (FUZZING.md):
///
/// - a table header whose `[` or `[[` is not followed by a key (`[/mask]`, `[[[a]]]`, `[=`):
///   `parse_key`'s precondition (fixed upstream in marzer/tomlplusplus#301, not in the TOMLKit
///   release we build);
/// - an array whose element position (after `[` or `,`, past whitespace, line breaks and comments)
///   holds `}` or a Unicode line separator (`a = [}]`, `a = [1,}]`): `parse_value`'s precondition;
/// - a value that looks like a date to toml++ (ten characters, `-` at 5 and 8), then a space and a
///   single digit (`a = 1979-05-27 0`): toml++ reads on for a time and asserts on the terminator.
///
/// Every TOML file segterm reads goes through this first. The scan works on Unicode scalars as
/// toml++ does, skips a byte order mark as it does, and follows strings (basic, literal,
/// multi-line), comments, and the nesting of arrays and inline tables, so a `[` that starts a line
/// inside a multi-line array is not a header. Valid TOML always passes, except a value that starts
/// with a non-ASCII space (which TOML does not allow anyway; toml++ skips it).
enum TOMLPrecheck {
    /// toml++'s whitespace beyond ASCII (`is_non_ascii_horizontal_whitespace` and `…vertical…`,
    /// listed by evaluating them over every code point).
    static let unicodeSpaces: Set<UInt32> = [0x85, 0xA0, 0x1680, 0x180E, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
                                             0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x200B, 0x2028, 0x2029, 0x202F,
                                             0x205F, 0x2060, 0x3000, 0xFEFF]

    static func check(_ text: String, path: String) throws {
        let s = text.unicodeScalars.map(\.value)
        func a(_ c: Unicode.Scalar) -> UInt32 { c.value }
        var i = s.first == 0xFEFF ? 1 : 0, line = 1
        var atLineStart = true
        /// Open brackets: `h` a table header's, `a` an array value's, `t` an inline table's.
        var open: [Character] = []
        /// At an array's element position: the next significant scalar starts a value or closes it.
        var expectElement = false
        func isDigit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }
        func isKeyStart(_ c: UInt32) -> Bool {
            isDigit(c) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == a("_") || c == a("-") || c == a("\"") || c == a("'")
        }
        func isTokenScalar(_ c: UInt32) -> Bool { isKeyStart(c) || c == a(".") || c == a(":") || c == a("+") }
        /// toml++'s `is_value_terminator`.
        func isTerminator(_ c: UInt32) -> Bool {
            c == 0x20 || (c >= 0x09 && c <= 0x0D) || unicodeSpaces.contains(c)
                || c == a(",") || c == a("]") || c == a("}") || c == a("#")
        }
        func starts(_ run: [UInt32], at j: Int) -> Bool {
            j + run.count <= s.count && Array(s[j..<(j + run.count)]) == run
        }
        /// toml++'s test for "a date with a space instead of a T": ten characters (underscores
        /// skipped) starting with a digit, `-` at 5 and 8, and none of those that give a number
        /// another reading (`+ . :` and letters; a stricter test only refuses more, and a valid
        /// date-time has its time, not one digit, after the space); then a space, one digit and a
        /// terminator.
        func isDateSpaceDigit(at j: Int) -> Bool {
            var k = j, chars: [UInt32] = []
            while k < s.count, !isTerminator(s[k]), chars.count <= 10 {
                if s[k] != a("_") { chars.append(s[k]) }
                k += 1
            }
            guard chars.count == 10, isDigit(chars[0]), chars[4] == a("-"), chars[7] == a("-"),
                  !chars.contains(where: { $0 == a("+") || $0 == a(".") || $0 == a(":") }) else { return false }
            guard k + 2 < s.count, s[k] == 0x20, isDigit(s[k + 1]) else { return false }
            return isTerminator(s[k + 2])
        }
        func refuse(_ what: String) -> SegError {
            SegError(.corrupt, file: path, "TOML error at line \(line): \(what)")
        }
        while i < s.count {
            let c = s[i]
            if c == a("\n") { line += 1; atLineStart = true; i += 1; continue }
            if c == a(" ") || c == a("\t") || c == a("\r") { i += 1; continue }
            if c == a("#") {
                while i < s.count && s[i] != a("\n") { i += 1 }
                continue
            }
            if expectElement {
                expectElement = false
                if c == a("}") || c >= 0x80 { throw refuse("expected a value or ']' in the array") }
            }
            let header = atLineStart && open.isEmpty && c == a("[")
            atLineStart = false
            switch c {
            case a("\""), a("'"):
                let quote = c
                let triple = starts([quote, quote, quote], at: i)
                i += triple ? 3 : 1
                while i < s.count {
                    let d = s[i]
                    if d == a("\\") && quote == a("\"") { i += 2; continue }
                    if d == a("\n") {
                        if !triple { break }  // an unterminated one-line string: toml++ reports it
                        line += 1
                    }
                    if d == quote && (!triple || starts([quote, quote, quote], at: i)) {
                        i += triple ? 3 : 1
                        // A closing run of up to two extra quotes belongs to the string ("""a""""").
                        if triple { while i < s.count && s[i] == quote { i += 1 } }
                        break
                    }
                    i += 1
                }
                continue
            case a("["):
                if header {
                    var j = i + 1
                    open.append("h")
                    if j < s.count && s[j] == a("[") { j += 1; open.append("h") }
                    while j < s.count && (s[j] == a(" ") || s[j] == a("\t")) { j += 1 }
                    if j < s.count && s[j] != a("]") && !isKeyStart(s[j]) {
                        throw refuse("a table header must start with a key")
                    }
                    i = j
                    continue
                }
                open.append("a")
                expectElement = true
            case a("{"): open.append("t")
            case a(","): if open.last == "a" { expectElement = true }
            case a("]"), a("}"): _ = open.popLast()
            case a("0")...a("9"):
                if i == 0 || !isTokenScalar(s[i - 1]), isDateSpaceDigit(at: i) {
                    throw refuse("a date followed by a space must be followed by a time (HH:MM:SS)")
                }
            default: break
            }
            i += 1
        }
    }
}

extension TOMLPrecheck {
    /// A TOML file's bytes as a table: UTF-8, past the precheck, parsed; each failure an error
    /// naming `path` (`notText`: what to say when the bytes are not UTF-8).
    static func table(_ bytes: [UInt8], path: String, notText: String = "not UTF-8 text") throws -> TOMLTable {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw SegError(.corrupt, file: path, notText) }
        try check(text, path: path)
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw SegError(.corrupt, file: path, "TOML error at line \(error.source.begin.line): \(error.description)")
        }
    }
}
