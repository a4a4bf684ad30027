import SegCore
import SegEval
import SegModels

/// What happens to the workbench: the user's input and the model worker's reports.
public enum WorkbenchEvent: Sendable {
    case input(InputEvent)
    case imageLoaded(index: Int, RGBImage)
    case imageFailed(index: Int, String)
    /// Model `lane` has prepared image `index` (encoded it, or computed its features).
    case prepared(lane: Int, index: Int, milliseconds: Int)
    /// Model `lane` had prepared image `index` in the background before the user opened it.
    case preparedAhead(lane: Int, index: Int, milliseconds: Int)
    case prepareFailed(lane: Int, index: Int, String)
    case result(lane: Int, request: Int, [Candidate], milliseconds: Int)
    case resultFailed(lane: Int, request: Int, String)
    /// The ground-truth objects of an image were looked up: how many (nil: none recorded for it).
    case groundTruthLoaded(index: Int, objects: [GroundTruthObject]?)
    case groundTruthFailed(index: Int, String)
    /// For each candidate of a result, the ground-truth object it overlaps best.
    case groundTruthMatches(lane: Int, request: Int, [GroundTruthMatch?])
    /// Every instance of a phrase the model found on image `index` (SAM 3's concept prompt).
    case phraseFound(lane: Int, index: Int, phrase: String, [ConceptDetection], milliseconds: Int)
    case phraseFailed(lane: Int, index: Int, phrase: String, String)
    /// A prediction set of the workspace was evaluated (in the background, once per session).
    case setEvaluated(set: String, SetEvaluation)
    case predictionScoresFailed(set: String, String)
    /// The engine's comparison of two sets (by index), for the compare view's class table.
    case compared(a: Int, b: Int, Comparison)
    case compareFailed(a: Int, b: Int, String)
    /// Sets `a` and `b`'s masks on image `index`, for the compare panes.
    case comparedMasks(index: Int, a: Int, b: Int, [(mask: Mask, label: Int)], [(mask: Mask, label: Int)])
    /// The prediction's mask of failure row `index` of set `set` (nil: the row has none).
    case failureMask(set: Int, index: Int, Mask?)
    /// A background job has something to say (an export written, or why it failed).
    case notice(String)
    /// The font changed: one cell is now this many pixels.
    case cellSizeChanged(PixelSize)
    /// `--debug-io`: the bytes the last frame sent, and all frames since the last input.
    case terminalOutput(lastFrame: Int, sinceInput: Int)
    /// A model's checkpoint file was hashed.
    case checkpointHashed(path: String, sha256: String)
    /// The runtime's monotonic clock, sent while a model prepares an image, so that the status line
    /// can say for how long (SAM 3's encoder takes most of a minute on 2 cores).
    case clock(milliseconds: Int)
    /// A volume slice's window, ground truth and predictions, read by the runtime.
    case volumeSlice(SliceLabels)
}

/// What the runtime must do after a `reduce`; tests assert on these values.
public enum WorkbenchEffect: Sendable {
    /// Load (and prepare) an image on the worker.
    case open(index: Int, path: String)
    /// Find every instance of `phrase` on image `index` with lane `lane`'s model.
    case findPhrase(lane: Int, index: Int, phrase: String)
    /// Prepare these images in the background, most likely first (the next ones in the list).
    case prefetch(paths: [String])
    /// Run model `lane` on the prepared image; `request` comes back with the result.
    case decode(lane: Int, request: Int, prompts: Prompts, previous: Candidate?, multimask: Bool)
    /// Append to the journal before anything else happens.
    case record(WorkRecord)
    /// Rewrite the outputs (label map of this image, COCO JSON).
    case save(image: String)
    /// Compare two prediction sets (by index) in the background.
    case compare(a: Int, b: Int)
    /// Decode sets `a` and `b`'s masks on image `index` in the background.
    case loadComparedMasks(index: Int, stem: String, size: PixelSize, a: Int, b: Int)
    /// Decode the prediction's mask of failure row `index` of set `set` in the background.
    case loadFailureMask(set: Int, index: Int)
    /// Write these failure rows of a set (indices into its failures) as CSV and a contact sheet.
    case exportFailures(set: Int, rows: [Int])
}

/// A journal record: every action that changes work. Replaying them restores a session.
public enum WorkRecord: Codable, Equatable, Sendable {
    /// The prompts of the object being made on `image` after a change (`refining`: accepted object id).
    /// `proposal`: the proposal under review these prompts fix (absent in older journals).
    case prompts(image: String, prompts: Prompts, refining: Int?, proposal: Int? = nil)
    /// An accepted mask, stored as COCO compressed RLE so replay needs no model.
    /// `model`: which model's mask it is (absent in journals written before two-model sessions).
    /// `checkpoint`: the file that model was loaded from (absent for built-in models and in older
    /// journals), with its SHA-256 when it was already known.
    /// `proposal`: the proposal under review this object came from (index in its image's list),
    /// `fixed`: true when it was changed (clicks or the brush) before being accepted.
    case accept(image: String, object: Int, className: String, width: Int, height: Int, rle: String, prompts: Prompts,
                model: String? = nil, checkpoint: String? = nil, checkpointSHA256: String? = nil, proposal: Int? = nil,
                fixed: Bool? = nil)
    /// A proposal under review was rejected.
    case reject(image: String, proposal: Int)
    /// A proposal under review was given another class.
    case proposalClass(image: String, proposal: Int, className: String)
    /// Undo (or redo) the last change of work: an accept, delete, rejection, class change or brush stroke.
    case undoWork
    case redoWork
    /// A checkpoint's SHA-256, once the background hash is done: the objects accepted from it
    /// before then (which recorded none) take it, so every object names its exact weights.
    case checkpointDigest(path: String, sha256: String)
    case delete(image: String, object: Int)
    case addClass(String)
    /// The image the user moved to (so a restored session opens where it left off).
    case visit(image: String)
    /// The instances of a phrase that `model` found on `image`: proposals to review, appended to
    /// the image's list (their masks are in the record, so a restart keeps them without the model).
    case found(image: String, phrase: String, model: String, width: Int, height: Int, masks: [FoundMask])
    /// Volumes: the display window chosen with `w` (`VolumeWindow`'s raw value), which is also
    /// what the models see, so a reopened session shows and segments the slices as before.
    case window(name: String)
}

/// One instance found by a phrase, as the journal keeps it.
public struct FoundMask: Codable, Equatable, Sendable {
    public var score: Double
    /// COCO compressed RLE.
    public var rle: String
    /// x0, y0, x1, y1 in image pixels.
    public var box: [Double]

    public init(score: Double, rle: String, box: [Double]) {
        self.score = score
        self.rle = rle
        self.box = box
    }
}
