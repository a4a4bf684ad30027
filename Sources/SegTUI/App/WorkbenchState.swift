import Foundation
import SegCore
import SegEval
import SegModels

/// One image of the workspace.
public struct ImageEntry: Equatable, Sendable {
    public let path: String
    /// File name with extension, as shown in the list.
    public let name: String
    /// File name without extension: pairs images with masks and names output files.
    public let stem: String

    public init(path: String) {
        self.path = path
        name = FileName.last(path)
        stem = FileName.stem(path)
    }
}

/// A mask the user accepted, with its class and the prompts that made it (to refine it again).
public struct AcceptedObject: Equatable, Sendable {
    public var id: Int
    public var className: String
    public var mask: Mask
    public var prompts: Prompts
    /// Which accept produced this mask (a refined object gets a new one).
    public var revision: Int
    /// The model whose mask was accepted (nil in journals written before two-model sessions).
    public var model: String?
    /// The checkpoint file that model was loaded from (nil: a built-in model, or an older journal),
    /// and its SHA-256 (nil until hashed: accepted while the background hash still ran).
    public var checkpoint: String?
    public var checkpointSHA256: String?

    public init(id: Int, className: String, mask: Mask, prompts: Prompts, revision: Int = 0, model: String? = nil,
                checkpoint: String? = nil, checkpointSHA256: String? = nil) {
        self.id = id
        self.className = className
        self.mask = mask
        self.prompts = prompts
        self.revision = revision
        self.model = model
        self.checkpoint = checkpoint
        self.checkpointSHA256 = checkpointSHA256
    }
}

/// The object being made (or an accepted one being refined): its prompts with their history.
/// The models' answers to them are in `ModelLane`.
public struct ObjectEditor: Sendable {
    public var prompts = Prompts()
    public var undoStack: [Prompts] = []
    public var redoStack: [Prompts] = []
    /// The accepted object this editor refines, if any.
    public var refining: Int?
    /// The proposal (index in its image's list) this editor fixes, if any: Enter accepts the
    /// fixed mask as that proposal's object.
    public var fixingProposal: Int?

    public init() {}

    public var isEmpty: Bool { prompts.isEmpty && refining == nil && fixingProposal == nil }
}

/// What the user does to the prompts of the object being made.
public enum PromptEdit: Equatable, Sendable {
    case addPoint(PixelPoint, positive: Bool)
    case setBox(PixelPoint, PixelPoint)
    case undo
    case redo
    /// Start over: no prompts, no longer refining an accepted object.
    case clear
    /// Refine an accepted object: its prompts, a fresh history.
    case refine(object: Int, prompts: Prompts)
}

extension ObjectEditor {
    public enum Outcome: Equatable {
        /// The prompts the edit leads to. They are set when the journal record is applied (live and
        /// on replay alike), so the editor's history is updated here and its prompts there.
        case prompts(Prompts)
        /// Nothing to do, and why.
        case unchanged(String)
    }

    /// The prompt editor as a reducer of its own state: the prompts, their undo and redo history,
    /// and the object being refined.
    public mutating func reduce(_ edit: PromptEdit) -> Outcome {
        var next = prompts
        switch edit {
        case .addPoint(let p, let positive):
            next.points.append(PromptPoint(x: Double(p.x), y: Double(p.y), positive: positive))
        case .setBox(let a, let b):
            next.box = PromptBox(x0: Double(a.x), y0: Double(a.y), x1: Double(b.x), y1: Double(b.y))
        case .undo:
            guard let previous = undoStack.popLast() else { return .unchanged("nothing to undo") }
            redoStack.append(prompts)
            return .prompts(previous)
        case .redo:
            guard let later = redoStack.popLast() else { return .unchanged("nothing to redo") }
            undoStack.append(prompts)
            return .prompts(later)
        case .clear:
            refining = nil
            fixingProposal = nil
            next = Prompts()
        case .refine(let object, let objectPrompts):
            self = ObjectEditor()
            refining = object
            next = objectPrompts
        }
        undoStack.append(prompts)
        redoStack.removeAll()
        return .prompts(next)
    }
}

/// One promptable model of the session (two in an A/B session): what it is doing and its latest
/// answer to the editor's prompts. Each model runs on its own worker, so its answers arrive on
/// their own schedule.
public struct ModelLane: Sendable {
    public var name: String
    /// The checkpoint file the model was loaded from (nil: a built-in model), and its SHA-256
    /// once the background hash is done.
    public var checkpoint: String?
    public var checkpointSHA256: String?
    public var activity: ModelActivity = .idle
    /// While `activity` is `.preparing`: the clock when it was first seen so (the first `.clock`
    /// event after it), and the whole seconds since, shown after "preparing image…".
    public var preparingSince: Int?
    public var preparingSeconds = 0
    /// Whether this model's worker has prepared the current image.
    public var prepared = false
    /// The request whose result this lane shows next (nil: none); any other result is stale and dropped.
    public var awaitedRequest: Int?
    public var candidates: [Candidate] = []
    /// Per candidate, the ground-truth object it overlaps best (empty until computed, or without ground truth).
    public var groundTruthMatches: [GroundTruthMatch?] = []
    public var selectedCandidate = 0
    /// The request whose result fills `candidates`.
    public var candidatesRequest = 0

    public init(name: String) { self.name = name }

    public var currentMask: Mask? {
        candidates.indices.contains(selectedCandidate) ? candidates[selectedCandidate].mask : nil
    }

    public var currentCandidate: Candidate? {
        candidates.indices.contains(selectedCandidate) ? candidates[selectedCandidate] : nil
    }

    public var currentMatch: GroundTruthMatch? {
        groundTruthMatches.count == candidates.count && groundTruthMatches.indices.contains(selectedCandidate)
            ? groundTruthMatches[selectedCandidate] : nil
    }

    /// Forgets the answer and any request in flight (a new image, cleared prompts, an accept).
    mutating func reset() {
        candidates = []
        groundTruthMatches = []
        selectedCandidate = 0
        awaitedRequest = nil
    }
}

/// A named prediction set of the workspace and, once evaluated, its score per image.
public struct PredictionColumn: Sendable {
    public var name: String
    public var evaluation: SetEvaluation?
    public var failed = false

    public init(name: String, evaluation: SetEvaluation? = nil) {
        self.name = name
        self.evaluation = evaluation
    }

    public var scores: ImageScores? { evaluation?.scores }
}

/// The brush's mode and radius in image pixels.
public struct Brush: Equatable, Sendable {
    public var erase: Bool
    public var radius: Int

    public init(erase: Bool, radius: Int) {
        self.erase = erase
        self.radius = radius
    }
}

/// What the model is doing, for the status line.
public enum ModelActivity: Equatable, Sendable {
    case idle
    case loading
    case preparing
    case ready(milliseconds: Int)
    /// Prepared in the background before the image was opened (it took `milliseconds` then).
    case readyAhead(milliseconds: Int)
    case working
    case done(milliseconds: Int)
    case failed(String)
}

/// Modal parts of the interface.
public enum Overlay: Equatable, Sendable {
    case none
    case help
    /// Choosing the class of the mask being accepted: the typed filter and the highlighted row.
    case classPicker(filter: String, highlighted: Int)
    /// The per-class metrics of a prediction set (`m`).
    case metrics
    /// The failure browser (`f`).
    case failures
    /// Typing a phrase to find every instance of (`t`, SAM 3).
    case phrase(String)
    /// Two prediction sets side by side (`c`).
    case compare

    public var isPhrase: Bool { if case .phrase = self { true } else { false } }

    /// The views that blank everything above the status line: what lies under them is not drawn.
    public var coversScreen: Bool {
        switch self {
        case .metrics, .failures, .compare: true
        case .none, .help, .classPicker, .phrase: false
        }
    }
}

/// Everything `render` needs, and everything `reduce` changes.
public struct WorkbenchState: Sendable {
    // The terminal.
    public var rows: Int
    public var columns: Int
    public var colorMode: ColorMode
    /// What a cell of the image area holds: block symbols, or the terminal's pixels (kitty, sixel).
    public var display: DisplayGrid = .halfBlocks

    // The workspace.
    public var images: [ImageEntry]
    public var classes: [String]
    public var current = 0
    /// The decoded current image (nil while loading or after a load error).
    public var image: RGBImage?
    /// Counts image loads: with the object revisions below, it names what a frame shows, so the
    /// painter can reuse samples from the last frame (see `SampleCache`).
    public var imageGeneration = 0
    /// Images loaded so far: the next one's generation is this plus one.
    public var imagesLoaded = 0
    /// Samples of earlier frames, by image generation (see `SampleCache`).
    public var samples = SampleCache()
    /// Counts accepts (each accepted mask gets the count as its revision).
    public var acceptCount = 0
    public var imageError: String?
    /// Accepted objects per image path.
    public var accepted: [String: [AcceptedObject]] = [:]
    public var editor = ObjectEditor()
    /// How many images after the current one the workers prepare in the background (0: none).
    public var prefetchDepth = 0
    /// Unfinished objects of the images the user moved away from, by image name.
    public var drafts: [String: ObjectEditor] = [:]
    public var selectedObject: Int?
    /// The current image's ground-truth objects (nil: no ground truth for it).
    public var groundTruth: [GroundTruthObject]?
    public var groundTruthObjects: Int? { groundTruth?.count }
    /// The workspace's prediction sets, in the configuration's order (the list shows the first two).
    public var predictions: [PredictionColumn] = []
    public var metricsView = MetricsViewState()
    public var failureBrowser = FailureBrowserState()
    public var compareView = CompareViewState()
    /// Interactive-benchmark curves (one per model of the report): the metrics view's last pages.
    public var noc: [NocCurve] = []
    /// The failure shown on the image, when one was opened from the browser.
    public var failureFocus: FailureFocus?

    // Reviewing proposals (`open --proposals`).
    /// Proposals under review per image file name, each image's best first.
    public var proposals: [String: [ReviewProposal]] = [:]
    /// The current image's proposal under review (index into its list).
    public var proposalCursor: Int?
    /// The proposal whose class the class picker changes (nil: the picker accepts a mask).
    public var reclassifying: Int?
    /// Which lane's model finds phrases (SAM 3 with its detector; nil: none does).
    public var phraseLane: Int?

    // Undo of work: accepts, deletes, rejections, class changes and brush strokes.
    public var undoWork: [WorkSnapshot] = []
    public var redoWork: [WorkSnapshot] = []

    // The brush (`B`) and eraser (`X`): paint the selected object or the proposal under review.
    public var brush: Brush?
    /// The pixels of the stroke being dragged (empty: none).
    public var stroke: [PixelPoint] = []

    // The models.
    /// One lane per model: one, or two side by side in an A/B session.
    public var lanes: [ModelLane]
    /// The lane whose mask Enter accepts (and whose answer the status line shows).
    public var chosenLane = 0
    /// The id of the newest request posted (ids count up from 1).
    public var latestRequest = 0

    // The view.
    public var viewport: Viewport = .fit
    /// Keyboard cursor, in image pixels.
    public var cursor = PixelPoint(x: 0, y: 0)
    /// First corner of a box being drawn (`b` once, or a mouse press).
    public var boxStart: PixelPoint?
    public var dragStart: PixelPoint?
    public var opacityStep = 1
    public var overlay: Overlay = .none
    public var message: String?
    /// `--debug-io`: the bytes the last frames sent to the terminal, shown in the status line.
    public var debugIO: String?
    public var quit = false
    public var showList = true
    /// The ids the outputs give the classes (the ground truth's where it names them).
    public var categoryIDs = CategoryIDs()
    /// The ground truth's `file_name` for each image file name it lists (the outputs use them).
    public var groundTruthFileNames: [String: String] = [:]
    /// Which key does what (the defaults, or the user's `[keys]` over them).
    public var keymap = Keymap()
    /// The help overlay's first shown line (it scrolls when taller than the terminal).
    public var helpTop = 0
    /// A volume data set's browsing (nil: a folder of images); see `VolumeBrowsing.swift`.
    public var volume: VolumeBrowsing?

    public static let opacitySteps: [Double] = [0.25, 0.45, 0.7, 0.0]
    public static let minimumSize = (columns: 40, rows: 12)

    public init(rows: Int, columns: Int, colorMode: ColorMode, images: [ImageEntry], classes: [String], modelNames: [String]) {
        precondition(!modelNames.isEmpty, "a workbench needs a model")
        self.rows = rows
        self.columns = columns
        self.colorMode = colorMode
        self.images = images
        self.classes = classes
        lanes = modelNames.map(ModelLane.init)
    }

    public init(rows: Int, columns: Int, colorMode: ColorMode, images: [ImageEntry], classes: [String], modelName: String) {
        self.init(rows: rows, columns: columns, colorMode: colorMode, images: images, classes: classes, modelNames: [modelName])
    }

    /// The chosen lane: the model whose answer Enter accepts.
    public var lane: ModelLane {
        get { lanes[chosenLane] }
        set { lanes[chosenLane] = newValue }
    }

    public var isAB: Bool { lanes.count > 1 }

    public var currentEntry: ImageEntry? { images.indices.contains(current) ? images[current] : nil }
    public var currentObjects: [AcceptedObject] { currentEntry.map { accepted[$0.path] ?? [] } ?? [] }
    public var isTooSmall: Bool { columns < Self.minimumSize.columns || rows < Self.minimumSize.rows }
    /// Classes a new object can take: the workspace's, without the background entry.
    public var objectClasses: [String] { classes.filter { $0.lowercased() != "background" } }

    /// What the outputs hold (`OutputWriter`).
    public var work: OutputWriter.Work {
        OutputWriter.Work(images: images, accepted: accepted, classes: objectClasses, categoryIDs: categoryIDs,
                          fileNames: groundTruthFileNames)
    }
}

