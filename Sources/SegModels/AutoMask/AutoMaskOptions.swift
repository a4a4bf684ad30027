/// The settings of the automatic mask generator, under the official names. Defaults differ per
/// family: segment-anything 1.0's `SamAutomaticMaskGenerator` (`.sam`) and sam2 1.1.0's
/// `SAM2AutomaticMaskGenerator` (`.sam2`); `AutoMaskOptions(for: model)` picks by the model.
public struct AutoMaskOptions: Sendable, Equatable {
    public enum Family: Sendable, Equatable {
        /// SAM and MobileSAM: stability on the upscaled logits, `postprocess_small_regions` after NMS.
        case sam
        /// SAM 2.1: `mask_threshold`, `use_m2m`, `multimask_output`, and `min_mask_region_area`
        /// as the predictor's hole and sprinkle filling on the low-resolution logits.
        case sam2
    }

    public var family: Family
    /// Points along one side of the grid (`points_per_side`); layer i uses
    /// `Int(pointsPerSide / cropNPointsDownscaleFactor^i)`.
    public var pointsPerSide: Int
    /// Point prompts decoded together on one embedding (`points_per_batch`).
    public var pointsPerBatch: Int
    public var predIoUThresh: Float
    public var stabilityScoreThresh: Float
    public var stabilityScoreOffset: Float
    /// Logit threshold of the masks (SAM: the model's `mask_threshold`, 0; SAM 2.1: the generator's).
    public var maskThreshold: Float
    public var boxNMSThresh: Float
    public var cropNLayers: Int
    public var cropNMSThresh: Float
    public var cropOverlapRatio: Double
    public var cropNPointsDownscaleFactor: Int
    public var minMaskRegionArea: Int
    /// SAM 2.1 only: refine each mask by one more decode with its own low-res logits as mask input.
    public var useM2M: Bool
    /// SAM 2.1 only (SAM always asks for the three masks).
    public var multimaskOutput: Bool

    /// The official defaults of the family.
    public init(family: Family) {
        self.family = family
        pointsPerSide = 32
        pointsPerBatch = 64
        predIoUThresh = family == .sam ? 0.88 : 0.8
        stabilityScoreThresh = 0.95
        stabilityScoreOffset = 1
        maskThreshold = 0
        boxNMSThresh = 0.7
        cropNLayers = 0
        cropNMSThresh = 0.7
        cropOverlapRatio = 512.0 / 1500.0
        cropNPointsDownscaleFactor = 1
        minMaskRegionArea = 0
        useM2M = false
        multimaskOutput = true
    }

    /// The defaults of the model's family.
    public init(for model: SAMModel) {
        self.init(family: model.isSAM2 ? .sam2 : .sam)
    }

    /// Throws on settings the official code would reject or loop on.
    public func validate() throws {
        func bad(_ what: String) -> SegError { SegError(.invalid, file: "", "automatic mask generator: \(what)") }
        guard pointsPerSide >= 1 else { throw bad("points_per_side must be at least 1") }
        guard pointsPerBatch >= 1 else { throw bad("points_per_batch must be at least 1") }
        guard cropNLayers >= 0, cropNLayers <= 8 else { throw bad("crop_n_layers must be in 0...8") }
        guard cropNPointsDownscaleFactor >= 1 else { throw bad("crop_n_points_downscale_factor must be at least 1") }
        guard cropOverlapRatio.isFinite, cropOverlapRatio >= 0, cropOverlapRatio < 1 else { throw bad("crop_overlap_ratio must be in [0, 1)") }
        // The official grids divide by the points per side: a layer with none fails there.
        var perSide = Double(pointsPerSide)
        for _ in 0..<cropNLayers { perSide /= Double(cropNPointsDownscaleFactor) }
        guard Int(perSide) >= 1 else { throw bad("crop layer \(cropNLayers) would have no points (points_per_side / crop_n_points_downscale_factor^\(cropNLayers) < 1)") }
        guard minMaskRegionArea >= 0 else { throw bad("min_mask_region_area must not be negative") }
        for (name, v) in [("pred_iou_thresh", predIoUThresh), ("stability_score_thresh", stabilityScoreThresh),
                          ("stability_score_offset", stabilityScoreOffset), ("mask_threshold", maskThreshold),
                          ("box_nms_thresh", boxNMSThresh), ("crop_nms_thresh", cropNMSThresh)] where !v.isFinite {
            throw bad("\(name) must be finite")
        }
    }
}

import SegCore
