import Foundation
import SegCore
import SegEval

/// Writes accepted work: one PNG label map per image (`labels/<stem>.png`, class ids, palette
/// colours from the theme) and one COCO instances JSON (`instances.json`, RLE segmentations) for
/// the workspace. Both are rewritten atomically after every accept or delete.
///
/// Class ids: the ground truth's own for the classes it names, else the position of the class
/// among the workspace's object classes plus one (0 is background), which matches a `classes.txt`
/// whose first line is `background` (`CategoryIDs`). Image `file_name`s are the ground truth's.
public struct OutputWriter {
    /// What the outputs hold: the images, their accepted objects, and the object classes in id order.
    public struct Work: Sendable {
        public var images: [ImageEntry]
        public var accepted: [String: [AcceptedObject]]
        public var classes: [String]
        public var categoryIDs: CategoryIDs
        /// The ground truth's `file_name` for an image file name, where it has one.
        public var fileNames: [String: String]

        public init(images: [ImageEntry], accepted: [String: [AcceptedObject]], classes: [String],
                    categoryIDs: CategoryIDs = CategoryIDs(), fileNames: [String: String] = [:]) {
            self.images = images
            self.accepted = accepted
            self.classes = classes
            self.categoryIDs = categoryIDs
            self.fileNames = fileNames
        }

        public func classID(_ name: String) -> Int { categoryIDs.id(of: name, classes: classes) }
    }

    public let folder: String
    public let palette: [RGB]

    public init(folder: String, palette: [RGB]) {
        self.folder = folder
        self.palette = palette
    }

    public var labelsFolder: String { folder + "/labels" }
    public var cocoPath: String { folder + "/instances.json" }
    public var journalPath: String { folder + "/journal.jsonl" }

    /// The COCO JSON written again in each of `formats`, in `<folder>/<format>` (e.g. YOLO labels
    /// for training). Run when a session ends: the COCO file, label maps and journal are written
    /// at every action, these derived copies once (for a large set they are thousands of files).
    /// Returns what each conversion changed or why it failed, one line each.
    public func exportFormats(_ formats: [DatasetFormat]) -> [String] {
        guard !formats.isEmpty, FileManager.default.fileExists(atPath: cocoPath) else { return [] }
        var lines: [String] = []
        do {
            let set = try Formats.read(cocoPath, format: .coco)
            for format in formats {
                let target = folder + "/" + format.rawValue
                do {
                    lines += try Formats.write(set, format: format, to: target).map { "\(format.rawValue): \($0)" }
                    lines.append("\(format.rawValue): written to \(target)")
                } catch {
                    lines.append("\(format.rawValue): \(error)")
                }
            }
        } catch {
            lines.append("\(error)")
        }
        return lines
    }

    public func prepareFolders() throws {
        do {
            try FileManager.default.createDirectory(atPath: labelsFolder, withIntermediateDirectories: true)
        } catch {
            throw SegError(.writeFailed, file: labelsFolder, "cannot create the output folder: \(error.localizedDescription)")
        }
    }

    /// The label map of one image and the COCO file.
    public func save(image path: String, work: Work) throws {
        guard let entry = work.images.first(where: { $0.path == path }) else { return }
        let objects = work.accepted[path] ?? []
        let labelPath = labelsFolder + "/" + entry.stem + ".png"
        if let first = objects.first {
            var labels = LabelMap(width: first.mask.width, height: first.mask.height)
            for object in objects {
                let id = UInt32(work.classID(object.className))
                for i in object.mask.bits.indices where object.mask.bits[i] != 0 { labels.labels[i] = id }
            }
            // Each class's colour at its id (ids the ground truth leaves unused stay black).
            let ids = work.classes.map(work.classID)
            var entries = [RasterImage.PaletteEntry](repeating: .init(r: 0, g: 0, b: 0), count: max(ids.max() ?? 1, 1) + 1)
            for (i, id) in ids.enumerated() where id < entries.count {
                let c = palette.isEmpty ? RGB(255, 255, 255) : palette[i % palette.count]
                entries[id] = .init(r: c.r, g: c.g, b: c.b)
            }
            if ids.isEmpty {
                let c = palette.first ?? RGB(255, 255, 255)
                entries[1] = .init(r: c.r, g: c.g, b: c.b)
            }
            try ImageFile.writePNG(labels, to: labelPath, palette: entries.count <= 256 ? entries : nil)
        } else if FileManager.default.fileExists(atPath: labelPath) {
            try? FileManager.default.removeItem(atPath: labelPath)
        }
        try writeCOCO(work)
    }

    /// COCO instances for every image with accepted objects, readable by pycocotools.
    public func writeCOCO(_ work: Work) throws {
        var images: [[String: Any]] = []
        var annotations: [[String: Any]] = []
        var annotationID = 1
        for (index, entry) in work.images.enumerated() {
            guard let objects = work.accepted[entry.path], let first = objects.first else { continue }
            let imageID = index + 1
            images.append(["id": imageID, "file_name": work.fileNames[entry.name] ?? entry.name, "width": first.mask.width,
                           "height": first.mask.height])
            for object in objects {
                let rle = try RLE(mask: object.mask)
                var annotation: [String: Any] = [
                    "id": annotationID, "image_id": imageID, "category_id": work.classID(object.className),
                    "segmentation": ["size": [rle.height, rle.width], "counts": rle.compressedString],
                    "area": rle.area, "bbox": rle.boundingBox, "iscrowd": 0,
                    "segterm_object": object.id,
                ]
                if let model = object.model { annotation["segterm_model"] = model }
                if let checkpoint = object.checkpoint {
                    // Which weights made it: the file's name, and its SHA-256 once hashed (null until then).
                    annotation["segterm_checkpoint"] = ["file": (checkpoint as NSString).lastPathComponent,
                                                        "sha256": object.checkpointSHA256 ?? NSNull()] as [String: Any]
                }
                annotations.append(annotation)
                annotationID += 1
            }
        }
        let categories = work.classes.map { name in ["id": work.classID(name), "name": name] as [String: Any] }
            .sorted { ($0["id"] as? Int ?? 0) < ($1["id"] as? Int ?? 0) }
        let document: [String: Any] = [
            "info": ["description": "segterm annotations"],
            "images": images, "annotations": annotations, "categories": categories,
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        try FileIO.writeAtomically([UInt8](data), to: cocoPath)
    }
}
