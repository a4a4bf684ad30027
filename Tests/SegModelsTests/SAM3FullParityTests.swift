import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

/// The by-hand parity run on the full-size SAM 3 configuration (random weights, 1008×1008 input),
/// written by `scripts/make_sam3_fixture.py --full DIR` and never committed. Point
/// `SEGTERM_SAM3_FULL_DIR` at DIR; run in release (the encoder at 1008 is slow in debug):
///
///     SEGTERM_SAM3_FULL_DIR=/tmp/sam3-full swift test -c release -Xswiftc -enable-testing --filter SAM3FullParity
///
/// The table it prints goes in BENCHMARKS.md.
@Suite("SAM 3, full size, random weights (by hand)")
struct SAM3FullParityTests {
    static var dir: URL? {
        guard let d = ProcessInfo.processInfo.environment["SEGTERM_SAM3_FULL_DIR"],
              FileManager.default.fileExists(atPath: d + "/cases.json") else { return nil }
        return URL(fileURLWithPath: d)
    }

    /// Which kinds of cases the run wrote (`--text-only` writes no point cases).
    static func has(_ kind: String) -> Bool {
        guard let dir, let d = try? Data(FileIO.read(dir.appendingPathComponent("cases.json").path)),
              let all = try? JSONSerialization.jsonObject(with: d) as? [String: [String: Any]] else { return false }
        return all.values.contains { ($0[kind] as? [Any])?.isEmpty == false }
    }

    @Test("the official layout loads from shapes alone and matches the official interactive predictor",
          .enabled(if: has("cases"), "SEGTERM_SAM3_FULL_DIR is unset or has no point cases: run scripts/make_sam3_fixture.py --full DIR first"))
    func full() throws {
        guard let dir = Self.dir else { return }
        let model = try SAMModel.load(checkpoint: dir.appendingPathComponent("sam3_random.pt").path)
        #expect(model.config.name == "sam3")
        guard case .sam3(let v) = model.config.encoder else { Issue.record("not SAM 3"); return }
        #expect(v == SAMConfig.officialSAM3 && model.grid == 72 && model.lowResSide == 288)
        let rows = try SAM2Parity.check(model: model, dir: dir)
        print("| sam3_random.pt | max abs | max rel | IoU abs | mask px differing |\n|---|---|---|---|---|")
        for r in rows { print(r) }
    }

    /// The concept prompts (text, long text, exemplar box, text + boxes) from the image file to the
    /// kept detections, against the official `Sam3Processor` (the vocabulary beside the checkpoint).
    @Test("concept prompts match the official processor at full size",
          .enabled(if: has("text_cases"), "SEGTERM_SAM3_FULL_DIR is unset or has no text cases: run scripts/make_sam3_fixture.py --full DIR [--text-only] first"))
    func concept() throws {
        guard let dir = Self.dir else { return }
        let model = try SAMModel.load(checkpoint: dir.appendingPathComponent("sam3_random.pt").path)
        let concept = try SAM3ConceptDetector(model: model, vocabulary: nil)
        let r = try SAM3ConceptTests.check(model: model, concept: concept, dir: dir)
        print("sam3 full-size concept prompts: \(r)")
        r.expectWithinTolerances()
    }
}
