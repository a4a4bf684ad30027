import SegCore
import SegNN

/// SAM 2.1 behind `SAMModel`, as the official `SAM2ImagePredictor` runs it: `set_image`
/// (square resize, Hiera + FPN, high-resolution features, no_mem_embed) and `predict` (points in
/// the 1024 frame, box corners before the points, the padding point always, dynamic multimask via
/// stability for single-mask requests, logits upsampled straight to the image, clamped low-res
/// logits for the next click).
extension SAMModel {
    /// SAM 2.1, or SAM 3 whose interactive path is SAM 2's (same maps, decoder and post-processing).
    var isSAM2: Bool {
        switch config.encoder {
        case .hiera, .sam3: true
        case .vit, .tinyViT: false
        }
    }

    /// Sizes of the three maps an embedding holds: the image embedding [d, g, g], conv_s1's
    /// [d/4, 2g, 2g] and conv_s0's [d/8, 4g, 4g], concatenated in that order (SAM 2.1 only).
    var sam2MapCounts: (embed: Int, s1: Int, s0: Int) {
        let d = embedDim, g = grid
        return (d * g * g, (d / 4) * 4 * g * g, (d / 8) * 16 * g * g)
    }

    /// The stability threshold and delta `build_sam2` sets for single-mask requests.
    static let stabilityDelta: Float = 0.05, stabilityThreshold: Float = 0.98

    func prepareSAM2(_ image: RGBImage, hiera: HieraEncoder) throws -> SAMEmbedding {
        let s = imageSize, d = embedDim, g = grid
        let counts = sam2MapCounts
        var features = [Float](repeating: 0, count: counts.embed + counts.s1 + counts.s0)
        do {
            // The encoder's scratch (about 100 MB for the official models at 1024) is its own and is
            // freed before the decoder's per-image work, so the two never add up in the peak.
            let ws = Workspace()
            let input = ws.buffer(900, 3 * s * s)
            SAM2Preprocess.input(image, size: s, mean: config.pixelMean, std: config.pixelStd, into: input)
            let out = hiera.forward(input, ws: ws)
            // Back to channel-major maps (the official layout and what the cache stores).
            features.withUnsafeMutableBufferPointer { f in
                guard let base = f.baseAddress else { return }
                transpose(out.embed, rows: g * g, cols: d, base)
                transpose(out.s1, rows: 4 * g * g, cols: d / 4, base + counts.embed)
                transpose(out.s0, rows: 16 * g * g, cols: d / 8, base + counts.embed + counts.s1)
            }
        }
        let t = Tensor(shape: featureShape, data: features)
        let cache = pool.with { sam2DecoderCache(t, ws: $0) }
        return SAMEmbedding(features: t, originalWidth: image.width, originalHeight: image.height, inputWidth: s, inputHeight: s,
                            modelFingerprint: fingerprint, decoderCache: cache)
    }

    /// The decoder's per-image work: the embedding as tokens, layer 0's projections, and the
    /// high-resolution maps rearranged to the upscaling's layouts (see `MaskDecoder.HighRes`).
    func sam2DecoderCache(_ features: Tensor, ws: Workspace) -> DecoderImageCache? {
        let d = embedDim, g = grid, n = g * g
        let counts = sam2MapCounts
        let c1 = d / 4, c2 = d / 8
        return features.data.withUnsafeBufferPointer { f -> DecoderImageCache? in
            // (A SAM 3 embedding carries the detector's levels after the three maps.)
            guard let base = f.baseAddress, f.count == counts.embed + counts.s1 + counts.s0 + sam3DetectorCount else { return nil }
            let tokens = ws.buffer(902, n * d)
            transpose(base, rows: d, cols: n, tokens)
            guard let cache = decoder.imageCache(tokens: tokens, ws: ws) else { return nil }
            let s1 = base + counts.embed, s0 = s1 + counts.s1
            // hr1[(p·4 + s1)·c1 + c] = feat_s1[c, 2y + dy, 2x + dx], p = (y, x), s1 = (dy, dx).
            var hr1 = [Float](repeating: 0, count: counts.s1)
            var hr0 = [Float](repeating: 0, count: counts.s0)
            let side1 = 2 * g, side0 = 4 * g
            for p in 0..<n {
                let y = p / g, x = p % g
                for sub in 0..<4 {
                    let yy = 2 * y + (sub >> 1), xx = 2 * x + (sub & 1)
                    for c in 0..<c1 { hr1[(p * 4 + sub) * c1 + c] = s1[(c * side1 + yy) * side1 + xx] }
                    // hr0[(s2·c2 + c)·4n + p·4 + sub] = feat_s0[c, 2·yy + dy2, 2·xx + dx2], s2 = (dy2, dx2).
                    for s2 in 0..<4 {
                        let y0 = 2 * yy + (s2 >> 1), x0 = 2 * xx + (s2 & 1)
                        for c in 0..<c2 { hr0[(s2 * c2 + c) * 4 * n + p * 4 + sub] = s0[(c * side0 + y0) * side0 + x0] }
                    }
                }
            }
            return DecoderImageCache(tokens: cache.tokens, k0: cache.k0, v0: cache.v0, q0: cache.q0, highRes1: hr1, highRes0: hr0)
        }
    }

    /// `SAM2ImagePredictor._predict` up to the decoder's output: the selected masks' low-resolution
    /// logits (not yet clamped), their IoU predictions and the object score.
    func predictLowResSAM2(_ e: SAMEmbedding, points: [PromptPoint], box: PromptBox?, maskInput: [Float]?,
                           multimask: Bool) throws -> (lowRes: [Float], iou: [Float], objectScore: Float) {
        guard let cache = e.decoderCache, cache.highRes1.count == sam2MapCounts.s1, cache.highRes0.count == sam2MapCounts.s0,
              cache.tokens.count == grid * grid * embedDim else {
            throw SegError(.invalid, file: checkpoint, "the embedding lacks SAM 2.1's high-resolution features")
        }
        // transform_coords: x / w · S, y / h · S in float32.
        let w = Float(e.originalWidth), h = Float(e.originalHeight), s = Float(imageSize)
        var pts: [(x: Float, y: Float, label: Int)] = []
        if let b = box {
            pts.append((Float(b.x0) / w * s, Float(b.y0) / h * s, 2))
            pts.append((Float(b.x1) / w * s, Float(b.y1) / h * s, 3))
        }
        for p in points { pts.append((Float(p.x) / w * s, Float(p.y) / h * s, p.positive ? 1 : 0)) }
        let sparse = decoder.sparseEmbeddingsSAM2(pts)
        let total = decoder.numMaskTokens
        // Single-mask requests decode every token: the stability check may pick a multimask one.
        let wanted = multimask ? 1..<total : 0..<total
        let run: (lowRes: [Float], iou: [Float], objectScore: Float) = try pool.with { ws in
            try cache.tokens.withUnsafeBufferPointer { tb in
                try cache.highRes1.withUnsafeBufferPointer { h1 in
                    try cache.highRes0.withUnsafeBufferPointer { h0 in
                        guard let t = tb.baseAddress, let a = h1.baseAddress, let b = h0.baseAddress else {
                            throw SegError(.invalid, file: checkpoint, "empty embedding")
                        }
                        let hr = MaskDecoder.HighRes(s1: a, s0: b)
                        if let m = maskInput {
                            return m.withUnsafeBufferPointer {
                                decoder.run(image: t, sparse: sparse, maskInput: $0.baseAddress, masks: wanted, cache: nil, highRes: hr, ws: ws)
                            }
                        }
                        return decoder.run(image: t, sparse: sparse, maskInput: nil, masks: wanted, cache: cache, highRes: hr, ws: ws)
                    }
                }
            }
        }
        let plane = lowResSide * lowResSide
        guard run.iou.count == total, run.lowRes.count == wanted.count * plane else {
            throw SegError(.invalid, file: checkpoint, "decoder produced no output")
        }
        if multimask { return (run.lowRes, Array(run.iou[1...]), run.objectScore) }
        // _dynamic_multimask_via_stability: token 0 if its mask is stable, else the best multimask one.
        var inside = 0, outside = 0
        for v in run.lowRes[0..<plane] {
            if v > Self.stabilityDelta { inside += 1 }
            if v > -Self.stabilityDelta { outside += 1 }
        }
        let stability: Float = outside > 0 ? Float(inside) / Float(outside) : 1
        if stability >= Self.stabilityThreshold {
            return (Array(run.lowRes[0..<plane]), [run.iou[0]], run.objectScore)
        }
        var best = 1
        for i in 2..<total where run.iou[i] > run.iou[best] { best = i }
        return (Array(run.lowRes[(best * plane)..<((best + 1) * plane)]), [run.iou[best]], run.objectScore)
    }

    /// `postprocess_masks`: bilinear from the low-resolution logits straight to the image size.
    func postprocessSAM2(_ lowRes: [Float], count: Int, _ e: SAMEmbedding, keepLogits: Bool) -> ([Mask], Tensor?) {
        let W = e.originalWidth, H = e.originalHeight, side = lowResSide
        guard count > 0, lowRes.count >= count * side * side else { return ([], nil) }
        // SAM 3's predictor fills small background holes in the low-res logits first.
        let lowRes = isSAM3 ? SAM3Holes.fill(lowRes, count: count, side: side) : lowRes
        return pool.with { ws in
            let full = ws.buffer(911, count * H * W)
            lowRes.withUnsafeBufferPointer { lr in
                guard let l = lr.baseAddress else { return }
                Interpolate.bilinear(l, channels: count, inHeight: side, inWidth: side, inRowStride: side, inPlaneStride: side * side,
                                     outHeight: H, outWidth: W, full)
            }
            return SAMModel.masks(fromLogits: full, count: count, width: W, height: H, keepLogits: keepLogits)
        }
    }
}

extension MaskDecoder {
    /// SAM 2.1's sparse prompt tokens: the given points (box corners first, labels 2 and 3), then
    /// the padding point, which the image predictor always adds (it passes boxes as points).
    func sparseEmbeddingsSAM2(_ points: [(x: Float, y: Float, label: Int)]) -> [Float] {
        guard !points.isEmpty else { return [] }
        var out = [Float](repeating: 0, count: (points.count + 1) * dim)
        let size = Float(imageSize)
        out.withUnsafeMutableBufferPointer { o in
            guard let base = o.baseAddress else { return }
            for (i, p) in points.enumerated() {
                let row = base + i * dim
                Interpolate.fourierFeatures(x: (p.x + 0.5) / size, y: (p.y + 0.5) / size, gaussian: gaussian.pointer, features: dim / 2, row)
                let e = pointEmbeddings[min(max(p.label, 0), 3)]
                for j in 0..<dim { row[j] += e[j] }
            }
            (base + points.count * dim).update(from: notAPoint.pointer, count: dim)
        }
        return out
    }
}

extension SAMModel {
    /// SAM 2.1's image encoder cost per image, multiply-adds per phase as the official model runs
    /// it (nil for SAM 1 / MobileSAM).
    public var encoderMultiplyAdds: [(phase: String, macs: Double)]? {
        if case .hiera(let h) = encoder { return h.multiplyAdds() }
        return nil
    }
}
