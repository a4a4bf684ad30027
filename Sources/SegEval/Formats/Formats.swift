import SegCore

/// The one entry point for reading and writing annotation formats: `eval`, `compare`, `open` and
/// `convert` call these and never a format's own reader.
public enum Formats {
    /// Reads a data set in `format` (nil: `DatasetFormat.detect`). A COCO path reads as ground
    /// truth; with `options.sizesFrom` set and the file a results list, as predictions against it.
    public static func read(_ path: String, format: DatasetFormat? = nil, options: FormatOptions = FormatOptions()) throws -> FormatSet {
        guard FormatFiles.exists(path) else { throw SegError(.notFound, file: path, "no such file or folder") }
        guard let format = format ?? DatasetFormat.detect(path) else {
            throw SegError(.unsupported, file: path, "cannot tell the format: give it (coco, yolo, labelme, voc, cityscapes)")
        }
        switch format {
        case .coco: return try readCOCO(path, options: options)
        case .yolo: return try YOLOReader.read(path, options: options)
        case .labelme: return try LabelMeReader.read(path, options: options)
        case .voc: return try VOCFormat.read(path, options: options)
        case .cityscapes: return try CityscapesFormat.read(path, options: options)
        case .panoptic:
            throw SegError(.unsupported, file: path, "COCO panoptic is written, not converted from: segterm eval and open read it as it is")
        }
    }

    /// Writes `set` in `format` under `path` (a folder; for COCO a file). Returns what the
    /// writing changed, one line per kind of change.
    @discardableResult
    public static func write(_ set: FormatSet, format: DatasetFormat, to path: String) throws -> [String] {
        switch format {
        case .coco:
            try FormatFiles.write(try COCOWriter.groundTruthJSON(set.groundTruth, withScores: set.hasScores), to: path)
            return set.hasScores ? ["predictions written as a COCO document with a score per annotation (readable as results; pycocotools' loadRes wants the list: give convert --ground-truth)"] : []
        case .yolo: return try YOLOWriter.write(set, to: path)
        case .labelme: return try LabelMeWriter.write(set, to: path)
        case .voc: return try VOCFormat.write(set, to: path)
        case .cityscapes: return try CityscapesFormat.write(set, to: path)
        case .panoptic: return try PanopticWriter.write(set, to: path)
        }
    }

    /// A COCO file: an instances document (ground truth), or a results list (`[...]`, or a
    /// document read with `options.predictions == true`) read against `options.sizesFrom`.
    static func readCOCO(_ path: String, options: FormatOptions) throws -> FormatSet {
        let bytes = try FileIO.read(path)
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        let isList = first == UInt8(ascii: "[")
        if !isList && options.predictions != true {
            return FormatSet(groundTruth: try COCOReader.parseGroundTruth(bytes, file: path))
        }
        guard let gt = options.sizesFrom else {
            throw SegError(.invalid, file: path, "COCO predictions (a results list) need their ground truth (--ground-truth)")
        }
        let results = try COCOReader.parseResults(bytes, file: path, groundTruth: gt)
        var g = gt
        g.file = path
        g.annotations = results.detections
        return FormatSet(groundTruth: g, hasScores: true)
    }
}
