import SegCore

/// Boundary IoU (Cheng et al., CVPR 2021) as the boundary-iou-api computes it: a mask's boundary
/// is the mask minus its erosion by a (2d+1)² square, d = round(ratio · image diagonal) (at
/// least 1), with the image padded by one background pixel so that objects cut by the border
/// have a boundary there; outside that frame nothing erodes (OpenCV's erosion border).
public enum BoundaryIoU {
    /// Band width in pixels; Python's round (halves to even), as the reference uses.
    public static func dilation(width: Int, height: Int, ratio: Double) -> Int {
        let diagonal = (Double(width * width + height * height)).squareRoot()
        return max(1, Int((ratio * diagonal).rounded(.toNearestOrEven)))
    }

    public static func boundary(of mask: Mask, dilation d: Int) -> Mask {
        let w = mask.width, h = mask.height
        var out = [UInt8](repeating: 0, count: w * h)
        guard let box = mask.boundingBox else { return Mask(width: w, height: h, bits: out) }
        // Zero counts over the padded image (frame of zeros at -1 and w / h) restricted to the
        // part that can reach the mask's box; windows are clipped to the padded image.
        let x0 = max(-1, box.minX - d), x1 = min(w, box.maxX - 1 + d)
        let y0 = max(-1, box.minY - d), y1 = min(h, box.maxY - 1 + d)
        let cw = x1 - x0 + 1, ch = y1 - y0 + 1
        var integral = [Int32](repeating: 0, count: (cw + 1) * (ch + 1))
        mask.bits.withUnsafeBufferPointer { bits in
            for y in 0..<ch {
                var row: Int32 = 0
                let py = y + y0
                for x in 0..<cw {
                    let px = x + x0
                    let zero = px < 0 || py < 0 || px >= w || py >= h || bits[py * w + px] == 0
                    if zero { row += 1 }
                    integral[(y + 1) * (cw + 1) + x + 1] = integral[y * (cw + 1) + x + 1] + row
                }
            }
            for py in box.minY..<box.maxY {
                for px in box.minX..<box.maxX where bits[py * w + px] != 0 {
                    let ax = max(px - d, x0) - x0, bx = min(px + d, x1) - x0
                    let ay = max(py - d, y0) - y0, by = min(py + d, y1) - y0
                    let zeros = integral[(by + 1) * (cw + 1) + bx + 1] - integral[ay * (cw + 1) + bx + 1]
                        - integral[(by + 1) * (cw + 1) + ax] + integral[ay * (cw + 1) + ax]
                    if zeros > 0 { out[py * w + px] = 1 }
                }
            }
        }
        return Mask(width: w, height: h, bits: out)
    }
}

/// `boundary` IoU type: min(mask IoU, boundary IoU) for ordinary ground truth, the mask IoU
/// (crowd rule) for crowd regions, as the boundary-iou-api's COCOeval does.
struct BoundaryOverlap: InstanceOverlap {
    struct Shape { var mask: RLE; var boundary: RLE }
    var dilationRatio: Double

    func prepare(image: COCOImage, gt: [Int], dt: [Int], unused: [Int], data: COCOInputs) throws(SegError)
        -> (gtAreas: [Double], dtAreas: [Double], gtShapes: [Shape], dtShapes: [Shape]) {
        let masks = try InstanceShapes.prepareMasks(image: image, gt: gt, dt: dt, unused: unused, data: data)
        let d = BoundaryIoU.dilation(width: image.width, height: image.height, ratio: dilationRatio)
        func shape(_ r: RLE) throws(SegError) -> Shape {
            do {
                return Shape(mask: r, boundary: try RLE(mask: BoundaryIoU.boundary(of: r.decode(), dilation: d)))
            } catch {
                throw SegError(.tooLarge, file: data.groundTruth.file, "image \(image.id): \(error)")
            }
        }
        var gtShapes: [Shape] = [], dtShapes: [Shape] = []
        for m in masks.gtShapes { gtShapes.append(try shape(m.runs)) }
        for m in masks.dtShapes { dtShapes.append(try shape(m.runs)) }
        return (masks.gtAreas, masks.dtAreas, gtShapes, dtShapes)
    }

    func ious(dt: [Shape], gt: [Shape], crowd: [Bool]) -> [Double] {
        var out = RunIoU.ious(dt: dt.map(\.mask), gt: gt.map(\.mask), crowd: crowd)
        let boundary = RunIoU.ious(dt: dt.map(\.boundary), gt: gt.map(\.boundary), crowd: crowd)
        let G = gt.count
        for i in out.indices where !crowd[i % G] { out[i] = min(out[i], boundary[i]) }
        return out
    }

    func box(_ shape: Shape) -> COCOBox { InstanceShapes.box(of: shape.mask) }
}
