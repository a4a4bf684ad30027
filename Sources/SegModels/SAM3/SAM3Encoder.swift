import Foundation
import SegCore
import SegNN

/// SAM 3's vision backbone as the interactive path runs it: the ViT (sam3/model/vitdet.py: patch
/// embedding without bias, tiled absolute position embedding, ln_pre, blocks with windowed or
/// global attention and 2-D RoPE) and the `sam2_convs` SimpleFPN neck (necks.py) at scales 4, 2
/// and 1 (the 0.5 level is dropped by the backbone's scalp), with the tracker's conv_s0/conv_s1 on
/// the two finer levels. Tokens are rows [H·W, C] in the trunk; the neck works channel-major.
struct SAM3Encoder: Sendable {
    struct Block: Sendable {
        let norm1: NormW, norm2: NormW
        let qkv: LinearW, proj: LinearW
        let fc1: LinearW, fc2: LinearW
        /// Window side (the grid's side for global blocks).
        let window: Int
        let global: Bool
        /// RoPE rotations [window², headDim/2] as (cos, sin) pairs, from the checkpoint's `freqs_cis`.
        let rope: Param
    }

    /// One 2×2 transposed convolution (weight [in, out, 2, 2]).
    struct Up: Sendable { let w: Param, b: Param, inC: Int, outC: Int }

    /// One SimpleFPN level: transposed convolutions (GELU between two), conv 1×1, conv 3×3.
    struct Level: Sendable { let ups: [Up]; let conv1: ConvW; let conv3: ConvW }

    let config: SAMConfig.SAM3ViT
    let patch: ConvW
    let pos: Param           // [1, 1 + P², C]
    let lnPre: NormW
    let blocks: [Block]
    /// Levels 0 (×4), 1 (×2), 2 (×1).
    let levels: [Level]
    let convS0: ConvW, convS1: ConvW
    let noMem: Param         // [d]
    /// The detector's own SimpleFPN (`convs`, levels ×4, ×2, ×1) for text and exemplar prompts;
    /// nil when the checkpoint has no detector heads.
    let detectorLevels: [Level]?
    /// The fusion encoder's first layer, of which `forward` runs the image-only self-attention
    /// (see `SAM3EncoderLayer.selfAttention`); nil without detector heads.
    let detectorLayer0: SAM3EncoderLayer?
    /// The segmentation head's pixel-decoder convolutions 0 and 1 (3×3, with bias), of which
    /// `forward` applies 0 to the ×2 level and 1 to the ×4 level: the image's share of each stage's
    /// convolution, linear in the image (`SAM3SegmentationHead.masks` adds the phrase's share); nil
    /// without detector heads.
    let pixelConvs: [ConvW]?

    init(_ c: SAMConfig.SAM3ViT, _ l: WeightLoader) throws {
        config = c
        let t = SAMConfig.sam3Trunk, C = c.embedDim, eps = c.layerNormEps
        patch = try l.conv(t + "patch_embed.proj", 3, C, k: c.patchSize, stride: c.patchSize, bias: false)
        pos = try l.param(t + "pos_embed", [1, 1 + c.posGrid * c.posGrid, C])
        lnPre = try l.norm(t + "ln_pre", C, eps: eps)
        blocks = try (0..<c.depth).map { i in
            let b = t + "blocks.\(i)."
            let global = c.globalBlocks.contains(i)
            let side = global ? c.grid : c.windowSize
            return Block(norm1: try l.norm(b + "norm1", C, eps: eps), norm2: try l.norm(b + "norm2", C, eps: eps),
                         qkv: try l.linear(b + "attn.qkv", C, 3 * C), proj: try l.linear(b + "attn.proj", C, C),
                         fc1: try l.linear(b + "mlp.fc1", C, c.mlpHidden), fc2: try l.linear(b + "mlp.fc2", c.mlpHidden, C),
                         window: side, global: global,
                         rope: l.store.add(try SAM3Encoder.ropeTable(l, key: b + "attn.freqs_cis", config: c, side: side, global: global),
                                           shape: [side * side, c.headDim / 2, 2]))
        }
        let n = SAMConfig.sam3Necks, d = c.neckDim
        func fpn(_ n: String) throws -> [Level] {
            func up(_ key: String, _ inC: Int) throws -> Up {
                Up(w: try l.param(key + ".weight", [inC, inC / 2, 2, 2]), b: try l.param(key + ".bias", [inC / 2]), inC: inC, outC: inC / 2)
            }
            func level(_ i: Int, ups: [Up]) throws -> Level {
                let inC = ups.last?.outC ?? C
                return Level(ups: ups, conv1: try l.conv(n + "\(i).conv_1x1", inC, d, k: 1, bias: true),
                             conv3: try l.conv(n + "\(i).conv_3x3", d, d, k: 3, pad: 1, bias: true))
            }
            return [
                try level(0, ups: [try up(n + "0.dconv_2x2_0", C), try up(n + "0.dconv_2x2_1", C / 2)]),
                try level(1, ups: [try up(n + "1.dconv_2x2", C)]),
                try level(2, ups: []),
            ]
        }
        levels = try fpn(n)
        let det = SAMConfig.sam3DetectorNeck
        detectorLevels = l.dict.has(det + "2.conv_1x1.weight") && l.dict.has(SAM3TextEncoder.prefix + "encoder.token_embedding.weight")
            ? try fpn(det) : nil
        let layer0 = "detector.transformer.encoder.layers.0."
        detectorLayer0 = detectorLevels != nil && l.dict.has(layer0 + "norm1.weight")
            ? try SAM3EncoderLayer(l, layer0, dim: d, heads: try SAM3DetectorSettings.read(checkpoint: l.dict.path).detectorHeads,
                                   posAtSelf: true, posAtCrossKeys: false)
            : nil
        let pix = SAM3SegmentationHead.prefix + "pixel_decoder.conv_layers."
        pixelConvs = detectorLayer0 != nil && l.dict.has(pix + "0.weight") && l.dict.has(pix + "1.weight")
            ? [try l.conv(pix + "0", d, d, k: 3, pad: 1, bias: true), try l.conv(pix + "1", d, d, k: 3, pad: 1, bias: true)]
            : nil
        convS0 = try l.conv("sam_mask_decoder.conv_s0", d, d / 8, k: 1, bias: true)
        convS1 = try l.conv("sam_mask_decoder.conv_s1", d, d / 4, k: 1, bias: true)
        noMem = try l.param("no_mem_embed", [1, 1, d])
    }

    /// The block's RoPE table: the checkpoint's complex64 `freqs_cis` (the values the official model
    /// runs with, since load_state_dict overwrites its own), or, when a checkpoint lacks it,
    /// `compute_axial_cis` recomputed in float32 as vitdet.py does.
    static func ropeTable(_ l: WeightLoader, key: String, config c: SAMConfig.SAM3ViT, side: Int, global: Bool) throws -> [Float] {
        let half = c.headDim / 2
        if l.dict.has(key) {
            do { return try l.dict.complexPairs(key, shape: [side * side, half]) } catch { throw SegError(error) }
        }
        // rope_interp: positions scaled by rope_pt_size (the window) / input size (1 in windows).
        let scale: Float = global ? Float(c.windowSize) / Float(side) : 1
        let quarter = c.headDim / 4
        var out = [Float](repeating: 0, count: side * side * half * 2)
        for t in 0..<(side * side) {
            let tx = Float(t % side) * scale, ty = Float(t / side) * scale
            for j in 0..<half {
                let i = j % quarter
                let freq: Float = 1 / powf(c.ropeTheta, Float(4 * i) / Float(c.headDim))
                let angle = (j < quarter ? tx : ty) * freq
                out[(t * half + j) * 2] = cosf(angle)
                out[(t * half + j) * 2 + 1] = sinf(angle)
            }
        }
        return out
    }

    var grid: Int { config.grid }
    var embedDim: Int { config.neckDim }
}

extension SAM3Encoder {
    /// Counts of the three channel-major maps (as `SAMModel.sam2MapCounts`).
    var counts: (embed: Int, s1: Int, s0: Int) {
        let d = config.neckDim, g = grid
        return (d * g * g, (d / 4) * 4 * g * g, (d / 8) * 16 * g * g)
    }

    /// Floats of the detector's three levels ([d, 4g, 4g], [d, 2g, 2g], [d, g, g]) after the three
    /// maps, then the coarsest level's tokens after the fusion encoder's first self-attention
    /// ([g·g, d] rows); 0 without detector heads.
    var detectorCount: Int {
        detectorLevels == nil ? 0 : config.neckDim * (detectorLayer0 == nil ? 21 : pixelConvs == nil ? 22 : 42) * grid * grid
    }

    /// image: normalised [3, S, S]; writes [embed | s1 | s0], channel-major, to `out`.
    func forward(_ image: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let C = config.embedDim, g = grid, n = g * g
        let x = ws.buffer(SSlot.tokens.rawValue, n * C)
        embedPatches(image, x, ws: ws)
        for b in blocks { block(b, x, ws: ws) }
        let xc = ws.buffer(SSlot.chan.rawValue, n * C)
        transpose(x, rows: n, cols: C, xc)
        let c = counts
        neck(levels[2], xc, side: g, out, ws: ws)
        Elementwise.addBias(out, out, rows: 1, dim: c.embed, bias: expandedNoMem(ws: ws))
        let s1 = ws.buffer(SSlot.level.rawValue, config.neckDim * 4 * n)
        neck(levels[1], xc, side: g, s1, ws: ws)
        runConv(convS1, s1, height: 2 * g, width: 2 * g, out + c.embed, ws: ws, scratchSlot: SSlot.conv.rawValue)
        let s0 = ws.buffer(SSlot.level.rawValue, config.neckDim * 16 * n)
        neck(levels[0], xc, side: g, s0, ws: ws)
        runConv(convS0, s0, height: 4 * g, width: 4 * g, out + c.embed + c.s1, ws: ws, scratchSlot: SSlot.conv.rawValue)
        if let det = detectorLevels {
            // The detector's levels, finest first, as its backbone_fpn (the ×0.5 level is dropped by scalp=1).
            var at = out + c.embed + c.s1 + c.s0
            for (i, lv) in det.enumerated() {
                neck(lv, xc, side: g, at, ws: ws)
                at += config.neckDim * (16 >> (2 * i)) * n
            }
            if let layer0 = detectorLayer0 {
                // Image-only work of every phrase done once here: the coarsest level as token rows
                // through the fusion encoder's first self-attention (with the sine positions).
                let d = config.neckDim
                transpose(at - d * n, rows: d, cols: n, at)
                let pos = SAM3Sine.grid(height: g, width: g, dim: d)
                pos.withUnsafeBufferPointer { pp in
                    if let p = pp.baseAddress { layer0.selfAttention(at, n: n, pos: p, selfValid: nil, ws: ws) }
                }
                if let pixelConvs {
                    // The fine levels through their pixel-decoder stage's convolution: ×4 by conv 1, ×2 by conv 0.
                    let lv0 = out + c.embed + c.s1 + c.s0, lv1 = lv0 + d * 16 * n
                    let o0 = at + d * n, o1 = o0 + d * 16 * n
                    runConv(pixelConvs[1], lv0, height: 4 * g, width: 4 * g, o0, ws: ws, scratchSlot: SSlot.conv.rawValue)
                    runConv(pixelConvs[0], lv1, height: 2 * g, width: 2 * g, o1, ws: ws, scratchSlot: SSlot.conv.rawValue)
                }
            }
        }
    }

    /// no_mem_embed per channel, spread over the embedding's pixels (channel-major).
    private func expandedNoMem(ws: Workspace) -> UnsafeMutablePointer<Float> {
        let d = config.neckDim, n = grid * grid
        let e = ws.buffer(SSlot.noMem.rawValue, d * n)
        for ch in 0..<d { (e + ch * n).initialize(repeating: noMem[ch], count: n) }
        return e
    }

    /// Patch embedding, tiled position embedding (pos[y mod P, x mod P], the cls slot skipped), ln_pre.
    private func embedPatches(_ image: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, ws: Workspace) {
        let C = config.embedDim, g = grid, n = g * g, P = config.posGrid
        let t = ws.buffer(SSlot.a.rawValue, n * C)
        runConv(patch, image, height: config.imageSize, width: config.imageSize, t, ws: ws, scratchSlot: SSlot.conv.rawValue)
        transpose(t, rows: C, cols: n, x)
        Threads.parallel(g) { y in
            for xx in 0..<g {
                let row = x + (y * g + xx) * C, p = pos.pointer + (1 + (y % P) * P + xx % P) * C
                for k in 0..<C { row[k] += p[k] }
            }
        }
        Norm.layerNorm(x, x, rows: n, dim: C, weight: lnPre.w.pointer, bias: lnPre.b.pointer, eps: lnPre.eps)
    }

    /// One transformer block, in place on the tokens x [g², C].
    private func block(_ b: Block, _ x: UnsafeMutablePointer<Float>, ws: Workspace) {
        let C = config.embedDim, g = grid, n = g * g, heads = config.numHeads, dh = config.headDim
        let t = ws.buffer(SSlot.a.rawValue, n * C)
        Norm.layerNorm(x, t, rows: n, dim: C, weight: b.norm1.w.pointer, bias: b.norm1.b.pointer, eps: b.norm1.eps)
        let win = Attention.Windows(height: g, width: g, size: b.window)
        let per = win.tokensPerWindow, total = win.totalTokens
        // Windows are cut after norm1: padded tokens are zeros (their q, k, v the biases), as the reference.
        var src = t
        if !b.global {
            src = ws.buffer(SSlot.b.rawValue, total * C)
            Attention.partition(t, channels: C, win, src)
        }
        let qkv = ws.buffer(SSlot.qkv.rawValue, total * 3 * C)
        b.qkv(src, rows: total, qkv)
        rotate(qkv, windows: win.count, per: per, rope: b.rope.pointer)
        let o = ws.buffer(SSlot.out.rawValue, total * C)
        // Global blocks: 512 query rows per block of logits (10.6 MB) instead of about 100, so that
        // K and V are packed 10 times per head instead of 52 (see Attention.multiHead).
        let blockFloats = b.global ? 512 * per : Attention.defaultBlockFloats
        let scratch = ws.buffer(SSlot.attn.rawValue, Attention.scratchCount(queries: per, keys: per, blockFloats: blockFloats))
        for w in 0..<win.count {
            let q = qkv + w * per * 3 * C
            Attention.multiHead(q: q, ldq: 3 * C, k: q + C, ldk: 3 * C, v: q + 2 * C, ldv: 3 * C, queries: per, keys: per,
                                heads: heads, headDim: dh, valueDim: dh, scale: 1 / Float(dh).squareRoot(),
                                out: o + w * per * C, ldo: C, scratch: scratch, blockFloats: blockFloats)
        }
        if b.global {
            Gemm.linear(o, rows: n, inFeatures: C, weight: b.proj.w.pointer, bias: b.proj.b?.pointer, outFeatures: C, x, accumulate: true)
        } else {
            b.proj(o, rows: total, src)
            Attention.unpartition(src, channels: C, win, x, accumulate: true)
        }
        Norm.layerNorm(x, t, rows: n, dim: C, weight: b.norm2.w.pointer, bias: b.norm2.b.pointer, eps: b.norm2.eps)
        let hidden = b.fc1.outF
        let h = ws.buffer(SSlot.mlp.rawValue, n * hidden)
        b.fc1(t, rows: n, h)
        Elementwise.gelu(h, n * hidden)
        Gemm.linear(h, rows: n, inFeatures: hidden, weight: b.fc2.w.pointer, bias: b.fc2.b?.pointer, outFeatures: C, x, accumulate: true)
    }

    /// `apply_rotary_enc` on q and k of every head: channel pairs (2j, 2j+1) as complex numbers times
    /// the token's rotation j (x frequencies in the first quarter of the head, y in the second).
    private func rotate(_ qkv: UnsafeMutablePointer<Float>, windows: Int, per: Int, rope: UnsafePointer<Float>) {
        let C = config.embedDim, heads = config.numHeads, half = config.headDim / 2
        // Split over tokens, not windows: a global block is one window of 5184 tokens.
        Threads.parallelRanges(windows * per, minPerChunk: 64) { range in
            for t in range {
                let i = t % per
                let row = qkv + t * 3 * C, r = rope + i * half * 2
                for part in 0..<2 {
                    for h in 0..<heads {
                        let v = row + part * C + h * 2 * half
                        for j in 0..<half {
                            let a = v[2 * j], bb = v[2 * j + 1], cs = r[2 * j], sn = r[2 * j + 1]
                            v[2 * j] = a * cs - bb * sn
                            v[2 * j + 1] = a * sn + bb * cs
                        }
                    }
                }
            }
        }
    }

    /// One SimpleFPN level on the channel-major trunk output xc [C, g, g]; writes [d, s, s].
    private func neck(_ lv: Level, _ xc: UnsafePointer<Float>, side g: Int, _ out: UnsafeMutablePointer<Float>, ws: Workspace) {
        var cur = UnsafePointer(xc), side = g
        for (i, u) in lv.ups.enumerated() {
            let y = ws.buffer(SSlot.up0.rawValue + i, u.outC * 4 * side * side)
            let scratch = ws.buffer(SSlot.upScratch.rawValue, u.outC * 4 * side * side)
            Conv.transposed2x2(cur, inChannels: u.inC, outChannels: u.outC, height: side, width: side, weight: u.w.pointer,
                               bias: u.b.pointer, y, scratch: scratch)
            side *= 2
            // nn.GELU between the two transposed convolutions of the ×4 level.
            if i + 1 < lv.ups.count { Elementwise.gelu(y, u.outC * side * side) }
            cur = UnsafePointer(y)
        }
        let t = ws.buffer(SSlot.neck1.rawValue, config.neckDim * side * side)
        runConv(lv.conv1, cur, height: side, width: side, t, ws: ws, scratchSlot: SSlot.conv.rawValue)
        runConv(lv.conv3, t, height: side, width: side, out, ws: ws, scratchSlot: SSlot.conv.rawValue)
    }
}

/// Workspace slots of the SAM 3 encoder (apart from the SAM 1 / SAM 2 encoders' ones).
enum SSlot: Int {
    case a = 300, b, tokens, chan, qkv, out, attn, mlp, conv, level, up0, up1, upScratch, neck1, noMem
}
