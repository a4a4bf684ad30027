import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

/// The by-hand parity run on the real tiny configuration (random weights, 1024×1024 input),
/// written by `scripts/make_sam2_fixture.py --tiny DIR` and never committed. Point
/// `SEGTERM_SAM2_TINY_DIR` at DIR; run in release (the encoder at 1024 is slow in debug):
///
///     SEGTERM_SAM2_TINY_DIR=/tmp/sam2-tiny swift test -c release -Xswiftc -enable-testing --filter SAM2TinyParity
///
/// The table it prints goes in BENCHMARKS.md.
@Suite("SAM 2.1 tiny, full size, random weights (by hand)")
struct SAM2TinyParityTests {
    static var dir: URL? {
        guard let d = ProcessInfo.processInfo.environment["SEGTERM_SAM2_TINY_DIR"],
              FileManager.default.fileExists(atPath: d + "/cases.json") else { return nil }
        return URL(fileURLWithPath: d)
    }

    @Test("the official tiny layout loads from shapes alone and matches the official predictor",
          .enabled(if: dir != nil, "SEGTERM_SAM2_TINY_DIR is unset or has no cases.json: run scripts/make_sam2_fixture.py --tiny DIR first"),
          arguments: ["sam2.1_hiera_tiny_random.pt", "sam2.1_hiera_tiny_random_st.safetensors"])
    func tiny(file: String) throws {
        guard let dir = Self.dir else { return }
        let model = try SAMModel.load(checkpoint: dir.appendingPathComponent(file).path)
        #expect(model.config.name == "sam2.1_hiera_tiny")
        let rows = try SAM2Parity.check(model: model, dir: dir)
        print("| \(file) | max abs | max rel | IoU abs | mask px differing |\n|---|---|---|---|---|")
        for r in rows { print(r) }
    }
}
