import SegConcurrency
import SegCore
import SegNN

/// Candidates of one crop between the decoder and the filters: a low-resolution mask, its score
/// and the point (crop pixels) that made it.
struct MaskCandidate: Sendable {
    var lowRes: [Float]
    var iou: Float
    var point: (x: Double, y: Double)
}

/// A mask that passed the per-batch filters: already uncropped to the image.
struct KeptMask: Sendable {
    var rle: RLE
    /// In crop pixels until the crop's NMS, then in image pixels.
    var box: AutoMaskGeometry.Box
    var iou: Float
    var stability: Float
    var point: (x: Double, y: Double)
    var crop: AutoMaskGeometry.Crop
}

/// `_process_batch` after the decoder: upscale each candidate's logits to the crop as the
/// predictor does, stability score, threshold, box, the crop-edge filter, and the RLE of the mask
/// placed in the image. Candidates run in parallel; the order of the survivors is the input's.
struct MaskPostprocess {
    let model: SAMModel
    let embedding: SAMEmbedding
    let options: AutoMaskOptions
    let crop: AutoMaskGeometry.Crop
    let imageWidth: Int, imageHeight: Int

    func run(_ candidates: [MaskCandidate]) throws -> [KeptMask] {
        let kept = try ParallelFor.map(candidates.count, workers: Cores.online) { i -> KeptMask? in
            try one(candidates[i])
        }
        return kept.compactMap { $0 }
    }

    private func one(_ c: MaskCandidate) throws -> KeptMask? {
        let W = embedding.originalWidth, H = embedding.originalHeight
        var full = [Float](repeating: 0, count: W * H)
        upscale(c.lowRes, into: &full)
        let thr = options.maskThreshold, off = options.stabilityScoreOffset
        // calculate_stability_score: |logits > thr + off| / |logits > thr − off| (0/0 is NaN, never kept).
        var inter: Int32 = 0, union: Int32 = 0
        var bits = [UInt8](repeating: 0, count: W * H)
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        full.withUnsafeBufferPointer { f in
            bits.withUnsafeMutableBufferPointer { b in
                for y in 0..<H {
                    let row = y * W
                    var rowHit = false
                    for x in 0..<W {
                        let v = f[row + x]
                        if v > thr + off { inter &+= 1 }
                        if v > thr - off { union &+= 1 }
                        if v > thr {
                            b[row + x] = 1
                            rowHit = true
                            if x < minX { minX = x }
                            if x > maxX { maxX = x }
                        }
                    }
                    if rowHit { if y < minY { minY = y }; maxY = y }
                }
            }
        }
        let stability = Float(inter) / Float(union)
        if options.stabilityScoreThresh > 0 && !(stability >= options.stabilityScoreThresh) { return nil }
        let box = maxX < 0 ? AutoMaskGeometry.Box.empty : AutoMaskGeometry.Box(x0: minX, y0: minY, x1: maxX, y1: maxY)
        if AutoMaskGeometry.isNearCropEdge(box, crop: crop, imageWidth: imageWidth, imageHeight: imageHeight) { return nil }
        let placed: Mask
        if crop.x0 == 0 && crop.y0 == 0 && W == imageWidth && H == imageHeight {
            placed = Mask(width: W, height: H, bits: bits)
        } else {
            // uncrop_masks: zero padding around the crop.
            var p = [UInt8](repeating: 0, count: imageWidth * imageHeight)
            for y in 0..<H { for x in 0..<W where bits[y * W + x] != 0 { p[(y + crop.y0) * imageWidth + x + crop.x0] = 1 } }
            placed = Mask(width: imageWidth, height: imageHeight, bits: p)
        }
        return KeptMask(rle: try RLE(mask: placed), box: box, iou: c.iou, stability: stability, point: c.point, crop: crop)
    }

    /// The predictor's `postprocess_masks` on one plane of logits, to the crop's size. SAM:
    /// bilinear to the encoder's square, keep the resized image's part, bilinear to the crop. SAM 2.1:
    /// (after the hole and sprinkle filling, when asked) bilinear straight to the crop.
    private func upscale(_ lowRes: [Float], into full: inout [Float]) {
        let side = model.lowResSide, W = embedding.originalWidth, H = embedding.originalHeight
        lowRes.withUnsafeBufferPointer { lr in
            full.withUnsafeMutableBufferPointer { out in
                guard let l = lr.baseAddress, let o = out.baseAddress else { return }
                if model.isSAM2 {
                    Interpolate.bilinear(l, channels: 1, inHeight: side, inWidth: side, inRowStride: side, inPlaneStride: side * side,
                                         outHeight: H, outWidth: W, o)
                    return
                }
                let s = model.imageSize, ih = embedding.inputHeight, iw = embedding.inputWidth
                var square = [Float](repeating: 0, count: ih * iw)
                square.withUnsafeMutableBufferPointer { sq in
                    guard let q = sq.baseAddress else { return }
                    Interpolate.bilinear(l, channels: 1, inHeight: side, inWidth: side, inRowStride: side, inPlaneStride: side * side,
                                         outHeight: s, outWidth: s, q, cropHeight: ih, cropWidth: iw)
                    if ih == H && iw == W {
                        o.update(from: q, count: H * W)
                    } else {
                        Interpolate.bilinear(q, channels: 1, inHeight: ih, inWidth: iw, inRowStride: iw, inPlaneStride: ih * iw,
                                             outHeight: H, outWidth: W, o)
                    }
                }
            }
        }
    }
}
