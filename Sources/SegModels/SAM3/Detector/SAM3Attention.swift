import Foundation
import SegCore
import SegNN

/// `nn.MultiheadAttention` as the detector's layers use it (packed `in_proj_weight` [3d, d] and
/// bias, `out_proj`), on row-major token matrices; keys masked out (`key_padding_mask`) get -∞.
struct SAM3MHA: Sendable {
    let inW: Param, inB: Param
    let out: LinearW
    let dim: Int, heads: Int
    /// in_proj and out_proj packed for `PackedLinear` (projections of the 5 184 image tokens), when
    /// asked for and the packed kernel runs on this CPU.
    let packedIn: PackedLinear?, packedOut: PackedLinear?

    init(_ l: WeightLoader, _ prefix: String, dim d: Int, heads: Int, packed: Bool = false) throws {
        guard heads > 0, d % heads == 0 else { throw SegError(.invalid, file: l.dict.path, "\(prefix): width \(d) does not split into \(heads) heads") }
        inW = try l.param(prefix + ".in_proj_weight", [3 * d, d])
        inB = try l.param(prefix + ".in_proj_bias", [3 * d])
        out = try l.linear(prefix + ".out_proj", d, d)
        dim = d
        self.heads = heads
        let pack = packed && PackedLinear.available && d % PackedLinear.panel == 0
        packedIn = pack ? PackedLinear(weight: inW.pointer, outFeatures: 3 * d, inFeatures: d, store: l.store) : nil
        packedOut = pack ? PackedLinear(weight: out.w.pointer, outFeatures: d, inFeatures: d, store: l.store) : nil
    }

    /// y = x·W_partᵀ + b_part for in_proj's part 0 (q), 1 (k) or 2 (v): packed over row blocks for
    /// many rows when packed, else `SAM3Linear`.
    private func project(_ x: UnsafePointer<Float>, rows: Int, part: Int, _ y: UnsafeMutablePointer<Float>) {
        let d = dim
        if rows >= 1024, let packedIn, PackedLinear.available {
            packedIn.applyRows(x, ldx: d, rows: rows, bias: inB.pointer, y, ldy: d, .bias, outputs: part * d..<(part + 1) * d)
        } else {
            SAM3Linear.apply(x, rows: rows, weight: inW.pointer + part * d * d, bias: inB.pointer + part * d, inF: d, outF: d, y)
        }
    }

    /// y (+)= x·Woᵀ + bo, as `project`.
    private func projectOut(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let d = dim
        if rows >= 1024, let packedOut, PackedLinear.available {
            packedOut.applyRows(x, ldx: d, rows: rows, bias: out.b?.pointer, y, ldy: d, accumulate ? .accumulate : .bias)
        } else {
            SAM3Linear.apply(x, rows: rows, weight: out.w.pointer, bias: out.b?.pointer, inF: d, outF: d, y, accumulate: accumulate)
        }
    }

    /// y (+)= attention(q, k, v): q [nq, d], k and v [nk, d] before their projections.
    /// `keyValid` false keys take no part; `bias` adds to each head's logits (the decoder's box bias).
    /// `phase` names the profile entries (`segterm bench text --phases`) of the projections and the attention.
    func callAsFunction(q: UnsafePointer<Float>, nq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, nk: Int,
                        keyValid: [Bool]? = nil, bias: Attention.BiasHook? = nil, factoredBias: Attention.FactoredBias? = nil,
                        into y: UnsafeMutablePointer<Float>, accumulate: Bool, ws: Workspace, phase: String = "  decoder and geometry attention") {
        let d = dim, dh = d / heads
        if bias == nil && factoredBias == nil && nq >= 64 && nk <= SAM3MHA.foldedMaxKeys {
            let valid = keyValid.map { m in m.indices.filter { m[$0] } } ?? Array(0..<nk)
            if !valid.isEmpty {
                folded(q: q, nq: nq, k: k, v: v, keys: valid, into: y, accumulate: accumulate, ws: ws, phase: phase)
                return
            }
        }
        if bias == nil && factoredBias == nil && keyValid == nil && nq <= SAM3MHA.foldedMaxQueries && nk >= 64 {
            foldedQueries(q: q, nq: nq, k: k, v: v, nk: nk, into: y, accumulate: accumulate, ws: ws, phase: phase)
            return
        }
        let Q = ws.buffer(SAM3Slot.q.rawValue, nq * d), K = ws.buffer(SAM3Slot.k.rawValue, nk * d)
        let V = ws.buffer(SAM3Slot.v.rawValue, nk * d), O = ws.buffer(SAM3Slot.o.rawValue, nq * d)
        HieraProfile.time(phase + ": projections") { project(q, rows: nq, part: 0, Q) }
        HieraProfile.time(phase + (nk < nq ? ": projections of the keys" : ": projections")) {
            project(k, rows: nk, part: 1, K)
            project(v, rows: nk, part: 2, V)
        }
        let masked: [Int] = keyValid.map { m in m.indices.filter { !m[$0] } } ?? []
        let hook: Attention.BiasHook? = (masked.isEmpty && bias == nil) ? nil : { h, r0, rows, s, ld in
            bias?(h, r0, rows, s, ld)
            for r in 0..<rows { for j in masked { s[r * ld + j] = -1e30 } }
        }
        HieraProfile.time(phase + ": QKᵀ, softmax, ·V") {
            if let factoredBias, masked.isEmpty && nk >= 1024 && Attention.fusedAvailable(headDim: dh, valueDim: dh) {
                // The decoder's attention to the image with its box bias (the same values as `bias`
                // adds), fused: blocks of query rows of every head spread over the cores.
                let scratch = ws.buffer(SAM3Slot.scores.rawValue, Attention.fusedScratchCount(keys: nk, heads: heads))
                Attention.fusedSpread(q: Q, ldq: d, k: K, ldk: d, v: V, ldv: d, queries: nq, keys: nk, heads: heads,
                                      scale: 1 / Float(dh).squareRoot(), out: O, ldo: d, scratch: scratch, bias: factoredBias)
            } else if hook == nil && nq >= 1024 && nk >= 1024 && Attention.fusedAvailable(headDim: dh, valueDim: dh) {
                // The fusion encoder's self-attention over the image tokens, fused (the logits of a
                // block of 128 keys stay in L1) and spread over the cores by blocks of query rows.
                let scratch = ws.buffer(SAM3Slot.scores.rawValue, Attention.fusedScratchCount(keys: nk, heads: heads))
                Attention.fusedSpread(q: Q, ldq: d, k: K, ldk: d, v: V, ldv: d, queries: nq, keys: nk, heads: heads,
                                      scale: 1 / Float(dh).squareRoot(), out: O, ldo: d, scratch: scratch)
            } else if hook == nil && SerialBLAS.workers > 1 && nq >= 1024 && nk >= 1024 {
                // The fusion encoder's self-attention over the image tokens: each head's blocks of
                // query rows on one core with single-threaded products (as SAM 2.1's global blocks);
                // OpenBLAS's own split of each product left the second core waiting at its end.
                let per = Attention.scratchCount(queries: nq, keys: nk, blockFloats: SAM3MHA.blockFloats)
                let scratch = ws.buffer(SAM3Slot.scores.rawValue, per * SerialBLAS.workers)
                Attention.multiHeadSpread(q: Q, ldq: d, k: K, ldk: d, v: V, ldv: d, queries: nq, keys: nk, heads: heads, headDim: dh,
                                          valueDim: dh, scale: 1 / Float(dh).squareRoot(), out: O, ldo: d, scratch: scratch,
                                          blockFloats: SAM3MHA.blockFloats)
            } else if bias == nil && SerialBLAS.workers > 1 && nq >= 1024 {
                // The image tokens' cross-attention to the prompt (a few dozen keys, some masked: the
                // hook does not depend on the rows): blocks of rows spread over the cores, each with
                // single-threaded products, instead of OpenBLAS's own split of each small product.
                let block = 512, blocks = (nq + block - 1) / block
                let per = Attention.scratchCount(queries: block, keys: nk)
                let scratch = ws.buffer(SAM3Slot.scores.rawValue, per * SerialBLAS.workers)
                SerialBLAS.forEach(blocks) { b, worker in
                    let r0 = b * block, nr = min(block, nq - r0)
                    Attention.multiHead(q: Q + r0 * d, ldq: d, k: K, ldk: d, v: V, ldv: d, queries: nr, keys: nk, heads: heads, headDim: dh,
                                        valueDim: dh, scale: 1 / Float(dh).squareRoot(), out: O + r0 * d, ldo: d, scratch: scratch + worker * per,
                                        bias: hook, oneCore: true)
                }
            } else {
                let scratch = ws.buffer(SAM3Slot.scores.rawValue, Attention.scratchCount(queries: nq, keys: nk))
                Attention.multiHead(q: Q, ldq: d, k: K, ldk: d, v: V, ldv: d, queries: nq, keys: nk, heads: heads, headDim: dh, valueDim: dh,
                                    scale: 1 / Float(dh).squareRoot(), out: O, ldo: d, scratch: scratch, bias: hook)
            }
        }
        HieraProfile.time(phase + ": projections") {
            projectOut(O, rows: nq, y, accumulate: accumulate)
        }
    }

    /// Key counts up to which many query rows attend through `folded` (the prompt: 33 tokens at most
    /// with the text, a few more with exemplar boxes).
    static let foldedMaxKeys = 64

    /// Many query rows attending to a few keys (the image tokens' cross-attention to the prompt),
    /// with the projections folded into the keys and values, which are known before the rows:
    /// head h's logits are (q Wq_hᵀ + bq_h) K_hᵀ s = q (s Wq_hᵀ K_hᵀ) + s bq_h K_hᵀ, and its share of
    /// the output projection is P_h V_h Wo_hᵀ = P_h (V_h Wo_hᵀ). So the layer is two products over
    /// the rows, q [nq, d] times G [d, H·m] (every head's logits at once) and, after the softmax of
    /// each head's m logits, P [nq, H·m] times U [H·m, d], where the plain path takes two d × d
    /// projections plus the attention; only the m valid keys enter (the masked ones' probabilities
    /// are exactly 0). A 3-word phrase is 6 valid keys of 33 (48 columns instead of 256 twice).
    /// The same sums in another order: rounding differences only. y (+)= the output.
    private func folded(q: UnsafePointer<Float>, nq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, keys: [Int],
                        into y: UnsafeMutablePointer<Float>, accumulate: Bool, ws: Workspace, phase: String) {
        let d = dim, dh = d / heads, m = keys.count, hm = heads * m
        let K = ws.buffer(SAM3Slot.foldK.rawValue, m * d), V = ws.buffer(SAM3Slot.foldV.rawValue, m * d)
        let G = ws.buffer(SAM3Slot.foldG.rawValue, hm * d), U = ws.buffer(SAM3Slot.foldU.rawValue, hm * d)
        let c0 = ws.buffer(SAM3Slot.foldC.rawValue, hm)
        HieraProfile.time(phase + ": projections of the keys") {
            // The valid keys' rows, projected.
            let kv = ws.buffer(SAM3Slot.foldKV.rawValue, 2 * m * d)
            for (i, j) in keys.enumerated() {
                (kv + i * d).update(from: k + j * d, count: d)
                (kv + (m + i) * d).update(from: v + j * d, count: d)
            }
            Gemm.linear(kv, rows: m, inFeatures: d, weight: inW.pointer + d * d, bias: inB.pointer + d, outFeatures: d, K)
            Gemm.linear(kv + m * d, rows: m, inFeatures: d, weight: inW.pointer + 2 * d * d, bias: inB.pointer + 2 * d, outFeatures: d, V)
            let s = 1 / Float(dh).squareRoot()
            for h in 0..<heads {
                // G_h rows (one per key, [m, d]) = s K_h Wq_h (Wq_h: rows h·dh..., [dh, d]); c0 = s K_h bq_h.
                Gemm.sgemm(m: m, n: d, k: dh, alpha: s, a: K + h * dh, lda: d, b: inW.pointer + h * dh * d, ldb: d,
                           c: G + h * m * d, ldc: d)
                // U_h [m, d] = V_h Wo_hᵀ (Wo_h: columns h·dh... of Wo [d, d]).
                Gemm.sgemm(transB: true, m: m, n: d, k: dh, a: V + h * dh, lda: d, b: out.w.pointer + h * dh, ldb: d, c: U + h * m * d, ldc: d)
                for j in 0..<m {
                    var acc: Float = 0
                    for c in 0..<dh { acc += K[j * d + h * dh + c] * inB[h * dh + c] }
                    c0[h * m + j] = s * acc
                }
            }
        }
        HieraProfile.time(phase + ": folded rows") {
            let block = 256, blocks = (nq + block - 1) / block
            let scratch = ws.buffer(SAM3Slot.foldP.rawValue, SerialBLAS.workers * block * hm)
            let ob = out.b?.pointer
            SerialBLAS.forEach(blocks) { b, worker in
                let r0 = b * block, rows = min(block, nq - r0)
                let p = scratch + worker * block * hm, yb = y + r0 * d
                Gemm.sgemm(transB: true, m: rows, n: hm, k: d, a: q + r0 * d, lda: d, b: G, ldb: d, c: p, ldc: hm)
                for r in 0..<rows { for j in 0..<hm { p[r * hm + j] += c0[j] } }
                Elementwise.softmaxRowsOneCore(p, rows: rows * heads, cols: m, ld: m)
                if let ob {
                    for r in 0..<rows {
                        let row = yb + r * d
                        if accumulate { for j in 0..<d { row[j] += ob[j] } } else { row.update(from: ob, count: d) }
                    }
                }
                Gemm.sgemm(m: rows, n: d, k: hm, a: p, lda: hm, b: U, ldb: d, beta: (accumulate || ob != nil) ? 1 : 0, c: yb, ldc: d)
            }
        }
    }

    /// Query counts up to which a few rows attend to many keys through `foldedQueries` (the
    /// geometry encoder's CLS token and exemplar boxes against the image tokens).
    static let foldedMaxQueries = 16

    /// A few query rows attending to many keys (the geometry encoder's tokens to the 5 184 image
    /// tokens), with the key and value projections folded into the queries, so that the keys' and
    /// values' rows are never projected: head h's logit of key row k_j is
    /// Q_h (Wk_h k_j + bk_h) s = (s Q_h Wk_h) · k_j + s Q_h · bk_h, whose last term is the same for
    /// every key and drops out of the softmax; its output is Σ_j p_j (Wv_h v_j + bv_h) =
    /// Wv_h (Σ_j p_j v_j) + bv_h, the probabilities summing to 1. Two products of H·nq rows over the
    /// keys instead of two projections of all of them (at 1 query row, 8 × 5 184 × 256 × 2
    /// multiply-adds instead of 5 184 × 256 × 256 × 2). The same sums in another order.
    private func foldedQueries(q: UnsafePointer<Float>, nq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, nk: Int,
                               into y: UnsafeMutablePointer<Float>, accumulate: Bool, ws: Workspace, phase: String) {
        let d = dim, dh = d / heads, rows = heads * nq
        let Q = ws.buffer(SAM3Slot.foldK.rawValue, nq * d), A = ws.buffer(SAM3Slot.foldG.rawValue, rows * d)
        let P = ws.buffer(SAM3Slot.foldP.rawValue, rows * nk), Z = ws.buffer(SAM3Slot.foldU.rawValue, rows * d)
        let O = ws.buffer(SAM3Slot.foldV.rawValue, nq * d)
        HieraProfile.time(phase + ": folded queries") {
            Gemm.linear(q, rows: nq, inFeatures: d, weight: inW.pointer, bias: inB.pointer, outFeatures: d, Q)
            let s = 1 / Float(dh).squareRoot()
            for h in 0..<heads {
                // Rows h·nq… of A: s Q_h Wk_h (Wk_h: rows h·dh… of the key weight, [dh, d]).
                Gemm.sgemm(m: nq, n: d, k: dh, alpha: s, a: Q + h * dh, lda: d, b: inW.pointer + (d + h * dh) * d, ldb: d,
                           c: A + h * nq * d, ldc: d)
            }
            Gemm.sgemm(transB: true, m: rows, n: nk, k: d, a: A, lda: d, b: k, ldb: d, c: P, ldc: nk)
            Elementwise.softmaxRows(P, rows: rows, cols: nk, ld: nk)
            Gemm.sgemm(m: rows, n: d, k: nk, a: P, lda: nk, b: v, ldb: d, c: Z, ldc: d)
            for h in 0..<heads {
                // O[:, head h] = Z_h Wv_hᵀ + bv_h (Wv_h: rows h·dh… of the value weight).
                Gemm.linear(Z + h * nq * d, rows: nq, inFeatures: d, weight: inW.pointer + (2 * d + h * dh) * d,
                            bias: inB.pointer + 2 * d + h * dh, outFeatures: dh, O + h * dh, ldy: d)
            }
            Gemm.linear(O, rows: nq, inFeatures: d, weight: out.w.pointer, bias: out.b?.pointer, outFeatures: d, y, accumulate: accumulate)
        }
    }

    /// Logits per block of query rows in the spread self-attention: 8 MB, about 400 rows of 5 184
    /// keys (OpenBLAS packs a head's keys and values again for every block; SAM 2.1 measured
    /// 128-row blocks 20 % slower than 512).
    static let blockFloats = 1 << 21
}

/// Linear layers of the detector: many rows (the 5 184 image tokens) in row blocks spread over the
/// cores (`Gemm.linearRows`), few rows (queries, prompt tokens) as one product.
enum SAM3Linear {
    static func apply(_ x: UnsafePointer<Float>, rows: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, inF: Int, outF: Int,
                      _ y: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        if rows >= 1024 && SerialBLAS.workers > 1 {
            Gemm.linearRows(x, rows: rows, inFeatures: inF, weight: weight, bias: bias, outFeatures: outF, y, accumulate ? .accumulate : .bias)
        } else {
            Gemm.linear(x, rows: rows, inFeatures: inF, weight: weight, bias: bias, outFeatures: outF, y, accumulate: accumulate)
        }
    }
}

/// The detector's pre-norm `TransformerEncoderLayer` (encoder.py `forward_pre`): self-attention
/// (position added to q and k when `posAtSelf`), cross-attention to a memory (position added to
/// the memory's keys when `posAtCrossKeys`), ReLU MLP; each a residual.
struct SAM3EncoderLayer: Sendable {
    let selfAttn: SAM3MHA, crossAttn: SAM3MHA
    let norm1: NormW, norm2: NormW, norm3: NormW
    let linear1: LinearW, linear2: LinearW
    /// linear1 and linear2 packed for `PackedLinear` (the FFN over the image tokens); nil when the
    /// packed kernel does not run on this CPU.
    let ffnPacked: (w1: PackedLinear, w2: PackedLinear)?
    let posAtSelf: Bool, posAtCrossKeys: Bool

    init(_ l: WeightLoader, _ p: String, dim d: Int, heads: Int, posAtSelf: Bool, posAtCrossKeys: Bool) throws {
        selfAttn = try SAM3MHA(l, p + "self_attn", dim: d, heads: heads, packed: true)
        crossAttn = try SAM3MHA(l, p + "cross_attn_image", dim: d, heads: heads)
        norm1 = try l.norm(p + "norm1", d, eps: 1e-5)
        norm2 = try l.norm(p + "norm2", d, eps: 1e-5)
        norm3 = try l.norm(p + "norm3", d, eps: 1e-5)
        let hidden = try l.shape(p + "linear1.weight").first ?? 0
        guard hidden > 0 else { throw SegError(.invalid, file: l.dict.path, "\(p)linear1 has no rows") }
        linear1 = try l.linear(p + "linear1", d, hidden)
        linear2 = try l.linear(p + "linear2", hidden, d)
        ffnPacked = PackedLinear.available
            ? (PackedLinear(weight: linear1.w.pointer, outFeatures: hidden, inFeatures: d, store: l.store),
               PackedLinear(weight: linear2.w.pointer, outFeatures: d, inFeatures: hidden, store: l.store))
            : nil
        self.posAtSelf = posAtSelf
        self.posAtCrossKeys = posAtCrossKeys
    }

    /// x [n, d] in place. `pos` [n, d] (the tokens' position, for self-attention), memory [m, d] with
    /// `memoryPos` (for its keys) and `memoryValid`; `selfValid` masks the tokens' own keys.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, n: Int, pos: UnsafePointer<Float>?, selfValid: [Bool]?,
                        memory: UnsafePointer<Float>, m: Int, memoryPos: UnsafePointer<Float>?, memoryValid: [Bool]?, ws: Workspace,
                        phase: String = "fusion") {
        let d = selfAttn.dim
        selfAttention(x, n: n, pos: pos, selfValid: selfValid, ws: ws, phase: phase)
        afterSelfAttention(x, n: n, memory: memory, m: m, memoryPos: memoryPos, memoryValid: memoryValid, ws: ws, phase: phase)
    }

    /// The layer's first residual, x += self_attn(norm1(x) (+ pos)). In the fusion encoder's first
    /// layer it reads only the image tokens (the prompt enters at the cross-attention), so
    /// `prepare` runs it once per image (`SAM3Encoder.forward`).
    func selfAttention(_ x: UnsafeMutablePointer<Float>, n: Int, pos: UnsafePointer<Float>?, selfValid: [Bool]?, ws: Workspace,
                       phase: String = "fusion") {
        let d = selfAttn.dim
        let t = ws.buffer(SAM3Slot.t.rawValue, n * d), qk = ws.buffer(SAM3Slot.qk.rawValue, n * d)
        var q = UnsafePointer(t)
        HieraProfile.time("\(phase): norms and adds") {
            Norm.layerNorm(x, t, rows: n, dim: d, weight: norm1.w.pointer, bias: norm1.b.pointer, eps: norm1.eps)
            if posAtSelf, let pos {
                Elementwise.sum(qk, t, pos, n * d)
                q = UnsafePointer(qk)
            }
        }
        selfAttn(q: q, nq: n, k: q, v: t, nk: n, keyValid: selfValid, into: x, accumulate: true, ws: ws, phase: "\(phase): self-attention")
    }

    /// The rest of the layer after `selfAttention`: cross-attention to the memory, then the MLP.
    func afterSelfAttention(_ x: UnsafeMutablePointer<Float>, n: Int, memory: UnsafePointer<Float>, m: Int, memoryPos: UnsafePointer<Float>?,
                            memoryValid: [Bool]?, ws: Workspace, phase: String = "fusion") {
        let d = selfAttn.dim
        let t = ws.buffer(SAM3Slot.t.rawValue, n * d), qk = ws.buffer(SAM3Slot.qk.rawValue, max(n, m) * d)
        var keys = memory
        HieraProfile.time("\(phase): norms and adds") {
            Norm.layerNorm(x, t, rows: n, dim: d, weight: norm2.w.pointer, bias: norm2.b.pointer, eps: norm2.eps)
            if posAtCrossKeys, let memoryPos {
                Elementwise.sum(qk, memory, memoryPos, m * d)
                keys = UnsafePointer(qk)
            }
        }
        crossAttn(q: t, nq: n, k: keys, v: memory, nk: m, keyValid: memoryValid, into: x, accumulate: true, ws: ws,
                  phase: "\(phase): cross-attention")
        HieraProfile.time("\(phase): norms and adds") {
            Norm.layerNorm(x, t, rows: n, dim: d, weight: norm3.w.pointer, bias: norm3.b.pointer, eps: norm3.eps)
        }
        HieraProfile.time("\(phase): FFN") {
            if n >= 1024 && SerialBLAS.workers > 1 {
                if let ffnPacked, PackedLinear.available {
                    SAM3FFN.packedRowBlocks(t, x, rows: n, dim: d, packed: ffnPacked, b1: linear1.b?.pointer, b2: linear2.b?.pointer, ws: ws)
                } else {
                    SAM3FFN.rowBlocks(t, x, rows: n, dim: d, linear1: linear1, linear2: linear2, ws: ws)
                }
                return
            }
            let h = ws.buffer(SAM3Slot.mlp.rawValue, n * linear1.outF)
            SAM3Linear.apply(t, rows: n, weight: linear1.w.pointer, bias: linear1.b?.pointer, inF: d, outF: linear1.outF, h)
            Elementwise.relu(h, n * linear1.outF)
            SAM3Linear.apply(h, rows: n, weight: linear2.w.pointer, bias: linear2.b?.pointer, inF: linear1.outF, outF: d, x, accumulate: true)
        }
    }
}

/// The fusion encoder's FFN over the image tokens, x += relu(t W1ᵀ + b1) W2ᵀ + b2, by blocks of rows
/// each taken from start to end by one core (single-threaded products): the block's hidden values
/// (256 × 2 048 floats) stay in cache between the two products, where the whole layer's (5 184 ×
/// 2 048, 42 MB) went through memory three times (product, ReLU, product). The same arithmetic
/// per row as the two linear layers one after the other.
enum SAM3FFN {
    static let blockRows = 256

    static func rowBlocks(_ t: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, rows n: Int, dim d: Int,
                          linear1: LinearW, linear2: LinearW, ws: Workspace) {
        let hid = linear1.outF, block = blockRows, blocks = (n + block - 1) / block
        let scratch = ws.buffer(SAM3Slot.mlp.rawValue, SerialBLAS.workers * block * hid)
        let w1 = linear1.w.pointer, b1 = linear1.b?.pointer, w2 = linear2.w.pointer, b2 = linear2.b?.pointer
        SerialBLAS.forEach(blocks) { b, worker in
            let r0 = b * block, m = min(block, n - r0)
            let h = scratch + worker * block * hid, xb = x + r0 * d
            Gemm.sgemm(transB: true, m: m, n: hid, k: d, a: t + r0 * d, lda: d, b: w1, ldb: d, c: h, ldc: hid)
            for r in 0..<m {
                let row = h + r * hid
                if let b1 {
                    for j in 0..<hid { let v = row[j] + b1[j]; row[j] = v > 0 ? v : 0 }
                } else {
                    for j in 0..<hid where row[j] < 0 { row[j] = 0 }
                }
            }
            if let b2 { for r in 0..<m { for j in 0..<d { xb[r * d + j] += b2[j] } } }
            Gemm.sgemm(transB: true, m: m, n: d, k: hid, a: h, lda: hid, b: w2, ldb: hid, beta: 1, c: xb, ldc: d)
        }
    }
}

extension SAM3FFN {
    /// Rows per block of `packedRowBlocks`: the block's hidden values (48 × 2 064 floats, 396 KB)
    /// and one 32-output panel of the second weight (256 KB) stay in the core's 1 MB L2.
    static let packedBlockRows = 48

    /// `rowBlocks` with both weights packed once (`PackedLinear`, AVX-512): the bias and ReLU
    /// applied as each tile of the hidden values leaves the registers, the second product adding
    /// b2 and its sum to x. About 20 % faster than the blocks through OpenBLAS, which packs both
    /// 2 MB weights again for every block.
    static func packedRowBlocks(_ t: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, rows n: Int, dim d: Int,
                                packed: (w1: PackedLinear, w2: PackedLinear), b1: UnsafePointer<Float>?, b2: UnsafePointer<Float>?,
                                ws: Workspace) {
        let hid = packed.w1.outFeatures, ldh = PackedLinear.paddedStride(hid)
        // At least three blocks per core (the decoder's 201 rows: six of 36), in whole tiles of 12.
        let tile = Int(PackedLinear.tileRows)
        let block = max(tile, min(packedBlockRows, ((n + 3 * SerialBLAS.workers - 1) / (3 * SerialBLAS.workers) + tile - 1) / tile * tile))
        let blocks = (n + block - 1) / block
        let scratch = ws.buffer(SAM3Slot.mlp.rawValue, SerialBLAS.workers * block * ldh)
        SerialBLAS.forEach(blocks) { b, worker in
            let r0 = b * block, m = min(block, n - r0)
            let h = scratch + worker * block * ldh
            packed.w1.apply(t + r0 * d, ldx: d, rows: m, bias: b1, h, ldy: ldh, .biasReLU)
            packed.w2.apply(h, ldx: ldh, rows: m, bias: b2, x + r0 * d, ldy: d, .accumulate)
        }
    }
}

/// `PositionEmbeddingSine` (normalize, scale 2π, temperature 10000) over an h × w grid, as rows
/// [h·w, d]: the first d/2 channels encode y, the rest x, each as (sin, cos) pairs.
enum SAM3Sine {
    static func grid(height h: Int, width w: Int, dim d: Int) -> [Float] {
        let half = d / 2
        var out = [Float](repeating: 0, count: h * w * d)
        let scale = 2 * Float.pi, eps: Float = 1e-6
        let dimT = (0..<half).map { powf(10000, Float(2 * ($0 / 2)) / Float(half)) }
        for y in 0..<h {
            let ye = Float(y + 1) / (Float(h) + eps) * scale
            for x in 0..<w {
                let xe = Float(x + 1) / (Float(w) + eps) * scale
                let row = (y * w + x) * d
                for i in 0..<half {
                    let py = ye / dimT[i], px = xe / dimT[i]
                    out[row + i] = i % 2 == 0 ? sinf(py) : cosf(py)
                    out[row + half + i] = i % 2 == 0 ? sinf(px) : cosf(px)
                }
            }
        }
        return out
    }

    /// `_encode_xy` for one normalised point: (pos_x, pos_y), each d/2 values.
    static func xy(_ x: Float, _ y: Float, dim d: Int) -> (x: [Float], y: [Float]) {
        let half = d / 2, scale = 2 * Float.pi
        let dimT = (0..<half).map { powf(10000, Float(2 * ($0 / 2)) / Float(half)) }
        func enc(_ v: Float) -> [Float] { (0..<half).map { i in let p = v * scale / dimT[i]; return i % 2 == 0 ? sinf(p) : cosf(p) } }
        return (enc(x), enc(y))
    }
}

/// Workspace slots of SAM 3's detector.
enum SAM3Slot: Int {
    case q = 600, k, v, o, scores, t, qk, mlp, x, pos, prompt, geo, roi, dec, decPos, decT, refPos, bias, pix, pix2, seg
    case foldKV, foldK, foldV, foldG, foldU, foldC, foldP
}
