import SegCore

/// IoU matrices on runs for the evaluation's hot loop.
///
/// SegCore's `RLE.iou` returns nested arrays and recomputes boxes as arrays for every call; this
/// computes the same numbers (pycocotools `rleIou`: exact overlap only where the boxes overlap,
/// the crowd rule) into one flat D × G buffer.
enum RunIoU {
    static func ious(dt: [RLE], gt: [RLE], crowd: [Bool]) -> [Double] {
        let D = dt.count, G = gt.count
        if D == 0 || G == 0 { return [] }
        let table = (try? RLE.iou(dt, gt, iscrowd: crowd)) ?? []
        var out = [Double](repeating: 0, count: D * G)
        for d in 0..<min(D, table.count) {
            let row = table[d]
            for g in 0..<min(G, row.count) { out[d * G + g] = row[g] }
        }
        return out
    }
}
