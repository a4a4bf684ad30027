import SegCore

extension COCOInputs {
    /// The inputs as the parameters' evaluation sees them: only `imageIds` (pycocotools' `imgIds`);
    /// for LVIS, at most maxDets detections per image (LVISResults keeps the best-scoring) and only
    /// those of a category known present in or absent from the image; without categories
    /// (pycocotools' `useCats = 0`), every object as one category. Unchanged inputs are returned
    /// as they are.
    func prepared(for params: COCOEvalParams) throws(SegError) -> COCOInputs {
        var gt = groundTruth
        var detections = results.detections
        var changed = false
        if let ids = params.imageIds {
            try Self.keepImages(ids, &gt, &detections)
            changed = true
        }
        if params.evaluationProtocol == .lvis {
            guard params.useCategories else {
                throw SegError(.invalid, file: gt.file, "LVIS evaluation is per category: it has no class-agnostic mode")
            }
            detections = Self.bestPerImage(detections, limit: params.maxDetLimit)
            try Self.dropEmpty(&gt, &detections, areaFromBox: results.areaFromBox, resultsFile: results.file)
            detections = Self.federated(detections, groundTruth: gt)
            changed = true
        } else if !params.useCategories {
            Self.oneCategory(&gt, &detections)
            changed = true
        }
        guard changed else { return self }
        var kept = COCOResults(file: results.file, detections: detections, areaFromBox: results.areaFromBox)
        kept.sources = results.sources
        return COCOInputs(groundTruth: gt, results: kept, evaluationProtocol: params.evaluationProtocol)
    }

    /// pycocotools evaluates the listed images only. An id that is not in the ground truth is
    /// an error here (pycocotools would quietly evaluate nothing for it).
    static func keepImages(_ ids: [Int], _ gt: inout COCOGroundTruth, _ detections: inout [COCOAnnotation]) throws(SegError) {
        let wanted = Set(ids)
        let known = Set(gt.images.map(\.id))
        if let missing = ids.first(where: { !known.contains($0) }) {
            throw SegError(.invalid, file: gt.file, "image id \(missing) (of --image-ids) is not in the ground truth")
        }
        gt.images = gt.images.filter { wanted.contains($0.id) }
        gt.annotations = gt.annotations.filter { wanted.contains($0.imageId) }
        detections = detections.filter { wanted.contains($0.imageId) }
    }

    /// LVISResults' `limit_dets_per_image`: an image's best `limit` detections by score (a stable
    /// sort: ties keep file order). The kept ones stay in file order, which is the order the
    /// evaluation breaks score ties by either way.
    static func bestPerImage(_ detections: [COCOAnnotation], limit: Int) -> [COCOAnnotation] {
        var byImage: [Int: [Int]] = [:]
        for (i, d) in detections.enumerated() { byImage[d.imageId, default: []].append(i) }
        var keep = [Bool](repeating: true, count: detections.count)
        for (_, indices) in byImage where indices.count > limit {
            let ranked = indices.enumerated().sorted { a, b in
                let sa = detections[a.element].score, sb = detections[b.element].score
                return sa != sb ? sa > sb : a.offset < b.offset
            }
            for dropped in ranked[limit...] { keep[dropped.element] = false }
        }
        return detections.indices.filter { keep[$0] }.map { detections[$0] }
    }

    /// LVISEval gathers annotations and detections with `get_ann_ids(..., cat_ids)`, which keeps
    /// only those of area above 0: an empty ground truth does not make its category present, and
    /// an empty detection (a zero box, a mask with no pixels) is not judged.
    static func dropEmpty(_ gt: inout COCOGroundTruth, _ detections: inout [COCOAnnotation], areaFromBox: Bool,
                          resultsFile: String) throws(SegError) {
        var images: [Int: COCOImage] = [:]
        for image in gt.images { images[image.id] = image }
        var keptAnnotations: [COCOAnnotation] = []
        for (i, ann) in gt.annotations.enumerated() {
            guard let image = images[ann.imageId] else { continue }
            if try InstanceShapes.groundTruthArea(ann, index: i, image: image, file: gt.file) > 0 { keptAnnotations.append(ann) }
        }
        gt.annotations = keptAnnotations
        var keptDetections: [COCOAnnotation] = []
        for (i, d) in detections.enumerated() {
            guard let image = images[d.imageId] else { continue }
            let area: Double
            if areaFromBox, let box = d.bbox {
                area = box.area
            } else if let runs = try InstanceShapes.runs(of: d, image: image, entry: "results[\(d.filePosition >= 0 ? Int(d.filePosition) : i)]",
                                                         file: resultsFile) {
                area = Double(InstanceShapes.area(of: runs))
            } else {
                area = d.bbox?.area ?? 0
            }
            if area > 0 { keptDetections.append(d) }
        }
        detections = keptDetections
    }

    /// LVISEval's federated rule: in each image only the categories with ground truth there or
    /// listed in its `neg_category_ids` are judged; other detections are left out.
    static func federated(_ detections: [COCOAnnotation], groundTruth gt: COCOGroundTruth) -> [COCOAnnotation] {
        var judged: [Int: Set<Int>] = [:]
        for image in gt.images { judged[image.id] = Set(image.negativeCategoryIds ?? []) }
        for ann in gt.annotations { judged[ann.imageId, default: []].insert(ann.categoryId) }
        return detections.filter { judged[$0.imageId]?.contains($0.categoryId) == true }
    }

    /// pycocotools with `useCats = 0`: an image's ground truth and detections are gathered category
    /// by category (ascending ids, file order within), then treated as one category.
    static func oneCategory(_ gt: inout COCOGroundTruth, _ detections: inout [COCOAnnotation]) {
        func byCategory(_ list: [COCOAnnotation]) -> [COCOAnnotation] {
            list.enumerated().sorted { a, b in
                a.element.categoryId != b.element.categoryId ? a.element.categoryId < b.element.categoryId : a.offset < b.offset
            }.map { annotation in
                var one = annotation.element
                one.categoryId = allCategoriesId
                return one
            }
        }
        gt.annotations = byCategory(gt.annotations)
        detections = byCategory(detections)
        gt.categories = [COCOCategory(id: allCategoriesId, name: "all classes")]
    }

    /// pycocotools' category id when categories are not used.
    static let allCategoriesId = -1
}
