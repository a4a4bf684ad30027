#if canImport(Glibc)
import Glibc
#endif
import SegCore
import SegNN

/// An image encoded once: SAM's image embedding and the geometry needed to map prompts in and
/// masks out. Immutable and `Sendable`, so it can be made on one queue and decoded on another.
public struct SAMEmbedding: Sendable {
    /// The image embedding [256, 64, 64] for the released models (`predictor.features`).
    public let features: Tensor
    public let originalWidth: Int, originalHeight: Int
    /// The size after resizing the longest side to the encoder's input size (before padding).
    public let inputWidth: Int, inputHeight: Int
    /// Identifies the model that made it (see `SAMModel.fingerprint`).
    public let modelFingerprint: String
    /// Prompt-independent decoder work done once per image (nil: done per click).
    let decoderCache: DecoderImageCache?

    public init(features: Tensor, originalWidth: Int, originalHeight: Int, inputWidth: Int, inputHeight: Int, modelFingerprint: String) {
        self.init(features: features, originalWidth: originalWidth, originalHeight: originalHeight, inputWidth: inputWidth,
                  inputHeight: inputHeight, modelFingerprint: modelFingerprint, decoderCache: nil)
    }

    init(features: Tensor, originalWidth: Int, originalHeight: Int, inputWidth: Int, inputHeight: Int, modelFingerprint: String,
         decoderCache: DecoderImageCache?) {
        self.decoderCache = decoderCache
        self.features = features
        self.originalWidth = originalWidth; self.originalHeight = originalHeight
        self.inputWidth = inputWidth; self.inputHeight = inputHeight
        self.modelFingerprint = modelFingerprint
    }
}

/// The predictor's answer for one prompt: as `SamPredictor.predict`.
public struct SAMPrediction: Sendable {
    /// Binary masks at the original image size (logit > 0), one per output.
    public var masks: [Mask]
    /// Predicted IoU per mask.
    public var iou: [Float]
    /// Low-resolution logits [C, 256, 256] over the padded square (feed one back as `maskInput`).
    public var lowResLogits: Tensor
    /// Full-resolution logits [C, H, W], when asked for.
    public var logits: Tensor?
}

/// A SAM or MobileSAM network loaded from an official checkpoint.
public final class SAMModel: Sendable {
    public let config: SAMConfig
    /// Checkpoint path, as given.
    public let checkpoint: String
    /// "<name>-<size>-<hash of the first and last MiB>": ties cached embeddings to the weights.
    public let fingerprint: String

    enum Encoder: Sendable {
        case vit(ViTEncoder)
        case tinyViT(TinyViTEncoder)
        case hiera(HieraEncoder)
        case sam3(SAM3Encoder)
    }

    let encoder: Encoder
    let decoder: MaskDecoder
    let store: ParamStore
    let pool = WorkspacePool()

    public var imageSize: Int { config.imageSize }
    /// Channels of the image embedding (256 in every released model).
    public var embedDim: Int { config.decoder.promptEmbedDim }
    /// Side of the embedding grid (64 in every released model).
    public var grid: Int { config.grid }
    /// Side of the low-resolution logits (4 × grid: 256).
    public var lowResSide: Int { 4 * config.grid }
    /// [d, g, g]; SAM 2.1: the embedding and its two high-resolution maps, flat (see `sam2MapCounts`).
    public var featureShape: [Int] {
        if isSAM2 { let c = sam2MapCounts; return [c.embed + c.s1 + c.s0 + sam3DetectorCount] }
        return [embedDim, grid, grid]
    }
    public var name: String {
        if isSAM2 { return config.name }
        return config.name == "vit_t" ? "mobile_sam" : "sam_" + config.name
    }

    /// The encoder's input size for an image: the longest side resized (SAM), or the square (SAM 2.1).
    public func inputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        isSAM2 ? (imageSize, imageSize) : Preprocess.resizedSize(width: width, height: height, longest: imageSize)
    }

    public static func load(checkpoint: String) throws -> SAMModel {
        let dict: StateDict
        do { dict = try StateDict.load(path: checkpoint) } catch { throw SegError(error) }
        let model = try SAMModel(dict: dict, checkpoint: checkpoint)
        // Each tensor passed through a temporary array on its way into the model; glibc keeps the
        // freed heap pages (its mmap threshold grows with the first big free), over 100 MB for
        // SAM 2.1 tiny. Give them back (malloc_trim is glibc's; looked up since Swift's Glibc
        // module does not declare it).
        typealias Trim = @convention(c) (Int) -> Int32
        if let trim = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") { _ = unsafeBitCast(trim, to: Trim.self)(0) }
        return model
    }

    public init(dict: StateDict, checkpoint: String) throws {
        let c = try SAMConfig.detect(dict, checkpoint: checkpoint)
        config = c
        self.checkpoint = checkpoint
        store = ParamStore()
        // SAM 3 keeps the interactive decoder under `tracker.`: read it under SAM 2's names.
        let loader = WeightLoader(dict: SAMConfig.isSAM3(dict) ? SAMConfig.sam3View(dict) : dict, store: store)
        switch c.encoder {
        case .vit(let v): encoder = .vit(try ViTEncoder(v, loader))
        case .tinyViT(let t): encoder = .tinyViT(try TinyViTEncoder(t, loader))
        case .hiera(let h): encoder = .hiera(try HieraEncoder(h, loader))
        case .sam3(let v): encoder = .sam3(try SAM3Encoder(v, loader))
        }
        decoder = try MaskDecoder(c, loader)
        // SAM 3's embeddings changed with its preprocessing (the processor's uint8 resize): the tag
        // keeps cached embeddings of the earlier float resize from being served.
        let tag: String
        if case .sam3 = c.encoder { tag = c.name + "-u8" } else { tag = c.name }
        fingerprint = SAMModel.fingerprint(of: dict.file, name: tag)
    }

    static func fingerprint(of file: MappedFile, name: String) -> String {
        var h = FNV1a()
        let span = 1 << 20
        if let head = file.bytes(0, min(span, file.count)) { h.add(head) }
        if let tail = file.bytes(max(0, file.count - span), min(span, file.count)) { h.add(tail) }
        return "\(name)-\(file.count)-\(h.hex)"
    }

    // MARK: Image

    /// `set_image`: resize the longest side, normalise, pad, encode.
    public func prepare(_ image: RGBImage) throws -> SAMEmbedding {
        guard image.width > 0, image.height > 0 else { throw SegError(.invalid, file: "", "image has zero size") }
        if case .hiera(let h) = encoder { return try prepareSAM2(image, hiera: h) }
        if case .sam3(let e) = encoder { return try prepareSAM3(image, encoder: e) }
        let s = imageSize
        let (w, h) = Preprocess.resizedSize(width: image.width, height: image.height, longest: s)
        guard w > 0, h > 0 else {
            throw SegError(.invalid, file: "", "image \(image.width)x\(image.height) is too elongated: it would resize to \(w)x\(h)")
        }
        let resized = Preprocess.pillowBilinear(image, width: w, height: h)
        return pool.with { ws in
            let input = ws.buffer(900, 3 * s * s)
            Preprocess.normalizeAndPad(resized, size: s, mean: config.pixelMean, std: config.pixelStd, into: input)
            let features = encode(input, ws: ws)
            return SAMEmbedding(features: features, originalWidth: image.width, originalHeight: image.height,
                                inputWidth: w, inputHeight: h, modelFingerprint: fingerprint, decoderCache: decoderCache(features, ws: ws))
        }
    }

    /// The resized image (`ResizeLongestSide.apply_image`), for checks against the reference.
    public func resizedInput(_ image: RGBImage) -> RGBImage {
        let (w, h) = Preprocess.resizedSize(width: image.width, height: image.height, longest: imageSize)
        return Preprocess.pillowBilinear(image, width: max(w, 1), height: max(h, 1))
    }

    func encode(_ input: UnsafePointer<Float>, ws: Workspace) -> Tensor {
        let n = embedDim * grid * grid
        let out = ws.buffer(901, n)
        switch encoder {
        case .vit(let e): e.forward(input, out, ws: ws)
        case .tinyViT(let e): e.forward(input, out, ws: ws)
        case .hiera, .sam3: break  // SAM 2.1 and SAM 3 encode in prepareSAM2 / prepareSAM3
        }
        return Tensor(shape: featureShape, data: Array(UnsafeBufferPointer(start: out, count: n)))
    }

    /// An embedding from features computed elsewhere (a cache, the reference).
    public func embedding(features: Tensor, originalWidth: Int, originalHeight: Int) throws -> SAMEmbedding {
        guard features.shape == featureShape || features.shape == [1] + featureShape else {
            throw SegError(.invalid, file: "", "embedding has shape \(features.shape), expected \(featureShape)")
        }
        guard originalWidth > 0, originalHeight > 0 else { throw SegError(.invalid, file: "", "image has zero size") }
        let (w, h) = inputSize(width: originalWidth, height: originalHeight)
        let f = features.reshaped(featureShape)
        let cache = pool.with { isSAM2 ? sam2DecoderCache(f, ws: $0) : decoderCache(f, ws: $0) }
        return SAMEmbedding(features: f, originalWidth: originalWidth, originalHeight: originalHeight,
                            inputWidth: w, inputHeight: h, modelFingerprint: fingerprint, decoderCache: cache)
    }

    func decoderCache(_ features: Tensor, ws: Workspace) -> DecoderImageCache? {
        let tokens = ws.buffer(902, grid * grid * embedDim)
        features.data.withUnsafeBufferPointer { f in
            if let base = f.baseAddress { transpose(base, rows: embedDim, cols: grid * grid, tokens) }
        }
        return decoder.imageCache(tokens: tokens, ws: ws)
    }

    // MARK: Prompts

    /// `predict`: points in original image pixels with labels (1 positive, 0 negative), at most one
    /// box [x0, y0, x1, y1], an optional mask input [256×256] of logits from an earlier prediction.
    public func predict(_ e: SAMEmbedding, points: [PromptPoint] = [], box: PromptBox? = nil, maskInput: [Float]? = nil,
                        multimask: Bool, returnLogits: Bool = false) throws -> SAMPrediction {
        let low = try predictLowRes(e, points: points, box: box, maskInput: maskInput, multimask: multimask)
        let (masks, logits) = postprocess(low.lowRes, count: low.iou.count, e, keepLogits: returnLogits)
        if isSAM2 {
            // The official predictor returns its low-resolution logits clamped to ±32 (after upsampling).
            let clamped = low.lowRes.map { min(max($0, -32), 32) }
            return SAMPrediction(masks: masks, iou: low.iou, lowResLogits: Tensor(shape: [low.iou.count, lowResSide, lowResSide], data: clamped),
                                 logits: logits)
        }
        return SAMPrediction(masks: masks, iou: low.iou,
                             lowResLogits: Tensor(shape: [low.iou.count, lowResSide, lowResSide], data: low.lowRes), logits: logits)
    }

    /// The prompts fit the embedding: made by this model, not empty, every point and the box
    /// inside the original image.
    func checkPrompts(_ e: SAMEmbedding, points: [PromptPoint], box: PromptBox?, hasMaskInput: Bool = false) throws {
        guard e.modelFingerprint == fingerprint else {
            throw SegError(.invalid, file: checkpoint, "the embedding was made by another model (\(e.modelFingerprint))")
        }
        guard !points.isEmpty || box != nil || hasMaskInput else {
            throw SegError(.invalid, file: "", "empty prompt: give at least one point or a box")
        }
        let W = Double(e.originalWidth), H = Double(e.originalHeight)
        for p in points {
            guard p.x.isFinite, p.y.isFinite, p.x >= 0, p.y >= 0, p.x < W, p.y < H else {
                throw SegError(.invalid, file: "", "point (\(p.x), \(p.y)) is outside the \(e.originalWidth)x\(e.originalHeight) image")
            }
        }
        if let b = box {
            guard [b.x0, b.y0, b.x1, b.y1].allSatisfy(\.isFinite), b.x0 >= 0, b.y0 >= 0, b.x1 <= W, b.y1 <= H else {
                throw SegError(.invalid, file: "", "box [\(b.x0), \(b.y0), \(b.x1), \(b.y1)] is outside the \(e.originalWidth)x\(e.originalHeight) image")
            }
        }
    }

    /// The decoder alone (no upsampling): low-resolution logits and IoUs.
    public func predictLowRes(_ e: SAMEmbedding, points: [PromptPoint], box: PromptBox?, maskInput: [Float]?,
                              multimask: Bool) throws -> (lowRes: [Float], iou: [Float]) {
        try checkPrompts(e, points: points, box: box, hasMaskInput: maskInput != nil)
        if let m = maskInput, m.count != lowResSide * lowResSide {
            throw SegError(.invalid, file: "", "mask input has \(m.count) values, expected \(lowResSide)x\(lowResSide)")
        }
        if isSAM2 {
            let r = try predictLowResSAM2(e, points: points, box: box, maskInput: maskInput, multimask: multimask)
            return (r.lowRes, r.iou)
        }
        // apply_coords: float64 scaling to the resized frame, then float32.
        let sx = Double(e.inputWidth) / Double(e.originalWidth), sy = Double(e.inputHeight) / Double(e.originalHeight)
        let pts = points.map { (x: Float($0.x * sx), y: Float($0.y * sy), label: $0.positive ? 1 : 0) }
        let bx = box.map { (Float($0.x0 * sx), Float($0.y0 * sy), Float($0.x1 * sx), Float($0.y1 * sy)) }
        let sparse = decoder.sparseEmbeddings(points: pts, box: bx)
        let wanted = multimask ? 1..<decoder.numMaskTokens : 0..<1
        return try pool.with { ws in
            func decode(_ tokens: UnsafePointer<Float>) -> (lowRes: [Float], iou: [Float]) {
                if let m = maskInput {
                    let r = m.withUnsafeBufferPointer { decoder.run(image: tokens, sparse: sparse, maskInput: $0.baseAddress, masks: wanted, cache: nil, ws: ws) }
                    return (r.lowRes, r.iou)
                }
                let r = decoder.run(image: tokens, sparse: sparse, maskInput: nil, masks: wanted, cache: e.decoderCache, ws: ws)
                return (r.lowRes, r.iou)
            }
            let run: (lowRes: [Float], iou: [Float])
            if let cached = e.decoderCache?.tokens, cached.count == grid * grid * embedDim {
                // The embedding already in token layout: read in place.
                run = cached.withUnsafeBufferPointer { b in
                    guard let base = b.baseAddress else { return ([], []) }
                    return decode(base)
                }
            } else {
                let tokens = ws.buffer(902, grid * grid * embedDim)
                e.features.data.withUnsafeBufferPointer { f in
                    if let base = f.baseAddress { transpose(base, rows: embedDim, cols: grid * grid, tokens) }
                }
                run = decode(tokens)
            }
            guard run.iou.count >= wanted.upperBound else {
                throw SegError(.invalid, file: checkpoint, "decoder produced no output")
            }
            return (run.lowRes, Array(run.iou[wanted]))
        }
    }

    /// `postprocess_masks`: bilinear to the padded square, crop the resized image, bilinear to the
    /// original size; mask = logit > 0. Only the cropped part of the square is computed.
    public func postprocess(_ lowRes: [Float], count: Int, _ e: SAMEmbedding, keepLogits: Bool) -> ([Mask], Tensor?) {
        let s = imageSize, W = e.originalWidth, H = e.originalHeight
        let ih = e.inputHeight, iw = e.inputWidth
        let side = lowResSide
        guard count > 0, lowRes.count >= count * side * side else { return ([], nil) }
        if isSAM2 { return postprocessSAM2(lowRes, count: count, e, keepLogits: keepLogits) }
        return pool.with { ws in
            // Scratch for the padded-square pass and the full-size logits: a click allocates nothing big.
            let square = ws.buffer(910, count * ih * iw)
            let full = ws.buffer(911, count * H * W)
            lowRes.withUnsafeBufferPointer { lr in
                guard let l = lr.baseAddress else { return }
                // Rows/cols 0..<ih/iw of the s×s upsampling (taps depend only on side → s).
                Interpolate.bilinear(l, channels: count, inHeight: side, inWidth: side, inRowStride: side, inPlaneStride: side * side,
                                     outHeight: s, outWidth: s, square, cropHeight: ih, cropWidth: iw)
            }
            if ih == H && iw == W {
                // Resizing to the same size takes each source pixel with weight 1: a copy.
                full.update(from: square, count: count * H * W)
            } else {
                Interpolate.bilinear(square, channels: count, inHeight: ih, inWidth: iw, inRowStride: iw, inPlaneStride: ih * iw,
                                     outHeight: H, outWidth: W, full)
            }
            return SAMModel.masks(fromLogits: full, count: count, width: W, height: H, keepLogits: keepLogits)
        }
    }
}

extension SAMModel {
    /// Masks at the image's size from `count` planes of full-size logits (object where above 0),
    /// and the logits themselves when asked for.
    static func masks(fromLogits full: UnsafeMutablePointer<Float>, count: Int, width W: Int, height H: Int,
                      keepLogits: Bool) -> ([Mask], Tensor?) {
        var masks: [Mask] = []
        for c in 0..<count {
            var bits = [UInt8](repeating: 0, count: W * H)
            bits.withUnsafeMutableBufferPointer { b in
                let plane = full + c * W * H
                for i in 0..<(W * H) { b[i] = plane[i] > 0 ? 1 : 0 }
            }
            masks.append(Mask(width: W, height: H, bits: bits))
        }
        let logits = keepLogits ? Tensor(shape: [count, H, W], data: Array(UnsafeBufferPointer(start: full, count: count * H * W))) : nil
        return (masks, logits)
    }
}

/// 64-bit FNV-1a, for cache keys (not security).
struct FNV1a {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes {
            value ^= UInt64(b)
            value = value &* 0x100_0000_01b3
        }
    }
    mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }
    var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
