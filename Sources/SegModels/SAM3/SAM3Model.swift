import SegCore
import SegNN

/// SAM 3's point and box path behind `SAMModel`, as the official SAM 3 image API runs it:
/// `Sam3Processor.set_image` (the uint8 square resize of `SAM3Preprocess`, mean/std 0.5, the ViT,
/// the `sam2_convs` neck, conv_s0/conv_s1; no_mem_embed as `predict_inst` adds it), then the
/// `SAM3InteractiveImagePredictor`'s `predict` — SAM 2's (see SAM2Model.swift) with one addition
/// in the post-processing: small background holes filled (`SAM3Holes`). The processor's state feeds
/// both the points and the concept prompts, so one encoder run serves both here too. (The
/// predictor's own `set_image` resizes the float image instead: `SAM2Transforms`.)
extension SAMModel {
    var isSAM3: Bool { if case .sam3 = config.encoder { true } else { false } }

    /// The SAM 3 encoder, when this is SAM 3.
    var sam3Encoder: SAM3Encoder? { if case .sam3(let e) = encoder { e } else { nil } }

    /// Floats the detector's levels add to a SAM 3 embedding (after the three maps the point path
    /// reads), so that a phrase on a prepared or cached image runs no encoder; 0 without detector heads.
    var sam3DetectorCount: Int { sam3Encoder?.detectorCount ?? 0 }

    func prepareSAM3(_ image: RGBImage, encoder: SAM3Encoder) throws -> SAMEmbedding {
        let s = imageSize
        let counts = sam2MapCounts
        var features = [Float](repeating: 0, count: counts.embed + counts.s1 + counts.s0 + encoder.detectorCount)
        do {
            // The encoder's scratch is its own and freed before the decoder's per-image work.
            let ws = Workspace()
            let input = ws.buffer(900, 3 * s * s)
            // Sam3Processor.transform: Resize((S, S)) on the uint8 image, to float, Normalize(0.5, 0.5).
            SAM3Preprocess.input(image, size: s, mean: config.pixelMean, std: config.pixelStd, into: input)
            features.withUnsafeMutableBufferPointer { f in
                guard let base = f.baseAddress else { return }
                encoder.forward(input, base, ws: ws)
            }
        }
        let t = Tensor(shape: featureShape, data: features)
        let cache = pool.with { sam2DecoderCache(t, ws: $0) }
        return SAMEmbedding(features: t, originalWidth: image.width, originalHeight: image.height, inputWidth: s, inputHeight: s,
                            modelFingerprint: fingerprint, decoderCache: cache)
    }
}

/// `SAM2Transforms.postprocess_masks` with the SAM 3 predictor's `max_hole_area=256`: connected
/// background regions (logit ≤ 0, 8-connected as `skimage.measure.label`) of at most 256 low-res
/// pixels get the logit 10 before upsampling. The low-res logits the predictor returns are the
/// unfilled ones.
enum SAM3Holes {
    static let maxArea = 256
    static let fillValue: Float = 10

    static func fill(_ lowRes: [Float], count: Int, side: Int) -> [Float] {
        var out = lowRes
        let plane = side * side
        for m in 0..<count {
            let bits = (0..<plane).map { lowRes[m * plane + $0] <= 0 ? UInt8(1) : 0 }
            // A low-res plane is far below the labeller's 2^32-pixel limit: it cannot throw here.
            guard let cc = try? Mask(width: side, height: side, bits: bits).connectedComponents(.eight), cc.count > 0 else { continue }
            var area = [Int](repeating: 0, count: cc.count + 1)
            for l in cc.labels.labels { area[Int(l)] += 1 }
            for i in 0..<plane {
                let l = Int(cc.labels.labels[i])
                if l > 0 && area[l] <= maxArea { out[m * plane + i] = fillValue }
            }
        }
        return out
    }
}
