import SegCore

/// Writes the COCO model as an Ultralytics YOLO segmentation set: `labels/<image>.txt` and a
/// `data.yaml` naming the classes. Each line is what Ultralytics' `convert_coco(...,
/// use_segments=True)` writes for the annotation, byte for byte:
/// - crowd annotations are left out, and so are those whose box has no width or height;
/// - the class is the category's position among the categories sorted by id (`category_id - 1`
///   when ids are 1…n, as convert_coco with `cls91to80=False` has it);
/// - one polygon is written as is; several parts are joined by `merge_multi_segment`; an RLE
///   mask becomes its outer contours (OpenCV's `RETR_EXTERNAL`, `CHAIN_APPROX_SIMPLE`), joined
///   the same way, so holes are filled; without a usable polygon, the box's four corners;
/// - coordinates divided by the image size, printed with `%g`; repeated lines written once.
/// Predictions add the confidence last, as `Results.save_txt(save_conf=True)` does.
/// Every such change is counted in the returned notes. Images without objects get an empty
/// file (Ultralytics reads it as a background image).
public enum YOLOWriter {
    public static func write(_ set: FormatSet, to folder: String) throws -> [String] {
        let gt = set.groundTruth
        let categories = gt.categories.sorted { $0.id < $1.id }
        var classOf: [Int: Int] = [:]
        for (i, c) in categories.enumerated() { classOf[c.id] = i }
        var notes = FormatNotes()
        if categories.enumerated().contains(where: { $0.element.id != $0.offset + 1 }) {
            notes.add("category ids are not 1…n: class index = position among the categories by id", at: "data.yaml")
        }
        var byImage: [Int: [COCOAnnotation]] = [:]
        for ann in gt.annotations { byImage[ann.imageId, default: []].append(ann) }
        try FormatFiles.write(YOLODataYAML.text(names: categories.map(\.name)), to: FormatFiles.join(folder, "data.yaml"))
        for image in gt.images {
            var rows: [[Double]] = []
            for ann in byImage[image.id] ?? [] {
                guard let cls = classOf[ann.categoryId] else { continue }
                let place = "\(image.fileName) annotation \(ann.id)"
                if let row = try line(ann, cls: cls, image: image, notes: &notes, place: place) {
                    rows.append(set.hasScores ? row + [ann.score] : row)
                }
            }
            var seen = Set<[Double]>()
            var text = ""
            for row in rows {
                guard seen.insert(row).inserted else {
                    notes.add("repeated lines written once (as convert_coco does)", at: image.fileName)
                    continue
                }
                text += YOLOLabels.line(row) + "\n"
            }
            try FormatFiles.write(text, to: FormatFiles.join(folder, "labels/" + FormatFiles.dropExtension(image.fileName) + ".txt"))
        }
        notes.add("images are not copied: put them in images/ beside labels/", at: folder)
        return notes.lines
    }

    /// One annotation's line (class and normalised points), or nil when convert_coco skips it.
    static func line(_ ann: COCOAnnotation, cls: Int, image: COCOImage, notes: inout FormatNotes, place: String) throws -> [Double]? {
        if ann.isCrowd {
            notes.add("crowd annotations left out (as convert_coco does)", at: place)
            return nil
        }
        let w = Double(image.width), h = Double(image.height)
        let b = try ann.bbox ?? FormatShapes.boxAndArea(FormatShapes.rle(ann, height: image.height, width: image.width)).0
        // box[:2] += box[2:] / 2; box[[0, 2]] /= w; box[[1, 3]] /= h
        let cx = (b.x + b.width / 2) / w, cy = (b.y + b.height / 2) / h
        let bw = b.width / w, bh = b.height / h
        guard bw > 0, bh > 0 else {
            notes.add("annotations with an empty box left out (as convert_coco does)", at: place)
            return nil
        }
        var polygons: [[Double]] = []
        switch ann.segmentation {
        case .polygons(let p): polygons = p
        case .counts, .compressed, .compressedText:
            let rle = try FormatShapes.rle(ann, height: image.height, width: image.width)
            polygons = MaskContours.external(rle.decode())
            if polygons.count > 1 { notes.add("masks of several parts: outer contours joined, holes filled", at: place) }
            else { notes.add("masks written as their outer contour (holes filled)", at: place) }
        case .none: break
        }
        polygons = polygons.filter { $0.count >= 6 && $0.count % 2 == 0 }
        if polygons.isEmpty {
            notes.add("no usable polygon: written as the box's four corners (as convert_coco does)", at: place)
            let x1 = cx - bw / 2, y1 = cy - bh / 2, x2 = cx + bw / 2, y2 = cy + bh / 2
            return [Double(cls), x1, y1, x2, y1, x2, y2, x1, y2]
        }
        var row = [Double(cls)]
        if polygons.count > 1 {
            if case .polygons = ann.segmentation {
                notes.add("objects of several polygons joined into one line (Ultralytics' merge_multi_segment)", at: place)
            }
            for p in YOLOMergeSegments.merge(polygons) { row.append(p.x / w); row.append(p.y / h) }
        } else {
            let p = polygons[0]
            for k in stride(from: 0, to: p.count, by: 2) { row.append(p[k] / w); row.append(p[k + 1] / h) }
        }
        return row
    }
}
