import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

/// SAM 3's text side against the official `sam3` 0.1.4 code: the CLIP tokenizer's ids
/// (scripts/make_clip_tokenizer_fixture.py; the reduced fixture's cut vocabulary always, CLIP's full
/// one when its file is found) and the text encoder's features on the reduced checkpoint
/// (scripts/make_sam3_fixture.py).
@Suite("SAM 3 text prompts: tokenizer and text encoder")
struct SAM3TextTests {
    static var dir: URL { SAM3ReducedTests.dir }
    static func path(_ n: String) -> String { SAM3ReducedTests.path(n) }
    static var reducedVocabulary: String { path("bpe_reduced_vocab.txt.gz") }

    struct TokenCases: Decodable {
        struct Case: Decodable { let text: String; let reduced: [Int32]; let full: [Int32]; let full_untruncated: Int }
        let context: Int, reduced_size: Int, full_size: Int
        let cases: [Case]
    }

    static func tokenCases() throws -> TokenCases {
        try JSONDecoder().decode(TokenCases.self, from: Data(FileIO.read(path("tokenizer_cases.json"))))
    }

    /// CLIP's full vocabulary where the fixture script found it (the sam3 venv's open_clip wheel).
    static var fullVocabulary: String? {
        let candidates = ["/tmp/sam3-venv/lib/python3.11/site-packages/open_clip/bpe_simple_vocab_16e6.txt.gz",
                          Shared.repoRoot.appendingPathComponent("../shared/reference/clip/bpe_simple_vocab_16e6.txt.gz").path]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    @Test("token ids equal the official tokenizer's (reduced vocabulary): cleaning, split, BPE, truncation")
    func reducedTokens() throws {
        let cases = try Self.tokenCases()
        let tok = try CLIPTokenizer(vocabulary: Self.reducedVocabulary)
        #expect(tok.vocabularySize == cases.reduced_size)
        var truncated = 0
        for c in cases.cases {
            let (ids, cut) = tok.tokenize(c.text, context: cases.context)
            #expect(ids == c.reduced, "\(c.text)")
            if cut { truncated += 1 }
        }
        #expect(truncated >= 2, "the cases include over-long phrases")
    }

    @Test("token ids equal the official tokenizer's (CLIP's full vocabulary)", .enabled(if: fullVocabulary != nil, "CLIP's bpe_simple_vocab_16e6.txt.gz not found (/tmp/sam3-venv or ../shared/reference/clip): full-vocabulary check skipped"))
    func fullTokens() throws {
        let cases = try Self.tokenCases()
        let tok = try CLIPTokenizer(vocabulary: try #require(Self.fullVocabulary))
        #expect(tok.vocabularySize == cases.full_size && tok.vocabularySize == 49408)
        for c in cases.cases {
            #expect(tok.tokenize(c.text, context: cases.context).ids == c.full, "\(c.text)")
            #expect(tok.encode(c.text).count + 2 == c.full_untruncated, "\(c.text)")
        }
    }

    @Test("a missing, corrupt or foreign vocabulary is a typed error")
    func badVocabulary() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        func kind(_ body: () throws -> Void) -> SegError.Kind? {
            do { try body(); return nil } catch let e as SegError { return e.kind } catch { return nil }
        }
        #expect(kind { _ = try CLIPTokenizer(vocabulary: tmp.appendingPathComponent("absent.gz").path) } == .notFound)
        let plain = tmp.appendingPathComponent("plain.gz").path
        try FileIO.writeAtomically(Array("#version\na b\n".utf8), to: plain)
        #expect(kind { _ = try CLIPTokenizer(vocabulary: plain) } == .corrupt)
        let gz = try FileIO.read(Self.reducedVocabulary)
        let cut = tmp.appendingPathComponent("cut.gz").path
        try FileIO.writeAtomically(Array(gz.prefix(gz.count / 2)), to: cut)
        #expect(kind { _ = try CLIPTokenizer(vocabulary: cut) } == .truncated)
        // Beside the checkpoint: absent → notFound naming where it was looked for.
        #expect(kind { _ = try CLIPTokenizer.locate(explicit: nil, checkpoint: tmp.appendingPathComponent("sam3.pt").path) } == .notFound)
    }

    struct Manifest: Decodable {
        struct TextCase: Decodable { let name: String; let text: String?; let tokens: [Int32] }
        let text_cases: [TextCase]
    }

    @Test("text features equal the official VETextEncoder's (reduced checkpoint), empty phrases refused")
    func encoder() throws {
        let model = try SAM3TextModel(checkpoint: SAM3ReducedTests.checkpoint, vocabulary: Self.reducedVocabulary)
        let all = try JSONDecoder().decode([String: Manifest].self, from: Data(FileIO.read(Self.path("cases.json"))))
        let cases = try #require(all["landscape"]).text_cases
        #expect(cases.count >= 4)
        for c in cases {
            let f = try model.features(c.text ?? "visual")
            #expect(f.tokens == c.tokens, "\(c.name)")
            let golden = try NPY(path: Self.path("landscape_text_\(c.name)_language.npy"))
            #expect(golden.shape == [model.context, model.dim])
            // The detector's features: the rows up to the last real token as the official ones,
            // the padding rows after it left 0 (not computed; masked everywhere downstream).
            let used = (c.tokens.lastIndex(where: { $0 != 0 }) ?? 0) + 1, d = model.dim
            let (err, scale) = maxError(Array(f.features[..<(used * d)]), Array(golden.floats[..<(used * d)]))
            #expect(err <= 1e-5 * max(scale, 1), "\(c.name): \(err) of \(scale)")
            #expect(f.features[(used * d)...].allSatisfy { $0 == 0 }, "\(c.name)")
            #expect(f.valid == c.tokens.map { $0 != 0 })
            // Every row, padding included, as the official encoder computes them.
            let full = model.encoder.encode(f.tokens, padding: true)
            let (errFull, scaleFull) = maxError(full.features, golden.floats)
            #expect(errFull <= 1e-5 * max(scaleFull, 1), "\(c.name) with padding: \(errFull) of \(scaleFull)")
        }
        #expect(try model.features(cases[1].text ?? "").truncated)
        for empty in ["", "   ", "\t\n"] {
            #expect(throws: SegError.self) { _ = try model.features(empty) }
        }
    }
}
