import SegCore

/// IoU matrices on runs for the matching (SegCore's flat batch version of pycocotools `rleIou`).
enum RunIoU {
    /// D × G IoUs. Every caller builds `crowd` with one flag per ground truth from the same list,
    /// so a mismatch is a bug in this module, never bad input: it stops the process instead of
    /// returning zeros, which would read as "no overlap" and silently lower every number.
    /// (Masks of another size than the image are refused when the files are read.)
    static func ious(dt: [RLE], gt: [RLE], crowd: [Bool]) -> [Double] {
        precondition(crowd.count == gt.count, "RunIoU: \(crowd.count) crowd flags for \(gt.count) ground truths")
        if dt.isEmpty || gt.isEmpty { return [] }
        do {
            return try RLE.iouMatrix(dt, gt, iscrowd: crowd)
        } catch {
            preconditionFailure("RLE.iouMatrix refused checked inputs: \(error)")
        }
    }
}
