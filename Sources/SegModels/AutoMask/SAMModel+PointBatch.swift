import SegCore
import SegNN

extension SAMModel {
    /// One single-point prompt of a batch (image pixels of the embedded image) and, for SAM 2.1's
    /// mask-to-mask refinement, the low-resolution logits fed back as the mask input.
    struct PointPrompt: Sendable {
        var x: Double, y: Double
        var maskInput: [Float]?
    }

    /// The decoder over a batch of positive single-point prompts on one embedding, as the official
    /// generators call `predict_torch` / `_predict` with B×1 points: per prompt, the low-res logits
    /// of the returned masks (SAM: the three multimask outputs; SAM 2.1: three, or one chosen by
    /// the stability check) and their predicted IoUs. With `keep`, a mask whose IoU it rejects is
    /// not computed (nil; multimask prompts without mask input only). The prompts share the
    /// embedding and are independent: they run side by side on the cores, each on one BLAS thread.
    func decodePoints(_ e: SAMEmbedding, _ prompts: [PointPrompt], multimask: Bool,
                      keep: (@Sendable (Float) -> Bool)? = nil) throws -> [(lowRes: [[Float]?], iou: [Float])] {
        guard e.modelFingerprint == fingerprint else {
            throw SegError(.invalid, file: checkpoint, "the embedding was made by another model (\(e.modelFingerprint))")
        }
        let results = Results(count: prompts.count)
        SerialBLAS.forEach(prompts.count) { i, _ in
            do {
                results.set(i, .success(try decodeOne(e, prompts[i], multimask: multimask, keep: keep)))
            } catch {
                results.set(i, .failure(error))
            }
        }
        return try results.values()
    }

    private func decodeOne(_ e: SAMEmbedding, _ p: PointPrompt, multimask: Bool,
                           keep: ((Float) -> Bool)?) throws -> (lowRes: [[Float]?], iou: [Float]) {
        let plane = lowResSide * lowResSide
        let point = PromptPoint(x: p.x, y: p.y, positive: true)
        guard let keep, multimask, p.maskInput == nil, let cache = e.decoderCache, cache.tokens.count == grid * grid * embedDim else {
            let r: (lowRes: [Float], iou: [Float])
            if isSAM2 {
                let s = try predictLowResSAM2(e, points: [point], box: nil, maskInput: p.maskInput, multimask: multimask)
                r = (s.lowRes, s.iou)
            } else {
                r = try predictLowRes(e, points: [point], box: nil, maskInput: p.maskInput, multimask: multimask)
            }
            return ((0..<r.iou.count).map { Array(r.lowRes[($0 * plane)..<(($0 + 1) * plane)]) }, r.iou)
        }
        let W = Double(e.originalWidth), H = Double(e.originalHeight)
        guard p.x.isFinite, p.y.isFinite, p.x >= 0, p.y >= 0, p.x < W, p.y < H else {
            throw SegError(.invalid, file: "", "point (\(p.x), \(p.y)) is outside the \(e.originalWidth)x\(e.originalHeight) image")
        }
        let sparse: [Float]
        if isSAM2 {
            // transform_coords: x / w · S, y / h · S in float32 (as predictLowResSAM2).
            let s = Float(imageSize)
            sparse = decoder.sparseEmbeddingsSAM2([(Float(p.x) / Float(W) * s, Float(p.y) / Float(H) * s, 1)])
        } else {
            // apply_coords: float64 scaling to the resized frame (as predictLowRes).
            let sx = Double(e.inputWidth) / W, sy = Double(e.inputHeight) / H
            sparse = decoder.sparseEmbeddings(points: [(x: Float(p.x * sx), y: Float(p.y * sy), label: 1)], box: nil)
        }
        let wanted = 1..<decoder.numMaskTokens
        let run: (lowRes: [[Float]?], iou: [Float]) = try pool.with { ws in
            try cache.tokens.withUnsafeBufferPointer { tb in
                try cache.highRes1.withUnsafeBufferPointer { h1 in
                    try cache.highRes0.withUnsafeBufferPointer { h0 in
                        guard let t = tb.baseAddress else { throw SegError(.invalid, file: checkpoint, "empty embedding") }
                        var hr: MaskDecoder.HighRes?
                        if isSAM2 {
                            guard let a = h1.baseAddress, let b = h0.baseAddress, h1.count == sam2MapCounts.s1, h0.count == sam2MapCounts.s0 else {
                                throw SegError(.invalid, file: checkpoint, "the embedding lacks SAM 2.1's high-resolution features")
                            }
                            hr = MaskDecoder.HighRes(s1: a, s0: b)
                        }
                        return decoder.runScoreFirst(image: t, sparse: sparse, masks: wanted, cache: cache, highRes: hr, keep: keep, ws: ws)
                    }
                }
            }
        }
        guard run.iou.count >= wanted.upperBound else { throw SegError(.invalid, file: checkpoint, "decoder produced no output") }
        return (run.lowRes, Array(run.iou[wanted]))
    }
}

/// One slot per prompt, each written by the one worker that decodes it.
private final class Results: @unchecked Sendable {
    private var slots: [Result<(lowRes: [[Float]?], iou: [Float]), Error>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<(lowRes: [[Float]?], iou: [Float]), Error>) {
        slots.withUnsafeMutableBufferPointer { $0[i] = r }
    }
    func values() throws -> [(lowRes: [[Float]?], iou: [Float])] {
        try slots.map { slot in
            guard let slot else { throw SegError(.invalid, file: "", "a prompt was not decoded") }
            return try slot.get()
        }
    }
}
