import Foundation

/// The tokenizer's "lower" cleaning: `ftfy.fix_text`, `html.unescape` twice, strip, whitespace runs to
/// one space, lower case. Of ftfy's fixes, the ones that change typed text are done (control
/// characters removed, line breaks, curly quotes, Latin ligatures, full-width forms, NFC); its
/// mojibake repair (text decoded with the wrong code page, e.g. "cafÃ©") is not: such a phrase is
/// tokenized as typed. HTML entities: numeric ones and the common named ones (`&amp;` `&lt;` `&gt;`
/// `&quot;` `&apos;` `&#39;` `&nbsp;`); other named entities stay as text.
enum CLIPTextClean {
    static func lower(_ text: String) -> String {
        var t = ftfy(text)
        t = unescapeHTML(unescapeHTML(t))
        // whitespace_clean after basic_clean's strip: runs of \s to one space, then strip.
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for c in t.unicodeScalars {
            if CLIPTokenizer.isSpace(c) { pendingSpace = !out.isEmpty; continue }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(c)
        }
        return String(out).lowercased()
    }

    static func ftfy(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            let v = c.value
            // fix_line_breaks: \r\n, \r, U+2028, U+2029, U+0085 → \n.
            if v == 0x0D { if scalars.first == "\n" { scalars.removeFirst() }; out.append("\n"); continue }
            if v == 0x2028 || v == 0x2029 || v == 0x85 { out.append("\n"); continue }
            // remove_control_chars.
            if v < 0x09 || v == 0x0B || (0x0E..<0x20).contains(v) || v == 0x7F || (0x206A..<0x2070).contains(v)
                || v == 0xFEFF || (0xFFF9..<0xFFFD).contains(v) { continue }
            // uncurl_quotes.
            if v == 0x02BC || (0x2018...0x201B).contains(v) { out.append("'"); continue }
            if (0x201C...0x201F).contains(v) { out.append("\""); continue }
            if let lig = ligatures[v] { out.append(contentsOf: lig.unicodeScalars); continue }
            // fix_character_width: U+3000 and the half/full-width block to their NFKC forms.
            if v == 0x3000 { out.append(" "); continue }
            if (0xFF01..<0xFFF0).contains(v) {
                out.append(contentsOf: String(c).precomposedStringWithCompatibilityMapping.unicodeScalars)
                continue
            }
            out.append(c)
        }
        return String(out).precomposedStringWithCanonicalMapping
    }

    static let ligatures: [UInt32: String] = [
        0x132: "IJ", 0x133: "ij", 0x149: "ʼn", 0x1F1: "DZ", 0x1F2: "Dz", 0x1F3: "dz", 0x1C4: "DŽ", 0x1C5: "Dž", 0x1C6: "dž",
        0x1C7: "LJ", 0x1C8: "Lj", 0x1C9: "lj", 0x1CA: "NJ", 0x1CB: "Nj", 0x1CC: "nj",
        0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "ſt", 0xFB06: "st",
    ]

    static let named: [String: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}"]

    /// Numeric (`&#NN;`, `&#xHH;`) and the common named entities, each ending in `;`.
    static func unescapeHTML(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(12).firstIndex(of: ";") {
                let name = after[..<semi]
                var value: String?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    value = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if name.hasPrefix("#") {
                    value = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
                } else {
                    value = named[String(name)]
                }
                if let value {
                    out += value
                    rest = after[after.index(after: semi)...]
                    continue
                }
            }
            out += "&"
            rest = after
        }
        return out + rest
    }
}
