import SegCore

/// `bbox` IoU: boxes as the file gives them (detections without a box take their mask's).
struct BoxOverlap: InstanceOverlap {
    typealias Shape = COCOBox

    func prepare(image: COCOImage, gt: [Int], dt: [Int], unused: [Int], data: COCOInputs) throws(SegError)
        -> (gtAreas: [Double], dtAreas: [Double], gtShapes: [COCOBox], dtShapes: [COCOBox]) {
        let annotations = data.groundTruth.annotations
        let detections = data.results.detections
        var gtAreas: [Double] = [], gtBoxes: [COCOBox] = []
        gtAreas.reserveCapacity(gt.count); gtBoxes.reserveCapacity(gt.count)
        for g in gt {
            let ann = annotations[g]
            let box: COCOBox
            if let b = ann.bbox {
                box = b
            } else {
                guard let shape = try InstanceShapes.runs(of: ann, image: image, entry: data.annotationEntry(g),
                                                           file: data.groundTruth.file) else {
                    throw SegError(.invalid, file: data.groundTruth.file, "\(data.annotationEntry(g)): no \"bbox\" and no segmentation")
                }
                box = InstanceShapes.box(of: shape)
            }
            gtBoxes.append(box)
            gtAreas.append(try InstanceShapes.groundTruthArea(ann, index: g, image: image, file: data.groundTruth.file))
        }
        var dtAreas: [Double] = [], dtBoxes: [COCOBox] = []
        dtAreas.reserveCapacity(dt.count); dtBoxes.reserveCapacity(dt.count)
        for d in dt {
            let det = detections[d]
            let entry = data.detectionEntry(d)
            if let b = det.bbox, data.results.areaFromBox {
                dtBoxes.append(b)
                dtAreas.append(b.area)
                continue
            }
            // loadRes' segmentation branch: area from the mask, box from the mask unless given.
            guard let shape = try InstanceShapes.runs(of: det, image: image, entry: entry, file: data.results.file) else {
                throw SegError(.invalid, file: data.results.file, "\(entry): no \"segmentation\" to take the area from")
            }
            dtAreas.append(Double(InstanceShapes.area(of: shape)))
            dtBoxes.append(det.bbox ?? InstanceShapes.box(of: shape))
        }
        return (gtAreas, dtAreas, gtBoxes, dtBoxes)
    }

    func box(_ shape: COCOBox) -> COCOBox { shape }

    /// maskApi's `bbIou`, same operations in the same order.
    func ious(dt: [COCOBox], gt: [COCOBox], crowd: [Bool]) -> [Double] {
        let D = dt.count, G = gt.count
        var out = [Double](repeating: 0, count: D * G)
        for g in 0..<G {
            let gb = gt[g]
            let ga = gb.width * gb.height
            for d in 0..<D {
                let db = dt[d]
                let da = db.width * db.height
                let w = min(db.width + db.x, gb.width + gb.x) - max(db.x, gb.x)
                if w <= 0 { continue }
                let h = min(db.height + db.y, gb.height + gb.y) - max(db.y, gb.y)
                if h <= 0 { continue }
                let i = w * h
                let u = crowd[g] ? da : da + ga - i
                out[d * G + g] = i / u
            }
        }
        return out
    }
}
