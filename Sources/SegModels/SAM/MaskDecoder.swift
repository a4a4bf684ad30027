import Foundation
import SegCore
import SegNN

/// SAM's prompt encoder and mask decoder (shared by SAM and MobileSAM), batch 1.
/// Layer 0's prompt-independent image projections (no mask input), made once per image.
public final class DecoderImageCache: Sendable {
    /// The embedding as tokens [grid², dim] (the decoder's layout), and layer 0's projections.
    let tokens: [Float], k0: [Float], v0: [Float], q0: [Float]
    /// SAM 2.1's high-resolution maps in the layouts of `MaskDecoder.HighRes` (empty for SAM 1).
    let highRes1: [Float], highRes0: [Float]
    init(tokens: [Float], k0: [Float], v0: [Float], q0: [Float], highRes1: [Float] = [], highRes0: [Float] = []) {
        self.tokens = tokens; self.k0 = k0; self.v0 = v0; self.q0 = q0
        self.highRes1 = highRes1; self.highRes0 = highRes0
    }
}

struct MaskDecoder: Sendable {
    /// The decoder's attention: projections to an internal width (256, or 128 where the reference
    /// downsamples by 2), `heads` heads, projection back to 256.
    struct Attn: Sendable {
        let q: LinearW, k: LinearW, v: LinearW, out: LinearW
        let heads: Int
        var internalDim: Int { q.outF }
    }
    struct Layer: Sendable {
        let selfAttn: Attn, norm1: NormW
        let toImage: Attn, norm2: NormW
        let lin1: LinearW, lin2: LinearW, norm3: NormW
        let norm4: NormW, toToken: Attn
    }

    let dim: Int                 // 256
    let grid: Int                // 64
    let imageSize: Int           // 1024
    let gaussian: Param          // [2, dim/2]
    let pointEmbeddings: [Param] // 4 × [1, dim]: negative, positive, box top-left, box bottom-right
    let notAPoint: Param, noMask: Param
    let down0: ConvW, down1: NormW, down3: ConvW, down4: NormW, down6: ConvW
    let densePE: Param           // [grid², dim] token rows
    let layers: [Layer]
    let finalAttn: Attn, normFinal: NormW
    let iouToken: Param, maskTokens: Param  // [1, dim], [numMaskTokens, dim]
    let up0W: Param, up0B: Param, up1: NormW, up3W: Param, up3B: Param
    /// The two transposed convs' weights as [in, (dy, dx, out)], so they run on token rows.
    let up0R: Param, up3R: Param
    let hyper: [[LinearW]]
    let iouHead: [LinearW]
    let numMaskTokens: Int
    /// SAM 2.1: the object-score token (first of the output tokens) and its head; IoU through a sigmoid.
    let objScoreToken: Param?
    let objScoreHead: [LinearW]
    let iouSigmoid: Bool
    /// Output tokens before the mask tokens: the IoU token, and SAM 2.1's object-score token.
    var leadingTokens: Int { objScoreToken == nil ? 1 : 2 }
    /// Row of the IoU token among the output tokens.
    var iouRow: Int { objScoreToken == nil ? 0 : 1 }

    /// SAM 2.1's high-resolution features for the upscaling, pre-arranged to the layouts `run` adds
    /// them in: s1 as [(pixel, sub-pixel), d/4] rows, s0 as [(sub-sub-pixel, d/8), (pixel, sub-pixel)].
    struct HighRes {
        let s1: UnsafePointer<Float>, s0: UnsafePointer<Float>
    }

    init(_ c: SAMConfig, _ l: WeightLoader) throws {
        let d = c.decoder.promptEmbedDim
        dim = d
        imageSize = c.imageSize
        grid = c.grid
        let sam2 = c.decoder.sam2
        let pe = sam2 ? "sam_prompt_encoder." : "prompt_encoder.", md = sam2 ? "sam_mask_decoder." : "mask_decoder."
        let mlp1 = sam2 ? "mlp.layers.0" : "mlp.lin1", mlp2 = sam2 ? "mlp.layers.1" : "mlp.lin2"
        gaussian = try l.param(pe + "pe_layer.positional_encoding_gaussian_matrix", [2, d / 2])
        pointEmbeddings = try (0..<4).map { try l.param(pe + "point_embeddings.\($0).weight", [1, d]) }
        notAPoint = try l.param(pe + "not_a_point_embed.weight", [1, d])
        noMask = try l.param(pe + "no_mask_embed.weight", [1, d])
        let mc = c.decoder.maskInChans
        down0 = try l.conv(pe + "mask_downscaling.0", 1, mc / 4, k: 2, stride: 2, bias: true)
        down1 = try l.norm(pe + "mask_downscaling.1", mc / 4, eps: 1e-6)
        down3 = try l.conv(pe + "mask_downscaling.3", mc / 4, mc, k: 2, stride: 2, bias: true)
        down4 = try l.norm(pe + "mask_downscaling.4", mc, eps: 1e-6)
        down6 = try l.conv(pe + "mask_downscaling.6", mc, d, k: 1, bias: true)
        densePE = l.store.add(Interpolate.denseFourierGrid(height: grid, width: grid, gaussian: gaussian.pointer, features: d / 2),
                              shape: [grid * grid, d])

        let t = md + "transformer."
        let heads = c.decoder.numHeads
        func attn(_ p: String, downsample: Int) throws -> Attn {
            let inner = d / downsample
            return Attn(q: try l.linear(p + ".q_proj", d, inner), k: try l.linear(p + ".k_proj", d, inner),
                        v: try l.linear(p + ".v_proj", d, inner), out: try l.linear(p + ".out_proj", inner, d), heads: heads)
        }
        var ls: [Layer] = []
        for i in 0..<c.decoder.transformerDepth {
            let p = t + "layers.\(i)."
            ls.append(Layer(selfAttn: try attn(p + "self_attn", downsample: 1), norm1: try l.norm(p + "norm1", d, eps: 1e-5),
                            toImage: try attn(p + "cross_attn_token_to_image", downsample: 2), norm2: try l.norm(p + "norm2", d, eps: 1e-5),
                            lin1: try l.linear(p + mlp1, d, c.decoder.mlpDim), lin2: try l.linear(p + mlp2, c.decoder.mlpDim, d),
                            norm3: try l.norm(p + "norm3", d, eps: 1e-5), norm4: try l.norm(p + "norm4", d, eps: 1e-5),
                            toToken: try attn(p + "cross_attn_image_to_token", downsample: 2)))
        }
        layers = ls
        finalAttn = try attn(t + "final_attn_token_to_image", downsample: 2)
        normFinal = try l.norm(t + "norm_final_attn", d, eps: 1e-5)
        let numMaskTokens = c.decoder.numMultimaskOutputs + 1
        self.numMaskTokens = numMaskTokens
        iouToken = try l.param(md + "iou_token.weight", [1, d])
        maskTokens = try l.param(md + "mask_tokens.weight", [numMaskTokens, d])
        up0W = try l.param(md + "output_upscaling.0.weight", [d, d / 4, 2, 2])
        up0B = try l.param(md + "output_upscaling.0.bias", [d / 4])
        up1 = try l.norm(md + "output_upscaling.1", d / 4, eps: 1e-6)
        up3W = try l.param(md + "output_upscaling.3.weight", [d / 4, d / 8, 2, 2])
        up3B = try l.param(md + "output_upscaling.3.bias", [d / 8])
        func rearranged(_ w: Param, _ cin: Int, _ cout: Int) -> Param {
            var r = [Float](repeating: 0, count: cin * 4 * cout)
            for ci in 0..<cin { for co in 0..<cout { for sub in 0..<4 { r[ci * 4 * cout + sub * cout + co] = w[(ci * cout + co) * 4 + sub] } } }
            return l.store.add(r, shape: [cin, 4 * cout])
        }
        up0R = rearranged(up0W, d, d / 4)
        up3R = rearranged(up3W, d / 4, d / 8)
        let ld = l, dd = d
        hyper = try (0..<numMaskTokens).map { i in
            let l = ld, d = dd
            let p = md + "output_hypernetworks_mlps.\(i).layers."
            return [try l.linear(p + "0", d, d), try l.linear(p + "1", d, d), try l.linear(p + "2", d, d / 8)]
        }
        let depth = c.decoder.iouHeadDepth, hid = c.decoder.iouHeadHiddenDim
        let loader = l, width = d
        iouHead = try (0..<depth).map { i in
            let d = width, l = loader
            let inF = i == 0 ? d : hid, outF = i == depth - 1 ? numMaskTokens : hid
            return try l.linear(md + "iou_prediction_head.layers.\(i)", inF, outF)
        }
        iouSigmoid = sam2
        if sam2 {
            objScoreToken = try l.param(md + "obj_score_token.weight", [1, d])
            if l.dict.has(md + "pred_obj_score_head.weight") {
                objScoreHead = [try l.linear(md + "pred_obj_score_head", d, 1)]
            } else {
                objScoreHead = [try l.linear(md + "pred_obj_score_head.layers.0", d, d), try l.linear(md + "pred_obj_score_head.layers.1", d, d),
                                try l.linear(md + "pred_obj_score_head.layers.2", d, 1)]
            }
        } else {
            objScoreToken = nil
            objScoreHead = []
        }
    }

    // MARK: Prompt encoder

    /// Sparse prompt tokens [n, dim] for points (already in the resized frame) and an optional box.
    func sparseEmbeddings(points: [(x: Float, y: Float, label: Int)], box: (Float, Float, Float, Float)?) -> [Float] {
        var pts: [(Float, Float, Int)] = points.map { ($0.x + 0.5, $0.y + 0.5, $0.label) }
        if !points.isEmpty && box == nil { pts.append((0, 0, -1)) }  // the reference's padding point
        if let b = box {
            pts.append((b.0 + 0.5, b.1 + 0.5, 2))
            pts.append((b.2 + 0.5, b.3 + 0.5, 3))
        }
        var out = [Float](repeating: 0, count: pts.count * dim)
        let size = Float(imageSize)
        out.withUnsafeMutableBufferPointer { o in
            guard let base = o.baseAddress else { return }
            for (i, p) in pts.enumerated() {
                let row = base + i * dim
                if p.2 == -1 {
                    row.update(from: notAPoint.pointer, count: dim)
                    continue
                }
                Interpolate.fourierFeatures(x: p.0 / size, y: p.1 / size, gaussian: gaussian.pointer, features: dim / 2, row)
                let e = pointEmbeddings[p.2 == 1 ? 1 : p.2 == 0 ? 0 : p.2]
                for j in 0..<dim { row[j] += e[j] }
            }
        }
        return out
    }

    /// Dense prompt tokens [grid², dim]: the downscaled mask input, or no_mask_embed everywhere.
    func denseEmbeddings(maskInput: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let n = grid * grid
        guard let m = maskInput else {
            for i in 0..<n { (out + i * dim).update(from: noMask.pointer, count: dim) }
            return
        }
        let side = grid * 4
        let a = ws.buffer(DSlot.maskA.rawValue, down0.outC * (side / 2) * (side / 2))
        runConv(down0, m, height: side, width: side, a, ws: ws, scratchSlot: DSlot.conv.rawValue)
        Norm.layerNorm2d(a, channels: down0.outC, pixels: (side / 2) * (side / 2), weight: down1.w.pointer, bias: down1.b.pointer, eps: down1.eps)
        Elementwise.gelu(a, down0.outC * (side / 2) * (side / 2))
        let b = ws.buffer(DSlot.maskB.rawValue, down3.outC * n)
        runConv(down3, a, height: side / 2, width: side / 2, b, ws: ws, scratchSlot: DSlot.conv.rawValue)
        Norm.layerNorm2d(b, channels: down3.outC, pixels: n, weight: down4.w.pointer, bias: down4.b.pointer, eps: down4.eps)
        Elementwise.gelu(b, down3.outC * n)
        // 1×1 conv straight into token layout: out[n, dim] = bᵀ[n, mc] · Wᵀ[mc, dim] + bias.
        for i in 0..<n {
            if let bias = down6.b { (out + i * dim).update(from: bias.pointer, count: dim) } else { (out + i * dim).initialize(repeating: 0, count: dim) }
        }
        Gemm.sgemm(transA: true, transB: true, m: n, n: dim, k: down3.outC, a: b, lda: n, b: down6.w.pointer, ldb: down3.outC,
                   beta: 1, c: out, ldc: dim)
    }

    // MARK: Mask decoder

    enum DSlot: Int {
        case keys = 100, keysPE, dense, q, k, v, o, scratch, tokens, queries, qpe, tmp, mlp, nchw, up0, up1, conv, maskA, maskB, hyperIn
    }

    /// segment-anything's `predict_masks`: the output tokens and prompts through the two-way
    /// transformer with the image, the upscaled image features, the hypernetwork's masks and the
    /// IoU (and, for SAM 2.1, object-score) heads. `image` is the embedding as tokens [grid², dim].
    /// Returns low-resolution mask logits for the requested mask tokens [count, 4·grid, 4·grid] and all IoU predictions.
    func run(image: UnsafePointer<Float>, sparse: [Float], maskInput: UnsafePointer<Float>?, masks wanted: Range<Int>,
             cache: DecoderImageCache?, highRes: HighRes? = nil, ws: Workspace) -> (lowRes: [Float], iou: [Float], objectScore: Float) {
        let (queries, keys) = twoWayTransformer(image: image, sparse: sparse, maskInput: maskInput, cache: cache, ws: ws)
        let upscaled = upscale(keys, highRes: highRes, ws: ws)
        let lowRes = hypernetworkMasks(queries: queries, upscaled: upscaled, wanted: wanted, ws: ws)
        let (iou, objectScore) = scoreHeads(queries: queries, ws: ws)
        return (lowRes, iou, objectScore)
    }

    /// The output tokens ((SAM 2.1: object-score token,) IoU token, mask tokens) and the sparse
    /// prompts attend to the image (embedding + dense prompt) and it to them, layer by layer, then
    /// a final token-to-image attention. Returns the tokens [nt, dim] and the image keys [grid², dim],
    /// both in workspace buffers.
    func twoWayTransformer(image: UnsafePointer<Float>, sparse: [Float], maskInput: UnsafePointer<Float>?,
                                   cache: DecoderImageCache?, ws: Workspace) -> (queries: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<Float>) {
        // The cache holds layer 0's image-side projections, valid only for the no-mask dense prompt.
        let cache = maskInput == nil ? cache : nil
        let d = dim, n = grid * grid
        let ns = sparse.count / d
        let lead = leadingTokens
        let nt = lead + numMaskTokens + ns
        let tokens = ws.buffer(DSlot.tokens.rawValue, nt * d)
        if let obj = objScoreToken { tokens.update(from: obj.pointer, count: d) }
        (tokens + iouRow * d).update(from: iouToken.pointer, count: d)
        (tokens + lead * d).update(from: maskTokens.pointer, count: numMaskTokens * d)
        sparse.withUnsafeBufferPointer { if let b = $0.baseAddress { (tokens + (lead + numMaskTokens) * d).update(from: b, count: ns * d) } }

        let keys = ws.buffer(DSlot.keys.rawValue, n * d)
        if maskInput == nil {
            // keys = image + no_mask_embed, in one pass.
            Elementwise.addBias(keys, image, rows: n, dim: d, bias: noMask.pointer)
        } else {
            denseEmbeddings(maskInput: maskInput, keys, ws: ws)
            Elementwise.add(keys, image, n * d)
        }
        let pe = densePE.pointer

        let queries = ws.buffer(DSlot.queries.rawValue, nt * d)
        queries.update(from: tokens, count: nt * d)
        let qpe = ws.buffer(DSlot.qpe.rawValue, nt * d)
        let kpe = ws.buffer(DSlot.keysPE.rawValue, n * d)
        let tmp = ws.buffer(DSlot.tmp.rawValue, nt * d)

        for (i, layer) in layers.enumerated() {
            if i == 0 {
                attention(layer.selfAttn, q: queries, nq: nt, k: queries, nk: nt, v: queries, out: tmp, accumulate: false, ws: ws)
                queries.update(from: tmp, count: nt * d)
            } else {
                Elementwise.sum(qpe, queries, tokens, nt * d)
                attention(layer.selfAttn, q: qpe, nq: nt, k: qpe, nk: nt, v: queries, out: queries, accumulate: true, ws: ws)
            }
            norm(layer.norm1, queries, nt)
            Elementwise.sum(qpe, queries, tokens, nt * d)
            let c0 = i == 0 ? cache : nil
            // With layer 0's cached projections, keys + PE is never read (a 1 M-value pass saved).
            if c0 == nil { Elementwise.sum(kpe, keys, pe, n * d) }
            tokensToImage(layer.toImage, q: qpe, nq: nt, keys: kpe, values: keys, n: n,
                          cachedK: c0?.k0, cachedV: c0?.v0, out: queries, ws: ws)
            norm(layer.norm2, queries, nt)
            let h = ws.buffer(DSlot.mlp.rawValue, nt * layer.lin1.outF)
            layer.lin1(queries, rows: nt, h)
            Elementwise.relu(h, nt * layer.lin1.outF)
            Gemm.linear(h, rows: nt, inFeatures: layer.lin2.inF, weight: layer.lin2.w.pointer, bias: layer.lin2.b?.pointer,
                        outFeatures: d, queries, accumulate: true)
            norm(layer.norm3, queries, nt)
            Elementwise.sum(qpe, queries, tokens, nt * d)
            imageToTokens(layer.toToken, image: kpe, n: n, cachedQ: c0?.q0, tokensK: qpe, tokensV: queries, nt: nt, out: keys, ws: ws)
            // The attention's output bias is added by the LayerNorm pass (one pass over keys, not two).
            Norm.layerNorm(keys, keys, rows: n, dim: layer.norm4.dim, weight: layer.norm4.w.pointer, bias: layer.norm4.b.pointer,
                           preBias: layer.toToken.out.b?.pointer, eps: layer.norm4.eps)
        }
        Elementwise.sum(qpe, queries, tokens, nt * d)
        Elementwise.sum(kpe, keys, pe, n * d)
        tokensToImage(finalAttn, q: qpe, nq: nt, keys: kpe, values: keys, n: n, cachedK: nil, cachedV: nil, out: queries, ws: ws)
        norm(normFinal, queries, nt)
        return (queries, keys)
    }

    /// `output_upscaling`: two transposed 2×2 convs (LayerNorm + GELU between them), SAM 2.1's
    /// high-resolution features added after each. Returns [(sub-sub-pixel, c2), (pixel, sub-pixel)]
    /// without the second conv's bias and GELU, which `hypernetworkMasks` applies in its pass.
    ///
    /// In token layout each transposed conv is one GEMM from a pixel's channels to its four
    /// sub-pixels' channels ([n, d] → [n, (dy, dx, c1)] = [4n, c1]), so the channel LayerNorm is a
    /// row LayerNorm and nothing is transposed. The second conv writes channel-major
    /// ([(dy2, dx2, c2), 4n]) so that its GELU and the masks' product with the hypernetwork weights
    /// run as one vertical pass.
    func upscale(_ keys: UnsafePointer<Float>, highRes: HighRes?, ws: Workspace) -> UnsafeMutablePointer<Float> {
        let d = dim, n = grid * grid, c1 = d / 4, c2 = d / 8
        let t1 = ws.buffer(DSlot.up0.rawValue, n * 4 * c1)
        Gemm.sgemm(m: n, n: 4 * c1, k: d, a: keys, lda: d, b: up0R.pointer, ldb: 4 * c1, c: t1, ldc: 4 * c1)
        // SAM 2.1 adds conv_s1's features after the first transposed conv, before its LayerNorm.
        if let hr = highRes { Elementwise.add(t1, hr.s1, n * 4 * c1) }
        // The first conv's bias is added by the LayerNorm pass instead of filling the output first.
        Norm.layerNorm(t1, t1, rows: 4 * n, dim: c1, weight: up1.w.pointer, bias: up1.b.pointer, preBias: up0B.pointer, eps: up1.eps, gelu: true)
        let t2 = ws.buffer(DSlot.up1.rawValue, 16 * n * c2)  // [(s2, c2), (p, s1)]
        Gemm.sgemm(transA: true, transB: true, m: 4 * c2, n: 4 * n, k: c1, a: up3R.pointer, lda: 4 * c2, b: t1, ldb: c1, c: t2, ldc: 4 * n)
        // … and conv_s0's after the second, before its GELU.
        if let hr = highRes { Elementwise.add(t2, hr.s0, 16 * n * c2) }
        return t2
    }

    /// The wanted mask tokens through their hypernetwork MLPs, times the upscaled features:
    /// low-resolution logits [count, 4·grid, 4·grid] in image order.
    func hypernetworkMasks(queries: UnsafePointer<Float>, upscaled t2: UnsafeMutablePointer<Float>, wanted: Range<Int>,
                                   ws: Workspace) -> [Float] {
        let d = dim, n = grid * grid, c2 = d / 8, g4 = grid * 4
        let count = wanted.count
        let hyperIn = ws.buffer(DSlot.hyperIn.rawValue, max(count, 1) * c2)
        let a = ws.buffer(DSlot.q.rawValue, d), b = ws.buffer(DSlot.k.rawValue, d)
        for (j, i) in wanted.enumerated() {
            let mlp = hyper[i]
            mlp[0](queries + (leadingTokens + i) * d, rows: 1, a)
            Elementwise.relu(a, d)
            mlp[1](a, rows: 1, b)
            Elementwise.relu(b, d)
            mlp[2](b, rows: 1, hyperIn + j * c2)
        }
        // masks[m, s2, (p, s1)] = Σ_c hyperIn[m, c] · gelu(t2[(s2, c), (p, s1)] + b[c]).
        let fine = ws.buffer(DSlot.nchw.rawValue, 16 * n * max(count, 1))
        for s2 in 0..<4 {
            Elementwise.geluMix(t2 + s2 * c2 * 4 * n, ld: 4 * n, channels: c2, n: 4 * n, bias: up3B.pointer, h: hyperIn, count: count,
                                fine + s2 * 4 * n, ldo: 16 * n)
        }
        // Scattered from (sub-sub-pixel, pixel, sub-pixel) order to image order. The scatter writes
        // every value, so the array is not zeroed first; rows of pixels are split over the threads.
        return [Float](unsafeUninitializedCapacity: count * g4 * g4) { o, initialized in
            initialized = count * g4 * g4
            guard let base = o.baseAddress else { return }
            Threads.parallelRanges(grid, minPerChunk: 8) { rows in
                for p in (rows.lowerBound * grid)..<(rows.upperBound * grid) {
                    let y = p / grid, x = p % grid
                    for sub in 0..<16 {
                        let yy = 4 * y + 2 * ((sub >> 3) & 1) + ((sub >> 1) & 1)
                        let xx = 4 * x + 2 * ((sub >> 2) & 1) + (sub & 1)
                        let s1 = sub >> 2, s2 = sub & 3
                        for m in 0..<count { base[(m * g4 + yy) * g4 + xx] = fine[(m * 4 + s2) * 4 * n + p * 4 + s1] }
                    }
                }
            }
        }
    }

    /// The IoU head on the IoU token (through a sigmoid for SAM 2.1) and SAM 2.1's object-score head.
    func scoreHeads(queries: UnsafePointer<Float>, ws: Workspace) -> (iou: [Float], objectScore: Float) {
        let d = dim
        let width = max(d, iouHead.map(\.outF).max() ?? d)
        var x = ws.buffer(DSlot.q.rawValue, width)
        var y = ws.buffer(DSlot.k.rawValue, width)
        func head(_ layers: [LinearW], row: Int) -> [Float] {
            x.update(from: queries + row * d, count: d)
            for (i, lin) in layers.enumerated() {
                lin(x, rows: 1, y)
                if i < layers.count - 1 { Elementwise.relu(y, lin.outF) }
                swap(&x, &y)
            }
            return Array(UnsafeBufferPointer(start: x, count: layers.last?.outF ?? 0))
        }
        var iou = head(iouHead, row: iouRow)
        if iouSigmoid { iou = iou.map { Float(1 / (1 + exp(-Double($0)))) } }
        // Without the token (SAM 1) the object is taken as present, as the reference's constant 10.
        let objectScore = objScoreToken == nil ? 10 : head(objScoreHead, row: 0).first ?? 10
        return (iou, objectScore)
    }

    /// Layer 0's image-side projections for the no-mask prompt: they depend only on the image, so
    /// they are computed once per image instead of once per click.
    func imageCache(tokens: UnsafePointer<Float>, ws: Workspace) -> DecoderImageCache? {
        guard let layer = layers.first else { return nil }
        let d = dim, n = grid * grid, di = layer.toImage.internalDim
        let keys = ws.buffer(DSlot.keys.rawValue, n * d), kpe = ws.buffer(DSlot.keysPE.rawValue, n * d)
        denseEmbeddings(maskInput: nil, keys, ws: ws)
        Elementwise.add(keys, tokens, n * d)
        Elementwise.sum(kpe, keys, densePE.pointer, n * d)
        func project(_ l: LinearW, _ x: UnsafePointer<Float>) -> [Float] {
            var out = [Float](repeating: 0, count: n * l.outF)
            out.withUnsafeMutableBufferPointer { if let b = $0.baseAddress { l(x, rows: n, b) } }
            return out
        }
        _ = di
        return DecoderImageCache(tokens: Array(UnsafeBufferPointer(start: tokens, count: n * d)),
                                 k0: project(layer.toImage.k, kpe), v0: project(layer.toImage.v, keys), q0: project(layer.toToken.q, kpe))
    }

    /// Tokens attend to the image: out += out_proj(MHA(q_proj(q), k_proj(keys), v_proj(values))).
    /// Without cached projections the image side is never projected: per head,
    /// scores = (q_h·Wk_h)·keysᵀ (the q_h·bk_h term is the same for every key, and softmax ignores it)
    /// and A·(values·Wv_hᵀ + bv_h) = (A·values)·Wv_hᵀ + bv_h (rows of A sum to 1). That costs
    /// heads × tokens × n × d instead of n × d × internal per projection: about half, for a handful of tokens.
    private func tokensToImage(_ a: Attn, q: UnsafePointer<Float>, nq: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, n: Int,
                               cachedK: [Float]?, cachedV: [Float]?, out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let d = dim, di = a.internalDim, heads = a.heads, dh = di / heads
        let scale = 1 / Float(dh).squareRoot()
        let qp = ws.buffer(DSlot.q.rawValue, nq * di), op = ws.buffer(DSlot.o.rawValue, nq * di)
        a.q(q, rows: nq, qp)
        if let ck = cachedK, let cv = cachedV {
            let scratch = ws.buffer(DSlot.scratch.rawValue, Attention.scratchCount(queries: nq, keys: n))
            ck.withUnsafeBufferPointer { kb in cv.withUnsafeBufferPointer { vb in
                guard let kp = kb.baseAddress, let vp = vb.baseAddress else { return }
                Attention.multiHead(q: qp, ldq: di, k: kp, ldk: di, v: vp, ldv: di, queries: nq, keys: n, heads: heads,
                                    headDim: dh, valueDim: dh, scale: scale, out: op, ldo: di, scratch: scratch)
            } }
        } else {
            let rows = heads * nq
            let qk = ws.buffer(DSlot.k.rawValue, rows * d)       // [heads·nq, d]: q_h · Wk_h
            for h in 0..<heads {
                Gemm.sgemm(m: nq, n: d, k: dh, a: qp + h * dh, lda: di, b: a.k.w.pointer + h * dh * d, ldb: d, c: qk + h * nq * d, ldc: d)
            }
            let scores = ws.buffer(DSlot.scratch.rawValue, rows * n)
            Gemm.sgemm(transB: true, m: rows, n: n, k: d, alpha: scale, a: qk, lda: d, b: keys, ldb: d, c: scores, ldc: n)
            Elementwise.softmaxRows(scores, rows: rows, cols: n, ld: n)
            let av = ws.buffer(DSlot.v.rawValue, rows * d)       // [heads·nq, d]: A_h · values
            Gemm.sgemm(m: rows, n: d, k: n, a: scores, lda: n, b: values, ldb: d, c: av, ldc: d)
            for h in 0..<heads {
                let o = op + h * dh
                if let b = a.v.b { for r in 0..<nq { (o + r * di).update(from: b.pointer + h * dh, count: dh) } }
                Gemm.sgemm(transB: true, m: nq, n: dh, k: d, a: av + h * nq * d, lda: d, b: a.v.w.pointer + h * dh * d, ldb: d,
                           beta: a.v.b == nil ? 0 : 1, c: o, ldc: di)
            }
        }
        Gemm.linear(op, rows: nq, inFeatures: di, weight: a.out.w.pointer, bias: a.out.b?.pointer, outFeatures: dim, out, accumulate: true)
    }

    /// The image attends to the tokens: out += out_proj(MHA(q_proj(image), k_proj(tokensK), v_proj(tokensV)))
    /// without out_proj's bias, which the caller adds in its LayerNorm pass.
    /// Both image-sized products are reassociated through the few tokens: scores_h = image·(Wq_hᵀ k_hᵀ) + bq_h·k_hᵀ
    /// (or the cached q_proj(image)), and out = Σ_h A_h·(v_h·Wo_hᵀ), one GEMM over all heads.
    private func imageToTokens(_ a: Attn, image: UnsafePointer<Float>, n: Int, cachedQ: [Float]?,
                               tokensK: UnsafePointer<Float>, tokensV: UnsafePointer<Float>, nt: Int,
                               out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let d = dim, di = a.internalDim, heads = a.heads, dh = di / heads
        let scale = 1 / Float(dh).squareRoot()
        let kp = ws.buffer(DSlot.q.rawValue, nt * di), vp = ws.buffer(DSlot.v.rawValue, nt * di)
        a.k(tokensK, rows: nt, kp)
        a.v(tokensV, rows: nt, vp)
        let cols = heads * nt
        let scores = ws.buffer(DSlot.scratch.rawValue, n * cols)  // [n, heads, nt]
        if let cq = cachedQ {
            cq.withUnsafeBufferPointer { qb in
                guard let qp = qb.baseAddress else { return }
                for h in 0..<heads {
                    Gemm.sgemm(transB: true, m: n, n: nt, k: dh, alpha: scale, a: qp + h * dh, lda: di, b: kp + h * dh, ldb: di,
                               c: scores + h * nt, ldc: cols)
                }
            }
        } else {
            // m[d, heads·nt]: column (h, j) = Wq_hᵀ k_h[j]; c[(h, j)] = bq_h · k_h[j].
            let m = ws.buffer(DSlot.k.rawValue, d * cols)
            var c = [Float](repeating: 0, count: cols)
            for h in 0..<heads {
                Gemm.sgemm(transA: true, transB: true, m: d, n: nt, k: dh, a: a.q.w.pointer + h * dh * d, lda: d, b: kp + h * dh, ldb: di,
                           c: m + h * nt, ldc: cols)
                if let bq = a.q.b {
                    for j in 0..<nt {
                        var acc: Float = 0
                        for t in 0..<dh { acc += bq[h * dh + t] * kp[j * di + h * dh + t] }
                        c[h * nt + j] = acc * scale
                    }
                }
            }
            c.withUnsafeBufferPointer { cb in
                guard let cp = cb.baseAddress else { return }
                for r in 0..<n { (scores + r * cols).update(from: cp, count: cols) }
            }
            Gemm.sgemm(m: n, n: cols, k: d, alpha: scale, a: image, lda: d, b: m, ldb: cols, beta: 1, c: scores, ldc: cols)
        }
        Elementwise.softmaxRows(scores, rows: n * heads, cols: nt, ld: nt)
        // v'[(h, j), :] = v_h[j] · Wo_hᵀ
        let vo = ws.buffer(DSlot.o.rawValue, cols * d)
        for h in 0..<heads {
            Gemm.sgemm(transB: true, m: nt, n: d, k: dh, a: vp + h * dh, lda: di, b: a.out.w.pointer + h * dh, ldb: di, c: vo + h * nt * d, ldc: d)
        }
        Gemm.sgemm(m: n, n: d, k: cols, a: scores, lda: cols, b: vo, ldb: d, beta: 1, c: out, ldc: d)
    }

    private func norm(_ nw: NormW, _ x: UnsafeMutablePointer<Float>, _ rows: Int) {
        Norm.layerNorm(x, x, rows: rows, dim: nw.dim, weight: nw.w.pointer, bias: nw.b.pointer, eps: nw.eps)
    }

    /// out (+)= out_proj(MHA(q_proj(q), k_proj(k), v_proj(v))).
    private func attention(_ a: Attn, q: UnsafePointer<Float>, nq: Int, k: UnsafePointer<Float>, nk: Int, v: UnsafePointer<Float>,
                           out: UnsafeMutablePointer<Float>, accumulate: Bool, ws: Workspace) {
        let di = a.internalDim, dh = di / a.heads
        let qp = ws.buffer(DSlot.q.rawValue, nq * di), kp = ws.buffer(DSlot.k.rawValue, nk * di)
        let vp = ws.buffer(DSlot.v.rawValue, nk * di), op = ws.buffer(DSlot.o.rawValue, nq * di)
        a.q(q, rows: nq, qp)
        a.k(k, rows: nk, kp)
        a.v(v, rows: nk, vp)
        let scratch = ws.buffer(DSlot.scratch.rawValue, Attention.scratchCount(queries: nq, keys: nk))
        Attention.multiHead(q: qp, ldq: di, k: kp, ldk: di, v: vp, ldv: di, queries: nq, keys: nk, heads: a.heads,
                            headDim: dh, valueDim: dh, scale: 1 / Float(dh).squareRoot(), out: op, ldo: di, scratch: scratch)
        Gemm.linear(op, rows: nq, inFeatures: di, weight: a.out.w.pointer, bias: a.out.b?.pointer, outFeatures: dim, out, accumulate: accumulate)
    }
}
