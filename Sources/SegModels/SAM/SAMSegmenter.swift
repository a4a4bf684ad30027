import SegCore
import SegNN
import Synchronization

/// SAM / MobileSAM behind the app's `PromptableSegmenter` protocol, with the on-disk embedding
/// cache in front of the encoder.
public struct SAMSegmenter: PromptableSegmenter {
    public typealias Prepared = SAMEmbedding

    public let model: SAMModel
    public let cache: EmbeddingCache?

    public init(model: SAMModel, cache: EmbeddingCache? = nil) {
        self.model = model
        self.cache = cache
    }

    public init(checkpoint: String, cache: EmbeddingCache? = nil) throws {
        self.init(model: try SAMModel.load(checkpoint: checkpoint), cache: cache)
    }

    public var name: String { model.name }

    public func prepare(_ image: RGBImage) throws -> SAMEmbedding {
        guard let cache else { return try model.prepare(image) }
        let key = EmbeddingCache.key(image: image, model: model.fingerprint)
        if let hit = cache.load(key: key, model: model) { return hit }
        let e = try model.prepare(image)
        cache.store(e, key: key)
        return e
    }

    public func segment(_ prepared: SAMEmbedding, prompts: Prompts, previous: Candidate?, multimask: Bool) throws -> [Candidate] {
        var maskInput: [Float]?
        let side = model.lowResSide
        switch previous?.feedback {
        case .lowResolutionLogits(let logits, let s)? where s == side && logits.count == side * side:
            maskInput = logits
        case .mask(let mask)? where mask.width > 0 && mask.height > 0:
            maskInput = Self.maskInput(from: mask, model: model)  // a proposal or a painted mask to start from
        default:
            break
        }
        let p = try model.predict(prepared, points: prompts.points, box: prompts.box, maskInput: maskInput, multimask: multimask)
        let plane = side * side
        return p.masks.indices.map { i in
            Candidate(mask: p.masks[i], score: p.iou[i],
                      feedback: .lowResolutionLogits(Array(p.lowResLogits.data[(i * plane)..<((i + 1) * plane)]), side: side))
        }
    }
}

extension SAMSegmenter {
    /// A binary mask as the decoder's mask input: SAM 2's way of taking a mask as a prompt
    /// (`_use_mask_as_output`: +10 inside, -10 outside, i.e. `mask * 20 - 10`), sampled at the
    /// low-resolution grid's cell centres over the frame the encoder saw (the image resized with
    /// its longest side to the input size and padded for SAM; stretched to the square for SAM 2.1
    /// and SAM 3). Lets a click refine a mask that no click made (a proposal, a painted object).
    static func maskInput(from mask: Mask, model: SAMModel) -> [Float] {
        let side = model.lowResSide
        let input = model.inputSize(width: mask.width, height: mask.height)
        // Image pixels per low-resolution cell along each axis.
        let frame = Double(model.imageSize) / Double(side)
        let sx = frame * Double(mask.width) / Double(input.width), sy = frame * Double(mask.height) / Double(input.height)
        var logits = [Float](repeating: -10, count: side * side)
        for i in 0..<side {
            let y = Int((Double(i) + 0.5) * sy)
            guard y < mask.height else { break }
            for j in 0..<side {
                let x = Int((Double(j) + 0.5) * sx)
                guard x < mask.width else { break }
                if mask[x, y] { logits[i * side + j] = 10 }
            }
        }
        return logits
    }
}

/// The official predictor's stateful interface: `setImage` once, then `predict` per prompt.
public final class SAMPredictor: @unchecked Sendable {
    // @unchecked: `current` is guarded by `lock`; the model is immutable.
    public let model: SAMModel
    private let current = Mutex<SAMEmbedding?>(nil)

    public init(model: SAMModel) { self.model = model }

    public func setImage(_ image: RGBImage) throws {
        let e = try model.prepare(image)
        current.withLock { $0 = e }
    }

    public func setEmbedding(_ e: SAMEmbedding) { current.withLock { $0 = e } }

    public var embedding: SAMEmbedding? { current.withLock { $0 } }

    public func predict(points: [PromptPoint] = [], box: PromptBox? = nil, maskInput: [Float]? = nil,
                        multimask: Bool = true, returnLogits: Bool = false) throws -> SAMPrediction {
        guard let e = embedding else {
            throw SegError(.invalid, file: model.checkpoint, "no image set: call setImage before predict")
        }
        return try model.predict(e, points: points, box: box, maskInput: maskInput, multimask: multimask, returnLogits: returnLogits)
    }
}
