import Foundation
import SegCore
import SegNN

extension SAMConfig {
    /// SAM 3's vision backbone (sam3/model/vitdet.py `ViT` and necks.py `Sam3DualViTDetNeck`), as the
    /// interactive (point and box) path runs it. Everything is read from the tensor shapes: the
    /// complex RoPE buffers (`freqs_cis`, one per block) give the head width, the token grid (global
    /// blocks) and the window size (windowed blocks). Only the decoder's head count is not in the
    /// shapes: the official value, or a JSON sidecar's.
    public struct SAM3ViT: Sendable, Equatable {
        public var embedDim: Int, depth: Int, numHeads: Int
        public var patchSize = 14, imageSize = 1008
        /// Window size of the windowed blocks; the global ones attend over the whole grid.
        public var windowSize: Int
        public var globalBlocks: [Int]
        public var mlpHidden: Int
        /// Side of the pre-training position embedding (24 for 336 / 14), tiled over the grid.
        public var posGrid: Int
        /// The necks' output width (the decoder's width).
        public var neckDim = 256
        public var ropeTheta: Float = 10000
        public var layerNormEps: Float = 1e-5

        public var grid: Int { imageSize / patchSize }
        public var headDim: Int { embedDim / numHeads }
    }

    /// The official SAM 3 backbone (model_builder.py `_create_vit_backbone`).
    public static let officialSAM3 = SAM3ViT(embedDim: 1024, depth: 32, numHeads: 16, windowSize: 24, globalBlocks: [7, 15, 23, 31],
                                             mlpHidden: 4736, posGrid: 24)

    static let sam3Trunk = "detector.backbone.vision_backbone.trunk."
    static let sam3Necks = "detector.backbone.vision_backbone.sam2_convs."
    static let sam3DetectorNeck = "detector.backbone.vision_backbone.convs."

    /// Is `dict` a SAM 3 checkpoint (official layout: `detector.` and `tracker.` keys)?
    static func isSAM3(_ dict: StateDict) -> Bool { dict.has(sam3Trunk + "patch_embed.proj.weight") }

    /// The view the loaders read: the interactive predictor's `tracker.X` keys as `X` (the SAM 2
    /// decoder's own names; SAM 3's two-way transformer names its MLPs `mlp.lin1/lin2` as SAM 1
    /// did, SAM 2's `mlp.layers.0/1`), everything else as stored. Only the records are remapped;
    /// the values stay in the mapped file.
    static func sam3View(_ dict: StateDict) -> StateDict {
        var records = dict.records, keys = dict.keys
        for k in dict.keys where k.hasPrefix("tracker.") {
            let short = String(k.dropFirst("tracker.".count))
                .replacingOccurrences(of: ".mlp.lin1.", with: ".mlp.layers.0.")
                .replacingOccurrences(of: ".mlp.lin2.", with: ".mlp.layers.1.")
            if records[short] == nil, let r = dict.records[k] { records[short] = r; keys.append(short) }
        }
        return StateDict(file: dict.file, records: records, keys: keys)
    }

    static func sam3(_ dict: StateDict, checkpoint: String) throws -> SAMConfig {
        let file = dict.path, t = sam3Trunk
        func bad(_ why: String) -> SegError { SegError(.invalid, file: file, "SAM 3 backbone: " + why) }
        guard let patch = dict.shape(t + "patch_embed.proj.weight"), patch.count == 4, patch[1] == 3, patch[2] == patch[3],
              patch[0] > 0, patch[2] > 0, patch[2] <= 64 else {
            throw bad("patch_embed.proj.weight is \(dict.shape(t + "patch_embed.proj.weight") ?? []), expected [C, 3, p, p]")
        }
        let c = patch[0], p = patch[2]
        guard let pe = dict.shape(t + "pos_embed"), pe.count == 3, pe[0] == 1, pe[2] == c, pe[1] >= 2 else {
            throw bad("pos_embed is \(dict.shape(t + "pos_embed") ?? []), expected [1, 1 + P², \(c)]")
        }
        let posGrid = Int(Double(pe[1] - 1).squareRoot().rounded())
        guard posGrid * posGrid == pe[1] - 1, posGrid > 0 else { throw bad("pos_embed's \(pe[1] - 1) positions are not a square grid") }
        var depth = 0
        while dict.has(t + "blocks.\(depth).attn.qkv.weight") && depth < 1024 { depth += 1 }
        guard depth > 0 else { throw bad("no blocks") }
        guard let fc1 = dict.shape(t + "blocks.0.mlp.fc1.weight"), fc1.count == 2, fc1[1] == c, fc1[0] > 0 else {
            throw bad("blocks.0.mlp.fc1.weight is \(dict.shape(t + "blocks.0.mlp.fc1.weight") ?? []), expected [hidden, \(c)]")
        }
        guard let n2 = dict.shape(sam3Necks + "2.conv_1x1.weight"), n2.count == 4, n2[1] == c, n2[0] > 0 else {
            throw bad("no interactive neck (sam2_convs.2.conv_1x1.weight): the checkpoint was saved without enable_inst_interactivity")
        }
        var v: SAM3ViT
        if let rope = try ropeLayout(dict, depth: depth, embedDim: c) {
            v = SAM3ViT(embedDim: c, depth: depth, numHeads: c / rope.headDim, patchSize: p, imageSize: rope.grid * p,
                        windowSize: rope.window, globalBlocks: rope.global, mlpHidden: fc1[0], posGrid: posGrid)
        } else if c == officialSAM3.embedDim, depth == officialSAM3.depth {
            // No RoPE buffers (a stripped checkpoint): the official layout, the tables recomputed.
            v = officialSAM3
        } else {
            throw SegError(.unsupported, file: file, "SAM 3 backbone of width \(c) and depth \(depth) without RoPE buffers (freqs_cis): its heads and windows are unknown")
        }
        v.mlpHidden = fc1[0]
        v.neckDim = n2[0]
        try checkSAM3(v, file: file)
        var decoder = Decoder()
        decoder.sam2 = true
        decoder.promptEmbedDim = v.neckDim
        if let side = sidecarPaths(for: checkpoint).first(where: { FileManager.default.fileExists(atPath: $0) }) {
            decoder = try sam3DecoderSidecar(side, decoder: decoder)
        }
        guard (v.neckDim / 2) % decoder.numHeads == 0 else {
            throw SegError(.invalid, file: file, "SAM 3 decoder width \(v.neckDim) does not split into \(decoder.numHeads) heads")
        }
        let name = v == officialSAM3 || (v.embedDim == 1024 && v.depth == 32) ? "sam3" : "sam3_custom"
        return SAMConfig(name: name, encoder: .sam3(v), decoder: decoder, pixelMean: [0.5, 0.5, 0.5], pixelStd: [0.5, 0.5, 0.5])
    }

    /// Heads, grid and windows from the blocks' `freqs_cis` [tokens, headDim/2] (nil when absent).
    static func ropeLayout(_ dict: StateDict, depth: Int, embedDim c: Int) throws -> (headDim: Int, grid: Int, window: Int, global: [Int])? {
        let file = dict.path
        var lengths: [Int] = []
        var half = 0
        for i in 0..<depth {
            guard let s = dict.shape(sam3Trunk + "blocks.\(i).attn.freqs_cis") else { return nil }
            guard s.count == 2, s[0] > 0, s[1] > 0, half == 0 || s[1] == half else {
                throw SegError(.invalid, file: file, "SAM 3 backbone: blocks.\(i).attn.freqs_cis is \(s), expected [tokens, \(half == 0 ? "headDim/2" : String(half))]")
            }
            half = s[1]
            lengths.append(s[0])
        }
        let headDim = 2 * half
        guard headDim % 4 == 0, c % headDim == 0 else {
            throw SegError(.invalid, file: file, "SAM 3 backbone: RoPE head width \(headDim) does not divide the width \(c) into heads (or is not a multiple of 4)")
        }
        let longest = lengths.max() ?? 0, shortest = lengths.min() ?? 0
        let grid = Int(Double(longest).squareRoot().rounded()), window = Int(Double(shortest).squareRoot().rounded())
        guard grid * grid == longest, window * window == shortest, Set(lengths).count <= 2 else {
            throw SegError(.invalid, file: file, "SAM 3 backbone: RoPE tables of \(Set(lengths).sorted()) tokens are not one square grid and one square window")
        }
        let global = lengths.indices.filter { lengths[$0] == longest && (longest != shortest || true) }
        return (headDim, grid, window, window == grid ? Array(0..<depth) : global)
    }

    static func checkSAM3(_ v: SAM3ViT, file: String) throws {
        func bad(_ why: String) -> SegError { SegError(.invalid, file: file, "SAM 3 configuration: " + why) }
        guard v.numHeads > 0, v.embedDim % v.numHeads == 0, v.headDim % 4 == 0 else { throw bad("\(v.numHeads) heads for width \(v.embedDim)") }
        guard v.grid >= 2, v.imageSize <= 4096 else { throw bad("image size \(v.imageSize)") }
        guard v.windowSize > 0, v.windowSize <= v.grid else { throw bad("window \(v.windowSize) for a \(v.grid)×\(v.grid) grid") }
        guard v.globalBlocks.allSatisfy({ $0 >= 0 && $0 < v.depth }) else { throw bad("global blocks \(v.globalBlocks)") }
        guard v.embedDim % 4 == 0, v.neckDim >= 16, v.neckDim % 16 == 0 else { throw bad("width \(v.embedDim) or neck width \(v.neckDim)") }
        guard v.mlpHidden > 0, v.mlpHidden <= 16 * v.embedDim else { throw bad("MLP width \(v.mlpHidden)") }
    }

    /// The decoder settings of a non-official SAM 3 configuration (keys as the SAM 2 sidecar's).
    static func sam3DecoderSidecar(_ path: String, decoder: Decoder) throws -> Decoder {
        try decoderSidecar(try FileIO.read(path, maxBytes: 1 << 20), path: path, decoder: decoder)
    }
}
