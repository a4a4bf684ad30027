import Foundation
import SegCore
import SegNN

/// SAM 3's text encoder (sam3/model/text_encoder_ve.py `VETextEncoder`): CLIP's causal text
/// transformer (token and position embeddings, pre-norm blocks with GELU MLPs, ln_final) over the
/// 32 token ids, every token's output (not the pooled one) resized to the detector's width. Sizes
/// are read from the checkpoint's shapes; only the head count is not in them (`heads`, 16 in the
/// official model).
struct SAM3TextEncoder: Sendable {
    struct Block: Sendable {
        let ln1: NormW, ln2: NormW
        let qkv: LinearW, out: LinearW
        let fc: LinearW, proj: LinearW
    }

    static let prefix = "detector.backbone.language_backbone."

    let tokenEmbedding: Param     // [vocabulary, width]
    let positions: Param          // [context, width]
    let blocks: [Block]
    let lnFinal: NormW
    let resizer: LinearW          // width → d
    let width: Int, heads: Int, context: Int, vocabulary: Int

    /// The features of one phrase: `features` [context, d] row-major, `valid[i]` for the tokens
    /// that are not padding (the official `language_mask` inverted).
    struct Output: Sendable {
        let features: [Float]
        let valid: [Bool]
    }

    init(_ l: WeightLoader, heads: Int) throws {
        let p = Self.prefix + "encoder.", file = l.dict.path
        let te = try l.shape(p + "token_embedding.weight")
        guard te.count == 2, te[0] > 2, te[1] > 0 else { throw SegError(.invalid, file: file, "SAM 3 text encoder: token_embedding is \(te)") }
        vocabulary = te[0]
        width = te[1]
        let pe = try l.shape(p + "positional_embedding")
        guard pe.count == 2, pe[1] == width, pe[0] > 1, pe[0] <= 1024 else {
            throw SegError(.invalid, file: file, "SAM 3 text encoder: positional_embedding is \(pe), expected [context, \(width)]")
        }
        context = pe[0]
        guard heads > 0, width % heads == 0 else { throw SegError(.invalid, file: file, "SAM 3 text encoder: width \(width) does not split into \(heads) heads") }
        self.heads = heads
        let hidden = try l.shape(p + "transformer.resblocks.0.mlp.c_fc.weight").first ?? 0
        var depth = 0
        while l.dict.has(p + "transformer.resblocks.\(depth).ln_1.weight") && depth < 256 { depth += 1 }
        guard depth > 0, hidden > 0 else { throw SegError(.invalid, file: file, "SAM 3 text encoder: no transformer blocks") }
        tokenEmbedding = try l.param(p + "token_embedding.weight", [vocabulary, width])
        positions = try l.param(p + "positional_embedding", [context, width])
        let W = te[1]
        blocks = try (0..<depth).map { i in
            let b = p + "transformer.resblocks.\(i)."
            return Block(ln1: try l.norm(b + "ln_1", W, eps: 1e-5), ln2: try l.norm(b + "ln_2", W, eps: 1e-5),
                         qkv: LinearW(w: try l.param(b + "attn.in_proj_weight", [3 * W, W]),
                                      b: try l.param(b + "attn.in_proj_bias", [3 * W]), inF: W, outF: 3 * W),
                         out: try l.linear(b + "attn.out_proj", W, W),
                         fc: try l.linear(b + "mlp.c_fc", W, hidden), proj: try l.linear(b + "mlp.c_proj", hidden, W))
        }
        lnFinal = try l.norm(p + "ln_final", width, eps: 1e-5)
        let r = try l.shape(Self.prefix + "resizer.weight")
        guard r.count == 2, r[1] == width, r[0] > 0 else { throw SegError(.invalid, file: file, "SAM 3 text encoder: resizer.weight is \(r)") }
        resizer = try l.linear(Self.prefix + "resizer", width, r[0])
    }

    var outputDim: Int { resizer.outF }

    /// The tokens' features. Token ids at or above the vocabulary (a vocabulary file that does not
    /// belong to this checkpoint) are rejected by the caller; here they are clamped, never read out of range.
    ///
    /// `padding: false` (the detector's path) runs the transformer on the rows up to the last real
    /// token only and leaves the padding rows' features 0: under the causal mask a row reads only
    /// the rows before it, so the real rows come out the same, and every consumer of the features
    /// (the fusion encoder's and decoder's cross-attention, the segmentation head's, the scoring's
    /// mean) masks the padding rows out (a masked key's probability is exactly 0, a finite value
    /// times 0 adds nothing). A 3-word phrase is 5 of the 32 rows: the 24 blocks' products shrink
    /// to a sixth. `padding: true` computes every row as the official encoder does.
    func encode(_ tokens: [Int32], padding: Bool = false) -> Output {
        let used = padding ? tokens.count : (tokens.lastIndex(where: { $0 != 0 }) ?? 0) + 1
        let out = encodeRows(Array(tokens.prefix(used)))
        var features = [Float](repeating: 0, count: tokens.count * outputDim)
        features.replaceSubrange(0..<out.count, with: out)
        return Output(features: features, valid: tokens.map { $0 != 0 })
    }

    /// A layer over the phrase's rows: a short phrase's few rows stream the weights (`Gemm.linearFew`).
    private static func linear(_ l: LinearW, _ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        Gemm.linearFew(x, rows: rows, inFeatures: l.inF, weight: l.w.pointer, bias: l.b?.pointer, outFeatures: l.outF, y, accumulate: accumulate)
    }

    /// The transformer over the given tokens (causal), ln_final and the resizer: [tokens.count, d].
    private func encodeRows(_ tokens: [Int32]) -> [Float] {
        let n = tokens.count, W = width, ws = Workspace()
        let x = ws.buffer(0, n * W), t = ws.buffer(1, n * W), qkv = ws.buffer(2, n * 3 * W), o = ws.buffer(3, n * W)
        let hiddenW = blocks.first?.fc.outF ?? 0
        let h = ws.buffer(4, n * hiddenW)
        for (i, id) in tokens.enumerated() {
            let row = min(max(Int(id), 0), vocabulary - 1), pos = min(i, context - 1)
            for k in 0..<W { x[i * W + k] = tokenEmbedding[row * W + k] + positions[pos * W + k] }
        }
        let dh = W / heads
        let scratch = ws.buffer(5, Attention.scratchCount(queries: n, keys: n))
        for b in blocks {
            Norm.layerNorm(x, t, rows: n, dim: W, weight: b.ln1.w.pointer, bias: b.ln1.b.pointer, eps: b.ln1.eps)
            Self.linear(b.qkv, t, rows: n, qkv)
            // The causal mask (build_causal_mask): token i attends to tokens 0...i.
            Attention.multiHead(q: qkv, ldq: 3 * W, k: qkv + W, ldk: 3 * W, v: qkv + 2 * W, ldv: 3 * W, queries: n, keys: n,
                                heads: heads, headDim: dh, valueDim: dh, scale: 1 / Float(dh).squareRoot(), out: o, ldo: W,
                                scratch: scratch, bias: { _, r0, rows, s, ld in
                                    for r in 0..<rows where r0 + r + 1 < n {
                                        (s + r * ld + r0 + r + 1).update(repeating: -1e30, count: n - (r0 + r + 1))
                                    }
                                })
            Self.linear(b.out, o, rows: n, x, accumulate: true)
            Norm.layerNorm(x, t, rows: n, dim: W, weight: b.ln2.w.pointer, bias: b.ln2.b.pointer, eps: b.ln2.eps)
            Self.linear(b.fc, t, rows: n, h)
            Elementwise.gelu(h, n * hiddenW)
            Self.linear(b.proj, h, rows: n, x, accumulate: true)
        }
        Norm.layerNorm(x, t, rows: n, dim: W, weight: lnFinal.w.pointer, bias: lnFinal.b.pointer, eps: lnFinal.eps)
        var out = [Float](repeating: 0, count: n * outputDim)
        out.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { Self.linear(resizer, t, rows: n, base) } }
        return out
    }
}
