import Foundation
import SegCore
import SegNN

/// A `model_misc.MLP`: linear layers with ReLU between them (none after the last).
struct SAM3MLP: Sendable {
    let layers: [LinearW]

    init(_ l: WeightLoader, _ prefix: String, count: Int) throws {
        var layers: [LinearW] = []
        for i in 0..<count {
            let s = try l.shape(prefix + ".layers.\(i).weight")
            guard s.count == 2, s[0] > 0, s[1] > 0 else { throw SegError(.invalid, file: l.dict.path, "\(prefix).layers.\(i).weight is \(s)") }
            layers.append(try l.linear(prefix + ".layers.\(i)", s[1], s[0]))
        }
        self.layers = layers
    }

    var outDim: Int { layers.last?.outF ?? 0 }

    /// rows × in → rows × out (row-major arrays).
    func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        var cur = x
        for (i, layer) in layers.enumerated() {
            var y = [Float](repeating: 0, count: rows * layer.outF)
            cur.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    if let xb = xp.baseAddress, let yb = yp.baseAddress { layer(xb, rows: rows, yb) }
                }
            }
            if i + 1 < layers.count { for j in y.indices where y[j] < 0 { y[j] = 0 } }
            cur = y
        }
        return cur
    }
}

/// The DETR-style decoder (decoder.py `TransformerDecoder` with `TransformerDecoderLayer`, as
/// model_builder builds it, in eval: no divide-and-conquer queries): learned queries and reference
/// boxes, a presence token prepended to the queries' self-attention, cross-attention to the prompt
/// and to the image with the log-scaled box-relative position bias (boxRPB), box refinement after
/// every layer. Post-norm layers.
struct SAM3Decoder: Sendable {
    struct Layer: Sendable {
        let selfAttn: SAM3MHA, textAttn: SAM3MHA, imageAttn: SAM3MHA
        let norm1: NormW, norm2: NormW, norm3: NormW, textNorm: NormW
        let linear1: LinearW, linear2: LinearW
        /// linear1 and linear2 packed for `PackedLinear`; nil when its kernel does not run here.
        let ffnPacked: (w1: PackedLinear, w2: PackedLinear)?
    }

    static let prefix = "detector.transformer.decoder."

    let layers: [Layer]
    let norm: NormW
    let queries: Param          // [nq, d]
    let referencePoints: Param  // [nq, 4] before sigmoid
    let presenceToken: Param    // [1, d]
    let presenceHead: SAM3MLP, presenceNorm: NormW
    let bboxEmbed: SAM3MLP, refPointHead: SAM3MLP
    let rpbX: SAM3MLP, rpbY: SAM3MLP
    let dim: Int, heads: Int, count: Int

    init(_ l: WeightLoader, dim d: Int, heads: Int) throws {
        let p = Self.prefix
        dim = d
        self.heads = heads
        let q = try l.shape(p + "query_embed.weight")
        guard q.count == 2, q[1] == d, q[0] > 0 else { throw SegError(.invalid, file: l.dict.path, "\(p)query_embed.weight is \(q)") }
        count = q[0]
        queries = try l.param(p + "query_embed.weight", [count, d])
        referencePoints = try l.param(p + "reference_points.weight", [count, 4])
        presenceToken = try l.param(p + "presence_token.weight", [1, d])
        presenceHead = try SAM3MLP(l, p + "presence_token_head", count: 3)
        presenceNorm = try l.norm(p + "presence_token_out_norm", d, eps: 1e-5)
        bboxEmbed = try SAM3MLP(l, p + "bbox_embed", count: 3)
        refPointHead = try SAM3MLP(l, p + "ref_point_head", count: 2)
        rpbX = try SAM3MLP(l, p + "boxRPB_embed_x", count: 2)
        rpbY = try SAM3MLP(l, p + "boxRPB_embed_y", count: 2)
        guard rpbX.outDim == heads, rpbY.outDim == heads, bboxEmbed.outDim == 4, presenceHead.outDim == 1, refPointHead.outDim == d else {
            throw SegError(.invalid, file: l.dict.path, "SAM 3 decoder: head sizes do not match \(heads) heads of width \(d)")
        }
        norm = try l.norm(p + "norm", d, eps: 1e-5)
        var layers: [Layer] = []
        while l.dict.has(p + "layers.\(layers.count).norm1.weight") && layers.count < 64 {
            let b = p + "layers.\(layers.count)."
            let hidden = try l.shape(b + "linear1.weight").first ?? 0
            let linear1 = try l.linear(b + "linear1", d, hidden), linear2 = try l.linear(b + "linear2", hidden, d)
            let packed = PackedLinear.available
                ? (PackedLinear(weight: linear1.w.pointer, outFeatures: hidden, inFeatures: d, store: l.store),
                   PackedLinear(weight: linear2.w.pointer, outFeatures: d, inFeatures: hidden, store: l.store))
                : nil
            layers.append(Layer(selfAttn: try SAM3MHA(l, b + "self_attn", dim: d, heads: heads),
                                textAttn: try SAM3MHA(l, b + "ca_text", dim: d, heads: heads),
                                imageAttn: try SAM3MHA(l, b + "cross_attn", dim: d, heads: heads, packed: true),
                                norm1: try l.norm(b + "norm1", d, eps: 1e-5), norm2: try l.norm(b + "norm2", d, eps: 1e-5),
                                norm3: try l.norm(b + "norm3", d, eps: 1e-5), textNorm: try l.norm(b + "catext_norm", d, eps: 1e-5),
                                linear1: linear1, linear2: linear2, ffnPacked: packed))
        }
        guard !layers.isEmpty else { throw SegError(.invalid, file: l.dict.path, "SAM 3 decoder has no layers") }
        self.layers = layers
    }

    struct Output: Sendable {
        /// The last layer's normed queries [nq, d].
        var queries: [Float]
        /// Boxes (cx, cy, w, h), normalised, after the last refinement [nq, 4].
        var boxes: [Float]
        /// The reference boxes the last layer started from [nq, 4].
        var lastReference: [Float]
        var presenceLogit: Float
    }

    /// memory [h·w, d] with its positions, the prompt [p, d] with its valid tokens.
    func run(memory: UnsafePointer<Float>, memoryPos: UnsafePointer<Float>, height h: Int, width w: Int,
             prompt: [Float], promptValid: [Bool], ws: Workspace) -> Output {
        let d = dim, nq = count, n = nq + 1, hw = h * w
        // Rows 0 = presence token, 1... = queries.
        var x = [Float](repeating: 0, count: n * d)
        for c in 0..<d { x[c] = presenceToken[c] }
        for i in 0..<(nq * d) { x[d + i] = queries[i] }
        var ref = (0..<(nq * 4)).map { 1 / (1 + expf(-referencePoints[$0])) }
        var lastRef = ref
        var normed = [Float](repeating: 0, count: nq * d)
        var presence: Float = 0
        let keys = ws.buffer(SAM3Slot.decPos.rawValue, hw * d)
        HieraProfile.time("  decoder keys") { Elementwise.sum(keys, memory, memoryPos, hw * d) }
        for layer in layers {
            lastRef = ref
            let qpos = HieraProfile.time("  decoder query positions and box bias") {
                [Float](repeating: 0, count: d) + refPointHead(Self.sineBoxes(ref, count: nq, dim: d), rows: nq)
            }
            let bias = HieraProfile.time("  decoder query positions and box bias") { rpb(ref, height: h, width: w) }
            prompt.withUnsafeBufferPointer { pp in
                x.withUnsafeMutableBufferPointer { xp in
                    guard let xb = xp.baseAddress, let pb = pp.baseAddress else { return }
                    step(layer, xb, n: n, qpos: qpos, prompt: pb, promptCount: promptValid.count, promptValid: promptValid,
                         memory: memory, keys: keys, hw: hw, bias: bias, ws: ws)
                }
            }
            // Box refinement from the normed queries.
            HieraProfile.time("  decoder box refinement, presence") {
            for r in 0..<nq {
                for c in 0..<d { normed[r * d + c] = x[(r + 1) * d + c] }
            }
            normed.withUnsafeMutableBufferPointer { np in
                if let nb = np.baseAddress { Norm.layerNorm(nb, nb, rows: nq, dim: d, weight: norm.w.pointer, bias: norm.b.pointer, eps: norm.eps) }
            }
            let delta = bboxEmbed(normed, rows: nq)
            for i in 0..<(nq * 4) { ref[i] = 1 / (1 + expf(-(delta[i] + Self.inverseSigmoid(ref[i])))) }
            var pres = Array(x[0..<d])
            pres.withUnsafeMutableBufferPointer { pp in
                if let pb = pp.baseAddress { Norm.layerNorm(pb, pb, rows: 1, dim: d, weight: presenceNorm.w.pointer, bias: presenceNorm.b.pointer, eps: presenceNorm.eps) }
            }
            // (The official clamp of this logit is not in place and has no effect.)
            presence = presenceHead(pres, rows: 1)[0]
            }
        }
        return Output(queries: normed, boxes: ref, lastReference: lastRef, presenceLogit: presence)
    }

    /// One post-norm layer on x [n, d] (presence row first).
    private func step(_ L: Layer, _ x: UnsafeMutablePointer<Float>, n: Int, qpos: [Float], prompt: UnsafePointer<Float>, promptCount: Int,
                      promptValid: [Bool], memory: UnsafePointer<Float>, keys: UnsafePointer<Float>, hw: Int, bias: RPB, ws: Workspace) {
        let d = dim
        let q = ws.buffer(SAM3Slot.decT.rawValue, n * d)
        qpos.withUnsafeBufferPointer { qp in
            guard let qb = qp.baseAddress else { return }
            Elementwise.sum(q, x, qb, n * d)
            L.selfAttn(q: q, nq: n, k: q, v: x, nk: n, into: x, accumulate: true, ws: ws, phase: "  decoder self/text attention")
            Norm.layerNorm(x, x, rows: n, dim: d, weight: L.norm2.w.pointer, bias: L.norm2.b.pointer, eps: L.norm2.eps)
            Elementwise.sum(q, x, qb, n * d)
            L.textAttn(q: q, nq: n, k: prompt, v: prompt, nk: promptCount, keyValid: promptValid, into: x, accumulate: true, ws: ws,
                       phase: "  decoder self/text attention")
            Norm.layerNorm(x, x, rows: n, dim: d, weight: L.textNorm.w.pointer, bias: L.textNorm.b.pointer, eps: L.textNorm.eps)
            Elementwise.sum(q, x, qb, n * d)
        }
        let nq = n - 1, w = bias.width, h = bias.height
        bias.x.withUnsafeBufferPointer { xp in
            bias.y.withUnsafeBufferPointer { yp in
                guard let bx = xp.baseAddress, let by = yp.baseAddress else { return }
                // The presence row (0) has no bias; query row r takes head's (y, x) term of query r - 1,
                // added to the logits row by row (the [heads, nq, h·w] table is never written out).
                let hook: Attention.BiasHook = { head, r0, rows, s, ld in
                    for r in 0..<rows where r0 + r > 0 {
                        let q = r0 + r - 1
                        let ex = bx + (head * nq + q) * w, ey = by + (head * nq + q) * h
                        let dst = s + r * ld
                        for yy in 0..<h {
                            let b = ey[yy], row = dst + yy * w
                            for xx in 0..<w { row[xx] += b + ex[xx] }
                        }
                    }
                }
                let factored = Attention.FactoredBias(y: by, x: bx, height: h, width: w, headStrideY: nq * h, headStrideX: nq * w, firstRow: 1)
                L.imageAttn(q: q, nq: n, k: keys, v: memory, nk: hw, bias: hook, factoredBias: factored, into: x, accumulate: true, ws: ws,
                            phase: "  decoder image attention")
            }
        }
        HieraProfile.time("  decoder FFN") {
        Norm.layerNorm(x, x, rows: n, dim: d, weight: L.norm1.w.pointer, bias: L.norm1.b.pointer, eps: L.norm1.eps)
        if let packed = L.ffnPacked, PackedLinear.available {
            // Blocks of rows, each block's hidden values made and used by one core (x read by a
            // block before the block's rows of x are written).
            SAM3FFN.packedRowBlocks(x, x, rows: n, dim: d, packed: packed, b1: L.linear1.b?.pointer, b2: L.linear2.b?.pointer, ws: ws)
        } else {
            let hidden = ws.buffer(SAM3Slot.mlp.rawValue, n * L.linear1.outF)
            L.linear1(x, rows: n, hidden)
            Elementwise.relu(hidden, n * L.linear1.outF)
            Gemm.linear(hidden, rows: n, inFeatures: L.linear1.outF, weight: L.linear2.w.pointer, bias: L.linear2.b?.pointer, outFeatures: d, x,
                        accumulate: true)
        }
        Norm.layerNorm(x, x, rows: n, dim: d, weight: L.norm3.w.pointer, bias: L.norm3.b.pointer, eps: L.norm3.eps)
        }
    }

    /// `_get_rpb_matrix` with boxRPB "log", factored: the bias of head, query, (y, x) is y[head][query][y] + x[head][query][x].
    struct RPB { var x: [Float], y: [Float]; let width: Int, height: Int }

    func rpb(_ ref: [Float], height h: Int, width w: Int) -> RPB {
        let nq = count, H = heads
        var dx = [Float](repeating: 0, count: nq * w * 2), dy = [Float](repeating: 0, count: nq * h * 2)
        func logScale(_ v: Float) -> Float {
            let s = v * 8
            return (s > 0 ? 1 : s < 0 ? -1 : 0) * log2f(abs(s) + 1) / 3
        }
        for q in 0..<nq {
            let cx = ref[q * 4], cy = ref[q * 4 + 1], bw = ref[q * 4 + 2], bh = ref[q * 4 + 3]
            let x0 = cx - 0.5 * bw, y0 = cy - 0.5 * bh, x1 = cx + 0.5 * bw, y1 = cy + 0.5 * bh
            for i in 0..<w {
                let c = Float(i) / Float(w)
                dx[(q * w + i) * 2] = logScale(c - x0)
                dx[(q * w + i) * 2 + 1] = logScale(c - x1)
            }
            for i in 0..<h {
                let c = Float(i) / Float(h)
                dy[(q * h + i) * 2] = logScale(c - y0)
                dy[(q * h + i) * 2 + 1] = logScale(c - y1)
            }
        }
        return RPB(x: Self.headMajor(rpbX, dx, queries: nq, per: w, heads: H), y: Self.headMajor(rpbY, dy, queries: nq, per: h, heads: H),
                   width: w, height: h)
    }

    /// A boxRPB MLP (Linear(2, hidden), ReLU, Linear(hidden, heads)) on the [queries · per, 2] pairs,
    /// written head-major: out[(head · queries + q) · per + i]. By blocks of rows spread over the
    /// cores, each block's hidden values (in cache) computed in place and multiplied at once: 14 400
    /// rows per grid axis per layer, whose [rows, hidden] matrices the plain MLP allocated (15 MB,
    /// page faults and all) and went through three times.
    static func headMajor(_ mlp: SAM3MLP, _ pairs: [Float], queries nq: Int, per: Int, heads H: Int) -> [Float] {
        let rows = nq * per
        guard mlp.layers.count == 2, mlp.layers[0].inF == 2, mlp.layers[1].outF == H, let b1 = mlp.layers[0].b?.pointer else {
            let e = mlp(pairs, rows: rows)   // [rows, H]
            var out = [Float](repeating: 0, count: H * rows)
            for head in 0..<H { for r in 0..<rows { out[(r / per + head * nq) * per + r % per] = e[r * H + head] } }
            return out
        }
        let l1 = mlp.layers[0], l2 = mlp.layers[1], hid = l1.outF
        // The first layer's two weight columns, contiguous.
        let c0 = (0..<hid).map { l1.w[$0 * 2] }, c1 = (0..<hid).map { l1.w[$0 * 2 + 1] }
        let qPerBlock = max(1, 256 / max(per, 1)), blocks = (nq + qPerBlock - 1) / qPerBlock
        let blockRows = qPerBlock * per
        var out = [Float](repeating: 0, count: H * rows)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: SerialBLAS.workers * blockRows * (hid + H))
        defer { scratch.deallocate() }
        out.withUnsafeMutableBufferPointer { ob in
            pairs.withUnsafeBufferPointer { pb in
                c0.withUnsafeBufferPointer { c0b in
                    c1.withUnsafeBufferPointer { c1b in
                        guard let o = ob.baseAddress, let p = pb.baseAddress, let w0 = c0b.baseAddress, let w1 = c1b.baseAddress else { return }
                        let w2 = l2.w.pointer, b2 = l2.b?.pointer
                        SerialBLAS.forEach(blocks) { b, worker in
                            let q0 = b * qPerBlock, q1 = min(nq, q0 + qPerBlock), r0 = q0 * per, m = (q1 - q0) * per
                            let hb = scratch + worker * blockRows * (hid + H), e = hb + blockRows * hid
                            for r in 0..<m {
                                let a = p[(r0 + r) * 2], c = p[(r0 + r) * 2 + 1], row = hb + r * hid
                                for j in 0..<hid { let v = b1[j] + (w0[j] * a + w1[j] * c); row[j] = v > 0 ? v : 0 }
                            }
                            Gemm.sgemm(transB: true, m: m, n: H, k: hid, a: hb, lda: hid, b: w2, ldb: hid, c: e, ldc: H)
                            for r in 0..<m {
                                let q = q0 + r / per, i = r % per
                                for head in 0..<H { o[(head * nq + q) * per + i] = e[r * H + head] + (b2?[head] ?? 0) }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `gen_sineembed_for_position` of (cx, cy, w, h) boxes: [pos_y, pos_x, pos_w, pos_h], each d/2.
    static func sineBoxes(_ ref: [Float], count: Int, dim d: Int) -> [Float] {
        let half = d / 2, scale = 2 * Float.pi
        let dimT = (0..<half).map { powf(10000, Float(2 * ($0 / 2)) / Float(half)) }
        var out = [Float](repeating: 0, count: count * 2 * d)
        for q in 0..<count {
            for (slot, comp) in [1, 0, 2, 3].enumerated() {
                let v = ref[q * 4 + comp] * scale
                for i in 0..<half {
                    let p = v / dimT[i]
                    out[q * 2 * d + slot * half + i] = i % 2 == 0 ? sinf(p) : cosf(p)
                }
            }
        }
        return out
    }

    static func inverseSigmoid(_ v: Float) -> Float {
        let x = min(max(v, 0), 1)
        return logf(max(x, 1e-3) / max(1 - x, 1e-3))
    }
}
