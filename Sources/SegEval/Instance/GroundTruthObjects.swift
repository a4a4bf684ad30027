import SegCore

/// One ground-truth object of an image, for matching a mask being drawn against it.
public struct GroundTruthObject: Sendable {
    public var className: String
    public var mask: Mask

    public init(className: String, mask: Mask) {
        self.className = className
        self.mask = mask
    }
}

/// The ground-truth object a mask overlaps best, and by how much.
public struct GroundTruthMatch: Equatable, Sendable {
    public var object: Int
    public var className: String
    public var iou: Double

    public init(object: Int, className: String, iou: Double) {
        self.object = object
        self.className = className
        self.iou = iou
    }
}

/// The ground truth of a workspace, looked up one image at a time: a COCO instances file (parsed
/// once), a COCO panoptic file with its PNGs, or a folder of masks paired with the images by file stem. In a mask, every value other
/// than 0 and the ignore value is one object: with a class list of more than background and one
/// class (a label map, as the evaluation reads it) it is named by its class, else a binary mask's
/// one object is "object".
public final class GroundTruthObjects: Sendable {
    private enum Source {
        case coco(COCOGroundTruth, categories: [Int: String])
        case masks(folder: String, byStem: [String: String], classes: [String])
        /// COCO panoptic: the JSON's segments and the folder of id PNGs beside it.
        case panoptic(PanopticFile, folder: String, categories: [Int: String])
    }

    private let source: Source
    private let path: String
    private let ignoreValue: UInt32?

    public init(path: String, classes: [String] = [], ignoreValue: UInt32? = nil) throws {
        self.path = path
        self.ignoreValue = ignoreValue
        if let format = Evaluation.objectFormat(path) {
            // YOLO and LabelMe sets: their COCO model, as eval reads them.
            var options = FormatOptions()
            options.predictions = false
            let gt = try Formats.read(path, format: format, options: options).groundTruth
            source = .coco(gt, categories: Dictionary(gt.categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a }))
        } else if FileIO.isDirectory(path) {
            let files = try FilePairs.imageFiles(in: path)
            source = .masks(folder: path, byStem: Dictionary(files.map { (FilePairs.stem($0), $0) }, uniquingKeysWith: { a, _ in a }),
                            classes: classes)
        } else if Evaluation.task(of: EvalRequest(groundTruth: path, predictions: ""), classes: classes) == .panoptic {
            let gt = try PanopticFile.read(path)
            source = .panoptic(gt, folder: PanopticEvaluator.folder(of: path),
                               categories: Dictionary(gt.categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a }))
        } else {
            let gt = try COCOReader.readGroundTruth(path)
            source = .coco(gt, categories: Dictionary(gt.categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    /// The objects of the image file `name` (a file name; COCO `file_name`s match by their last
    /// path component), nil when the ground truth has no entry for it. An entry whose size differs
    /// from the image's is an error: its masks would not line up.
    public func objects(forImage name: String, width: Int, height: Int) throws -> (objects: [GroundTruthObject], ignored: Mask?)? {
        switch source {
        case .coco(let gt, let categories):
            let stem = FileName.stem(name)
            guard let image = gt.images.first(where: { FileName.last($0.fileName) == name })
                ?? gt.images.first(where: { FileName.stem($0.fileName) == stem }) else { return nil }
            try requireSize(image.width, image.height, of: "image \(image.id) (\(image.fileName))", width, height)
            var objects: [GroundTruthObject] = []
            for annotation in gt.annotations where annotation.imageId == image.id && !annotation.isCrowd {
                guard let runs = try InstanceShapes.runs(of: annotation, image: image, entry: "annotation \(annotation.id)", file: path)
                else { continue }
                objects.append(GroundTruthObject(className: categories[annotation.categoryId] ?? "category \(annotation.categoryId)",
                                                 mask: runs.decode()))
            }
            return (objects, nil)
        case .masks(let folder, let byStem, let classes):
            guard let file = byStem[FilePairs.stem(name)] else { return nil }
            let maskPath = folder + "/" + file
            let labels = try ImageFile.read(maskPath).labelMap()
            try requireSize(labels.width, labels.height, of: maskPath, width, height)
            var values = Set(labels.labels)
            values.remove(0)
            if let ignoreValue { values.remove(ignoreValue) }
            let objects = values.sorted().map { value in
                GroundTruthObject(className: Self.name(of: value, classes: classes, valuesInMask: values.count), mask: labels.mask(of: value))
            }
            return (objects, ignoreValue.map { labels.mask(of: $0) })
        case .panoptic(let gt, let folder, let categories):
            guard let annotation = gt.annotations.first(where: { FileName.stem($0.fileName) == FileName.stem(name) }) else { return nil }
            let pngPath = folder + "/" + annotation.fileName
            let ids = try ImageFile.read(pngPath).labelMap(reducing: .packedRGB)
            try requireSize(ids.width, ids.height, of: pngPath, width, height)
            // Crowd regions are neither matched nor missed by PQ: they are no object to match against.
            let objects = annotation.segments.filter { !$0.isCrowd }.map { segment in
                GroundTruthObject(className: categories[segment.categoryId] ?? "category \(segment.categoryId)", mask: ids.mask(of: segment.id))
            }
            return (objects, nil)
        }
    }

    /// The object `mask` overlaps best (highest IoU outside the ignored pixels), nil when there
    /// are no objects or the mask is empty.
    public static func bestMatch(_ mask: Mask, among objects: [GroundTruthObject], ignoring ignored: Mask? = nil) -> GroundTruthMatch? {
        guard mask.area > 0 else { return nil }
        var best: GroundTruthMatch?
        for (index, object) in objects.enumerated() {
            guard let iou = try? mask.iou(with: object.mask, ignoring: ignored) else { continue }
            if iou > best?.iou ?? -1 { best = GroundTruthMatch(object: index, className: object.className, iou: iou) }
        }
        return best
    }

    /// Label maps (a class list beyond background and one class, as the evaluation takes them)
    /// name each value by its class; otherwise a mask's only value (a binary mask, 0/255) is
    /// "object".
    static func name(of value: UInt32, classes: [String], valuesInMask: Int) -> String {
        if classes.count > 2 && Int(value) < classes.count { return classes[Int(value)] }
        return valuesInMask == 1 ? "object" : "label \(value)"
    }

    /// The ground truth's categories by id, where it names them (a COCO file); nil for a folder of
    /// masks, whose values are the class list's own indices.
    public var categories: [Int: String]? {
        switch source {
        case .coco(_, let categories), .panoptic(_, _, let categories): categories
        case .masks: nil
        }
    }

    /// The `file_name` the ground truth gives image file `name` (matched as `objects` matches it),
    /// nil when it names none.
    public func fileName(forImage name: String) -> String? {
        switch source {
        case .coco(let gt, _):
            (gt.images.first { FileName.last($0.fileName) == name } ?? gt.images.first { FileName.stem($0.fileName) == FileName.stem(name) })?
                .fileName
        case .masks, .panoptic: nil  // a panoptic file names its PNGs, not the images
        }
    }

    private func requireSize(_ w: Int, _ h: Int, of entry: String, _ width: Int, _ height: Int) throws {
        guard w == width, h == height else {
            throw SegError(.invalid, file: path, "\(entry) is \(w)x\(h) but the image is \(width)x\(height)")
        }
    }
}
