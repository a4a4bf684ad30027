import SegCore

/// Pascal VOC segmentation PNGs ↔ the COCO model.
///
/// Reading a VOC folder (`SegmentationClass/`, optional `SegmentationObject/`, or a bare folder of
/// class PNGs): with object PNGs, each object index 1…254 is an instance whose class is the most
/// common class under it; without, each class present in an image is one object (semantic maps
/// have no instances). Category id = the VOC index (so `person` is 15). 255 (void: VOC's object
/// boundaries) belongs to no object. Writing paints annotations in order (a later one covers an
/// earlier one), crowd regions as void, class index = VOC index when every category is a VOC
/// class, else position + 1 with a `classes.txt` beside the PNGs.
public enum VOCFormat {
    public static func read(_ path: String, options: FormatOptions = FormatOptions()) throws -> FormatSet {
        let names = options.classNames ?? VOCLabels.classes
        let classDir = FileIO.isDirectory(FormatFiles.join(path, "SegmentationClass")) ? FormatFiles.join(path, "SegmentationClass") : path
        let objectDir = FormatFiles.join(path, "SegmentationObject")
        var images: [COCOImage] = []
        var annotations: [COCOAnnotation] = []
        var notes = FormatNotes()
        for rel in FormatFiles.walk(classDir, where: { FormatFiles.extensionOf($0) == "png" }) {
            let file = FormatFiles.join(classDir, rel)
            let classes = try LabelPNGs.values(file, palette: VOCLabels.palette)
            let imageId = images.count + 1
            images.append(COCOImage(id: imageId, width: classes.width, height: classes.height, fileName: FormatFiles.dropExtension(rel) + ".jpg"))
            for (i, v) in classes.labels.enumerated() where v != VOCLabels.void && Int(v) >= names.count {
                throw SegError(.invalid, file: file, "pixel (\(i % classes.width), \(i / classes.width)): class index \(v) is unknown (\(names.count) classes, 255 = void)")
            }
            if classes.labels.contains(VOCLabels.void) { notes.add("void (255) pixels belong to no object", at: rel) }
            let objectFile = FormatFiles.join(objectDir, rel)
            if FormatFiles.exists(objectFile) {
                let objects = try LabelPNGs.values(objectFile, palette: VOCLabels.palette)
                guard objects.width == classes.width, objects.height == classes.height else {
                    throw SegError(.invalid, file: objectFile, "\(objects.width)x\(objects.height), its class PNG \(classes.width)x\(classes.height)")
                }
                for (k, mask) in LabelPNGs.masks(objects, keep: { $0 != 0 && $0 != VOCLabels.void }) {
                    var votes: [UInt32: Int] = [:]
                    for i in mask.bits.indices where mask.bits[i] != 0 {
                        let c = classes.labels[i]
                        if c != 0 && c != VOCLabels.void { votes[c, default: 0] += 1 }
                    }
                    guard let c = votes.max(by: { $0.value < $1.value || $0.value == $1.value && $0.key > $1.key })?.key else {
                        throw SegError(.invalid, file: objectFile, "object \(k) lies only on background or void in \(file)")
                    }
                    if votes.count > 1 { notes.add("objects over several classes: the most common taken", at: "\(rel) object \(k)") }
                    annotations.append(try LabelPNGs.annotation(mask, id: annotations.count + 1, imageId: imageId, categoryId: Int(c)))
                }
            } else {
                notes.add("semantic maps: one object per class and image", at: rel)
                for (c, mask) in LabelPNGs.masks(classes, keep: { $0 != 0 && $0 != VOCLabels.void }) {
                    annotations.append(try LabelPNGs.annotation(mask, id: annotations.count + 1, imageId: imageId, categoryId: Int(c)))
                }
            }
        }
        if images.isEmpty { throw SegError(.notFound, file: classDir, "no PNG label maps") }
        let categories = names.enumerated().dropFirst().map { COCOCategory(id: $0.offset, name: $0.element) }
        return FormatSet(groundTruth: COCOGroundTruth(file: path, images: images, categories: categories, annotations: annotations),
                         notes: notes.lines)
    }

    public static func write(_ set: FormatSet, to folder: String) throws -> [String] {
        let gt = set.groundTruth
        var notes = FormatNotes()
        var indexOf: [Int: UInt32] = [:]
        let sorted = gt.categories.sorted { $0.id < $1.id }
        if sorted.allSatisfy({ VOCLabels.classes.dropFirst().contains($0.name) }) {
            for c in sorted { indexOf[c.id] = UInt32(VOCLabels.classes.firstIndex(of: c.name)!) }
        } else {
            guard sorted.count < 255 else { throw SegError(.invalid, file: folder, "\(sorted.count) classes do not fit VOC's 8-bit maps (254 at most)") }
            for (i, c) in sorted.enumerated() { indexOf[c.id] = UInt32(i + 1) }
            try FormatFiles.write((["background"] + sorted.map(\.name)).joined(separator: "\n") + "\n", to: FormatFiles.join(folder, "classes.txt"))
            notes.add("not VOC's classes: index = position + 1, names in classes.txt", at: folder)
        }
        if set.hasScores { notes.add("scores dropped (label PNGs hold none)", at: folder) }
        try paint(gt, folder: folder, notes: &notes) { ann, classes, objects, k, i in
            if ann.isCrowd {
                classes[i] = VOCLabels.void; objects[i] = VOCLabels.void
            } else {
                classes[i] = indexOf[ann.categoryId] ?? 0; objects[i] = UInt32(k)
            }
        } save: { image, classes, objects in
            let stem = FormatFiles.dropExtension(image.fileName)
            try FormatFiles.createFolder(FormatFiles.parent(FormatFiles.join(folder, "SegmentationClass/" + stem)))
            try FormatFiles.createFolder(FormatFiles.parent(FormatFiles.join(folder, "SegmentationObject/" + stem)))
            try ImageFile.writePNG(classes, to: FormatFiles.join(folder, "SegmentationClass/" + stem + ".png"), palette: LabelPNGs.vocPaletteEntries)
            try ImageFile.writePNG(objects, to: FormatFiles.join(folder, "SegmentationObject/" + stem + ".png"), palette: LabelPNGs.vocPaletteEntries)
        }
        return notes.lines
    }

    /// Paints each image's annotations in order into two maps (classes, objects) and saves them;
    /// counts the pixels a later annotation took from an earlier one.
    static func paint(_ gt: COCOGroundTruth, folder: String, notes: inout FormatNotes, maxObjects: Int = 254,
                      pixel: (COCOAnnotation, inout [UInt32], inout [UInt32], Int, Int) -> Void,
                      save: (COCOImage, LabelMap, LabelMap) throws -> Void,
                      before: ([COCOAnnotation]) -> Void = { _ in }) throws {
        var byImage: [Int: [COCOAnnotation]] = [:]
        for ann in gt.annotations { byImage[ann.imageId, default: []].append(ann) }
        for image in gt.images {
            var classes = [UInt32](repeating: 0, count: image.width * image.height)
            var objects = classes
            var painted = [Bool](repeating: false, count: classes.count)
            let anns = byImage[image.id] ?? []
            before(anns)
            guard anns.count <= maxObjects else {
                throw SegError(.invalid, file: image.fileName, "\(anns.count) objects do not fit the object map (\(maxObjects) at most)")
            }
            for (k, ann) in anns.enumerated() {
                let mask = try FormatShapes.rle(ann, height: image.height, width: image.width).decode()
                var overlaps = false
                for i in mask.bits.indices where mask.bits[i] != 0 {
                    overlaps = overlaps || painted[i]
                    painted[i] = true
                    pixel(ann, &classes, &objects, k + 1, i)
                }
                if overlaps { notes.add("overlapping objects: the later one painted over", at: "\(image.fileName) annotation \(ann.id)") }
            }
            try save(image, LabelMap(width: image.width, height: image.height, labels: classes),
                     LabelMap(width: image.width, height: image.height, labels: objects))
        }
    }
}
