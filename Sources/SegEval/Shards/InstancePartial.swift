import Foundation
import SegCore

/// One shard's instance (COCO or LVIS) records: the whole run's image and category lists and
/// counts (the same in every shard: each reads the whole inputs), and for the images it owns every
/// (image, category) cell of the matching — scores, match and ignore flags per IoU threshold and area
/// range, ground-truth counts, so an image without detections still counts — plus the boxes and
/// ids its failure rows name, and TIDE's per-image outcomes when asked.
public struct InstancePartial: Codable, Sendable {
    var params: ParamsRecord
    var notes: [String]
    // The whole run, sorted by id (pycocotools' imgIds and catIds order).
    var imageIds: [Int]
    var imageWidths: [Int]
    var imageHeights: [Int]
    var imageFileNames: [String]
    /// String ids as the file writes them, parallel to `imageIds`; nil for numeric ids.
    var imageIdTexts: [String]?
    var categoryIds: [Int]
    var categoryNames: [String]
    var categoryFrequencies: [String?]
    var groundTruthCount: Int
    var detectionCount: Int
    var groundTruthPerCategory: [Int]
    var detectionsPerCategory: [Int]
    // This shard.
    var ownedImages: Data
    var cellImage: Data, cellCategory: Data, cellD: Data, cellG: Data
    var detections: Data, groundTruths: Data
    var ious: Data, scores: Data, gtAreas: Data, dtAreas: Data, crossClassIoU: Data
    var gtCrowd: Data, nonIgnoredCount: Data, flags: Data, matches: Data, gtMatched: Data, gtIgnored: Data
    var gtAnnotationIds: Data, gtBoxes: Data, gtHasBox: Data, dtBoxes: Data, dtHasBox: Data
    /// Each cell detection's place in the results file (what failure rows name).
    var dtPositions: Data
    var tide: TIDEPartial?

    init(matching m: COCOMatching, params: COCOEvalParams, notes: [String], tide: TIDEPartial?) {
        let gt = m.inputs.groundTruth
        self.params = ParamsRecord(params)
        self.notes = notes
        imageIds = m.images.map(\.id)
        imageWidths = m.images.map(\.width)
        imageHeights = m.images.map(\.height)
        imageFileNames = m.images.map(\.fileName)
        imageIdTexts = gt.imageIdNames.isEmpty ? nil : m.images.map { gt.idText($0) }
        categoryIds = m.categories.map(\.id)
        categoryNames = m.categories.map(\.name)
        categoryFrequencies = m.categories.map(\.frequency)
        groundTruthCount = gt.annotations.count
        detectionCount = m.inputs.results.detections.count
        // The report's counts, as InstanceReport takes them from the whole inputs.
        let report = InstanceReport.counts(categories: m.categories, inputs: m.inputs)
        groundTruthPerCategory = report.groundTruth
        detectionsPerCategory = report.detections
        ownedImages = PartialBlob.data(m.ownedImages.map { Int32($0) })
        let cells = m.cells
        cellImage = PartialBlob.data(cells.map { Int32($0.imageIndex) })
        cellCategory = PartialBlob.data(cells.map { Int32($0.categoryIndex) })
        cellD = PartialBlob.data(cells.map { Int32($0.detectionCount) })
        cellG = PartialBlob.data(cells.map { Int32($0.groundTruthCount) })
        detections = PartialBlob.data(cells.flatMap(\.detections))
        groundTruths = PartialBlob.data(cells.flatMap(\.groundTruths))
        ious = PartialBlob.data(cells.flatMap(\.ious))
        scores = PartialBlob.data(cells.flatMap(\.scores))
        gtAreas = PartialBlob.data(cells.flatMap(\.gtAreas))
        dtAreas = PartialBlob.data(cells.flatMap(\.dtAreas))
        crossClassIoU = PartialBlob.data(cells.flatMap(\.crossClassIoU))
        gtCrowd = PartialBlob.data(cells.flatMap(\.gtCrowd))
        nonIgnoredCount = PartialBlob.data(cells.flatMap(\.nonIgnoredCount))
        flags = PartialBlob.data(cells.flatMap(\.flags))
        matches = PartialBlob.data(cells.flatMap(\.matches))
        gtMatched = PartialBlob.data(cells.flatMap(\.gtMatched))
        gtIgnored = PartialBlob.data(cells.flatMap(\.gtIgnored))
        // What failure rows print: a ground truth's id and box, a detection's box (its mask's when
        // the results give none, as the failure table does).
        let annotations = gt.annotations, results = m.inputs.results.detections
        let gIndices = cells.flatMap(\.groundTruths).map(Int.init)
        gtAnnotationIds = PartialBlob.data(gIndices.map { Int64(annotations[$0].id) })
        gtBoxes = PartialBlob.data(gIndices.flatMap { Self.flat(annotations[$0].bbox) })
        gtHasBox = PartialBlob.data(gIndices.map { annotations[$0].bbox != nil })
        var boxes: [COCOBox?] = []
        for cell in cells {
            let image = m.images[cell.imageIndex]
            for d in cell.detections.map(Int.init) {
                boxes.append(results[d].bbox ?? FailureTable.maskBox(d, image, m.inputs))
            }
        }
        dtBoxes = PartialBlob.data(boxes.flatMap(Self.flat))
        dtPositions = PartialBlob.data(cells.flatMap(\.detections).map { Int32(truncatingIfNeeded: m.inputs.detectionPosition(Int($0))) })
        dtHasBox = PartialBlob.data(boxes.map { $0 != nil })
        self.tide = tide
    }

    static func flat(_ box: COCOBox?) -> [Double] { box.map { [$0.x, $0.y, $0.width, $0.height] } ?? [0, 0, 0, 0] }
}

extension InstanceReport {
    /// Non-crowd ground truth and detections per category index.
    static func counts(categories: [COCOCategory], inputs: COCOInputs) -> (groundTruth: [Int], detections: [Int]) {
        var index: [Int: Int] = [:]
        for (k, c) in categories.enumerated() { index[c.id] = k }
        var gt = [Int](repeating: 0, count: categories.count)
        for a in inputs.groundTruth.annotations where !a.isCrowd { if let k = index[a.categoryId] { gt[k] += 1 } }
        var dt = [Int](repeating: 0, count: categories.count)
        for d in inputs.results.detections { if let k = index[d.categoryId] { dt[k] += 1 } }
        return (gt, dt)
    }
}
