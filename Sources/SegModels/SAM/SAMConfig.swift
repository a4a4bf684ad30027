import Foundation
import SegCore
import SegNN

/// Which network a checkpoint holds and its hyper-parameters: read from the tensor shapes for the
/// official releases, or from a JSON sidecar next to the checkpoint for other ViT configurations.
public struct SAMConfig: Sendable, Equatable {
    public struct ViT: Sendable, Equatable {
        public var embedDim: Int, depth: Int, numHeads: Int
        public var globalAttnIndexes: [Int]
        public var windowSize: Int, patchSize: Int, imageSize: Int
        public var mlpRatio: Double = 4
        public var useRelPos = true, qkvBias = true
        public var layerNormEps: Float = 1e-6
        public var outChans = 256
    }

    public struct TinyViT: Sendable, Equatable {
        public var embedDims: [Int], depths: [Int], numHeads: [Int], windowSizes: [Int]
        public var imageSize = 1024
        public var mlpRatio = 4.0, mbconvExpandRatio = 4.0
        public var localConvSize = 3
        public var outChans = 256
    }

    public struct Decoder: Sendable, Equatable {
        public var promptEmbedDim = 256
        public var maskInChans = 16
        public var transformerDepth = 2, mlpDim = 2048, numHeads = 8
        public var numMultimaskOutputs = 3
        public var iouHeadDepth = 3, iouHeadHiddenDim = 256
        /// SAM 2.1's decoder: `sam_`-prefixed keys, MLP layers as `mlp.layers.N`, an object-score
        /// token, high-resolution features in the upscaling, IoU through a sigmoid.
        public var sam2 = false
    }

    public enum Encoder: Sendable, Equatable {
        case vit(ViT)
        case tinyViT(TinyViT)
        /// SAM 2.1's Hiera trunk with its FPN neck.
        case hiera(Hiera)
        /// SAM 3's ViT with its interactive SimpleFPN neck.
        case sam3(SAM3ViT)
    }

    /// "vit_b", "vit_l", "vit_h", "vit_t" (MobileSAM) or "vit_custom" (sidecar).
    public var name: String
    public var encoder: Encoder
    public var decoder = Decoder()
    public var pixelMean: [Float] = [123.675, 116.28, 103.53]
    public var pixelStd: [Float] = [58.395, 57.12, 57.375]

    /// Side of the image embedding grid (64 for every released model).
    public var grid: Int {
        switch encoder {
        case .vit(let v): v.imageSize / v.patchSize
        case .tinyViT: 64
        case .hiera(let h): h.imageSize / 16
        case .sam3(let v): v.grid
        }
    }

    public var imageSize: Int {
        switch encoder {
        case .vit(let v): v.imageSize
        case .tinyViT(let t): t.imageSize
        case .hiera(let h): h.imageSize
        case .sam3(let v): v.imageSize
        }
    }

    /// The official ViT encoders (segment_anything `build_sam`).
    public static let officialViT: [String: ViT] = [
        "vit_b": ViT(embedDim: 768, depth: 12, numHeads: 12, globalAttnIndexes: [2, 5, 8, 11], windowSize: 14, patchSize: 16, imageSize: 1024),
        "vit_l": ViT(embedDim: 1024, depth: 24, numHeads: 16, globalAttnIndexes: [5, 11, 17, 23], windowSize: 14, patchSize: 16, imageSize: 1024),
        "vit_h": ViT(embedDim: 1280, depth: 32, numHeads: 16, globalAttnIndexes: [7, 15, 23, 31], windowSize: 14, patchSize: 16, imageSize: 1024),
    ]

    /// Candidate sidecar paths: `model.json` and `model.pth.json` for `model.pth`.
    public static func sidecarPaths(for checkpoint: String) -> [String] {
        var out: [String] = []
        if let dot = checkpoint.lastIndex(of: "."), let slash = checkpoint.lastIndex(of: "/").map({ checkpoint.index(after: $0) }) ?? Optional(checkpoint.startIndex),
           dot > slash {
            out.append(String(checkpoint[..<dot]) + ".json")
        }
        out.append(checkpoint + ".json")
        return out
    }

    /// Works out the configuration of `dict`, using a sidecar when one exists.
    public static func detect(_ dict: StateDict, checkpoint: String) throws -> SAMConfig {
        let file = dict.path
        if isSAM3(dict) { return try sam3(dict, checkpoint: checkpoint) }
        if dict.has("image_encoder.patch_embed.seq.0.c.weight") { return try tinyViT(dict) }
        if dict.has("image_encoder.trunk.patch_embed.proj.weight") { return try sam2(dict, checkpoint: checkpoint) }
        guard let patch = dict.shape("image_encoder.patch_embed.proj.weight"), patch.count == 4 else {
            throw SegError(.invalid, file: file, "not a SAM or MobileSAM checkpoint: no image_encoder.patch_embed weights")
        }
        for side in sidecarPaths(for: checkpoint) where FileManager.default.fileExists(atPath: side) {
            return try sidecar(side, checkpointFile: file)
        }
        // Official configurations, told apart by width and depth.
        let embed = patch[0]
        var depth = 0
        while dict.has("image_encoder.blocks.\(depth).norm1.weight") { depth += 1 }
        for (name, vit) in officialViT.sorted(by: { $0.key < $1.key }) where vit.embedDim == embed && vit.depth == depth {
            return SAMConfig(name: name, encoder: .vit(vit))
        }
        throw SegError(.unsupported, file: file,
                       "ViT encoder with width \(embed) and \(depth) blocks is not an official SAM configuration (ViT-B/L/H); describe it in a JSON sidecar (\(sidecarPaths(for: checkpoint)[0]))")
    }

    static func tinyViT(_ dict: StateDict) throws -> SAMConfig {
        let file = dict.path
        var dims: [Int] = [], depths: [Int] = [], heads: [Int] = [], windows: [Int] = []
        var i = 0
        while true {
            let p = "image_encoder.layers.\(i)."
            var n = 0
            while dict.has(p + "blocks.\(n).conv1.c.weight") || dict.has(p + "blocks.\(n).attn.qkv.weight") { n += 1 }
            if n == 0 { break }
            depths.append(n)
            if let s = dict.shape(p + "blocks.0.conv1.c.weight") {
                dims.append(s[1]); heads.append(1); windows.append(7)
            } else if let q = dict.shape(p + "blocks.0.attn.qkv.weight"), let ab = dict.shape(p + "blocks.0.attn.attention_biases"), ab.count == 2 {
                dims.append(q[1]); heads.append(ab[0])
                let ws = Int(Double(ab[1]).squareRoot().rounded())
                guard ws * ws == ab[1] else { throw SegError(.invalid, file: file, "\(p)blocks.0.attn.attention_biases has \(ab[1]) offsets, not a square window") }
                windows.append(ws)
            } else {
                throw SegError(.invalid, file: file, "TinyViT stage \(i) has neither MBConv nor attention blocks")
            }
            i += 1
        }
        guard dims.count == 4, dims.allSatisfy({ $0 > 0 }), zip(dims, heads).allSatisfy({ $0 % $1 == 0 }) else {
            throw SegError(.invalid, file: file, "TinyViT encoder with stages \(dims) is not the MobileSAM layout")
        }
        var t = TinyViT(embedDims: dims, depths: depths, numHeads: heads, windowSizes: windows)
        if let e = dict.shape("image_encoder.layers.0.blocks.0.conv1.c.weight") { t.mbconvExpandRatio = Double(e[0]) / Double(dims[0]) }
        if let f = dict.shape("image_encoder.layers.1.blocks.0.mlp.fc1.weight") { t.mlpRatio = Double(f[0]) / Double(dims[1]) }
        return SAMConfig(name: "vit_t", encoder: .tinyViT(t))
    }

    /// The JSON sidecar (keys as in segment_anything's builder arguments).
    static func sidecar(_ path: String, checkpointFile: String) throws -> SAMConfig {
        struct Side: Decodable {
            var embed_dim: Int, depth: Int, num_heads: Int, global_attn_indexes: [Int]
            var window_size: Int, patch_size: Int, image_size: Int, prompt_embed_dim: Int
            var mlp_ratio: Double?, use_rel_pos: Bool?, qkv_bias: Bool?, layer_norm_eps: Float?
            var mask_in_chans: Int?, decoder_transformer_depth: Int?, decoder_mlp_dim: Int?, decoder_num_heads: Int?
            var num_multimask_outputs: Int?, iou_head_depth: Int?, iou_head_hidden_dim: Int?
            var pixel_mean: [Float]?, pixel_std: [Float]?
        }
        let bytes = try FileIO.read(path, maxBytes: 1 << 20)
        let s: Side
        do { s = try JSONDecoder().decode(Side.self, from: Data(bytes)) } catch {
            throw SegError(.invalid, file: path, "not a SAM configuration sidecar: \(error)")
        }
        func bad(_ why: String) -> SegError { SegError(.invalid, file: path, why) }
        guard s.embed_dim > 0, s.depth > 0, s.num_heads > 0, s.embed_dim % s.num_heads == 0 else { throw bad("embed_dim must be a positive multiple of num_heads") }
        guard s.patch_size > 0, s.image_size > 0, s.image_size % s.patch_size == 0, s.image_size / s.patch_size >= 2,
              s.image_size <= 4096 else {
            throw bad("image_size must be a multiple of patch_size, at most 4096")
        }
        guard s.window_size >= 0, s.global_attn_indexes.allSatisfy({ $0 >= 0 && $0 < s.depth }) else { throw bad("bad window_size or global_attn_indexes") }
        guard s.prompt_embed_dim > 0, s.prompt_embed_dim % 16 == 0 else { throw bad("prompt_embed_dim must be a positive multiple of 16") }
        var v = ViT(embedDim: s.embed_dim, depth: s.depth, numHeads: s.num_heads, globalAttnIndexes: s.global_attn_indexes,
                    windowSize: s.window_size, patchSize: s.patch_size, imageSize: s.image_size)
        if s.window_size == 0 { v.globalAttnIndexes = Array(0..<s.depth) }
        v.mlpRatio = s.mlp_ratio ?? 4
        v.useRelPos = s.use_rel_pos ?? true
        v.qkvBias = s.qkv_bias ?? true
        v.layerNormEps = s.layer_norm_eps ?? 1e-6
        guard v.mlpRatio > 0, v.mlpRatio <= 16 else { throw bad("bad mlp_ratio") }
        v.outChans = s.prompt_embed_dim
        var c = SAMConfig(name: "vit_custom", encoder: .vit(v))
        c.decoder.promptEmbedDim = s.prompt_embed_dim
        c.decoder.maskInChans = s.mask_in_chans ?? 16
        c.decoder.transformerDepth = s.decoder_transformer_depth ?? 2
        c.decoder.mlpDim = s.decoder_mlp_dim ?? 2048
        c.decoder.numHeads = s.decoder_num_heads ?? 8
        c.decoder.numMultimaskOutputs = s.num_multimask_outputs ?? 3
        c.decoder.iouHeadDepth = s.iou_head_depth ?? 3
        c.decoder.iouHeadHiddenDim = s.iou_head_hidden_dim ?? 256
        let d = c.decoder
        guard d.maskInChans > 0, d.maskInChans % 4 == 0, d.transformerDepth > 0, d.mlpDim > 0, d.numHeads > 0,
              (d.promptEmbedDim / 2) % d.numHeads == 0, d.numMultimaskOutputs > 0, d.iouHeadDepth >= 1, d.iouHeadHiddenDim > 0 else {
            throw bad("bad decoder settings")
        }
        if let m = s.pixel_mean { guard m.count == 3 else { throw bad("pixel_mean needs 3 values") }; c.pixelMean = m }
        if let m = s.pixel_std { guard m.count == 3, m.allSatisfy({ $0 > 0 }) else { throw bad("pixel_std needs 3 positive values") }; c.pixelStd = m }
        return c
    }
}
