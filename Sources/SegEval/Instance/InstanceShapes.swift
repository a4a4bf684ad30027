import SegCore

/// Turning an annotation's segmentation into runs, with pycocotools' `annToRLE` rules, and the
/// areas and boxes that `loadRes` derives from them.
enum InstanceShapes {
    /// The runs of an annotation or detection, or nil when it has no segmentation. A detection
    /// read through loadRes' box branch without a segmentation gets its box as a polygon.
    static func runs(of ann: COCOAnnotation, image: COCOImage, entry: String, file: String) throws(SegError) -> RLE? {
        do {
            switch ann.segmentation {
            case .none: return nil
            case .polygons(let polygons): return try RLE(polygons: polygons, height: image.height, width: image.width)
            case .counts(let h, let w, let counts): return try RLE(height: h, width: w, counts: counts)
            case .compressed(let h, let w, let string): return try RLE(compressed: string, height: h, width: w)
            case .compressedText(let text): return try text.decode()
            }
        } catch let error as SegError {
            throw SegError(error.kind, file: file, "\(entry): \(error.reason)")
        } catch {
            throw SegError(.invalid, file: file, "\(entry): \(error)")
        }
    }

    /// loadRes' box branch writes `[[x1, y1, x1, y2, x2, y2, x2, y1]]` for a detection without a
    /// segmentation; segm evaluation then rasterises that polygon.
    static func boxPolygon(_ b: COCOBox) -> COCOSegmentation {
        let x1 = b.x, x2 = b.x + b.width, y1 = b.y, y2 = b.y + b.height
        return .polygons([[x1, y1, x1, y2, x2, y2, x2, y1]])
    }

    static func area(of runs: RLE) -> Int { runs.area }

    static func box(of runs: RLE) -> COCOBox {
        let b = runs.boundingBox
        return COCOBox(x: b[0], y: b[1], width: b[2], height: b[3])
    }

    /// The `area` field, or when the file has none, the mask's area (pycocotools would stop with
    /// a KeyError), or the box's.
    static func groundTruthArea(_ ann: COCOAnnotation, index: Int, image: COCOImage, file: String) throws(SegError) -> Double {
        if let area = ann.area { return area }
        let position = ann.filePosition >= 0 ? Int(ann.filePosition) : index
        if let runs = try runs(of: ann, image: image, entry: "annotations[\(position)] (id \(ann.id))", file: file) {
            return Double(area(of: runs))
        }
        if let box = ann.bbox { return box.area }
        throw SegError(.invalid, file: file, "annotations[\(position)] (id \(ann.id)): no \"area\", segmentation or bbox")
    }

    /// Runs of every ground truth and detection of one image for segm (and boundary) matching,
    /// with their boxes and areas, and the areas pycocotools uses for the size buckets.
    /// Detections past the per-category cut (`unused`) are decoded too, only to report malformed ones.
    static func prepareMasks(image: COCOImage, gt: [Int], dt: [Int], unused: [Int], data: COCOInputs) throws(SegError)
        -> (gtAreas: [Double], dtAreas: [Double], gtShapes: [SegmOverlap.Shape], dtShapes: [SegmOverlap.Shape]) {
        let annotations = data.groundTruth.annotations
        let detections = data.results.detections
        var gtAreas: [Double] = [], gtShapes: [SegmOverlap.Shape] = []
        gtAreas.reserveCapacity(gt.count); gtShapes.reserveCapacity(gt.count)
        for g in gt {
            let ann = annotations[g]
            let entry = data.annotationEntry(g)
            guard let r = try runs(of: ann, image: image, entry: entry, file: data.groundTruth.file) else {
                throw SegError(.invalid, file: data.groundTruth.file, "\(entry): no \"segmentation\" (needed for segm evaluation)")
            }
            let shape = SegmOverlap.Shape(runs: r, summary: r.summary)
            gtShapes.append(shape)
            gtAreas.append(ann.area ?? Double(shape.summary.area))
        }
        var dtAreas: [Double] = [], dtShapes: [SegmOverlap.Shape] = []
        dtAreas.reserveCapacity(dt.count); dtShapes.reserveCapacity(dt.count)
        for d in dt {
            let shape = try detectionShape(d, image: image, data: data)
            dtShapes.append(shape)
            if data.results.areaFromBox, let b = detections[d].bbox { dtAreas.append(b.area) } else { dtAreas.append(Double(shape.summary.area)) }
        }
        for d in unused { _ = try detectionShape(d, image: image, data: data) }
        return (gtAreas, dtAreas, gtShapes, dtShapes)
    }

    static func detectionRuns(_ d: Int, image: COCOImage, data: COCOInputs) throws(SegError) -> RLE {
        try detectionShape(d, image: image, data: data).runs
    }

    /// A detection's runs with their box and area; compressed text (nearly every results file's)
    /// is decoded and measured in one pass.
    static func detectionShape(_ d: Int, image: COCOImage, data: COCOInputs) throws(SegError) -> SegmOverlap.Shape {
        let detections = data.results.detections
        do {
            switch detections[d].segmentation {
            case .compressed(let h, let w, let string):
                let r = try RLE(compressed: string, height: h, width: w)
                return SegmOverlap.Shape(runs: r, summary: r.summary)
            case .compressedText(let text):
                let (r, summary) = try text.decodeSummarized()
                return SegmOverlap.Shape(runs: r, summary: summary)
            default: break
            }
        } catch let error as SegError {
            throw SegError(error.kind, file: data.results.file, "\(data.detectionEntry(d)): \(error.reason)")
        } catch {
            throw SegError(.invalid, file: data.results.file, "\(data.detectionEntry(d)): \(error)")
        }
        var det = detections[d]
        if !det.segmentation.isPresent, let b = det.bbox { det.segmentation = boxPolygon(b) }
        guard let r = try runs(of: det, image: image, entry: data.detectionEntry(d), file: data.results.file) else {
            throw SegError(.invalid, file: data.results.file, "\(data.detectionEntry(d)): no \"segmentation\"")
        }
        return SegmOverlap.Shape(runs: r, summary: r.summary)
    }
}

/// `segm` IoU: pycocotools' `rleIou` on the runs, masks never decoded; each mask's box and area
/// computed once per image, not once per pair.
struct SegmOverlap: InstanceOverlap {
    struct Shape {
        var runs: RLE
        var summary: RLE.Summary
    }

    func prepare(image: COCOImage, gt: [Int], dt: [Int], unused: [Int], data: COCOInputs) throws(SegError)
        -> (gtAreas: [Double], dtAreas: [Double], gtShapes: [Shape], dtShapes: [Shape]) {
        try InstanceShapes.prepareMasks(image: image, gt: gt, dt: dt, unused: unused, data: data)
    }

    func ious(dt: [Shape], gt: [Shape], crowd: [Bool]) -> [Double] {
        let D = dt.count, G = gt.count
        if D == 0 || G == 0 { return [] }
        var out = [Double](repeating: 0, count: D * G)
        for d in 0..<D {
            for g in 0..<G { out[d * G + g] = RLE.iou(dt[d].runs, dt[d].summary, gt[g].runs, gt[g].summary, crowd: crowd[g]) }
        }
        return out
    }

    /// Without copying the ranges out (a copy retains every mask's runs).
    func ious(dt: [Shape], _ dtRange: Range<Int>, gt: [Shape], _ gtRange: Range<Int>, crowd: [Bool], into out: UnsafeMutablePointer<Double>) {
        let G = gtRange.count
        precondition(crowd.count == gt.count && dtRange.lowerBound >= 0 && dtRange.upperBound <= dt.count
                     && gtRange.lowerBound >= 0 && gtRange.upperBound <= gt.count, "SegmOverlap: ranges or crowd flags out of step")
        dt.withUnsafeBufferPointer { dts in
            gt.withUnsafeBufferPointer { gts in
                for (row, d) in dtRange.enumerated() {
                    let ds = dts[d]
                    for g in gtRange {
                        let gs = gts[g]
                        out[row * G + g - gtRange.lowerBound] = RLE.iou(ds.runs, ds.summary, gs.runs, gs.summary, crowd: crowd[g])
                    }
                }
            }
        }
    }

    func box(_ shape: Shape) -> COCOBox { InstanceShapes.box(of: shape.runs) }

    /// Pair by pair, without the matrix: most unmatched detections overlap nothing of another
    /// category, and the arrays cost more than the box tests.
    func bestIoU(_ d: Shape, with gt: [Shape], at offsets: [Int]) -> Double {
        var best = 0.0
        gt.withUnsafeBufferPointer { g in
            for o in offsets { best = max(best, RLE.iou(d.runs, d.summary, g[o].runs, g[o].summary, crowd: false)) }
        }
        return best
    }
}
