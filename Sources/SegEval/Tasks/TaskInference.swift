#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SegCore

extension Evaluation {
    /// The one task-inference rule, for the CLI and the workbench alike (`--task` overrides it):
    /// - a JSON ground truth whose annotations have `segments_info` is panoptic, other JSON is
    ///   COCO instances;
    /// - a folder holds semantic label maps when the class list names more than background and
    ///   one class (at least three entries), and binary masks otherwise: a list of background and
    ///   one class describes exactly a binary mask.
    /// - a YOLO data set or LabelMe / X-AnyLabeling files are instances (read through `Formats`).
    /// `classes` is the request's class list as read (`classNames`, or `classesFile` loaded).
    public static func task(of request: EvalRequest, classes: [String]?) -> EvalRequest.Task {
        if let task = request.task { return task }
        if objectFormat(request.groundTruth) != nil { return .instance }
        if holdsVolumes(request.groundTruth) { return .volume }
        if FileIO.isDirectory(request.groundTruth) { return (classes?.count ?? 0) > 2 ? .semantic : .binary }
        return looksPanoptic(request.groundTruth) ? .panoptic : .instance
    }

    /// The object formats read in place of COCO JSON: YOLO and LabelMe sets, a VOC folder with
    /// `SegmentationObject/`, Cityscapes with `*_instanceIds.png`. Label PNGs otherwise (VOC's
    /// `SegmentationClass`, Cityscapes' label ids) are read by the semantic and binary engines as
    /// they are.
    static func objectFormat(_ path: String) -> DatasetFormat? {
        switch DatasetFormat.detect(path) {
        case .yolo: return .yolo
        case .labelme: return .labelme
        case .voc where FileIO.isDirectory(path + "/SegmentationObject"): return .voc
        case .cityscapes where !FormatFiles.walk(path, where: { $0.hasSuffix("_instanceIds.png") }).isEmpty: return .cityscapes
        default: return nil
        }
    }

    /// A folder whose files are NIfTI volumes (`.nii`, `.nii.gz`), as nnU-Net's labelsTr.
    static func holdsVolumes(_ path: String) -> Bool {
        FileIO.isDirectory(path) && !FormatFiles.walk(path, where: NIfTI.isNIfTI).isEmpty
    }

    /// The task of a request, reading its class-list file when it has one.
    public static func task(of request: EvalRequest) throws -> EvalRequest.Task {
        try task(of: request, classes: classList(request))
    }

    /// The request's class names: given, read from its file, or nil.
    static func classList(_ request: EvalRequest) throws -> [String]? {
        if let names = request.classNames { return names }
        return try request.classesFile.map(ClassNames.load)
    }

    /// Panoptic ground truth has `segments_info` in its annotations; peek at the first megabyte.
    static func looksPanoptic(_ path: String) -> Bool {
        guard let head = FileIO.head(path, count: 1 << 20) else { return false }
        let needle = Array("\"segments_info\"".utf8)
        guard head.count >= needle.count else { return false }
        for start in 0...(head.count - needle.count) where head[start] == needle[0] {
            if head[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
