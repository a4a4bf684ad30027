import Foundation

/// The generator's geometry, as `segment_anything/utils/amg.py` (and sam2's copy) computes it:
/// point grids, crop boxes, mask boxes, the crop-edge filter and torchvision's box NMS.
enum AutoMaskGeometry {
    /// `build_point_grid`: n×n points in [0, 1]², x fastest, at numpy's `linspace(1/2n, 1 − 1/2n, n)`.
    static func pointGrid(_ n: Int) -> [(x: Double, y: Double)] {
        let offset = 1 / (2 * Double(n))
        let side = linspace(offset, 1 - offset, n)
        var out: [(x: Double, y: Double)] = []
        out.reserveCapacity(n * n)
        for y in side { for x in side { out.append((x, y)) } }
        return out
    }

    /// numpy's `linspace` (endpoint included): start + i·step, the last value exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double, _ n: Int) -> [Double] {
        guard n > 1 else { return n == 1 ? [start] : [] }
        let step = (stop - start) / Double(n - 1)
        var v = (0..<n).map { step == 0 ? start + Double($0) / Double(n - 1) * (stop - start) : Double($0) * step + start }
        v[n - 1] = stop
        return v
    }

    /// `build_all_layer_point_grids`: layer i has `int(n / scale^i)` points per side.
    static func layerGrids(pointsPerSide n: Int, layers: Int, scale: Int) -> [[(x: Double, y: Double)]] {
        (0...layers).map { i in pointGrid(Int(Double(n) / pow(Double(scale), Double(i)))) }
    }

    /// A crop box [x0, y0, x1, y1] in image pixels (exclusive ends) and its layer.
    struct Crop: Equatable {
        let x0: Int, y0: Int, x1: Int, y1: Int
        let layer: Int
        var width: Int { x1 - x0 }
        var height: Int { y1 - y0 }
    }

    /// `generate_crop_boxes`: the whole image, then layer i's (2^i)² overlapping crops, x outer.
    static func cropBoxes(width imW: Int, height imH: Int, layers: Int, overlapRatio: Double) -> [Crop] {
        var crops = [Crop(x0: 0, y0: 0, x1: imW, y1: imH, layer: 0)]
        let shortSide = min(imH, imW)
        func cropLen(_ orig: Int, _ n: Int, _ overlap: Int) -> Int {
            Int((Double(overlap * (n - 1) + orig) / Double(n)).rounded(.up))
        }
        guard layers > 0 else { return crops }
        for layer in 0..<layers {
            let n = 1 << (layer + 1)
            let overlap = Int(overlapRatio * Double(shortSide) * (2 / Double(n)))
            let cw = cropLen(imW, n, overlap), ch = cropLen(imH, n, overlap)
            let xs = (0..<n).map { (cw - overlap) * $0 }, ys = (0..<n).map { (ch - overlap) * $0 }
            for x0 in xs {
                for y0 in ys {
                    crops.append(Crop(x0: x0, y0: y0, x1: min(x0 + cw, imW), y1: min(y0 + ch, imH), layer: layer + 1))
                }
            }
        }
        return crops
    }

    /// A mask's box as `batched_mask_to_box`: [left, top, right, bottom] with inclusive ends
    /// (so a one-pixel mask has width 0), [0, 0, 0, 0] for an empty mask.
    struct Box: Equatable {
        var x0: Int, y0: Int, x1: Int, y1: Int
        static let empty = Box(x0: 0, y0: 0, x1: 0, y1: 0)
    }

    /// `is_box_near_crop_edge` (atol 20): a side within 20 px of the crop's side, but not of the image's.
    static func isNearCropEdge(_ b: Box, crop: Crop, imageWidth: Int, imageHeight: Int) -> Bool {
        let box = [b.x0 + crop.x0, b.y0 + crop.y0, b.x1 + crop.x0, b.y1 + crop.y0].map(Float.init)
        let c = [crop.x0, crop.y0, crop.x1, crop.y1].map(Float.init)
        let o: [Float] = [0, 0, Float(imageWidth), Float(imageHeight)]
        for i in 0..<4 where abs(box[i] - c[i]) <= 20 && !(abs(box[i] - o[i]) <= 20) { return true }
        return false
    }

    /// torchvision's `nms` (CPU kernel) over boxes [x0, y0, x1, y1] in float32: indices kept, by
    /// score descending (a stable sort: equal scores keep their order); a box is dropped when its
    /// IoU with a kept higher one is above `threshold`. Areas are (x1 − x0)·(y1 − y0).
    static func nms(boxes: [Box], scores: [Float], threshold: Float) -> [Int] {
        let n = boxes.count
        let order = (0..<n).sorted { a, b in scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        let x0 = boxes.map { Float($0.x0) }, y0 = boxes.map { Float($0.y0) }
        let x1 = boxes.map { Float($0.x1) }, y1 = boxes.map { Float($0.y1) }
        let area = (0..<n).map { (x1[$0] - x0[$0]) * (y1[$0] - y0[$0]) }
        var suppressed = [Bool](repeating: false, count: n)
        var keep: [Int] = []
        for (oi, i) in order.enumerated() where !suppressed[i] {
            keep.append(i)
            for j in order[(oi + 1)...] where !suppressed[j] {
                let w = max(0, min(x1[i], x1[j]) - max(x0[i], x0[j]))
                let h = max(0, min(y1[i], y1[j]) - max(y0[i], y0[j]))
                let inter = w * h
                let ovr = inter / (area[i] + area[j] - inter)
                if ovr > threshold { suppressed[j] = true }
            }
        }
        return keep
    }
}
