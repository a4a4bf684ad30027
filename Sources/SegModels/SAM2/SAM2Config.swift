import Foundation
import SegCore
import SegNN

extension SAMConfig {
    /// SAM 2.1's image encoder: the Hiera trunk (hieradet.py) and the FPN neck (image_encoder.py).
    /// Widths, depths and the position-embedding sizes are read from the tensor shapes; what the
    /// shapes cannot say (heads, window sizes, global blocks, the image size) comes from the
    /// official table, or from a JSON sidecar for other configurations.
    public struct Hiera: Sendable, Equatable {
        public var embedDim: Int
        public var numHeads: Int
        /// Blocks per stage (4 stages in every official model).
        public var stages: [Int]
        public var globalAttnBlocks: [Int]
        /// Window size per stage (0: global).
        public var windowSpec: [Int]
        /// The background position embedding's size [h, w] (interpolated to the token grid).
        public var posEmbedSize: [Int]
        public var imageSize = 1024
        /// Stages that start with a 2×2 query pooling (the first `qPool` stage changes).
        public var qPool = 3
        public var dimMul = 2, headMul = 2
        public var mlpRatio = 4.0
        /// The FPN neck: output width, levels that take the coarser level's upsampled output, and
        /// how many of the coarsest levels are dropped (the scalp).
        public var neckDim = 256
        public var fpnTopDownLevels = [2, 3]
        public var scalp = 1

        public var depth: Int { stages.reduce(0, +) }
        /// Index of each stage's last block.
        public var stageEnds: [Int] { stages.indices.map { stages[...$0].reduce(0, +) - 1 } }
        public var qPoolBlocks: [Int] { Array(stageEnds.dropLast().map { $0 + 1 }.prefix(qPool)) }
        /// Channels of each stage's output.
        public var stageDims: [Int] { stages.indices.map { embedDim * Int(pow(Double(dimMul), Double($0))) } }
    }

    /// The official SAM 2.1 image encoders (configs/sam2.1/sam2.1_hiera_{t,s,b+,l}.yaml), keyed by
    /// (embed dim, depth).
    public static let officialHiera: [(name: String, hiera: Hiera)] = [
        ("sam2.1_hiera_tiny", Hiera(embedDim: 96, numHeads: 1, stages: [1, 2, 7, 2], globalAttnBlocks: [5, 7, 9],
                                    windowSpec: [8, 4, 14, 7], posEmbedSize: [7, 7])),
        ("sam2.1_hiera_small", Hiera(embedDim: 96, numHeads: 1, stages: [1, 2, 11, 2], globalAttnBlocks: [7, 10, 13],
                                     windowSpec: [8, 4, 14, 7], posEmbedSize: [7, 7])),
        ("sam2.1_hiera_base_plus", Hiera(embedDim: 112, numHeads: 2, stages: [2, 3, 16, 3], globalAttnBlocks: [12, 16, 20],
                                         windowSpec: [8, 4, 14, 7], posEmbedSize: [14, 14])),
        ("sam2.1_hiera_large", Hiera(embedDim: 144, numHeads: 2, stages: [2, 6, 36, 4], globalAttnBlocks: [23, 33, 43],
                                     windowSpec: [8, 4, 16, 8], posEmbedSize: [7, 7])),
    ]

    /// SAM 2.1 normalises pixels in [0, 1] with the ImageNet statistics.
    static let sam2PixelMean: [Float] = [0.485, 0.456, 0.406]
    static let sam2PixelStd: [Float] = [0.229, 0.224, 0.225]

    /// What the shapes of a SAM 2.1 checkpoint say about its trunk.
    struct HieraShapes {
        var embedDim: Int, stages: [Int], posEmbedSize: [Int], window0: Int, neckDim: Int
    }

    static func hieraShapes(_ dict: StateDict) throws -> HieraShapes {
        let file = dict.path, t = "image_encoder.trunk."
        guard let patch = dict.shape(t + "patch_embed.proj.weight"), patch.count == 4, patch[1] == 3, patch[2] == 7, patch[3] == 7,
              patch[0] > 0 else {
            throw SegError(.invalid, file: file, "SAM 2 trunk: patch_embed.proj.weight is \(dict.shape(t + "patch_embed.proj.weight") ?? []), expected [C, 3, 7, 7]")
        }
        let c = patch[0]
        guard let pe = dict.shape(t + "pos_embed"), pe.count == 4, pe[0] == 1, pe[1] == c, pe[2] > 0, pe[3] > 0, pe[2] <= 256, pe[3] <= 256 else {
            throw SegError(.invalid, file: file, "SAM 2 trunk: pos_embed is \(dict.shape(t + "pos_embed") ?? []), expected [1, \(c), h, w]")
        }
        guard let pw = dict.shape(t + "pos_embed_window"), pw.count == 4, pw[0] == 1, pw[1] == c, pw[2] == pw[3], pw[2] > 0, pw[2] <= 256 else {
            throw SegError(.invalid, file: file, "SAM 2 trunk: pos_embed_window is \(dict.shape(t + "pos_embed_window") ?? []), expected [1, \(c), w, w]")
        }
        // Stages from the blocks' widths: a block whose output is wider than its input has `proj`.
        var stages: [Int] = [], depth = 0, dim = c
        while let q = dict.shape(t + "blocks.\(depth).attn.qkv.weight") {
            guard q.count == 2, q[1] == dim, q[0] % 3 == 0 else {
                throw SegError(.invalid, file: file, "SAM 2 trunk: blocks.\(depth).attn.qkv.weight is \(q), expected [3·C', \(dim)]")
            }
            let out = q[0] / 3
            if out != dim || stages.isEmpty { stages.append(0) }
            stages[stages.count - 1] += 1
            dim = out
            depth += 1
            guard depth <= 512 else { break }
        }
        guard depth > 0 else { throw SegError(.invalid, file: file, "SAM 2 trunk has no blocks") }
        guard let n0 = dict.shape("image_encoder.neck.convs.0.conv.weight"), n0.count == 4, n0[0] > 0 else {
            throw SegError(.invalid, file: file, "SAM 2 neck: missing image_encoder.neck.convs.0.conv.weight")
        }
        return HieraShapes(embedDim: c, stages: stages, posEmbedSize: [pe[2], pe[3]], window0: pw[2], neckDim: n0[0])
    }

    /// A SAM 2.1 checkpoint: an official configuration recognised from its shapes, or a sidecar.
    static func sam2(_ dict: StateDict, checkpoint: String) throws -> SAMConfig {
        let file = dict.path
        let s = try hieraShapes(dict)
        var name = "sam2.1_custom"
        var h: Hiera
        var decoder = Decoder()
        decoder.sam2 = true
        if let side = sidecarPaths(for: checkpoint).first(where: { FileManager.default.fileExists(atPath: $0) }) {
            (h, decoder) = try sam2Sidecar(side, shapes: s, decoder: decoder)
        } else if let official = officialHiera.first(where: { $0.hiera.embedDim == s.embedDim && $0.hiera.depth == s.stages.reduce(0, +) }) {
            name = official.name
            h = official.hiera
            guard h.stages == s.stages, h.posEmbedSize == s.posEmbedSize, h.windowSpec[0] == s.window0 else {
                throw SegError(.invalid, file: file, "SAM 2.1 trunk of width \(s.embedDim) and depth \(h.depth) (\(official.name)) has stages \(s.stages), position embedding \(s.posEmbedSize), window embedding \(s.window0); the official model has \(h.stages), \(h.posEmbedSize), \(h.windowSpec[0])")
            }
        } else {
            throw SegError(.unsupported, file: file,
                           "SAM 2 trunk with width \(s.embedDim) and \(s.stages.reduce(0, +)) blocks (stages \(s.stages)) is not an official SAM 2.1 configuration (tiny 96/12, small 96/16, base_plus 112/24, large 144/48); describe it in a JSON sidecar (\(sidecarPaths(for: checkpoint)[0]))")
        }
        h.neckDim = s.neckDim
        decoder.promptEmbedDim = s.neckDim
        try checkSAM2(h, dict)
        guard (s.neckDim / 2) % decoder.numHeads == 0 else {
            throw SegError(.invalid, file: file, "SAM 2 configuration: decoder width \(s.neckDim) does not split into \(decoder.numHeads) heads")
        }
        return SAMConfig(name: name, encoder: .hiera(h), decoder: decoder, pixelMean: sam2PixelMean, pixelStd: sam2PixelStd)
    }

    /// Checks that the configuration is one the code can run: windows that tile the grids, heads
    /// that divide the widths, a neck for every stage.
    static func checkSAM2(_ h: Hiera, _ dict: StateDict) throws {
        let file = dict.path
        func bad(_ why: String) -> SegError { SegError(.invalid, file: file, "SAM 2 configuration: " + why) }
        let n = h.stages.count
        guard n >= 2, n <= 8, h.stages.allSatisfy({ $0 > 0 }) else { throw bad("stages \(h.stages)") }
        guard h.windowSpec.count == n, h.windowSpec.allSatisfy({ $0 >= 0 && $0 <= 256 }) else { throw bad("window_spec \(h.windowSpec) for \(n) stages") }
        guard h.imageSize >= 64, h.imageSize <= 4096, h.imageSize % (4 << (n - 1)) == 0, h.imageSize % 16 == 0 else {
            throw bad("image size \(h.imageSize) must be a multiple of \(4 << (n - 1)) and 16")
        }
        guard h.qPool >= 0, h.qPool < n, h.dimMul == 2, h.headMul >= 1, h.numHeads >= 1 else { throw bad("q_pool, dim_mul or heads") }
        guard h.globalAttnBlocks.allSatisfy({ $0 >= 0 && $0 < h.depth }) else { throw bad("global_att_blocks \(h.globalAttnBlocks)") }
        var heads = h.numHeads
        for (i, d) in h.stageDims.enumerated() {
            if i > 0 { heads *= h.headMul }
            guard d % heads == 0 else { throw bad("stage \(i) width \(d) is not a multiple of its \(heads) heads") }
        }
        let g0 = h.imageSize / 4, w0 = h.windowSpec[0]
        guard w0 > 0, g0 % w0 == 0 else { throw bad("the window embedding (\(w0)) must tile the \(g0)×\(g0) grid") }
        // A pooled block's window must halve evenly.
        for b in h.qPoolBlocks {
            let stage = h.stageEnds.firstIndex(where: { $0 >= b - 1 }) ?? 0
            let w = h.globalAttnBlocks.contains(b) ? 0 : h.windowSpec[stage]
            guard w % 2 == 0 else { throw bad("block \(b) pools queries in windows of \(w), not a multiple of 2") }
        }
        guard h.scalp >= 0, h.scalp < n - 1, n - h.scalp >= 3, h.fpnTopDownLevels.allSatisfy({ $0 >= 0 && $0 < n }) else {
            throw bad("the neck needs at least 3 levels after the scalp (scalp \(h.scalp), \(n) stages)")
        }
        // The decoder takes the third-finest level as its embedding: stride 16.
        guard n - h.scalp == 3 else { throw bad("scalp \(h.scalp) with \(n) stages leaves \(n - h.scalp) levels, expected 3 (strides 4, 8, 16)") }
        guard h.neckDim >= 16, h.neckDim % 16 == 0 else { throw bad("neck width \(h.neckDim) must be a multiple of 16") }
    }

    /// The sidecar of a non-official SAM 2.1 configuration (keys as the official yaml's).
    static func sam2Sidecar(_ path: String, shapes s: HieraShapes, decoder: Decoder) throws -> (Hiera, Decoder) {
        struct Side: Decodable {
            var image_size: Int
            var num_heads: Int
            var global_att_blocks: [Int]
            var window_spec: [Int]
            var q_pool: Int?
            var head_mul: Int?
            var fpn_top_down_levels: [Int]?
            var scalp: Int?
        }
        let bytes = try FileIO.read(path, maxBytes: 1 << 20)
        let side: Side
        do { side = try JSONDecoder().decode(Side.self, from: Data(bytes)) } catch {
            throw SegError(.invalid, file: path, "not a SAM 2 configuration sidecar: \(error)")
        }
        var h = Hiera(embedDim: s.embedDim, numHeads: side.num_heads, stages: s.stages, globalAttnBlocks: side.global_att_blocks,
                      windowSpec: side.window_spec, posEmbedSize: s.posEmbedSize, imageSize: side.image_size)
        h.qPool = side.q_pool ?? 3
        h.headMul = side.head_mul ?? 2
        h.fpnTopDownLevels = side.fpn_top_down_levels ?? [2, 3]
        h.scalp = side.scalp ?? 1
        guard h.windowSpec.first == s.window0 else {
            throw SegError(.invalid, file: path, "window_spec[0] is \(h.windowSpec.first ?? -1) but the checkpoint's window embedding is \(s.window0)")
        }
        return (h, try decoderSidecar(bytes, path: path, decoder: decoder))
    }

    /// The mask decoder's settings in a sidecar (SAM 2.1's and SAM 3's reduced configurations use
    /// the same keys), over the official defaults.
    static func decoderSidecar(_ bytes: [UInt8], path: String, decoder: Decoder) throws -> Decoder {
        struct Side: Decodable {
            var decoder_transformer_depth: Int?, decoder_mlp_dim: Int?, decoder_num_heads: Int?
            var iou_head_depth: Int?, iou_head_hidden_dim: Int?, mask_in_chans: Int?
        }
        let side: Side
        do { side = try JSONDecoder().decode(Side.self, from: Data(bytes)) } catch {
            throw SegError(.invalid, file: path, "not a configuration sidecar: \(error)")
        }
        var d = decoder
        d.transformerDepth = side.decoder_transformer_depth ?? 2
        d.mlpDim = side.decoder_mlp_dim ?? 2048
        d.numHeads = side.decoder_num_heads ?? 8
        d.iouHeadDepth = side.iou_head_depth ?? 3
        d.iouHeadHiddenDim = side.iou_head_hidden_dim ?? 256
        d.maskInChans = side.mask_in_chans ?? 16
        guard d.transformerDepth > 0, d.transformerDepth <= 16, d.mlpDim > 0, d.numHeads > 0, d.iouHeadDepth >= 1, d.iouHeadHiddenDim > 0,
              d.maskInChans > 0, d.maskInChans % 4 == 0 else {
            throw SegError(.invalid, file: path, "bad decoder settings")
        }
        return d
    }
}
