import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

/// SAM 3's interactive image path on a reduced configuration made with the official `sam3` 0.1.4
/// modules (scripts/make_sam3_fixture.py): the official checkpoint layout (`detector.` / `tracker.`
/// under "model", complex64 RoPE buffers, text-encoder tensors to ignore), a decoder sidecar, the
/// ViT with padded windows, global blocks, RoPE and the tiled position embedding, the `sam2_convs`
/// neck, the SAM 2 decoder, hole filling, upsampling. Runs on a fresh clone.
@Suite("SAM 3 reduced configuration from the official code", .serialized)
struct SAM3ReducedTests {
    static var dir: URL { Shared.fixtures.appendingPathComponent("sam3_reduced") }
    static func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    static var checkpoint: String { path("sam3_reduced.pt") }

    @Test("configuration from the shapes: width, depth, heads, grid and windows from the RoPE buffers")
    func loads() throws {
        let m = try SAMModel.load(checkpoint: Self.checkpoint)
        #expect(m.config.name == "sam3_custom" && m.name == "sam3_custom")
        guard case .sam3(let v) = m.config.encoder else { Issue.record("not SAM 3"); return }
        #expect(v.embedDim == 32 && v.depth == 4 && v.numHeads == 2 && v.patchSize == 14 && v.imageSize == 126)
        #expect(v.windowSize == 4 && v.globalBlocks == [1, 3] && v.posGrid == 4 && v.mlpHidden == 148 && v.neckDim == 32)
        #expect(m.grid == 9 && m.lowResSide == 36 && m.embedDim == 32)
        #expect(m.config.decoder.sam2 && m.config.decoder.mlpDim == 64 && m.config.decoder.numHeads == 2)
        #expect(m.config.pixelMean == [0.5, 0.5, 0.5] && m.config.pixelStd == [0.5, 0.5, 0.5])
    }

    @Test("the fixture takes both stability branches and fills holes in some masks")
    func fixtureCoverage() throws {
        let cases = try SAM2Parity.entries(Self.dir).values.flatMap(\.cases)
        let stable = cases.compactMap(\.stable)
        #expect(stable.contains(true) && stable.contains(false))
        #expect(cases.filter { ($0.sensitivity ?? 1) * 4 <= 1e-4 }.count * 2 >= cases.count)
        // Hole filling changes the official low-res logits of some cases (so the masks test it) but not all.
        var filled = 0, total = 0
        for (name, entry) in try SAM2Parity.entries(Self.dir) {
            for c in entry.cases {
                let low = try NPY(path: Self.path("\(name)_\(c.name)_lowres.npy"))
                total += 1
                if SAM3Holes.fill(low.floats, count: low.shape[0], side: 36) != low.floats { filled += 1 }
            }
        }
        #expect(filled > 0 && filled < total, "\(filled) of \(total) cases have holes to fill")
    }

    @Test("features and every prompt case match the official interactive predictor")
    func parity() throws {
        let model = try SAMModel.load(checkpoint: Self.checkpoint)
        let rows = try SAM2Parity.check(model: model, dir: Self.dir)
        #expect(rows.count == 3 * (3 + 8))
        let features = rows.filter { $0.name.hasSuffix(" embed") || $0.name.hasSuffix(" s0") || $0.name.hasSuffix(" s1") }
        let outputs = rows.filter { r in !features.contains { $0.name == r.name } }
        func worst(_ r: [SAM2Parity.Row]) -> Float { r.map { $0.scale > 0 ? $0.maxAbs / $0.scale : 0 }.max() ?? 0 }
        print("sam3_reduced: max relative error: features \(worst(features)), low-res logits \(worst(outputs)), IoU abs \(outputs.map(\.iouAbs).max() ?? 0), mask pixels differing \(outputs.map(\.maskPixels).reduce(0, +))")
    }

    @Test("hole filling: background regions of at most 256 low-res pixels become foreground, 8-connected")
    func holes() {
        // 20×20 all background except a foreground ring enclosing a 3×3 hole, and one diagonal gap.
        let side = 20
        var logits = [Float](repeating: -1, count: side * side)
        for y in 2...6 { for x in 2...6 where y == 2 || y == 6 || x == 2 || x == 6 { logits[y * side + x] = 1 } }
        let filled = SAM3Holes.fill(logits, count: 1, side: side)
        #expect(filled[4 * side + 4] == 10)          // the enclosed 3×3 hole (9 pixels) is filled
        #expect(filled[15 * side + 15] == -1)        // the outer background (391 - 9 pixels) is not
        #expect(filled[2 * side + 2] == 1)           // foreground untouched
    }

    @Test("a checkpoint without the interactive neck, or with a broken RoPE buffer, is a typed error naming the file")
    func badCheckpoints() throws {
        let dict = try StateDict.load(path: Self.checkpoint)
        var records = dict.records
        records = records.filter { !$0.key.contains("sam2_convs.2.conv_1x1") }
        let noNeck = StateDict(file: dict.file, records: records, keys: dict.keys.filter { records[$0] != nil })
        #expect { _ = try SAMModel(dict: noNeck, checkpoint: Self.checkpoint) } throws: { e in
            (e as? SegError).map { "\($0)".contains("sam3_reduced.pt") && "\($0)".contains("sam2_convs") } ?? false
        }
        var odd = dict.records
        odd["detector.backbone.vision_backbone.trunk.blocks.2.attn.freqs_cis"] = odd["detector.backbone.vision_backbone.trunk.pos_embed"]
        let badRope = StateDict(file: dict.file, records: odd, keys: dict.keys)
        #expect(throws: SegError.self) { _ = try SAMModel(dict: badRope, checkpoint: Self.checkpoint) }
    }

    @Test("the complex64 RoPE buffers read as (cos, sin) pairs of unit length")
    func ropeBuffers() throws {
        let dict = try StateDict.load(path: Self.checkpoint)
        let pairs = try dict.complexPairs("detector.backbone.vision_backbone.trunk.blocks.1.attn.freqs_cis", shape: [81, 8])
        #expect(pairs.count == 2 * 81 * 8)
        for i in stride(from: 0, to: pairs.count, by: 2) { #expect(abs(pairs[i] * pairs[i] + pairs[i + 1] * pairs[i + 1] - 1) < 1e-5) }
        #expect(pairs[0] == 1 && pairs[1] == 0)      // token 0 is not rotated
        #expect(throws: CheckpointError.self) { _ = try dict.floats("detector.backbone.vision_backbone.trunk.blocks.1.attn.freqs_cis") }
    }
}

extension SAM3ReducedTests {
    @Test("the embedding cache keeps every level SAM 3's decoder needs; a hit decodes as the original, a SAM 2.1 model misses")
    func cacheRoundTrip() throws {
        let model = try SAMModel.load(checkpoint: Self.checkpoint)
        let sam2 = try SAMModel.load(checkpoint: SAM2ReducedTests.path("sam2_reduced.pt"))
        let maps = model.sam2MapCounts
        try checkCacheRoundTrip(model, image: try loadRGB(Self.path("wide.png")), inputSide: 126,
                           cachedFloats: maps.embed + maps.s1 + maps.s0, otherModel: sam2)
    }
}
