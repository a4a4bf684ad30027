import Foundation
import Synchronization
import SegCore
import SegNN

/// SAM 3's detector after the backbone (sam3_image.py `forward_grounding` in eval): the prompt
/// (text features, then the geometry encoder's tokens), the fusion encoder over the coarsest image
/// level, the decoder, dot-product scores, boxes, and the segmentation head's masks.
struct SAM3Detector: Sendable {
    let geometry: SAM3Geometry
    let encoder: [SAM3EncoderLayer]
    let decoder: SAM3Decoder
    let scoring: SAM3Scoring
    let seg: SAM3SegmentationHead
    let dim: Int
    /// Owns the parameters' memory (the Params point into it).
    let store: ParamStore
    /// The image tokens' sine positions per grid side (the same for every phrase).
    let posCache = SAM3SineCache()

    init(_ l: WeightLoader, dim d: Int, heads: Int) throws {
        dim = d
        store = l.store
        geometry = try SAM3Geometry(l, dim: d, heads: heads)
        var layers: [SAM3EncoderLayer] = []
        let p = "detector.transformer.encoder.layers."
        while l.dict.has(p + "\(layers.count).norm1.weight") && layers.count < 64 {
            layers.append(try SAM3EncoderLayer(l, p + "\(layers.count).", dim: d, heads: heads, posAtSelf: true, posAtCrossKeys: false))
        }
        guard !layers.isEmpty else { throw SegError(.invalid, file: l.dict.path, "SAM 3 fusion encoder has no layers") }
        encoder = layers
        decoder = try SAM3Decoder(l, dim: d, heads: heads)
        scoring = try SAM3Scoring(l, dim: d)
        seg = try SAM3SegmentationHead(l, dim: d, heads: heads)
    }

    /// Every query's raw outputs, and the stages' values (for checking against the official code).
    struct Raw: Sendable {
        var prompt: [Float], promptValid: [Bool]
        var memory: [Float]
        var decoded: SAM3Decoder.Output
        var logits: [Float]
        var masks: [Float], maskSide: Int
    }

    /// Everything before the masks: the prompt, the fusion encoder's memory, the decoder's queries
    /// and boxes, the scores' logits. The masks need only the queries that are kept.
    struct Fused: Sendable {
        var prompt: [Float], promptValid: [Bool]
        var memory: [Float]
        var decoded: SAM3Decoder.Output
        var logits: [Float]
    }

    /// Every query's outputs, masks included (the official `forward_grounding`).
    func run(levels: [(data: [Float], side: Int)], selfAttended: [Float]? = nil, convolved: [[Float]]? = nil, text: [Float], textValid: [Bool],
             boxes: [SAM3Exemplar], ws: Workspace) -> Raw {
        let f = fuse(levels: levels, selfAttended: selfAttended, text: text, textValid: textValid, boxes: boxes, ws: ws)
        let m = masks(levels: levels, convolved: convolved, fused: f, queries: Array(0..<decoder.count), ws: ws)
        return Raw(prompt: f.prompt, promptValid: f.promptValid, memory: f.memory, decoded: f.decoded, logits: f.logits,
                   masks: m.logits, maskSide: m.side)
    }

    /// levels: the detector's backbone levels, finest first, channel-major, each (data, side); the
    /// last is the coarsest (g × g). text: the phrase's features [t, d] and valid tokens.
    /// `selfAttended`: the coarsest level's tokens [g·g, d] after the fusion encoder's first
    /// self-attention, which reads only the image (`prepare` computes it); nil: computed here.
    func fuse(levels: [(data: [Float], side: Int)], selfAttended: [Float]? = nil, text: [Float], textValid: [Bool], boxes: [SAM3Exemplar],
              ws: Workspace) -> Fused {
        let d = dim
        guard let top = levels.last else { preconditionFailure("SAM3Detector.run without image levels") }
        let g = top.side, n = g * g
        // The image tokens as rows: the geometry encoder's memory, and the fusion encoder's input
        // when `prepare` did not run its first self-attention.
        var img: [Float] = []
        let pos = posCache.grid(side: g, dim: d)
        var geo: [Float] = []
        HieraProfile.time("prompt (image tokens, geometry encoder)") {
            img = [Float](repeating: 0, count: n * d)
            top.data.withUnsafeBufferPointer { tp in
                img.withUnsafeMutableBufferPointer { ip in
                    if let t = tp.baseAddress, let i = ip.baseAddress { transpose(t, rows: d, cols: n, i) }
                }
            }
            img.withUnsafeBufferPointer { ip in
                pos.withUnsafeBufferPointer { pp in
                    if let i = ip.baseAddress, let p = pp.baseAddress { geo = geometry.encode(boxes, img: i, pos: p, height: g, width: g, ws: ws) }
                }
            }
        }
        let prompt = text + geo
        let promptValid = textValid + [Bool](repeating: true, count: boxes.count + 1)
        // The fusion encoder: image tokens attend to themselves (with position) and to the prompt.
        var memory = selfAttended ?? img
        memory.withUnsafeMutableBufferPointer { mp in
            pos.withUnsafeBufferPointer { pp in
                prompt.withUnsafeBufferPointer { qp in
                    guard let m = mp.baseAddress, let p = pp.baseAddress, let q = qp.baseAddress else { return }
                    for (i, layer) in encoder.enumerated() {
                        if i == 0 && selfAttended != nil {
                            layer.afterSelfAttention(m, n: n, memory: q, m: promptValid.count, memoryPos: nil, memoryValid: promptValid, ws: ws)
                        } else {
                            layer(m, n: n, pos: p, selfValid: nil, memory: q, m: promptValid.count, memoryPos: nil, memoryValid: promptValid, ws: ws)
                        }
                    }
                }
            }
        }
        var decoded = SAM3Decoder.Output(queries: [], boxes: [], lastReference: [], presenceLogit: 0)
        HieraProfile.time("decoder") {
            memory.withUnsafeBufferPointer { mp in
                pos.withUnsafeBufferPointer { pp in
                    if let m = mp.baseAddress, let p = pp.baseAddress {
                        decoded = decoder.run(memory: m, memoryPos: p, height: g, width: g, prompt: prompt, promptValid: promptValid, ws: ws)
                    }
                }
            }
        }
        let logits = HieraProfile.time("scoring") {
            scoring.logits(queries: decoded.queries, count: decoder.count, prompt: prompt, promptValid: promptValid)
        }
        return Fused(prompt: prompt, promptValid: promptValid, memory: memory, decoded: decoded, logits: logits)
    }

    /// The segmentation head's mask logits [queries.count, 4g, 4g] for the given queries, in that order.
    /// `convolved`: the finer levels through their pixel-decoder convolutions, from `prepare` (see
    /// `SAM3SegmentationHead.masks`); nil: convolved here.
    func masks(levels: [(data: [Float], side: Int)], convolved: consuming [[Float]]? = nil, fused f: Fused, queries: [Int], ws: Workspace)
        -> (logits: [Float], side: Int) {
        guard let top = levels.last else { preconditionFailure("SAM3Detector.masks without image levels") }
        return seg.masks(levels: Array(levels.dropLast()), convolved: consume convolved, memory: f.memory, side: top.side, prompt: f.prompt, promptValid: f.promptValid,
                         queries: f.decoded.queries, select: queries, ws: ws)
    }
}

/// `SAM3Sine.grid` of a square grid, computed once per side (1.3 M sines and cosines at 72²).
final class SAM3SineCache: Sendable {
    private let grids = Mutex<[Int: [Float]]>([:])

    func grid(side: Int, dim: Int) -> [Float] {
        let key = side * 65_536 + dim
        if let hit = grids.withLock({ $0[key] }) { return hit }
        let g = SAM3Sine.grid(height: side, width: side, dim: dim)
        grids.withLock { $0[key] = g }
        return g
    }
}
