import SegCore
import SegNN

/// MobileSAM's TinyViT image encoder: a convolutional stem and stage (MBConv), then three stages of
/// windowed attention with TinyViT's learned attention biases and depthwise "local" convolutions,
/// with patch-merging convolutions between stages, and SAM's neck.
struct TinyViTEncoder: Sendable {
    struct MBConv: Sendable { let conv1: ConvW, conv2: ConvW, conv3: ConvW }
    struct Merge: Sendable { let conv1: ConvW, conv2: ConvW, conv3: ConvW }
    struct Block: Sendable {
        let norm: NormW, qkv: LinearW, proj: LinearW
        let bias: Param  // dense [heads, N, N] from attention_biases and the index table
        let heads: Int, keyDim: Int, window: Int
        let localConv: ConvW
        let localConvKC: Param  // the same weights as [k·k, C] for the channels-last kernel
        let mlpNorm: NormW, fc1: LinearW, fc2: LinearW
    }
    struct Stage: Sendable {
        let dim: Int, resolution: Int
        let convBlocks: [MBConv]
        let blocks: [Block]
        let merge: Merge?
        let mergeOut: Int, mergeResolution: Int
    }

    let config: SAMConfig.TinyViT
    let stem1: ConvW, stem2: ConvW
    let stages: [Stage]
    let neck0: Param, neck1: NormW, neck2: ConvW, neck3: NormW

    init(_ c: SAMConfig.TinyViT, _ l: WeightLoader) throws {
        config = c
        let p = "image_encoder."
        let dims = c.embedDims
        stem1 = try l.convBN(p + "patch_embed.seq.0", 3, dims[0] / 2, k: 3, stride: 2, pad: 1)
        stem2 = try l.convBN(p + "patch_embed.seq.2", dims[0] / 2, dims[0], k: 3, stride: 2, pad: 1)
        let patches = c.imageSize / 4
        var st: [Stage] = []
        for i in 0..<dims.count {
            let dim = dims[i]
            let res = patches / (1 << (i == 3 ? 2 : i))
            let lp = p + "layers.\(i)."
            var conv: [MBConv] = []
            var blocks: [Block] = []
            if i == 0 {
                let hidden = Int(Double(dim) * c.mbconvExpandRatio)
                for j in 0..<c.depths[i] {
                    let b = lp + "blocks.\(j)."
                    conv.append(MBConv(conv1: try l.convBN(b + "conv1", dim, hidden, k: 1),
                                       conv2: try l.convBN(b + "conv2", hidden, hidden, k: 3, pad: 1, depthwise: true),
                                       conv3: try l.convBN(b + "conv3", hidden, dim, k: 1)))
                }
            } else {
                let heads = c.numHeads[i], kd = dim / heads, ws = c.windowSizes[i]
                let hidden = Int(Double(dim) * c.mlpRatio)
                for j in 0..<c.depths[i] {
                    let b = lp + "blocks.\(j)."
                    let (_, distinct) = Attention.tinyViTBiasIndex(windowSize: ws)
                    let raw = try l.floats(b + "attn.attention_biases", [heads, distinct])
                    let table = Attention.tinyViTBiasTable(biases: raw, heads: heads, windowSize: ws)
                    let local = try l.convBN(b + "local_conv", dim, dim, k: c.localConvSize, pad: c.localConvSize / 2, depthwise: true)
                    let kk = c.localConvSize * c.localConvSize
                    var kc = [Float](repeating: 0, count: kk * dim)
                    for ch in 0..<dim { for t in 0..<kk { kc[t * dim + ch] = local.w[ch * kk + t] } }
                    blocks.append(Block(
                        norm: try l.norm(b + "attn.norm", dim, eps: 1e-5),
                        qkv: try l.linear(b + "attn.qkv", dim, 3 * dim), proj: try l.linear(b + "attn.proj", dim, dim),
                        bias: l.store.add(table, shape: [heads, ws * ws, ws * ws]),
                        heads: heads, keyDim: kd, window: ws,
                        localConv: local, localConvKC: l.store.add(kc, shape: [kk, dim]),
                        mlpNorm: try l.norm(b + "mlp.norm", dim, eps: 1e-5),
                        fc1: try l.linear(b + "mlp.fc1", dim, hidden), fc2: try l.linear(b + "mlp.fc2", hidden, dim)))
                }
            }
            var merge: Merge?
            var outDim = dim, outRes = res
            if i < dims.count - 1 {
                outDim = dims[i + 1]
                // The reference keeps the resolution for these widths (the last merge of the SAM variants).
                let stride = [320, 448, 576].contains(outDim) ? 1 : 2
                outRes = (res + 2 - 3) / stride + 1
                let m = lp + "downsample."
                merge = Merge(conv1: try l.convBN(m + "conv1", dim, outDim, k: 1),
                              conv2: try l.convBN(m + "conv2", outDim, outDim, k: 3, stride: stride, pad: 1, depthwise: true),
                              conv3: try l.convBN(m + "conv3", outDim, outDim, k: 1))
            }
            st.append(Stage(dim: dim, resolution: res, convBlocks: conv, blocks: blocks, merge: merge, mergeOut: outDim, mergeResolution: outRes))
        }
        stages = st
        let last = dims[dims.count - 1], out = c.outChans
        neck0 = try l.param(p + "neck.0.weight", [out, last, 1, 1])
        neck1 = try l.norm(p + "neck.1", out, eps: 1e-6)
        neck2 = try l.conv(p + "neck.2", out, out, k: 3, pad: 1, bias: false)
        neck3 = try l.norm(p + "neck.3", out, eps: 1e-6)
    }

    var grid: Int { stages.last?.mergeResolution ?? 0 }

    func forward(_ image: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let s = config.imageSize
        let dims = config.embedDims
        // x and y ping-pong between two buffers big enough for every stage (the stem's output is
        // the largest map); they are fetched once here so no later request can move them.
        var biggest = dims[0] / 2 * (s / 2) * (s / 2)
        for (i, st) in stages.enumerated() {
            biggest = max(biggest, st.dim * st.resolution * st.resolution, st.mergeOut * st.resolution * st.resolution)
            if i == 0 { biggest = max(biggest, dims[0] * (s / 4) * (s / 4)) }
        }
        var x = ws.buffer(Slot.a.rawValue, biggest)
        runConv(stem1, image, height: s, width: s, x, ws: ws, scratchSlot: Slot.conv.rawValue)
        Elementwise.gelu(x, dims[0] / 2 * (s / 2) * (s / 2))
        var res = s / 4
        var y = ws.buffer(Slot.b.rawValue, biggest)
        runConv(stem2, x, height: s / 2, width: s / 2, y, ws: ws, scratchSlot: Slot.conv.rawValue)
        swap(&x, &y)  // x: NCHW [C, res, res]
        var tokens = false  // x holds tokens [L, C] (attention stages) instead of NCHW
        for stage in stages {
            let c = stage.dim, pix = res * res
            for mb in stage.convBlocks {
                let hidden = mb.conv1.outC
                let t1 = ws.buffer(Slot.c.rawValue, hidden * pix), t2 = ws.buffer(Slot.d.rawValue, hidden * pix)
                runConv(mb.conv1, x, height: res, width: res, t1, ws: ws, scratchSlot: Slot.conv.rawValue)
                Elementwise.gelu(t1, hidden * pix)
                runConv(mb.conv2, t1, height: res, width: res, t2, ws: ws, scratchSlot: Slot.conv.rawValue)
                Elementwise.gelu(t2, hidden * pix)
                runConv(mb.conv3, t2, height: res, width: res, y, ws: ws, scratchSlot: Slot.conv.rawValue)
                Elementwise.add(y, x, c * pix)
                Elementwise.gelu(y, c * pix)
                swap(&x, &y)
            }
            if !stage.blocks.isEmpty && !tokens {
                transpose(x, rows: c, cols: pix, y)
                swap(&x, &y)
                tokens = true
            }
            for b in stage.blocks { block(b, x, dim: c, res: res, ws: ws) }
            if let m = stage.merge {
                if tokens {
                    transpose(x, rows: pix, cols: c, y)
                    swap(&x, &y)
                    tokens = false
                }
                let o = stage.mergeOut, r2 = stage.mergeResolution
                let t1 = ws.buffer(Slot.c.rawValue, o * pix), t2 = ws.buffer(Slot.d.rawValue, o * r2 * r2)
                runConv(m.conv1, x, height: res, width: res, t1, ws: ws, scratchSlot: Slot.conv.rawValue)
                Elementwise.gelu(t1, o * pix)
                runConv(m.conv2, t1, height: res, width: res, t2, ws: ws, scratchSlot: Slot.conv.rawValue)
                Elementwise.gelu(t2, o * r2 * r2)
                runConv(m.conv3, t2, height: r2, width: r2, y, ws: ws, scratchSlot: Slot.conv.rawValue)
                // The merge hands tokens [L, C] to the next (attention) stage.
                transpose(y, rows: o, cols: r2 * r2, x)
                tokens = true
                res = r2
            }
        }
        let last = dims[dims.count - 1]
        if !tokens {
            transpose(x, rows: last, cols: res * res, y)
            swap(&x, &y)
        }
        Neck.run(tokens: x, count: res * res, dim: last, side: res, conv1: neck0, norm1: neck1, conv2: neck2, norm2: neck3, out, ws: ws)
    }

    /// One TinyViT block on tokens x [res², C], in place.
    private func block(_ b: Block, _ x: UnsafeMutablePointer<Float>, dim c: Int, res: Int, ws: Workspace) {
        let win = Attention.Windows(height: res, width: res, size: b.window)
        let per = win.tokensPerWindow, total = win.totalTokens
        let p = ws.buffer(Slot.e.rawValue, total * c)
        Attention.partition(x, channels: c, win, p)
        // The block's LayerNorm sits inside its attention, after the zero padding: padded tokens
        // become the norm's bias, as in the reference.
        Norm.layerNorm(p, p, rows: total, dim: c, weight: b.norm.w.pointer, bias: b.norm.b.pointer, eps: b.norm.eps)
        let qkv = ws.buffer(Slot.qkv.rawValue, total * 3 * c)
        b.qkv(p, rows: total, qkv)
        let o = ws.buffer(Slot.out.rawValue, total * c)
        let scratch = ws.buffer(Slot.attn.rawValue, Attention.scratchCount(queries: per, keys: per))
        let kd = b.keyDim, hs = 3 * kd
        let bias = b.bias.pointer
        let hook: Attention.BiasHook = { h, r0, nr, s, ld in
            let table = bias + h * per * per + r0 * per
            for i in 0..<(nr * per) { s[i] += table[i] }
            _ = ld
        }
        for w in 0..<win.count {
            let q = qkv + w * per * 3 * c
            Attention.multiHead(q: q, ldq: 3 * c, k: q + kd, ldk: 3 * c, v: q + 2 * kd, ldv: 3 * c, queries: per, keys: per,
                                heads: b.heads, headDim: kd, valueDim: kd, scale: 1 / Float(kd).squareRoot(),
                                out: o + w * per * c, ldo: c, scratch: scratch, bias: hook,
                                qHeadStride: hs, kHeadStride: hs, vHeadStride: hs)
        }
        b.proj(o, rows: total, p)
        Attention.unpartition(p, channels: c, win, x, accumulate: true)
        // Local depthwise conv (no residual), then the MLP with its residual.
        let pix = res * res
        let t = ws.buffer(Slot.f.rawValue, pix * c)
        t.update(from: x, count: pix * c)
        Conv.depthwiseChannelsLast(t, channels: c, height: res, width: res, kernel: b.localConv.k, padding: b.localConv.pad,
                                   weightKC: b.localConvKC.pointer, bias: b.localConv.b?.pointer, x)
        Norm.layerNorm(x, t, rows: pix, dim: c, weight: b.mlpNorm.w.pointer, bias: b.mlpNorm.b.pointer, eps: b.mlpNorm.eps)
        let hidden = b.fc1.outF
        let h = ws.buffer(Slot.mlp.rawValue, pix * hidden)
        b.fc1(t, rows: pix, h)
        Elementwise.gelu(h, pix * hidden)
        Gemm.linear(h, rows: pix, inFeatures: hidden, weight: b.fc2.w.pointer, bias: b.fc2.b?.pointer, outFeatures: c, x, accumulate: true)
    }
}
