import SegCore

/// COCO panoptic written from the COCO model (the workbench's labels, any format read): one PNG
/// per image whose colour is the segment id (id = R + 256·G + 256²·B, as panopticapi reads it)
/// and one JSON with each image's `segments_info`. Objects are painted in order, a later one over
/// an earlier one (a panoptic map has one segment per pixel); a segment's `area` and `bbox` are
/// what stays visible, and one painted over entirely is left out. Categories are written as
/// things (`isthing: 1`): instance labels say nothing of stuff. Crowd regions keep `iscrowd: 1`.
///
/// Layout: `<folder>/panoptic.json` and `<folder>/panoptic/<stem>.png`, the PNG folder named after
/// the JSON as `segterm eval` (and panopticapi's scripts) look for it.
enum PanopticWriter {
    static func write(_ set: FormatSet, to folder: String) throws -> [String] {
        var notes = FormatNotes()
        let gt = set.groundTruth
        let pngFolder = FormatFiles.join(folder, "panoptic")
        try FormatFiles.createFolder(pngFolder)
        var annotations: [JSONValue] = []
        var crowd = Set<Int>()  // segment ids (per image) of crowd regions
        try VOCFormat.paint(gt, folder: folder, notes: &notes, maxObjects: (1 << 24) - 1, pixel: { ann, classes, objects, k, i in
            classes[i] = UInt32(ann.categoryId < 0 ? 0 : ann.categoryId)
            objects[i] = UInt32(k)
        }, save: { image, classes, objects in
            defer { crowd.removeAll() }
            let pngName = FormatFiles.dropExtension(FileName.last(image.fileName.isEmpty ? "\(image.id).png" : image.fileName)) + ".png"
            var segments: [JSONValue] = []
            for (id, info) in segmentsInfo(objects, classes: classes) {
                segments.append(.object([("id", .integer(Int(id))), ("category_id", .integer(info.category)),
                                         ("area", .integer(info.area)), ("bbox", .array(info.box.map { .integer($0) })),
                                         ("iscrowd", .integer(crowd.contains(Int(id)) ? 1 : 0))]))
            }
            annotations.append(.object([("image_id", .integer(image.id)), ("file_name", .string(pngName)),
                                        ("segments_info", .array(segments))]))
            try ImageFile.writePNG(idImage(objects), to: FormatFiles.join(pngFolder, pngName))
        }, before: { anns in
            for (k, ann) in anns.enumerated() where ann.isCrowd { crowd.insert(k + 1) }
        })
        let images: [JSONValue] = gt.images.map { image in
            .object([("id", .integer(image.id)), ("width", .integer(image.width)), ("height", .integer(image.height)),
                     ("file_name", .string(image.fileName))])
        }
        let categories: [JSONValue] = gt.categories.map { c in
            .object([("id", .integer(c.id)), ("name", .string(c.name)), ("supercategory", .string(c.supercategory)), ("isthing", .integer(1))])
        }
        let document = JSONValue.object([("images", .array(images)), ("annotations", .array(annotations)), ("categories", .array(categories))])
        try FormatFiles.write(document.serialized() + "\n", to: FormatFiles.join(folder, "panoptic.json"))
        if set.hasScores { notes.add("scores are not part of COCO panoptic: left out", at: gt.file) }
        return notes.lines
    }

    /// Each visible segment's category, pixel count and box [x, y, width, height] (whole pixels).
    static func segmentsInfo(_ objects: LabelMap, classes: LabelMap) -> [(UInt32, (category: Int, area: Int, box: [Int]))] {
        var info: [UInt32: (category: Int, area: Int, x0: Int, y0: Int, x1: Int, y1: Int)] = [:]
        for (i, id) in objects.labels.enumerated() where id != 0 {
            let x = i % objects.width, y = i / objects.width
            if var s = info[id] {
                s.area += 1
                s.x0 = min(s.x0, x); s.y0 = min(s.y0, y); s.x1 = max(s.x1, x); s.y1 = max(s.y1, y)
                info[id] = s
            } else {
                info[id] = (Int(classes.labels[i]), 1, x, y, x, y)
            }
        }
        return info.keys.sorted().map { id in
            let s = info[id]!
            return (id, (s.category, s.area, [s.x0, s.y0, s.x1 - s.x0 + 1, s.y1 - s.y0 + 1]))
        }
    }

    /// Segment ids as colours: R + 256·G + 256²·B.
    static func idImage(_ objects: LabelMap) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: objects.labels.count * 3)
        for (i, id) in objects.labels.enumerated() {
            pixels[3 * i] = UInt8(id & 0xFF)
            pixels[3 * i + 1] = UInt8((id >> 8) & 0xFF)
            pixels[3 * i + 2] = UInt8((id >> 16) & 0xFF)
        }
        return RGBImage(width: objects.width, height: objects.height, pixels: pixels)
    }
}
