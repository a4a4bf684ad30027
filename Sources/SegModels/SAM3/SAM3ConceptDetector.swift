import Foundation
import SegCore
import SegNN

/// One instance found by a concept prompt, in image pixels.
public struct ConceptDetection: Sendable {
    /// sigmoid(logit) · sigmoid(presence logit), as the official `Sam3Processor`.
    public let score: Float
    /// (x0, y0, x1, y1) in image pixels.
    public let box: (x0: Float, y0: Float, x1: Float, y1: Float)
    /// The query's mask logits upsampled (bilinear, align_corners=False) to the image, > 0.
    public let mask: Mask
    /// Which of the detector's queries it is.
    public let query: Int
}

/// SAM 3's promptable concept segmentation on one image: a phrase, exemplar boxes, or both, find
/// every instance, as the official `Sam3Processor` (`set_text_prompt`, `add_geometric_prompt`).
/// The image side is the point path's prepared `SAMEmbedding` (its detector levels are computed
/// in the same `prepare`, and kept by the embedding cache), so a phrase on a prepared image costs
/// the text encoder (once per phrase: cached) and the detector heads only.
public final class SAM3ConceptDetector: Sendable {
    public let text: SAM3TextModel
    let detector: SAM3Detector
    let model: SAMModel
    /// The detector's scratch, kept between phrases (about 100 MB at full size): fresh buffers of
    /// that size cost their page zeroing on every phrase.
    let workspaces = WorkspacePool()

    /// `model` must be the SAM 3 model loaded from `checkpoint` (its `prepare` gives the embeddings).
    public init(model: SAMModel, vocabulary: String?) throws {
        let checkpoint = model.checkpoint
        guard model.sam3DetectorCount > 0 else {
            throw SegError(.unsupported, file: checkpoint, "text and exemplar prompts need SAM 3's detector (detector.backbone.vision_backbone.convs, the text encoder and the heads); this checkpoint has only the point path")
        }
        let dict: StateDict
        do { dict = try StateDict.load(path: checkpoint) } catch { throw SegError(error) }
        text = try SAM3TextModel(dict: dict, checkpoint: checkpoint, vocabulary: vocabulary)
        let settings = try SAM3DetectorSettings.read(checkpoint: checkpoint)
        detector = try SAM3Detector(WeightLoader(dict: dict, store: ParamStore()), dim: model.embedDim, heads: settings.detectorHeads)
        guard text.dim == model.embedDim else {
            throw SegError(.invalid, file: checkpoint, "text features of width \(text.dim) for a detector of width \(model.embedDim)")
        }
        self.model = model
    }

    /// The official processor's default confidence threshold.
    public static let defaultThreshold: Float = 0.5

    /// Detections above `threshold`, best first. `phrase` nil with exemplars: the official
    /// processor's placeholder text "visual". Boxes are normalised to the image (0…1).
    public func detect(prepared e: SAMEmbedding, phrase: String?, exemplars: [SAM3Exemplar] = [],
                       threshold: Float = defaultThreshold) throws -> [ConceptDetection] {
        guard e.modelFingerprint == model.fingerprint else {
            throw SegError(.invalid, file: model.checkpoint, "the prepared image belongs to another model")
        }
        guard phrase != nil || !exemplars.isEmpty else {
            throw SegError(.invalid, file: "--text", "give a phrase, an exemplar box, or both")
        }
        let f = try HieraProfile.time("text encoder") { try text.features(phrase ?? "visual") }
        return try workspaces.with { ws in try detect(prepared: e, features: f, exemplars: exemplars, threshold: threshold, ws: ws) }
    }

    private func detect(prepared e: SAMEmbedding, features f: SAM3TextFeatures, exemplars: [SAM3Exemplar], threshold: Float,
                        ws: Workspace) throws -> [ConceptDetection] {
        // Only the coarsest level takes part before the masks; the finer ones (84 % of the levels'
        // floats, copied out of the embedding) only when a query is kept.
        let attended = selfAttended(e)
        let fused = detector.fuse(levels: attended == nil ? detectorLevels(e) : detectorLevels(e, finer: false), selfAttended: attended,
                                  text: f.features, textValid: f.valid, boxes: exemplars, ws: ws)
        let presence = 1 / (1 + expf(-fused.decoded.presenceLogit))
        let scores = fused.logits.map { 1 / (1 + expf(-$0)) * presence }
        // The scores do not depend on the masks: only the kept queries' masks are made (the
        // official processor makes every query's and drops the others').
        let kept = scores.indices.filter { scores[$0] > threshold }
        guard !kept.isEmpty else { return [] }
        let convolved = convolvedLevels(e), finer = convolved == nil
        // With the levels' convolutions from `prepare`, the masks read only the finer levels' sides;
        // the convolutions are handed over (consumed) so that the pixel decoder adds into them in place.
        let masks = detector.masks(levels: detectorLevels(e, finer: finer), convolved: consume convolved, fused: fused, queries: kept, ws: ws)
        let W = e.originalWidth, H = e.originalHeight, side = masks.side
        let out = try HieraProfile.time("kept masks upsampled to the image") {
            // The kept masks spread over the cores (each is independent).
            var made = [Result<Mask, any Error>?](repeating: nil, count: kept.count)
            made.withUnsafeMutableBufferPointer { mb in
                Threads.parallel(kept.count) { i in
                    let plane = Array(masks.logits[(i * side * side)..<((i + 1) * side * side)])
                    mb[i] = Result { try Self.upsample(plane, side: side, width: W, height: H) }
                }
            }
            return try kept.enumerated().map { i, q -> ConceptDetection in
                let b = Array(fused.decoded.boxes[(q * 4)..<(q * 4 + 4)])
                let box = ((b[0] - 0.5 * b[2]) * Float(W), (b[1] - 0.5 * b[3]) * Float(H), (b[0] + 0.5 * b[2]) * Float(W), (b[1] + 0.5 * b[3]) * Float(H))
                guard let mask = made[i] else { throw SegError(.invalid, file: model.checkpoint, "mask \(i) was not made") }
                return ConceptDetection(score: scores[q], box: box, mask: try mask.get(), query: q)
            }
        }
        return out.sorted { $0.score > $1.score }
    }

    /// The detector's three levels of a prepared image, finest first (after the point path's maps).
    /// `finer` false: the two finer levels with their sides and no data (for `fuse`, which reads
    /// the coarsest only, and for masks from `convolvedLevels`).
    func detectorLevels(_ e: SAMEmbedding, finer: Bool = true) -> [(data: [Float], side: Int)] {
        let c = model.sam2MapCounts, d = model.embedDim, g = model.grid
        let all = e.features.data
        var at = c.embed + c.s1 + c.s0
        var levels: [(data: [Float], side: Int)] = []
        for i in 0..<3 {
            let s = (4 >> i) * g, n = d * s * s
            levels.append((finer || i == 2 ? Array(all[at..<(at + n)]) : [], s))
            at += n
        }
        return levels
    }

    /// The coarsest level's tokens after the fusion encoder's first self-attention, when `prepare`
    /// computed them (after the three levels).
    func selfAttended(_ e: SAMEmbedding) -> [Float]? {
        let c = model.sam2MapCounts, d = model.embedDim, g = model.grid
        guard model.sam3DetectorCount >= 22 * d * g * g else { return nil }
        let at = c.embed + c.s1 + c.s0 + 21 * d * g * g
        return Array(e.features.data[at..<(at + d * g * g)])
    }

    /// The two finer levels through the pixel decoder's convolutions (with bias), finest first, when
    /// `prepare` computed them (after the first self-attention's tokens; `SAM3Encoder.pixelConvs`).
    func convolvedLevels(_ e: SAMEmbedding) -> [[Float]]? {
        let c = model.sam2MapCounts, d = model.embedDim, g = model.grid
        guard model.sam3DetectorCount == 42 * d * g * g else { return nil }
        let at = c.embed + c.s1 + c.s0 + 22 * d * g * g, fine = 16 * d * g * g
        return [Array(e.features.data[at..<(at + fine)]), Array(e.features.data[(at + fine)..<(at + fine + 4 * d * g * g)])]
    }

    /// Every query's raw outputs (for parity checks and tools).
    func run(_ e: SAMEmbedding, text f: SAM3TextFeatures, exemplars: [SAM3Exemplar]) -> SAM3Detector.Raw {
        detector.run(levels: detectorLevels(e), selfAttended: selfAttended(e), convolved: convolvedLevels(e), text: f.features, textValid: f.valid, boxes: exemplars,
                     ws: Workspace())
    }

    /// `interpolate(..., mode="bilinear", align_corners=False)` of one side × side logit plane to
    /// width × height, thresholded at 0 (sigmoid > 0.5).
    static func upsample(_ plane: [Float], side s: Int, width w: Int, height h: Int) throws -> Mask {
        let sx = Float(s) / Float(w), sy = Float(s) / Float(h)
        // Each source row interpolated at the output columns once (the same expression per pixel as
        // interpolating the four neighbours at once: the same values), then each output row is a
        // blend of two of them.
        var x0 = [Int](repeating: 0, count: w), x1 = x0, lx = [Float](repeating: 0, count: w)
        for x in 0..<w {
            let fx = max((Float(x) + 0.5) * sx - 0.5, 0)
            x0[x] = min(Int(fx), s - 1)
            x1[x] = min(x0[x] + 1, s - 1)
            lx[x] = fx - Float(x0[x])
        }
        var across = [Float](repeating: 0, count: s * w)
        for r in 0..<s {
            for x in 0..<w {
                across[r * w + x] = (1 - lx[x]) * plane[r * s + x0[x]] + lx[x] * plane[r * s + x1[x]]
            }
        }
        var bits = [UInt8](repeating: 0, count: w * h)
        across.withUnsafeBufferPointer { ab in
            bits.withUnsafeMutableBufferPointer { bb in
                guard let a = ab.baseAddress, let b = bb.baseAddress else { return }
                for y in 0..<h {
                    let fy = max((Float(y) + 0.5) * sy - 0.5, 0)
                    let y0 = min(Int(fy), s - 1), y1 = min(y0 + 1, s - 1), ly = fy - Float(y0)
                    let r0 = a + y0 * w, r1 = a + y1 * w, out = b + y * w
                    for x in 0..<w { out[x] = (1 - ly) * r0[x] + ly * r1[x] > 0 ? 1 : 0 }
                }
            }
        }
        return try Mask(width: w, height: h, bits: bits)
    }

}
