import Foundation
import SegCore
import SegNN

/// CLIP's byte-level BPE tokenizer as SAM 3 runs it (sam3/model/tokenizer_ve.py `SimpleTokenizer`,
/// clean "lower", context 32 in `VETextEncoder`). The vocabulary is built from the merges file
/// (`bpe_simple_vocab_16e6.txt.gz`): the 256 byte symbols, the same with `</w>`, one token per merge
/// (at most 48 894, as the official slice), then `<start_of_text>` and `<end_of_text>`.
public struct CLIPTokenizer: Sendable {
    public static let vocabularyFileName = "bpe_simple_vocab_16e6.txt.gz"
    /// The official slice `merges[1 : 49152 - 256 - 2 + 1]`.
    static let maxMerges = 49152 - 256 - 2

    public let vocabularySize: Int
    public let startToken: Int32, endToken: Int32
    let encoder: [String: Int32]
    /// Merge ranks keyed by "first second" (a space never occurs inside a symbol).
    let ranks: [String: Int]
    let byteSymbols: [String]

    /// Reads a gzipped merges file. Missing or unreadable: `notFound` / `unreadable`; not gzip, not
    /// UTF-8 or a line that is not two symbols: `corrupt`.
    public init(vocabulary path: String) throws {
        let gz = try FileIO.read(path, maxBytes: 16 << 20)
        let bytes: [UInt8]
        do { bytes = try Gzip.decompress(gz, path: path) } catch { throw SegError(error) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SegError(.corrupt, file: path, "the BPE vocabulary is not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 2 else { throw SegError(.corrupt, file: path, "the BPE vocabulary has no merges") }
        lines = Array(lines[1..<min(lines.count, 1 + Self.maxMerges)])
        let symbols = Self.byteToUnicode.map { String($0) }
        byteSymbols = symbols
        // The vocabulary lists the byte symbols in bytes_to_unicode's order: printable bytes first.
        let ordered = Self.byteOrder.map { symbols[$0] }
        var vocab = ordered + ordered.map { $0 + "</w>" }
        var ranks: [String: Int] = [:]
        ranks.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            // Python's str.split(): runs of whitespace; the last line may be empty (a final newline).
            let parts = line.split(whereSeparator: { $0.isWhitespace })
            if parts.isEmpty && i == lines.count - 1 { break }
            guard parts.count == 2 else {
                throw SegError(.corrupt, file: path, "line \(i + 2) of the BPE vocabulary is not two symbols: \"\(line.prefix(40))\"")
            }
            let a = String(parts[0]), b = String(parts[1])
            ranks[a + " " + b] = i
            vocab.append(a + b)
        }
        vocab += ["<start_of_text>", "<end_of_text>"]
        var enc: [String: Int32] = [:]
        for (i, v) in vocab.enumerated() { enc[v] = Int32(i) }   // later duplicates win, as dict(zip(...))
        encoder = enc
        self.ranks = ranks
        vocabularySize = vocab.count
        startToken = Int32(vocab.count - 2)
        endToken = Int32(vocab.count - 1)
    }

    /// Where the vocabulary is looked for: the given file, else beside the checkpoint.
    public static func locate(explicit: String?, checkpoint: String) throws -> String {
        if let explicit { return explicit }
        let beside = URL(fileURLWithPath: checkpoint).deletingLastPathComponent().appendingPathComponent(vocabularyFileName).path
        guard FileManager.default.fileExists(atPath: beside) else {
            throw SegError(.notFound, file: beside, "SAM 3 text prompts need CLIP's BPE vocabulary \(vocabularyFileName) (MIT, from OpenAI's CLIP or the open_clip_torch wheel): put it beside the checkpoint or pass --vocab FILE")
        }
        return beside
    }

    /// The token ids of one phrase: start, the phrase's BPE tokens, end, cut to `context` (the last
    /// kept one replaced by the end token, as the official truncation), padded with 0.
    public func tokenize(_ text: String, context: Int = 32) -> (ids: [Int32], truncated: Bool) {
        var all = [startToken] + encode(text) + [endToken]
        let truncated = all.count > context
        if truncated {
            all = Array(all.prefix(context))
            all[context - 1] = endToken
        }
        return (all + [Int32](repeating: 0, count: context - all.count), truncated)
    }

    /// `SimpleTokenizer.encode`: clean, split by the official pattern, bytes to symbols, BPE.
    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = []
        for piece in Self.split(CLIPTextClean.lower(text)) {
            if piece == "<start_of_text>" || piece == "<end_of_text>" {
                out.append(piece == "<start_of_text>" ? startToken : endToken)
                continue
            }
            let symbols = Array(piece.utf8).map { byteSymbols[Int($0)] }
            for s in bpe(symbols) { if let id = encoder[s] { out.append(id) } }
        }
        return out
    }

    /// Merges the lowest-ranked adjacent pair until none is in the table (the last symbol ends in `</w>`).
    func bpe(_ symbols: [String]) -> [String] {
        guard let last = symbols.last else { return [] }
        var word = Array(symbols.dropLast()) + [last + "</w>"]
        while word.count > 1 {
            var best: (rank: Int, first: String, second: String)? = nil
            for i in 0..<(word.count - 1) {
                if let r = ranks[word[i] + " " + word[i + 1]], r < (best?.rank ?? Int.max) { best = (r, word[i], word[i + 1]) }
            }
            guard let b = best else { break }
            var merged: [String] = []
            merged.reserveCapacity(word.count)
            var i = 0
            while i < word.count {
                if i + 1 < word.count && word[i] == b.first && word[i + 1] == b.second {
                    merged.append(b.first + b.second)
                    i += 2
                } else {
                    merged.append(word[i])
                    i += 1
                }
            }
            word = merged
        }
        return word
    }

    /// The official pattern, in order: the special tokens, `'s|'t|'re|'ve|'m|'ll|'d`, `[\p{L}]+`,
    /// `[\p{N}]`, `[^\s\p{L}\p{N}]+`; whitespace separates. Works on Unicode scalars, as `regex`.
    static func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        var out: [String] = []
        var i = 0
        func string(_ r: Range<Int>) -> String { var u = String.UnicodeScalarView(); u.append(contentsOf: s[r]); return String(u) }
        func matches(_ lit: String, at i: Int) -> Bool {
            let l = Array(lit.unicodeScalars)
            return i + l.count <= s.count && Array(s[i..<(i + l.count)]) == l
        }
        while i < s.count {
            let c = s[i]
            if let special = ["<start_of_text>", "<end_of_text>"].first(where: { matches($0, at: i) }) {
                out.append(special)
                i += special.unicodeScalars.count
                continue
            }
            if c == "'", let suffix = ["s", "t", "re", "ve", "m", "ll", "d"].first(where: { matches("'" + $0, at: i) }) {
                out.append("'" + suffix)
                i += 1 + suffix.count
                continue
            }
            if isLetter(c) {
                var j = i
                while j < s.count && isLetter(s[j]) { j += 1 }
                out.append(string(i..<j))
                i = j
            } else if isNumber(c) {
                out.append(String(c))
                i += 1
            } else if !isSpace(c) {
                var j = i
                while j < s.count && !isSpace(s[j]) && !isLetter(s[j]) && !isNumber(s[j]) { j += 1 }
                out.append(string(i..<j))
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    /// `\s` of Python's `regex` (Unicode White_Space) and `str.isspace`, which agree on these.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.properties.isWhitespace || (0x1C...0x1F).contains(c.value)
    }

    /// The bytes in `bytes_to_unicode`'s dictionary order: the printable Latin-1 ones, then the rest.
    static let byteOrder: [Int] = {
        let kept = Array(33...126) + Array(161...172) + Array(174...255)
        return kept + (0..<256).filter { !kept.contains($0) }
    }()

    /// `bytes_to_unicode`, indexed by byte: printable Latin-1 bytes map to themselves, the rest to 256 + n in order.
    static let byteToUnicode: [Character] = {
        var table = [Character](repeating: " ", count: 256)
        let kept = Array(33...126) + Array(161...172) + Array(174...255)
        for b in kept { table[b] = Character(Unicode.Scalar(UInt8(b))) }
        var n = 0
        for b in 0..<256 where !kept.contains(b) {
            table[b] = Character(Unicode.Scalar(UInt32(256 + n)) ?? " ")
            n += 1
        }
        return table
    }()
}
