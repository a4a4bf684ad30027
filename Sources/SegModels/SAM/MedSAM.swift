#if canImport(Glibc)
import Glibc
#endif
import SegCore
import SegNN

/// MedSAM (bowang-lab/MedSAM): SAM ViT-B fine-tuned on medical images. Its checkpoint is SAM's
/// ViT-B state dict, so the weights load through the SAM loader; what differs is the image path
/// and the answer, which follow `MedSAM_Inference.py` (and its `gui.py`, which does the same):
///
/// - the image is stretched to the encoder's square (1024 × 1024), not resized along its longest
///   side and padded: scikit-image's cubic-spline `resize(order=3, anti_aliasing=True,
///   preserve_range=True)` (mode 'reflect'), cast to uint8 (`SplineZoom`);
/// - min–max scaled to [0, 1] (the denominator clipped at 1e-8), without SAM's mean and std;
/// - the box is scaled by (S / W, S / H) as box / [W, H, W, H] · S;
/// - one mask (`multimask_output=False`); its low-resolution logits go through a sigmoid, then
///   bilinearly (align_corners=False) straight to the image's size, and the mask is p > 0.5.
public enum MedSAMPreprocess {
    /// The S × S uint8 image MedSAM's encoder sees (before scaling), channels last.
    public static func resized(_ image: RGBImage, size: Int) -> [UInt8] {
        resizedValues(image, size: size).map { UInt8($0) }  // astype(np.uint8): values already in 0…255
    }

    /// skimage's float64 result before MedSAM's uint8 cast, S × S × 3.
    public static func resizedValues(_ image: RGBImage, size: Int) -> [Double] {
        SplineZoom.resize(image.pixels.map(Double.init), height: image.height, width: image.width, channels: 3,
                          outHeight: size, outWidth: size)
    }

    /// (x − min) / max(max − min, 1e-8) of the uint8 image, as float32 planes [3, S, S].
    static func normalize(_ pixels: [UInt8], size s: Int, into out: UnsafeMutablePointer<Float>) {
        var lo = UInt8.max, hi = UInt8.min
        for v in pixels { lo = min(lo, v); hi = max(hi, v) }
        // NumPy: uint8 − uint8 stays uint8 (no wrap: every value ≥ the minimum), then / float64.
        let range = max(Double(hi - lo), 1e-8)
        for c in 0..<3 {
            let plane = out + c * s * s
            for i in 0..<(s * s) { plane[i] = Float(Double(pixels[3 * i + c] - lo) / range) }
        }
    }
}

extension SAMModel {
    /// Whether MedSAM's path applies: a ViT encoder (MedSAM is SAM ViT-B; LiteMedSAM's TinyViT
    /// has another pipeline).
    var takesMedSAM: Bool { if case .vit = encoder { true } else { false } }

    /// MedSAM's image embedding (see `MedSAMPreprocess`).
    public func prepareMedSAM(_ image: RGBImage) throws -> SAMEmbedding {
        guard image.width > 0, image.height > 0 else { throw SegError(.invalid, file: "", "image has zero size") }
        guard takesMedSAM else {
            throw SegError(.unsupported, file: checkpoint, "MedSAM's preprocessing needs a SAM ViT checkpoint (MedSAM is ViT-B); this is \(name)")
        }
        let s = imageSize
        let pixels = MedSAMPreprocess.resized(image, size: s)
        return pool.with { ws in
            let input = ws.buffer(900, 3 * s * s)
            MedSAMPreprocess.normalize(pixels, size: s, into: input)
            let features = encode(input, ws: ws)
            // The whole square is the image: no padding to crop.
            return SAMEmbedding(features: features, originalWidth: image.width, originalHeight: image.height,
                                inputWidth: s, inputHeight: s, modelFingerprint: fingerprint, decoderCache: decoderCache(features, ws: ws))
        }
    }

    /// MedSAM's `medsam_inference`: the decoder with one mask, its low-resolution logits [side²]
    /// and predicted IoU. Points (MedSAM was trained on boxes; its prompt encoder takes points as
    /// SAM's does) are scaled as the box.
    public func predictMedSAM(_ e: SAMEmbedding, points: [PromptPoint], box: PromptBox?) throws -> (lowRes: [Float], iou: Float) {
        try checkPrompts(e, points: points, box: box)
        let W = Double(e.originalWidth), H = Double(e.originalHeight), S = Double(imageSize)
        // box_np / np.array([W, H, W, H]) * 1024 in float64, then float32 (torch.as_tensor).
        let pts = points.map { (x: Float($0.x / W * S), y: Float($0.y / H * S), label: $0.positive ? 1 : 0) }
        let bx = box.map { (Float($0.x0 / W * S), Float($0.y0 / H * S), Float($0.x1 / W * S), Float($0.y1 / H * S)) }
        let sparse = decoder.sparseEmbeddings(points: pts, box: bx)
        return try pool.with { ws in
            let tokens: UnsafeMutablePointer<Float>
            if let cached = e.decoderCache?.tokens, cached.count == grid * grid * embedDim {
                tokens = ws.buffer(902, cached.count)
                cached.withUnsafeBufferPointer { if let b = $0.baseAddress { tokens.update(from: b, count: cached.count) } }
            } else {
                tokens = ws.buffer(902, grid * grid * embedDim)
                e.features.data.withUnsafeBufferPointer { f in
                    if let base = f.baseAddress { transpose(base, rows: embedDim, cols: grid * grid, tokens) }
                }
            }
            let run = decoder.run(image: tokens, sparse: sparse, maskInput: nil, masks: 0..<1, cache: e.decoderCache, ws: ws)
            guard let iou = run.iou.first, run.lowRes.count >= lowResSide * lowResSide else {
                throw SegError(.invalid, file: checkpoint, "decoder produced no output")
            }
            return (Array(run.lowRes.prefix(lowResSide * lowResSide)), iou)
        }
    }

    /// sigmoid, then bilinear (align_corners=False) from the low-resolution grid to H × W.
    public func medSAMProbabilities(_ lowRes: [Float], width W: Int, height H: Int) -> [Float] {
        let side = lowResSide
        let sig = lowRes.map { 1 / (1 + expf(-$0)) }
        var out = [Float](repeating: 0, count: W * H)
        sig.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                guard let sp = s.baseAddress, let op = o.baseAddress else { return }
                Interpolate.bilinear(sp, channels: 1, inHeight: side, inWidth: side, inRowStride: side, inPlaneStride: side * side,
                                     outHeight: H, outWidth: W, op)
            }
        }
        return out
    }
}

/// MedSAM behind the workbench's protocol (`--model medsam:CHECKPOINT`): SAM's weights with
/// MedSAM's image path and answer. One mask per prompt (MedSAM's decoder is asked for one); each
/// prompt is decoded on its own, as MedSAM's inference does (no earlier mask fed back).
public struct MedSAMSegmenter: PromptableSegmenter {
    public typealias Prepared = SAMEmbedding

    public let model: SAMModel
    public let cache: EmbeddingCache?

    public init(model: SAMModel, cache: EmbeddingCache? = nil) throws {
        guard model.takesMedSAM else {
            throw SegError(.unsupported, file: model.checkpoint, "medsam: needs a SAM ViT checkpoint (MedSAM is SAM ViT-B); this is \(model.name)")
        }
        self.model = model
        self.cache = cache
    }

    public init(checkpoint: String, cache: EmbeddingCache? = nil) throws {
        try self.init(model: try SAMModel.load(checkpoint: checkpoint), cache: cache)
    }

    public var name: String { model.config.name == "vit_b" ? "medsam_vit_b" : "medsam_" + model.config.name }

    /// The cache key's model part: MedSAM's embedding of an image is not SAM's of the same weights.
    static func cacheTag(of model: SAMModel) -> String { model.fingerprint + "-medsam" }
    var cacheTag: String { Self.cacheTag(of: model) }

    public func prepare(_ image: RGBImage) throws -> SAMEmbedding {
        guard let cache else { return try model.prepareMedSAM(image) }
        let key = EmbeddingCache.key(image: image, model: cacheTag)
        if let hit = cache.load(key: key, model: model, stretched: true) { return hit }
        let e = try model.prepareMedSAM(image)
        cache.store(e, key: key)
        return e
    }

    public func segment(_ prepared: SAMEmbedding, prompts: Prompts, previous: Candidate?, multimask: Bool) throws -> [Candidate] {
        let (lowRes, iou) = try model.predictMedSAM(prepared, points: prompts.points, box: prompts.box)
        let W = prepared.originalWidth, H = prepared.originalHeight
        let p = model.medSAMProbabilities(lowRes, width: W, height: H)
        let mask = Mask(width: W, height: H, bits: p.map { $0 > 0.5 ? 1 : 0 })
        return [Candidate(mask: mask, score: iou, feedback: .lowResolutionLogits(lowRes, side: model.lowResSide))]
    }
}
