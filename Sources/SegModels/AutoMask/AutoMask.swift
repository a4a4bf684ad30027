import SegCore

/// One mask of the automatic generator, with the official record's fields (`generate`'s dicts).
public struct AutoMask: Sendable, Equatable {
    /// The mask at the image's size, as COCO RLE (the official `uncompressed_rle`; `mask` decodes it).
    public var segmentation: RLE
    /// Set pixels.
    public var area: Int
    /// [x, y, w, h] of the set pixels as the official `box_xyxy_to_xywh(batched_mask_to_box(...))`:
    /// w = right − left with inclusive ends, so a one-pixel-wide mask has w = 0.
    public var bbox: [Int]
    /// The model's predicted IoU (`predicted_iou`).
    public var predictedIoU: Float
    /// The point prompt that made it, image pixels (`point_coords[0]`).
    public var point: (x: Double, y: Double)
    public var stabilityScore: Float
    /// The crop it was found in, [x, y, w, h] (the whole image without crops).
    public var cropBox: [Int]

    public var mask: Mask { segmentation.decode() }

    public static func == (a: AutoMask, b: AutoMask) -> Bool {
        a.segmentation == b.segmentation && a.area == b.area && a.bbox == b.bbox && a.predictedIoU == b.predictedIoU
            && a.point == b.point && a.stabilityScore == b.stabilityScore && a.cropBox == b.cropBox
    }
}

/// How far `generate` is: reported after each batch of points.
public struct AutoMaskProgress: Sendable {
    /// Crops done and in all (1 without crops), points decoded and in all, over every crop.
    public var cropsDone: Int, crops: Int
    public var pointsDone: Int, points: Int
}
