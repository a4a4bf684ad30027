import SegCore

/// Cityscapes label PNGs ↔ the COCO model.
///
/// Reading: for each image the `*_instanceIds.png` if there is one, else `*_labelIds.png`, else
/// `*_labelTrainIds.png` (with `FormatOptions.cityscapesIds == .trainIds`, the train ids are
/// read). Instance ids: a value v ≥ 1000 is one object of label v / 1000 (instance v % 1000); a
/// value < 1000 of a class that has instances is a group of them Cityscapes could not separate,
/// read as a crowd region. Semantic maps: each evaluated class present is one object. Category id
/// = the Cityscapes label id, so `car` is 26 whichever file it came from. Image `file_name`s are
/// `<city>_<seq>_<frame>_leftImg8bit.png`, as the images are named.
/// Writing: `<base>_gtFine_labelIds.png`, `_labelTrainIds.png` and `_instanceIds.png` (objects of
/// instance classes labelId·1000 + k, k from 0 as cityscapesscripts' json2instanceImg counts;
/// crowd regions and other classes their label id). Category names must be Cityscapes names.
public enum CityscapesFormat {
    public enum IdKind: String, Sendable, CaseIterable { case labelIds, trainIds }

    static let labelSuffixes = ["_instanceIds.png", "_labelIds.png", "_labelTrainIds.png"]

    public static func read(_ path: String, options: FormatOptions = FormatOptions()) throws -> FormatSet {
        var bases: [String: [String: String]] = [:]   // base → suffix → relative path
        for rel in FormatFiles.walk(path, where: { name in labelSuffixes.contains { name.hasSuffix($0) } }) {
            guard let suffix = labelSuffixes.first(where: rel.hasSuffix) else { continue }
            var base = String(rel.dropLast(suffix.count))
            for kind in ["_gtFine", "_gtCoarse"] where base.hasSuffix(kind) { base = String(base.dropLast(kind.count)) }
            bases[base, default: [:]][suffix] = rel
        }
        guard !bases.isEmpty else { throw SegError(.notFound, file: path, "no *_instanceIds.png, *_labelIds.png or *_labelTrainIds.png files") }
        var images: [COCOImage] = []
        var annotations: [COCOAnnotation] = []
        var notes = FormatNotes()
        var usesInstances = false
        for base in bases.keys.sorted() {
            let files = bases[base]!
            let imageId = images.count + 1
            let fileName = base + "_leftImg8bit.png"
            if let rel = files["_instanceIds.png"] {
                usesInstances = true
                let file = FormatFiles.join(path, rel)
                let ids = try LabelPNGs.values(file)
                images.append(COCOImage(id: imageId, width: ids.width, height: ids.height, fileName: fileName))
                for (v, mask) in LabelPNGs.masks(ids, keep: { v in v >= 1000 || CityscapesLabels.byId(Int(v))?.hasInstances == true }) {
                    let labelId = v >= 1000 ? Int(v) / 1000 : Int(v)
                    guard let label = CityscapesLabels.byId(labelId), label.hasInstances else {
                        throw SegError(.invalid, file: file, "instance id \(v): label id \(labelId) is not a Cityscapes class with instances")
                    }
                    if v < 1000 { notes.add("groups without instance ids read as crowd regions", at: "\(rel) \(label.name)") }
                    annotations.append(try LabelPNGs.annotation(mask, id: annotations.count + 1, imageId: imageId, categoryId: labelId, crowd: v < 1000))
                }
            } else {
                let trainIds = files["_labelIds.png"] == nil || options.cityscapesIds == .trainIds && files["_labelTrainIds.png"] != nil
                let rel = trainIds ? files["_labelTrainIds.png"]! : files["_labelIds.png"]!
                let file = FormatFiles.join(path, rel)
                let map = try LabelPNGs.values(file)
                images.append(COCOImage(id: imageId, width: map.width, height: map.height, fileName: fileName))
                notes.add("semantic maps: one object per class and image", at: rel)
                for (v, mask) in LabelPNGs.masks(map, keep: { v in trainIds ? v != 255 : CityscapesLabels.byId(Int(v))?.ignoreInEval == false }) {
                    let labelId = trainIds ? CityscapesLabels.labelId(forTrainId: Int(v)) : Int(v)
                    guard let labelId, CityscapesLabels.byId(labelId) != nil else {
                        throw SegError(.invalid, file: file, "value \(v) is not a Cityscapes \(trainIds ? "train" : "label") id")
                    }
                    annotations.append(try LabelPNGs.annotation(mask, id: annotations.count + 1, imageId: imageId, categoryId: labelId))
                }
            }
        }
        let labels = CityscapesLabels.all.filter { usesInstances ? $0.hasInstances : !$0.ignoreInEval }
        let categories = labels.map { COCOCategory(id: $0.id, name: $0.name) }
        return FormatSet(groundTruth: COCOGroundTruth(file: path, images: images, categories: categories, annotations: annotations),
                         notes: notes.lines)
    }

    public static func write(_ set: FormatSet, to folder: String) throws -> [String] {
        let gt = set.groundTruth
        var labelOf: [Int: CityscapesLabel] = [:]
        for c in gt.categories {
            guard let label = CityscapesLabels.byName(c.name) else {
                throw SegError(.invalid, file: gt.file, "category \"\(c.name)\" (id \(c.id)) is not a Cityscapes class")
            }
            labelOf[c.id] = label
        }
        var notes = FormatNotes()
        if set.hasScores { notes.add("scores dropped (label PNGs hold none)", at: folder) }
        var instanceCount: [Int: Int] = [:]
        try VOCFormat.paint(gt, folder: folder, notes: &notes, maxObjects: Int.max) { ann, labels, instances, _, i in
            guard let label = labelOf[ann.categoryId] else { return }
            labels[i] = UInt32(label.id)
            if label.hasInstances && !ann.isCrowd {
                instances[i] = UInt32(label.id * 1000 + (instanceCount[ann.id] ?? 0))
            } else {
                instances[i] = UInt32(label.id)
            }
        } save: { image, labels, instances in
            var base = FormatFiles.dropExtension(image.fileName)
            if base.hasSuffix("_leftImg8bit") { base = String(base.dropLast("_leftImg8bit".count)) }
            let trainIds = LabelMap(width: labels.width, height: labels.height,
                                    labels: labels.labels.map { UInt32(CityscapesLabels.trainId(forLabelId: Int($0))) })
            try FormatFiles.createFolder(FormatFiles.parent(FormatFiles.join(folder, base)))
            try ImageFile.writePNG(labels, to: FormatFiles.join(folder, base + "_gtFine_labelIds.png"))
            try ImageFile.writePNG(trainIds, to: FormatFiles.join(folder, base + "_gtFine_labelTrainIds.png"))
            try ImageFile.writePNG(instances, to: FormatFiles.join(folder, base + "_gtFine_instanceIds.png"))
        } before: { anns in
            // Instance numbers per image and class, in annotation order, from 0.
            instanceCount = [:]
            var next: [Int: Int] = [:]
            for ann in anns where !ann.isCrowd {
                guard let label = labelOf[ann.categoryId], label.hasInstances else { continue }
                instanceCount[ann.id] = next[label.id, default: 0]
                next[label.id, default: 0] += 1
            }
        }
        return notes.lines
    }
}
