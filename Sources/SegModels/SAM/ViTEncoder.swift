import SegCore
import SegNN

/// Workspace slots the encoders use (each a buffer reused across images).
enum Slot: Int {
    case a = 1, b, c, d, e, f, g, h, conv, attn, rel, tokens, qkv, out, mlp
}

/// SAM's ViT image encoder (ViT-B/L/H and smaller configurations): patch embedding, transformer
/// blocks with windowed or global attention and decomposed relative positions, and the neck.
struct ViTEncoder: Sendable {
    struct Block: Sendable {
        let norm1: NormW, norm2: NormW
        let qkv: LinearW, proj: LinearW
        let relH: Param?, relW: Param?
        let lin1: LinearW, lin2: LinearW
        let window: Int  // 0: global attention over the whole grid
    }

    let config: SAMConfig.ViT
    let patch: ConvW
    let posEmbed: Param  // [g, g, C]
    let blocks: [Block]
    let neck0: Param, neck1: NormW, neck2: ConvW, neck3: NormW  // conv1×1 (no bias), LN2d, conv3×3 (no bias), LN2d

    var grid: Int { config.imageSize / config.patchSize }

    init(_ c: SAMConfig.ViT, _ l: WeightLoader) throws {
        config = c
        let d = c.embedDim, p = "image_encoder."
        let g = c.imageSize / c.patchSize
        patch = try l.conv(p + "patch_embed.proj", 3, d, k: c.patchSize, stride: c.patchSize, bias: true)
        posEmbed = try l.param(p + "pos_embed", [1, g, g, d])
        let headDim = d / c.numHeads
        var bl: [Block] = []
        for i in 0..<c.depth {
            let b = p + "blocks.\(i)."
            let window = c.globalAttnIndexes.contains(i) ? 0 : c.windowSize
            let size = window == 0 ? g : window
            let hidden = Int(Double(d) * c.mlpRatio)
            bl.append(Block(
                norm1: try l.norm(b + "norm1", d, eps: c.layerNormEps), norm2: try l.norm(b + "norm2", d, eps: c.layerNormEps),
                qkv: try l.linear(b + "attn.qkv", d, 3 * d, bias: c.qkvBias), proj: try l.linear(b + "attn.proj", d, d),
                relH: c.useRelPos ? try l.param(b + "attn.rel_pos_h", [2 * size - 1, headDim]) : nil,
                relW: c.useRelPos ? try l.param(b + "attn.rel_pos_w", [2 * size - 1, headDim]) : nil,
                lin1: try l.linear(b + "mlp.lin1", d, hidden), lin2: try l.linear(b + "mlp.lin2", hidden, d),
                window: window))
        }
        blocks = bl
        let out = c.outChans
        neck0 = try l.param(p + "neck.0.weight", [out, d, 1, 1])
        neck1 = try l.norm(p + "neck.1", out, eps: 1e-6)
        neck2 = try l.conv(p + "neck.2", out, out, k: 3, pad: 1, bias: false)
        neck3 = try l.norm(p + "neck.3", out, eps: 1e-6)
    }

    /// image: normalised, padded [3, S, S]; writes the embedding [outChans, g, g].
    func forward(_ image: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let d = config.embedDim, g = grid, n = g * g
        let heads = config.numHeads, dh = d / heads
        let x = ws.buffer(Slot.tokens.rawValue, n * d)
        do {
            let t = ws.buffer(Slot.a.rawValue, n * d)
            runConv(patch, image, height: config.imageSize, width: config.imageSize, t, ws: ws, scratchSlot: Slot.conv.rawValue)
            transpose(t, rows: d, cols: n, x)
            Elementwise.add(x, posEmbed.pointer, n * d)
        }
        let hidden = blocks.first?.lin1.outF ?? 4 * d
        for b in blocks {
            let t = ws.buffer(Slot.a.rawValue, n * d)
            Norm.layerNorm(x, t, rows: n, dim: d, weight: b.norm1.w.pointer, bias: b.norm1.b.pointer, eps: b.norm1.eps)
            let win = b.window == 0 ? Attention.Windows(height: g, width: g, size: g) : Attention.Windows(height: g, width: g, size: b.window)
            let per = win.tokensPerWindow, total = win.totalTokens
            let src: UnsafeMutablePointer<Float>
            if b.window == 0 {
                src = t
            } else {
                src = ws.buffer(Slot.b.rawValue, total * d)
                Attention.partition(t, channels: d, win, src)
            }
            let qkv = ws.buffer(Slot.qkv.rawValue, total * 3 * d)
            b.qkv(src, rows: total, qkv)
            let o = ws.buffer(Slot.out.rawValue, total * d)
            let scratch = ws.buffer(Slot.attn.rawValue, Attention.scratchCount(queries: per, keys: per))
            let rows = Attention.rowsPerBlock(per, per)
            let rel = ws.buffer(Slot.rel.rawValue, rows * (4 * win.size - 2))
            let side = win.size
            let scale = 1 / Float(dh).squareRoot()
            for w in 0..<win.count {
                let q = qkv + w * per * 3 * d
                var hook: Attention.BiasHook?
                if let rh = b.relH, let rw = b.relW {
                    hook = { h, r0, nr, s, ld in
                        Attention.addRelativePositions(q: q + h * dh, ldq: 3 * d, row0: r0, rows: nr, dim: dh, height: side, width: side,
                                                       relH: rh.pointer, relW: rw.pointer, scores: s, ld: ld, proj: rel)
                    }
                }
                Attention.multiHead(q: q, ldq: 3 * d, k: q + d, ldk: 3 * d, v: q + 2 * d, ldv: 3 * d, queries: per, keys: per,
                                    heads: heads, headDim: dh, valueDim: dh, scale: scale,
                                    out: o + w * per * d, ldo: d, scratch: scratch, bias: hook)
            }
            if b.window == 0 {
                Gemm.linear(o, rows: n, inFeatures: d, weight: b.proj.w.pointer, bias: b.proj.b?.pointer, outFeatures: d, x, accumulate: true)
            } else {
                b.proj(o, rows: total, src)
                Attention.unpartition(src, channels: d, win, x, accumulate: true)
            }
            Norm.layerNorm(x, t, rows: n, dim: d, weight: b.norm2.w.pointer, bias: b.norm2.b.pointer, eps: b.norm2.eps)
            let h = ws.buffer(Slot.mlp.rawValue, n * hidden)
            b.lin1(t, rows: n, h)
            Elementwise.gelu(h, n * hidden)
            Gemm.linear(h, rows: n, inFeatures: hidden, weight: b.lin2.w.pointer, bias: b.lin2.b?.pointer, outFeatures: d, x, accumulate: true)
        }
        Neck.run(tokens: x, count: n, dim: d, side: g, conv1: neck0, norm1: neck1, conv2: neck2, norm2: neck3, out, ws: ws)
    }
}

/// The encoders' shared neck: conv 1×1 (no bias) → LayerNorm2d → conv 3×3 (no bias) → LayerNorm2d.
enum Neck {
    static func run(tokens x: UnsafePointer<Float>, count n: Int, dim d: Int, side g: Int, conv1: Param, norm1: NormW,
                    conv2: ConvW, norm2: NormW, _ out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let oc = norm1.dim
        let t = ws.buffer(Slot.c.rawValue, oc * n)
        // [oc, n] = W[oc, d] · xᵀ: tokens are already the GEMM's transposed operand.
        Gemm.sgemm(transB: true, m: oc, n: n, k: d, a: conv1.pointer, lda: d, b: x, ldb: d, c: t, ldc: n)
        Norm.layerNorm2d(t, channels: oc, pixels: n, weight: norm1.w.pointer, bias: norm1.b.pointer, eps: norm1.eps)
        runConv(conv2, t, height: g, width: g, out, ws: ws, scratchSlot: Slot.conv.rawValue)
        Norm.layerNorm2d(out, channels: oc, pixels: n, weight: norm2.w.pointer, bias: norm2.b.pointer, eps: norm2.eps)
    }
}
