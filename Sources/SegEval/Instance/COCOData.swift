import SegCore

/// A box as COCO writes it: left, top, width, height in pixels (floating point).
public struct COCOBox: Equatable, Sendable, Codable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var area: Double { width * height }
}

/// An annotation's or a detection's shape as the file holds it; turned into runs only when the
/// evaluation needs them (in parallel, per image).
public enum COCOSegmentation: Equatable, Sendable {
    case none
    /// One or more polygons, each `[x0, y0, x1, y1, ...]`; their union is the object.
    case polygons([[Double]])
    /// Uncompressed RLE: `counts` is a list of run lengths, column-major, starting with a 0-run.
    case counts(height: Int, width: Int, counts: [UInt32])
    /// Compressed RLE: the `counts` string, decoded only when the evaluation needs the runs.
    case compressed(height: Int, width: Int, string: String)
    /// Compressed RLE whose text stayed in the mapped file it was read from (the evaluation's
    /// reading of COCO JSON: a copy of every mask's text was most of its memory).
    case compressedText(RLEText)

    public var isPresent: Bool { if case .none = self { false } else { true } }

    /// The same shape with any text in a file copied out (`.compressedText` as `.compressed`).
    public var owned: COCOSegmentation {
        if case .compressedText(let text) = self { return .compressed(height: Int(text.height), width: Int(text.width), string: text.string) }
        return self
    }
}

public struct COCOImage: Equatable, Sendable {
    public var id: Int
    public var width: Int
    public var height: Int
    public var fileName: String
    /// LVIS (federated): categories checked to be absent from the image (`neg_category_ids`).
    public var negativeCategoryIds: [Int]?
    /// LVIS: categories whose instances in the image are not all annotated (`not_exhaustive_category_ids`).
    public var notExhaustiveCategoryIds: [Int]?

    public init(id: Int, width: Int, height: Int, fileName: String, negativeCategoryIds: [Int]? = nil,
                notExhaustiveCategoryIds: [Int]? = nil) {
        self.id = id; self.width = width; self.height = height; self.fileName = fileName
        self.negativeCategoryIds = negativeCategoryIds; self.notExhaustiveCategoryIds = notExhaustiveCategoryIds
    }
}

public struct COCOCategory: Equatable, Sendable {
    public var id: Int
    public var name: String
    public var supercategory: String
    /// Panoptic files say whether a category is a thing (countable) or stuff; nil when absent.
    public var isThing: Bool?
    /// LVIS: "r", "c" or "f" (rare, common, frequent: in < 10, 10–99, ≥ 100 training images).
    public var frequency: String?

    public init(id: Int, name: String, supercategory: String = "", isThing: Bool? = nil, frequency: String? = nil) {
        self.id = id; self.name = name; self.supercategory = supercategory; self.isThing = isThing; self.frequency = frequency
    }
}

/// A ground-truth annotation or a detection (results files have a score and no id).
public struct COCOAnnotation: Equatable, Sendable {
    public var id: Int
    public var imageId: Int
    public var categoryId: Int
    public var segmentation: COCOSegmentation
    public var bbox: COCOBox?
    /// The `area` field (ground truth); for detections pycocotools' `loadRes` derives it.
    public var area: Double?
    public var isCrowd: Bool
    /// The `ignore` field: LVIS's evaluation honours it; pycocotools overwrites it with `iscrowd`.
    public var ignore: Bool
    public var score: Double
    /// The entry's place in its file's list (`annotations[n]`, `results[n]`), what messages and
    /// failure references name; -1 when it came from no list (a converted format).
    public var filePosition: Int32 = -1

    public init(id: Int, imageId: Int, categoryId: Int, segmentation: COCOSegmentation = .none, bbox: COCOBox? = nil,
                area: Double? = nil, isCrowd: Bool = false, ignore: Bool = false, score: Double = 1) {
        self.id = id; self.imageId = imageId; self.categoryId = categoryId; self.segmentation = segmentation
        self.bbox = bbox; self.area = area; self.isCrowd = isCrowd; self.ignore = ignore; self.score = score
    }
}

extension COCOInputs {
    /// How messages name ground truth g: its place in the file when known, else g.
    func annotationEntry(_ g: Int) -> String {
        let ann = groundTruth.annotations[g]
        return "annotations[\(ann.filePosition >= 0 ? Int(ann.filePosition) : g)] (id \(ann.id))"
    }

    /// Detection d's place in the results file (its index when unknown): evaluations that drop
    /// detections (LVIS, `--image-ids`) or read a batch at a time still name the file's entry.
    func detectionPosition(_ d: Int) -> Int {
        let det = results.detections[d]
        return det.filePosition >= 0 ? Int(det.filePosition) : d
    }

    func detectionEntry(_ d: Int) -> String { "results[\(detectionPosition(d))]" }
}

/// A COCO instances file: images, categories and annotations, checked for consistency.
public struct COCOGroundTruth: Sendable {
    public var file: String
    public var images: [COCOImage]
    public var categories: [COCOCategory]
    public var annotations: [COCOAnnotation]
    /// When the file's image ids are strings: each image's number (as the evaluation orders them)
    /// → its id as the file writes it. Empty for numeric ids.
    public var imageIdNames: [Int: String] = [:]
    /// The mapped files `.compressedText` shapes point into; the evaluation hands their pages back
    /// after each batch of images (`releasePages`).
    public var sources: [MappedInputFile] = []

    public init(file: String = "", images: [COCOImage], categories: [COCOCategory], annotations: [COCOAnnotation]) {
        self.file = file; self.images = images; self.categories = categories; self.annotations = annotations
    }

    /// The image's id as the file writes it (a string id, or the number).
    public func idText(_ image: COCOImage) -> String { imageIdNames[image.id] ?? String(image.id) }

    /// An LVIS-style (federated) file: its images list the categories checked absent or not
    /// exhaustively annotated, or its categories carry a frequency.
    public var isFederated: Bool {
        images.contains { $0.negativeCategoryIds != nil || $0.notExhaustiveCategoryIds != nil }
            || categories.contains { $0.frequency != nil }
    }
}

/// A COCO results file: a list of detections.
public struct COCOResults: Sendable {
    public var file: String
    public var detections: [COCOAnnotation]
    /// pycocotools' `loadRes` takes a detection's area from its box when the first detection has a
    /// non-empty `bbox` (even for segm evaluation), else from its mask: kept to agree with it.
    public var areaFromBox: Bool
    /// As `COCOGroundTruth.sources`.
    public var sources: [MappedInputFile] = []

    public init(file: String = "", detections: [COCOAnnotation], areaFromBox: Bool) {
        self.file = file; self.detections = detections; self.areaFromBox = areaFromBox
    }
}

extension COCOInputs {
    /// Hands back the pages of the mapped files the inputs' RLE texts lie in (they stay readable).
    func releasePages() {
        for file in groundTruth.sources { file.releaseAll() }
        for file in results.sources { file.releaseAll() }
    }
}
