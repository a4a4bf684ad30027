import SegCore

/// PENDING: replaced by SegCore's COCO RLE once it lands on main.
struct PendingRuns { var area: Int }

/// Turning an annotation's segmentation into runs, with pycocotools' `annToRLE` rules.
enum InstanceShapes {
    static func runs(of ann: COCOAnnotation, image: COCOImage, entry: String, file: String) throws(SegError) -> PendingRuns? {
        if !ann.segmentation.isPresent { return nil }
        throw SegError(.unsupported, file: file, "\(entry): masks need SegCore's RLE (not merged yet)")
    }

    static func area(of runs: PendingRuns) -> Int { runs.area }
    static func box(of runs: PendingRuns) -> COCOBox { COCOBox(x: 0, y: 0, width: 0, height: 0) }

    /// The `area` field, or when the file has none, the mask's area (pycocotools would stop with
    /// a KeyError), or the box's.
    static func groundTruthArea(_ ann: COCOAnnotation, index: Int, image: COCOImage, file: String) throws(SegError) -> Double {
        if let area = ann.area { return area }
        if let runs = try runs(of: ann, image: image, entry: "annotations[\(index)] (id \(ann.id))", file: file) {
            return Double(area(of: runs))
        }
        if let box = ann.bbox { return box.area }
        throw SegError(.invalid, file: file, "annotations[\(index)] (id \(ann.id)): no \"area\", segmentation or bbox")
    }
}

struct MaskOverlap: InstanceOverlap {
    typealias Shape = PendingRuns
    func prepare(image: COCOImage, gt: [Int], dt: [Int], data: COCOInputs) throws(SegError)
        -> (gtAreas: [Double], dtAreas: [Double], gtShapes: [PendingRuns], dtShapes: [PendingRuns]) {
        throw SegError(.unsupported, file: data.groundTruth.file, "segm evaluation needs SegCore's RLE (not merged yet)")
    }
    func ious(dt: [PendingRuns], gt: [PendingRuns], crowd: [Bool]) -> [Double] { [] }
}

struct BoundaryOverlap: InstanceOverlap {
    typealias Shape = PendingRuns
    var dilationRatio: Double
    func prepare(image: COCOImage, gt: [Int], dt: [Int], data: COCOInputs) throws(SegError)
        -> (gtAreas: [Double], dtAreas: [Double], gtShapes: [PendingRuns], dtShapes: [PendingRuns]) {
        throw SegError(.unsupported, file: data.groundTruth.file, "boundary evaluation needs SegCore's RLE (not merged yet)")
    }
    func ious(dt: [PendingRuns], gt: [PendingRuns], crowd: [Bool]) -> [Double] { [] }
}
