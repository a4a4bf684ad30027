import Foundation
import SegCore
import SegNN

/// `DotProductScoring` (model_misc.py): the prompt through a residual MLP and LayerNorm, mean-pooled
/// over its valid tokens and projected; each query projected; logit = their dot product / √d,
/// clamped to ±12.
struct SAM3Scoring: Sendable {
    static let prefix = "detector.dot_prod_scoring."
    let mlp: SAM3MLP, outNorm: NormW
    let promptProj: LinearW, hsProj: LinearW
    let dim: Int

    init(_ l: WeightLoader, dim d: Int) throws {
        let p = Self.prefix
        mlp = try SAM3MLP(l, p + "prompt_mlp", count: 2)
        outNorm = try l.norm(p + "prompt_mlp.out_norm", d, eps: 1e-5)
        promptProj = try l.linear(p + "prompt_proj", d, d)
        hsProj = try l.linear(p + "hs_proj", d, d)
        dim = d
    }

    func logits(queries: [Float], count nq: Int, prompt: [Float], promptValid: [Bool]) -> [Float] {
        let d = dim, np = promptValid.count
        var p = mlp(prompt, rows: np)
        for i in 0..<(np * d) { p[i] += prompt[i] }
        p.withUnsafeMutableBufferPointer { pp in
            if let b = pp.baseAddress { Norm.layerNorm(b, b, rows: np, dim: d, weight: outNorm.w.pointer, bias: outNorm.b.pointer, eps: outNorm.eps) }
        }
        var pooled = [Float](repeating: 0, count: d)
        let valid = promptValid.indices.filter { promptValid[$0] }
        for t in valid { for c in 0..<d { pooled[c] += p[t * d + c] } }
        let n = Float(max(valid.count, 1))
        for c in 0..<d { pooled[c] /= n }
        let pp = SAM3Geometry.project(promptProj, pooled)
        let scale = 1 / Float(d).squareRoot()
        return (0..<nq).map { q in
            let h = SAM3Geometry.project(hsProj, Array(queries[(q * d)..<((q + 1) * d)]))
            var s: Float = 0
            for c in 0..<d { s += h[c] * pp[c] }
            return min(max(s * scale, -12), 12)
        }
    }
}

/// `UniversalSegmentationHead` with its `PixelDecoder` (maskformer_segmentation.py): the encoder's
/// memory cross-attends to the prompt (residual), replaces the coarsest backbone level, and the
/// pixel decoder climbs the levels (nearest ×2, add, conv 3×3, GroupNorm(8), ReLU); a 1×1
/// convolution gives the instance embedding, and each query's mask is its MLP embedding dotted with it.
struct SAM3SegmentationHead: Sendable {
    static let prefix = "detector.segmentation_head."
    let crossAttn: SAM3MHA, crossNorm: NormW
    let convs: [ConvW]
    let norms: [NormW]
    let instance: ConvW
    let maskEmbed: SAM3MLP
    let dim: Int
    /// The convolutions as applied to the coarser stage's upsampled output (see `masks`).
    let upConvs: [SAM3UpConv]

    init(_ l: WeightLoader, dim d: Int, heads: Int) throws {
        let p = Self.prefix
        dim = d
        crossAttn = try SAM3MHA(l, p + "cross_attend_prompt", dim: d, heads: heads)
        crossNorm = try l.norm(p + "cross_attn_norm", d, eps: 1e-5)
        var convs: [ConvW] = [], norms: [NormW] = []
        while l.dict.has(p + "pixel_decoder.conv_layers.\(convs.count).weight") && convs.count < 8 {
            let i = convs.count
            convs.append(try l.conv(p + "pixel_decoder.conv_layers.\(i)", d, d, k: 3, pad: 1, bias: true))
            norms.append(try l.norm(p + "pixel_decoder.norms.\(i)", d, eps: 1e-5))
        }
        guard d % 8 == 0, !convs.isEmpty else { throw SegError(.invalid, file: l.dict.path, "SAM 3 segmentation head: no pixel decoder, or width \(d) not in 8 groups") }
        self.convs = convs
        self.norms = norms
        upConvs = convs.map { SAM3UpConv($0) }
        instance = try l.conv(p + "instance_seg_head", d, d, k: 1, bias: true)
        maskEmbed = try SAM3MLP(l, p + "mask_predictor.mask_embed", count: 3)
    }

    /// levels: the backbone's finer levels, finest first, channel-major ([d, 4g, 4g], [d, 2g, 2g]);
    /// memory [g·g, d] rows; queries [nq, d], of which `select` are wanted. Returns the selected
    /// queries' mask logits [select.count, 4g, 4g] and that side.
    /// `convolved`: the convolution (with its bias) of each level by its stage's 3×3 convolution,
    /// aligned with `levels`, when `prepare` made them (`SAM3Encoder.pixelConvs`): each stage's
    /// convolution of (level + upsampled coarser output) is then that plus `SAM3UpConv` of the
    /// coarser output at its own resolution (linear: the same values up to rounding).
    func masks(levels: [(data: [Float], side: Int)], convolved: consuming [[Float]]? = nil, memory: [Float], side g: Int, prompt: [Float],
               promptValid: [Bool], queries: [Float], select: [Int], ws: Workspace) -> (logits: [Float], side: Int) {
        let d = dim, n = g * g
        var enc = memory
        var t = [Float](repeating: 0, count: n * d)
        HieraProfile.time("seg head: cross-attention to the prompt") {
        enc.withUnsafeMutableBufferPointer { ep in
            t.withUnsafeMutableBufferPointer { tp in
                prompt.withUnsafeBufferPointer { pp in
                    guard let e = ep.baseAddress, let tb = tp.baseAddress, let pb = pp.baseAddress else { return }
                    Norm.layerNorm(e, tb, rows: n, dim: d, weight: crossNorm.w.pointer, bias: crossNorm.b.pointer, eps: crossNorm.eps)
                    crossAttn(q: tb, nq: n, k: pb, v: pb, nk: promptValid.count, keyValid: promptValid, into: e, accumulate: true, ws: ws,
                              phase: "  seg head cross-attention")
                }
            }
        }
        }
        var prev = [Float](repeating: 0, count: d * n)
        var side = g
        let hasConvolved = convolved != nil
        var pending = (consume convolved) ?? []
        HieraProfile.time("seg head: pixel decoder") {
            // The coarsest level, channel-major.
            for i in 0..<n { for c in 0..<d { prev[c * n + i] = enc[i * d + c] } }
            for (stage, level) in levels.reversed().enumerated() where stage < convs.count {
                let s = level.side
                if hasConvolved {
                    // SAM 3's levels are ×4, ×2 and ×1 of the grid (SAM3Encoder.forward makes them so).
                    precondition(pending.count == levels.count && s == 2 * side, "SAM 3 pixel decoder: levels not in steps of 2")
                    // Moved out of `pending` (not copied: the only reference left), then added to in place.
                    var out = pending[levels.count - 1 - stage]
                    pending[levels.count - 1 - stage] = []
                    prev.withUnsafeBufferPointer { pp in
                        out.withUnsafeMutableBufferPointer { op in
                            if let pb = pp.baseAddress, let ob = op.baseAddress { upConvs[stage].addInto(pb, side: side, ob, ws: ws) }
                        }
                    }
                    Self.groupNormReLU(&out, channels: d, pixels: s * s, groups: 8, norm: norms[stage])
                    prev = out
                    side = s
                    continue
                }
                var cur = level.data
                for c in 0..<d {
                    for y in 0..<s {
                        let sy = y * side / s
                        for x in 0..<s { cur[(c * s + y) * s + x] += prev[(c * side + sy) * side + x * side / s] }
                    }
                }
                var out = [Float](repeating: 0, count: d * s * s)
                cur.withUnsafeBufferPointer { cp in
                    out.withUnsafeMutableBufferPointer { op in
                        if let cb = cp.baseAddress, let ob = op.baseAddress {
                            runConv(convs[stage], cb, height: s, width: s, ob, ws: ws, scratchSlot: SAM3Slot.pix.rawValue)
                        }
                    }
                }
                Self.groupNormReLU(&out, channels: d, pixels: s * s, groups: 8, norm: norms[stage])
                prev = out
                side = s
            }
        }
        // instance_seg_head is a 1×1 convolution (W, b) and each mask the query's embedding e dotted
        // with its output: e·(W p + b) = (eᵀW)·p + e·b, so the embeddings go through W (k × d × d)
        // instead of every pixel (d × d per pixel), and only the selected queries' masks are made.
        let k = select.count, pixels = side * side
        var logits = [Float](repeating: 0, count: k * pixels)
        guard k > 0 else { return (logits, side) }
        HieraProfile.time("seg head: mask embeddings and products") {
            var chosen = [Float](repeating: 0, count: k * d)
            for (i, q) in select.enumerated() { for c in 0..<d { chosen[i * d + c] = queries[q * d + c] } }
            let emb = maskEmbed(chosen, rows: k)
            var folded = [Float](repeating: 0, count: k * d)
            emb.withUnsafeBufferPointer { eb in
                folded.withUnsafeMutableBufferPointer { fb in
                    guard let e = eb.baseAddress, let f = fb.baseAddress else { return }
                    Gemm.sgemm(m: k, n: d, k: d, a: e, lda: d, b: instance.w.pointer, ldb: d, c: f, ldc: d)
                }
            }
            folded.withUnsafeBufferPointer { fb in
                prev.withUnsafeBufferPointer { pb in
                    logits.withUnsafeMutableBufferPointer { lb in
                        guard let f = fb.baseAddress, let p = pb.baseAddress, let o = lb.baseAddress else { return }
                        for i in 0..<k {
                            var offset: Float = 0
                            if let b = instance.b { for c in 0..<d { offset += emb[i * d + c] * b[c] } }
                            (o + i * pixels).initialize(repeating: offset, count: pixels)
                        }
                        Gemm.sgemm(m: k, n: pixels, k: d, a: f, lda: d, b: p, ldb: pixels, beta: 1, c: o, ldc: pixels)
                    }
                }
            }
        }
        return (logits, side)
    }

    /// GroupNorm (eps 1e-5, affine) then ReLU, on channel-major x; the groups spread over the cores,
    /// each summed in one pass of Double sums in the order of the values (as before the spread).
    static func groupNormReLU(_ x: inout [Float], channels c: Int, pixels n: Int, groups: Int, norm: NormW) {
        let per = c / groups
        x.withUnsafeMutableBufferPointer { xb in
            guard let p = xb.baseAddress else { return }
            Threads.parallel(groups) { g in
                let lo = g * per * n, count = per * n
                var mean: Double = 0
                for i in 0..<count { mean += Double(p[lo + i]) }
                mean /= Double(count)
                var v: Double = 0
                for i in 0..<count { let t = Double(p[lo + i]) - mean; v += t * t }
                v /= Double(count)
                let inv = 1 / (v + Double(norm.eps)).squareRoot()
                for ch in (g * per)..<((g + 1) * per) {
                    let w = Double(norm.w[ch]), b = Double(norm.b[ch]), row = p + ch * n
                    for i in 0..<n {
                        let y = Float((Double(row[i]) - mean) * inv * w + b)
                        row[i] = max(y, 0)
                    }
                }
            }
        }
    }
}
