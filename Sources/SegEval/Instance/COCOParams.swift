/// Which overlap the instance evaluation matches on.
public enum COCOIoUType: String, Sendable, CaseIterable {
    case segm, bbox, boundary
}

/// An object-size bucket: COCO's `areaRng` with its label. Both ends are inclusive, as in
/// pycocotools (an object of area exactly 32² is both small and medium).
public struct COCOAreaRange: Sendable, Equatable {
    public var label: String
    public var min: Double
    public var max: Double

    public init(label: String, min: Double, max: Double) {
        self.label = label; self.min = min; self.max = max
    }

    @inline(__always) func excludes(_ area: Double) -> Bool { area < min || area > max }
}

/// Whose rules the instance evaluation follows: pycocotools' COCOeval, or the `lvis` package's
/// LVISEval (federated: per image only the categories known present or absent count, unmatched
/// detections of categories not exhaustively annotated are ignored, at most 300 detections per
/// image, no crowd regions, AP per frequency group).
public enum EvaluationProtocol: String, Sendable, CaseIterable {
    case coco, lvis
}

/// The COCOeval parameters (pycocotools' `Params` for segm/bbox), defaults identical; or
/// LVISEval's (`COCOEvalParams.lvis`).
public struct COCOEvalParams: Sendable {
    public var iouType: COCOIoUType
    public var evaluationProtocol = EvaluationProtocol.coco
    /// pycocotools' `useCats`: false evaluates every category as one (class-agnostic).
    public var useCategories = true
    /// pycocotools' `imgIds`: only these images are evaluated (nil: every image).
    public var imageIds: [Int]?
    public var iouThresholds: [Double]
    public var recallThresholds: [Double]
    /// Sorted ascending; the last one bounds the detections kept per image and category.
    public var maxDets: [Int]
    /// The first range is "all".
    public var areaRanges: [COCOAreaRange]
    /// Boundary IoU's band width as a fraction of the image diagonal (Cheng et al. 2021).
    public var boundaryDilationRatio: Double

    public init(iouType: COCOIoUType = .segm) {
        self.iouType = iouType
        iouThresholds = Self.linspace(0.5, 0.95, Int((0.95 - 0.5) / 0.05 + 0.5) + 1)
        recallThresholds = Self.linspace(0.0, 1.0, Int((1.0 - 0.0) / 0.01 + 0.5) + 1)
        maxDets = [1, 10, 100]
        areaRanges = [
            COCOAreaRange(label: "all", min: 0, max: 1e5 * 1e5),
            COCOAreaRange(label: "small", min: 0, max: 32 * 32),
            COCOAreaRange(label: "medium", min: 32 * 32, max: 96 * 96),
            COCOAreaRange(label: "large", min: 96 * 96, max: 1e5 * 1e5),
        ]
        boundaryDilationRatio = 0.02
    }

    /// numpy's `linspace` to the last bit: `i * step + start`, the end point set exactly. The IoU
    /// thresholds are compared with `<` against IoUs, so 0.6000000000000001 vs 0.6 matters.
    public static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { Double($0) * step + start }
        values[count - 1] = stop
        return values
    }

    var maxDetLimit: Int { maxDets.last ?? 100 }

    /// LVISEval's parameters: the COCO thresholds and area ranges, 300 detections per image.
    public static func lvis(iouType: COCOIoUType = .segm) -> COCOEvalParams {
        var p = COCOEvalParams(iouType: iouType)
        p.evaluationProtocol = .lvis
        p.maxDets = [300]
        return p
    }
}
