import SegCore

/// The annotation formats `segterm convert` reads and writes, and that `eval` / `open` can take in
/// place of COCO JSON. Every format is read into, and written from, the in-memory COCO model
/// (`COCOGroundTruth`, predictions carrying a score): COCO is the hub, so n formats need 2n
/// converters, not n².
public enum DatasetFormat: String, CaseIterable, Sendable {
    case coco, yolo, labelme, voc, cityscapes
    /// COCO panoptic, written only (eval reads it directly as ground truth or predictions).
    case panoptic

    /// What a user sees in `convert --help` and the README's table.
    public var summary: String {
        switch self {
        case .coco: "COCO instances JSON (ground truth) or results list (predictions, with --ground-truth)"
        case .yolo: "Ultralytics YOLO segmentation: labels/*.txt beside images/, names from data.yaml or classes.txt"
        case .labelme: "LabelMe / X-AnyLabeling: one JSON per image (polygon, rectangle, circle, mask shapes; group_id; score)"
        case .voc: "Pascal VOC: SegmentationClass (and SegmentationObject) palette PNGs, 255 = void"
        case .cityscapes: "Cityscapes: *_gtFine_labelIds / _labelTrainIds / _instanceIds PNGs (instance ids ×1000)"
        case .panoptic: "COCO panoptic (written only): panoptic.json and panoptic/*.png, segment id = R + 256·G + 256²·B"
        }
    }

    /// Whether predictions (a score per object) survive a write in this format. VOC and
    /// Cityscapes label PNGs hold no scores.
    public var holdsScores: Bool {
        switch self {
        case .coco, .yolo, .labelme: true
        case .voc, .cityscapes, .panoptic: false
        }
    }

    /// The format a path looks like, from its layout (never from its content beyond a file name):
    /// a `.json` file is COCO, a folder of LabelMe JSON is LabelMe, a `data.yaml` or a `labels/`
    /// folder of `.txt` files is YOLO, `SegmentationClass/` is VOC, `*_gtFine_*` PNGs Cityscapes.
    public static func detect(_ path: String) -> DatasetFormat? {
        let name = FileName.last(path).lowercased()
        if !FileIO.isDirectory(path) {
            if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { return .yolo }
            if name.hasSuffix(".json") { return LabelMeReader.looksLikeLabelMe(path) ? .labelme : .coco }
            return nil
        }
        let entries = FormatFiles.list(path)
        if entries.contains("data.yaml") || entries.contains("classes.txt") && entries.contains("labels") { return .yolo }
        if entries.contains("SegmentationClass") || entries.contains("SegmentationObject") { return .voc }
        if entries.contains("gtFine") || entries.contains("gtCoarse") { return .cityscapes }
        if entries.contains(where: { CityscapesFormat.labelSuffixes.contains(where: $0.hasSuffix) }) { return .cityscapes }
        if entries.contains("labels") && entries.contains("images") { return .yolo }
        if entries.contains(where: { $0.hasSuffix(".json") }) { return .labelme }
        if entries.contains(where: { $0.hasSuffix(".txt") }) { return .yolo }
        return nil
    }
}
