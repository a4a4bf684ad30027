import SegCore

/// IoU matrices on runs for the matching (SegCore's flat batch version of pycocotools `rleIou`).
enum RunIoU {
    static func ious(dt: [RLE], gt: [RLE], crowd: [Bool]) -> [Double] {
        if dt.isEmpty || gt.isEmpty { return [] }
        // Sizes are checked against the image before this point, and crowd has one flag per gt.
        return (try? RLE.iouMatrix(dt, gt, iscrowd: crowd)) ?? [Double](repeating: 0, count: dt.count * gt.count)
    }
}
