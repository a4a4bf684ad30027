import SegCore

/// A data set read from any format: the COCO model of it, whether its objects carry scores
/// (predictions), and what the reading had to change (parts joined, void pixels left out, shapes
/// that are not regions), said in words so that nothing is lost silently.
public struct FormatSet: Sendable {
    /// Images, categories and objects. For predictions each annotation's `score` is its confidence.
    public var groundTruth: COCOGroundTruth
    /// True when the objects came with confidences (YOLO's last value, X-AnyLabeling's `score`,
    /// a COCO results file).
    public var hasScores: Bool
    /// Changes a person should know about, one line each ("file.txt line 3: ...").
    public var notes: [String]

    public init(groundTruth: COCOGroundTruth, hasScores: Bool = false, notes: [String] = []) {
        self.groundTruth = groundTruth; self.hasScores = hasScores; self.notes = notes
    }

    /// The objects as COCO detections against a ground truth, for `eval` and `compare`: images
    /// matched by `file_name` (then by file stem, since predictions often sit in a flat folder),
    /// categories by name. An image or class the ground truth lacks is an error naming both.
    public func results(matching gt: COCOGroundTruth) throws -> COCOResults {
        var imageByName: [String: Int] = [:], imageByStem: [String: Int] = [:]
        for image in gt.images {
            imageByName[image.fileName] = image.id
            imageByStem[FileName.stem(image.fileName)] = image.id
        }
        var categoryByName: [String: Int] = [:]
        for c in gt.categories { categoryByName[c.name] = c.id }
        var ownImages: [Int: COCOImage] = [:]
        for image in groundTruth.images { ownImages[image.id] = image }
        var ownCategories: [Int: String] = [:]
        for c in groundTruth.categories { ownCategories[c.id] = c.name }
        var detections: [COCOAnnotation] = []
        detections.reserveCapacity(groundTruth.annotations.count)
        for (i, ann) in groundTruth.annotations.enumerated() {
            guard let image = ownImages[ann.imageId] else { continue }
            guard let imageId = imageByName[image.fileName] ?? imageByStem[FileName.stem(image.fileName)] else {
                throw SegError(.invalid, file: groundTruth.file, "image \(image.fileName) is not in the ground truth \(gt.file)")
            }
            let name = ownCategories[ann.categoryId] ?? "\(ann.categoryId)"
            guard let categoryId = categoryByName[name] else {
                throw SegError(.invalid, file: groundTruth.file, "class \"\(name)\" (\(image.fileName)) is not a category of the ground truth \(gt.file)")
            }
            var d = ann
            d.id = i + 1
            d.imageId = imageId
            d.categoryId = categoryId
            d.isCrowd = false
            d.area = nil
            detections.append(d)
        }
        // Every converted detection has a box (derived from its shape), so pycocotools' rule on
        // the first detection's box holds for all.
        return COCOResults(file: groundTruth.file, detections: detections, areaFromBox: detections.first?.bbox != nil)
    }
}

/// What a reader or writer may be told beyond the path.
public struct FormatOptions: Sendable {
    /// Class names in order (class index 0 first for YOLO; id = position + 1 for LabelMe). Unknown
    /// names in the data are then errors instead of new classes.
    public var classNames: [String]?
    /// A folder of the images, for sizes when the labels have none beside them (YOLO predictions
    /// in `runs/segment/predict/labels`).
    public var imagesFolder: String?
    /// A ground truth whose images give sizes and file names by stem (predictions read for eval).
    public var sizesFrom: COCOGroundTruth?
    /// Whether the data are predictions: nil decides from the data (YOLO: a confidence after
    /// every polygon; LabelMe: a `score` on a shape).
    public var predictions: Bool?
    /// Cityscapes: which ids the semantic PNGs hold (`labelIds` or `trainIds`).
    public var cityscapesIds: CityscapesFormat.IdKind

    public init(classNames: [String]? = nil, imagesFolder: String? = nil, sizesFrom: COCOGroundTruth? = nil,
                predictions: Bool? = nil, cityscapesIds: CityscapesFormat.IdKind = .labelIds) {
        self.classNames = classNames; self.imagesFolder = imagesFolder; self.sizesFrom = sizesFrom
        self.predictions = predictions; self.cityscapesIds = cityscapesIds
    }
}
