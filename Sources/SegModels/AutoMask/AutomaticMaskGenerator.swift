import SegConcurrency
import SegCore

/// "Segment everything": the official automatic mask generators on a loaded SAM-family model.
/// SAM / MobileSAM run as segment-anything 1.0's `SamAutomaticMaskGenerator`, SAM 2.1 as sam2
/// 1.1.0's `SAM2AutomaticMaskGenerator` (the family comes from the options; `AutoMaskOptions(for:)`
/// gives the model's official defaults). Per crop (the whole image, then `cropNLayers` layers of
/// overlapping crops): encode the crop, decode a grid of single positive points in batches, keep
/// masks by predicted IoU, stability and distance from the crop's edges, box NMS in the crop; then
/// NMS across crops (smaller crops win) and the family's small-region clean-up.
public struct AutomaticMaskGenerator: Sendable {
    public var options: AutoMaskOptions

    public init(options: AutoMaskOptions) {
        self.options = options
    }

    /// The masks of `image`, in the official output order. `progress` is called after each batch.
    public func generate(model: SAMModel, image: RGBImage,
                         progress: (@Sendable (AutoMaskProgress) -> Void)? = nil) throws -> [AutoMask] {
        try options.validate()
        guard image.width > 0, image.height > 0 else { throw SegError(.invalid, file: "", "image has zero size") }
        if options.family == .sam2 && !model.isSAM2 || options.family == .sam && model.isSAM2 {
            throw SegError(.invalid, file: model.checkpoint, "automatic mask generator options are for another model family")
        }
        let grids = AutoMaskGeometry.layerGrids(pointsPerSide: options.pointsPerSide, layers: options.cropNLayers,
                                                scale: options.cropNPointsDownscaleFactor)
        let crops = AutoMaskGeometry.cropBoxes(width: image.width, height: image.height, layers: options.cropNLayers,
                                               overlapRatio: options.cropOverlapRatio)
        let totalPoints = crops.reduce(0) { $0 + grids[$1.layer].count }
        var state = AutoMaskProgress(cropsDone: 0, crops: crops.count, pointsDone: 0, points: totalPoints)
        var all: [KeptMask] = []
        for crop in crops {
            all += try processCrop(model: model, image: image, crop: crop, grid: grids[crop.layer]) { done in
                state.pointsDone += done
                progress?(state)
            }
            state.cropsDone += 1
            progress?(state)
        }
        if crops.count > 1 {
            // Between crops the smaller crop's mask wins: scores 1 / crop area, categories all 0.
            let scores = all.map { 1 / Float($0.crop.width * $0.crop.height) }
            all = AutoMaskGeometry.nms(boxes: all.map(\.box), scores: scores, threshold: options.cropNMSThresh).map { all[$0] }
        }
        if options.family == .sam && options.minMaskRegionArea > 0 {
            all = try postprocessSmallRegions(all, minArea: options.minMaskRegionArea,
                                              threshold: max(options.boxNMSThresh, options.cropNMSThresh))
        }
        return all.map { k in
            AutoMask(segmentation: k.rle, area: k.rle.area, bbox: [k.box.x0, k.box.y0, k.box.x1 - k.box.x0, k.box.y1 - k.box.y0],
                     predictedIoU: k.iou, point: k.point, stabilityScore: k.stability,
                     cropBox: [k.crop.x0, k.crop.y0, k.crop.width, k.crop.height])
        }
    }

    /// `_process_crop`: encode the crop, its points in batches, NMS by predicted IoU, uncrop.
    private func processCrop(model: SAMModel, image: RGBImage, crop: AutoMaskGeometry.Crop, grid: [(x: Double, y: Double)],
                             batchDone: (Int) -> Void) throws -> [KeptMask] {
        let cropped = crop.width == image.width && crop.height == image.height ? image : Self.cut(image, crop)
        let embedding = try model.prepare(cropped)
        let cw = Double(crop.width), ch = Double(crop.height)
        // points_for_image = grid · crop size (float64; SAM 2.1 then takes them as float32).
        let points: [(x: Double, y: Double)] = grid.map { p in
            options.family == .sam2 ? (Double(Float(p.x * cw)), Double(Float(p.y * ch))) : (p.x * cw, p.y * ch)
        }
        let post = MaskPostprocess(model: model, embedding: embedding, options: options, crop: crop,
                                   imageWidth: image.width, imageHeight: image.height)
        var kept: [KeptMask] = []
        var start = 0
        while start < points.count {
            let batch = Array(points[start..<min(start + options.pointsPerBatch, points.count)])
            kept += try post.run(try candidates(model: model, embedding: embedding, batch: batch))
            start += batch.count
            batchDone(batch.count)
        }
        let keep = AutoMaskGeometry.nms(boxes: kept.map(\.box), scores: kept.map(\.iou), threshold: options.boxNMSThresh)
        return keep.map { i in
            var k = kept[i]
            k.box = .init(x0: k.box.x0 + crop.x0, y0: k.box.y0 + crop.y0, x1: k.box.x1 + crop.x0, y1: k.box.y1 + crop.y0)
            k.point = (k.point.x + Double(crop.x0), k.point.y + Double(crop.y0))
            return k
        }
    }

    /// `_process_batch` up to the filters on scores known before upscaling: decode (SAM 2.1:
    /// optionally refine mask to mask), flatten point-major, keep predicted IoU above the threshold;
    /// SAM 2.1's hole and sprinkle filling when `min_mask_region_area` is set.
    private func candidates(model: SAMModel, embedding: SAMEmbedding, batch: [(x: Double, y: Double)]) throws -> [MaskCandidate] {
        let multimask = options.family == .sam ? true : options.multimaskOutput
        let refine = options.family == .sam2 && options.useM2M
        // Without refinement a mask below the IoU threshold is dropped unseen: the decoder skips it.
        let threshold = options.predIoUThresh
        let keep: (@Sendable (Float) -> Bool)? = refine || threshold <= 0 ? nil : { @Sendable in $0 > threshold }
        let decoded = try model.decodePoints(embedding, batch.map { .init(x: $0.x, y: $0.y, maskInput: nil) }, multimask: multimask, keep: keep)
        var out: [MaskCandidate] = []
        for (p, d) in zip(batch, decoded) {
            for (m, plane) in d.lowRes.enumerated() {
                if let plane { out.append(MaskCandidate(lowRes: plane, iou: d.iou[m], point: p)) }
            }
        }
        if refine {
            // refine_with_m2m: each mask's clamped low-res logits back in with its point, one mask out.
            let refined = try model.decodePoints(embedding, out.map { c in
                .init(x: c.point.x, y: c.point.y, maskInput: c.lowRes.map { min(max($0, -32), 32) })
            }, multimask: false)
            for i in out.indices {
                guard let plane = refined[i].lowRes.first ?? nil, let iou = refined[i].iou.first else {
                    throw SegError(.invalid, file: model.checkpoint, "decoder produced no output")
                }
                out[i].lowRes = plane
                out[i].iou = iou
            }
        }
        if options.predIoUThresh > 0 { out = out.filter { $0.iou > options.predIoUThresh } }
        if options.family == .sam2 && options.minMaskRegionArea > 0 {
            let side = model.lowResSide, area = options.minMaskRegionArea
            out = try ParallelFor.map(out.count, workers: Cores.online) { i in
                var c = out[i]
                c.lowRes = try SmallRegions.fillLowRes(c.lowRes, side: side, threshold: 0, maxArea: area)
                return c
            }
        }
        return out
    }

    /// segment-anything's `postprocess_small_regions`: fill small holes, drop small islands, then
    /// NMS with the unchanged masks first; the changed masks that survive take their new shape.
    private func postprocessSmallRegions(_ masks: [KeptMask], minArea: Int, threshold: Float) throws -> [KeptMask] {
        guard !masks.isEmpty else { return masks }
        let cleaned = try ParallelFor.map(masks.count, workers: Cores.online) { i -> (mask: Mask, unchanged: Bool) in
            var m = masks[i].rle.decode()
            var unchanged = true
            if let r = try SmallRegions.remove(m, area: minArea, mode: .holes) { m = r; unchanged = false }
            if let r = try SmallRegions.remove(m, area: minArea, mode: .islands) { m = r; unchanged = false }
            return (m, unchanged)
        }
        let boxes = cleaned.map { Self.box(of: $0.mask) }
        let keep = AutoMaskGeometry.nms(boxes: boxes, scores: cleaned.map { $0.unchanged ? 1 : 0 }, threshold: threshold)
        return try keep.map { i in
            var k = masks[i]
            if !cleaned[i].unchanged {
                k.rle = try RLE(mask: cleaned[i].mask)
                k.box = boxes[i]
            }
            return k
        }
    }

    static func box(of m: Mask) -> AutoMaskGeometry.Box {
        guard let b = m.boundingBox else { return .empty }
        return .init(x0: b.minX, y0: b.minY, x1: b.maxX - 1, y1: b.maxY - 1)
    }

    /// image[y0:y1, x0:x1].
    static func cut(_ image: RGBImage, _ c: AutoMaskGeometry.Crop) -> RGBImage {
        var px = [UInt8](repeating: 0, count: c.width * c.height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            px.withUnsafeMutableBufferPointer { dst in
                for y in 0..<c.height {
                    let from = ((c.y0 + y) * image.width + c.x0) * 3
                    for i in 0..<(c.width * 3) { dst[y * c.width * 3 + i] = src[from + i] }
                }
            }
        }
        return RGBImage(width: c.width, height: c.height, pixels: px)
    }
}
