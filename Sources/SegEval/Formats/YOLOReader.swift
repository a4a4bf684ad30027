import Foundation
import SegCore

/// Reads an Ultralytics YOLO segmentation set into the COCO model.
///
/// Layout, as Ultralytics resolves it: a `data.yaml` (given, or in the folder) names the classes
/// and the image folders (`train`, `val`, `test`); each image's labels are at the image's path
/// with its last `/images/` replaced by `/labels/` and its extension by `.txt` (`img2label_paths`).
/// An image without a label file has no objects. Without `data.yaml`, `classes.txt` names the
/// classes and `images/` beside `labels/` holds the images; a bare folder of label files
/// (`runs/segment/predict/labels`) takes sizes from `FormatOptions.imagesFolder` or a ground truth.
///
/// Class index k becomes category id k + 1 (the inverse of `convert_coco`'s `category_id - 1`);
/// each line one annotation with one polygon in pixels (x·width, y·height); box and area from
/// pycocotools' rasterisation of it.
public enum YOLOReader {
    static let imageExtensions: Set<String> = ["avif", "bmp", "dng", "heic", "jp2", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp"]

    struct Entry {
        var fileName: String
        var imagePath: String?
        var labelPath: String
    }

    public static func read(_ path: String, options: FormatOptions = FormatOptions()) throws -> FormatSet {
        var names = options.classNames
        var entries: [Entry] = []
        var yaml: String?
        if !FileIO.isDirectory(path) {
            guard FormatFiles.exists(path) else { throw SegError(.notFound, file: path, "no such file") }
            yaml = path
        } else if FormatFiles.exists(FormatFiles.join(path, "data.yaml")) {
            yaml = FormatFiles.join(path, "data.yaml")
        }
        if let yaml {
            let data = try YOLODataYAML.read(yaml)
            if names == nil { names = data.names }
            let root = FormatFiles.parent(yaml)
            var sources = data.imageSources
            if sources.isEmpty { sources = [FormatFiles.join(root, "images")] }
            // Labels without their images (a converted set, predictions): sizes from --images
            // or a ground truth, as for a bare labels folder.
            let labels = FormatFiles.join(root, "labels")
            if !sources.contains(where: FileIO.isDirectory), FileIO.isDirectory(labels),
               options.imagesFolder != nil || options.sizesFrom != nil {
                sources = []
                entries = try labelOnlyEntries(labels, options: options)
            }
            var seen = Set<String>()
            for source in sources {
                for e in try imageEntries(source, root: root) where seen.insert(e.fileName).inserted { entries.append(e) }
            }
        } else {
            for candidate in [FormatFiles.join(path, "classes.txt"), FormatFiles.join(path, "labels/classes.txt")]
            where names == nil && FormatFiles.exists(candidate) {
                names = try YOLOClassList.read(candidate)
            }
            let images = FormatFiles.join(path, "images")
            if FileIO.isDirectory(images) {
                entries = try imageEntries(images, root: path)
            } else {
                let labels = FileIO.isDirectory(FormatFiles.join(path, "labels")) ? FormatFiles.join(path, "labels") : path
                entries = try labelOnlyEntries(labels, options: options)
            }
        }
        guard let names else {
            throw SegError(.invalid, file: path, "no class names: a data.yaml with names, a classes.txt, or --classes is needed")
        }
        return try build(entries, names: names, source: path, options: options)
    }

    /// Images under `folder`, each with its label path by Ultralytics' rule.
    static func imageEntries(_ folder: String, root: String) throws -> [Entry] {
        guard FileIO.isDirectory(folder) else {
            throw SegError(.notFound, file: folder, "no such image folder (named by data.yaml, or images/ beside labels/)")
        }
        return FormatFiles.walk(folder) { imageExtensions.contains(FormatFiles.extensionOf($0)) }.map { rel in
            let image = FormatFiles.join(folder, rel)
            return Entry(fileName: fileName(image, root: root), imagePath: image, labelPath: labelPath(image))
        }
    }

    /// `img2label_paths`: the last `/images/` becomes `/labels/`, the extension `.txt`.
    static func labelPath(_ image: String) -> String {
        var p = image
        if let r = p.range(of: "/images/", options: .backwards) { p.replaceSubrange(r, with: "/labels/") }
        else if p.hasPrefix("images/") { p = "labels/" + p.dropFirst(7) }
        return FormatFiles.dropExtension(p) + ".txt"
    }

    /// The image's name relative to the set: under `images/`, the rest of the path ("train/a.jpg").
    static func fileName(_ image: String, root: String) -> String {
        var rel = image.hasPrefix(root + "/") ? String(image.dropFirst(root.count + 1)) : image
        if rel.hasPrefix("images/") { rel = String(rel.dropFirst(7)) }
        return rel
    }

    /// Label files with no images beside them: the image is looked for by stem.
    static func labelOnlyEntries(_ folder: String, options: FormatOptions) throws -> [Entry] {
        var imagesByStem: [String: String] = [:]
        if let images = options.imagesFolder {
            for rel in FormatFiles.walk(images, where: { imageExtensions.contains(FormatFiles.extensionOf($0)) }) {
                imagesByStem[FormatFiles.dropExtension(rel)] = rel
            }
        }
        var gtByStem: [String: String] = [:]
        for image in options.sizesFrom?.images ?? [] { gtByStem[FormatFiles.dropExtension(image.fileName)] = image.fileName }
        return FormatFiles.walk(folder) { $0.hasSuffix(".txt") && FileName.last($0) != "classes.txt" }.map { rel in
            let stem = FormatFiles.dropExtension(rel)
            let label = FormatFiles.join(folder, rel)
            if let image = imagesByStem[stem], let images = options.imagesFolder {
                return Entry(fileName: image, imagePath: FormatFiles.join(images, image), labelPath: label)
            }
            return Entry(fileName: gtByStem[stem] ?? gtByStem[FileName.last(stem)] ?? stem, imagePath: nil, labelPath: label)
        }
    }

    static func build(_ entries: [Entry], names: [String], source: String, options: FormatOptions) throws -> FormatSet {
        var sizesByName: [String: (Int, Int)] = [:]
        for image in options.sizesFrom?.images ?? [] { sizesByName[image.fileName] = (image.width, image.height) }
        var images: [COCOImage] = []
        var annotations: [COCOAnnotation] = []
        var notes = FormatNotes()
        var predictions = options.predictions
        var hasScores = false
        for entry in entries {
            let size: (width: Int, height: Int)
            if let imagePath = entry.imagePath {
                size = try ImageSize.read(imagePath)
            } else if let s = sizesByName[entry.fileName] {
                size = s
            } else {
                throw SegError(.invalid, file: entry.labelPath, "no image to take the size from: give the images folder (--images) or a ground truth naming \(entry.fileName)")
            }
            let imageId = images.count + 1
            images.append(COCOImage(id: imageId, width: size.width, height: size.height, fileName: entry.fileName))
            guard FormatFiles.exists(entry.labelPath) else { continue }
            let text = try FormatFiles.readText(entry.labelPath)
            let lines = try YOLOLabels.parse(text, file: entry.labelPath, classCount: names.count, predictions: predictions)
            if predictions == nil, let first = lines.first { predictions = first.confidence != nil }
            var seen = Set<[Double]>()
            for l in lines {
                // Ultralytics' loader drops a row equal to an earlier one (class and points).
                guard seen.insert([Double(l.classIndex)] + l.points).inserted else {
                    notes.add("duplicate lines left out, as Ultralytics' loader does", at: "\(entry.labelPath) line \(l.line)")
                    continue
                }
                var polygon: [Double] = []
                polygon.reserveCapacity(l.points.count)
                for k in stride(from: 0, to: l.points.count, by: 2) {
                    polygon.append(l.points[k] * Double(size.width))
                    polygon.append(l.points[k + 1] * Double(size.height))
                }
                if l.confidence != nil { hasScores = true }
                let ann = COCOAnnotation(id: annotations.count + 1, imageId: imageId, categoryId: l.classIndex + 1,
                                         segmentation: .polygons([polygon]), score: l.confidence ?? 1)
                annotations.append(try FormatShapes.completed(ann, height: size.height, width: size.width))
            }
        }
        let categories = names.enumerated().map { COCOCategory(id: $0.offset + 1, name: $0.element) }
        let gt = COCOGroundTruth(file: source, images: images, categories: categories, annotations: annotations)
        return FormatSet(groundTruth: gt, hasScores: hasScores, notes: notes.lines)
    }
}
