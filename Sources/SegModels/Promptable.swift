import SegCore

/// A click or a box corner in image pixel coordinates: pixel (i, j) is the point (i, j), and
/// models that work on pixel centres add 0.5 themselves (as SAM's prompt encoder does).
public struct PromptPoint: Equatable, Hashable, Sendable, Codable {
    public var x: Double
    public var y: Double
    /// true: this is object (left click); false: this is background (right click).
    public var positive: Bool

    public init(x: Double, y: Double, positive: Bool) {
        self.x = x; self.y = y; self.positive = positive
    }

    /// The pixel the point falls in.
    public var pixel: PixelPoint { PixelPoint(x: Int(x.rounded(.down)), y: Int(y.rounded(.down))) }
}

/// A box prompt, corners in image pixel coordinates as SAM takes them: [x0, y0, x1, y1].
public struct PromptBox: Equatable, Hashable, Sendable, Codable {
    public var x0: Double, y0: Double, x1: Double, y1: Double

    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = min(x0, x1); self.y0 = min(y0, y1); self.x1 = max(x0, x1); self.y1 = max(y0, y1)
    }

    /// The whole pixels the box covers (both corner pixels included).
    public var pixels: PixelBox {
        PixelBox(minX: Int(x0.rounded(.down)), minY: Int(y0.rounded(.down)),
                 maxX: Int(x1.rounded(.down)) + 1, maxY: Int(y1.rounded(.down)) + 1)
    }
}

/// What the user has said about the object so far: any number of points, at most one box.
public struct Prompts: Equatable, Sendable, Codable {
    public var points: [PromptPoint]
    public var box: PromptBox?

    public init(points: [PromptPoint] = [], box: PromptBox? = nil) {
        self.points = points
        self.box = box
    }

    public var isEmpty: Bool { points.isEmpty && box == nil }
}

/// One answer of a model: a mask at the image's full resolution, the model's own estimate of its
/// quality, and whatever the model wants back with the next click (SAM: its 256×256 low-resolution
/// logits, fed back as the mask input).
public struct Candidate: Sendable {
    public var mask: Mask
    /// The model's estimate of the mask's IoU (SAM's predicted IoU), or a comparable 0–1 confidence.
    public var score: Float
    /// Model-specific state carried to the next `segment` call through `previous`.
    public var feedback: Feedback?

    public enum Feedback: Sendable {
        /// Low-resolution mask logits, row-major, `side` × `side` (SAM: 256 × 256).
        case lowResolutionLogits([Float], side: Int)
        /// The previous binary result (classical models warm-start from it).
        case mask(Mask)
    }

    public init(mask: Mask, score: Float, feedback: Feedback? = nil) {
        self.mask = mask
        self.score = score
        self.feedback = feedback
    }
}

/// A model that turns prompts into masks. `prepare` runs once per image (SAM's image encoder, a
/// classical model's colour and edge features) and may be slow; `segment` runs once per click and
/// must be fast. The workbench, `segterm segment` and `segterm noc` see only this protocol.
public protocol PromptableSegmenter: Sendable {
    associatedtype Prepared: Sendable

    /// A short name for status lines and reports ("grabcut", "mobile_sam", …).
    var name: String { get }

    /// What a candidate's `score` is, for reports: SAM's "predicted IoU" (the default), the
    /// graph cut's "colour agreement".
    var scoreName: String { get }

    func prepare(_ image: RGBImage) throws -> Prepared

    /// Candidates in the model's own order: one mask, or several when `multimask` is asked and the
    /// model supports it (SAM gives three). `previous` is the candidate the user is refining.
    func segment(_ prepared: Prepared, prompts: Prompts, previous: Candidate?, multimask: Bool) throws -> [Candidate]
}

extension PromptableSegmenter {
    public var scoreName: String { "predicted IoU" }
}

extension Array where Element == Candidate {
    /// The candidate the model rates highest (the first among equals).
    public var best: Candidate? {
        var result: Candidate?
        for candidate in self where result == nil || candidate.score > result!.score { result = candidate }
        return result
    }
}

/// A promptable model with its type erased, so a runtime can hold whichever model the user chose
/// (`--model grabcut` or a checkpoint) behind one value.
public struct AnySegmenter: Sendable {
    /// What `prepare` returned, opaque to everyone but the model that made it.
    public struct Prepared: @unchecked Sendable {
        // The wrapped value is the model's own `Prepared`, which the protocol requires to be Sendable.
        fileprivate let value: Any
    }

    public let name: String
    public let scoreName: String
    private let prepareBody: @Sendable (RGBImage) throws -> Prepared
    private let segmentBody: @Sendable (Prepared, Prompts, Candidate?, Bool) throws -> [Candidate]
    /// Every instance of a phrase on a prepared image (nil: the model takes no text; SAM 3 with
    /// its detector does).
    public private(set) var findPhrase: (@Sendable (Prepared, String) throws -> [ConceptDetection])?

    public init<Model: PromptableSegmenter>(_ model: Model) {
        name = model.name
        scoreName = model.scoreName
        prepareBody = { image in Prepared(value: try model.prepare(image)) }
        segmentBody = { prepared, prompts, previous, multimask in
            guard let value = prepared.value as? Model.Prepared else {
                throw SegError(.invalid, file: model.name, "prepared image belongs to another model")
            }
            return try model.segment(value, prompts: prompts, previous: previous, multimask: multimask)
        }
    }

    /// SAM with SAM 3's concept prompts when its checkpoint has the detector.
    public init(_ sam: SAMSegmenter, vocabulary: String?, phraseThreshold: Float = SAM3ConceptDetector.defaultThreshold) {
        self.init(sam)
        if let finder = PhraseFinder(model: sam.model, vocabulary: vocabulary, threshold: phraseThreshold) {
            findPhrase = { prepared, phrase in
                guard let embedding = prepared.value as? SAMEmbedding else {
                    throw SegError(.invalid, file: sam.name, "prepared image belongs to another model")
                }
                return try finder.find(phrase, in: embedding)
            }
        }
    }

    public func prepare(_ image: RGBImage) throws -> Prepared { try prepareBody(image) }

    public func segment(_ prepared: Prepared, prompts: Prompts, previous: Candidate?, multimask: Bool) throws -> [Candidate] {
        try segmentBody(prepared, prompts, previous, multimask)
    }
}
