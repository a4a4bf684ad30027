import Foundation
import SegCore
import Testing
@testable import SegModels

/// The automatic mask generator against the official ones (`scripts/make_amg_fixtures.py`:
/// segment-anything 1.0's and sam2 1.1.0's generators on the tiny SAM and reduced SAM 2.1
/// fixtures): the same number of masks, each official mask matched by its point and crop to one of
/// ours with mask IoU ≥ 0.98 (the SAM tolerances: logits agree to about 1e-4, so only pixels on the
/// decision boundary may flip), predicted IoU and stability within 1e-3, and the same order up to
/// swaps of masks whose scores are within that tolerance.
@Suite struct AutoMaskParityTests {
    struct Fixture: Decodable {
        struct Record: Decodable {
            let size: [Int]
            let counts: String
            let area: Int
            let bbox: [Int]
            let predicted_iou: Float
            let point_coords: [Double]
            let stability_score: Float
            let crop_box: [Int]
        }
        struct Case: Decodable {
            let name: String
            let model: String
            let options: [String: Double]
            let masks: [Record]
        }
        struct Crops: Decodable {
            let height: Int, width: Int, layers: Int
            let crop_boxes: [[Int]]
            let layer_idxs: [Int]
        }
        struct Grids: Decodable {
            let points_per_side: Int, layers: Int, scale: Int
            let grids: [[[Double]]]
        }
        let image: String
        let cases: [Case]
        let crops: [Crops]
        let grids: [Grids]
    }

    static var dir: URL { Shared.fixtures.appendingPathComponent("amg") }

    static func fixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
    }

    static func options(_ c: Fixture.Case, family: AutoMaskOptions.Family) -> AutoMaskOptions {
        var o = AutoMaskOptions(family: family)
        for (k, v) in c.options {
            switch k {
            case "points_per_side": o.pointsPerSide = Int(v)
            case "points_per_batch": o.pointsPerBatch = Int(v)
            case "pred_iou_thresh": o.predIoUThresh = Float(v)
            case "stability_score_thresh": o.stabilityScoreThresh = Float(v)
            case "box_nms_thresh": o.boxNMSThresh = Float(v)
            case "crop_nms_thresh": o.cropNMSThresh = Float(v)
            case "crop_n_layers": o.cropNLayers = Int(v)
            case "crop_n_points_downscale_factor": o.cropNPointsDownscaleFactor = Int(v)
            case "min_mask_region_area": o.minMaskRegionArea = Int(v)
            case "use_m2m": o.useM2M = v != 0
            case "multimask_output": o.multimaskOutput = v != 0
            default: Issue.record("unknown option \(k) in the fixture")
            }
        }
        return o
    }

    static func check(model modelName: String) throws {
        let fixture = try fixture()
        let image = try loadRGB(dir.appendingPathComponent(fixture.image).path)
        let checkpoint = modelName == "tiny_sam" ? TinySAMTests.dir.appendingPathComponent("tiny_sam.pth").path
            : SAM2ReducedTests.path("sam2_reduced.pt")
        let model = try SAMModel.load(checkpoint: checkpoint)
        let cases = fixture.cases.filter { $0.model == modelName }
        #expect(cases.contains { $0.masks.count > 50 }, "the fixture must compare many masks")
        for c in cases {
            let ours = try AutomaticMaskGenerator(options: options(c, family: model.isSAM2 ? .sam2 : .sam)).generate(model: model, image: image)
            try compare(c, ours)
        }
    }

    static func compare(_ c: Fixture.Case, _ ours: [AutoMask]) throws {
        #expect(ours.count == c.masks.count, "\(c.name): \(ours.count) masks, official \(c.masks.count)")
        guard ours.count == c.masks.count else { return }
        var used = [Bool](repeating: false, count: ours.count)
        var worstIoU = 1.0, worstScore: Float = 0
        for (i, ref) in c.masks.enumerated() {
            // The official mask i is ours at i, or within a run of near-equal scores around it.
            let candidates = ours.indices.filter { j in
                !used[j] && ours[j].cropBox == ref.crop_box && abs(ours[j].point.x - ref.point_coords[0]) < 1e-3
                    && abs(ours[j].point.y - ref.point_coords[1]) < 1e-3 && abs(ours[j].predictedIoU - ref.predicted_iou) < 1e-3
            }
            guard let j = candidates.min(by: { abs($0 - i) < abs($1 - i) }) else {
                Issue.record("\(c.name): official mask \(i) (point \(ref.point_coords), iou \(ref.predicted_iou)) has no match")
                continue
            }
            used[j] = true
            let o = ours[j]
            if j != i {
                // Only masks whose sort keys tie within the tolerance may trade places.
                #expect(abs(o.predictedIoU - ours[i].predictedIoU) < 2e-3 || c.options["min_mask_region_area"] != nil,
                        "\(c.name): mask \(i) is ours at \(j)")
            }
            let refRLE = try RLE(compressed: ref.counts, height: ref.size[0], width: ref.size[1])
            // Two empty masks (a mask emptied by the small-region clean-up) are the same mask.
            let iou = o.area == 0 && refRLE.area == 0 ? 1 : try RLE.iou([o.segmentation], [refRLE], iscrowd: [false])[0][0]
            worstIoU = min(worstIoU, iou)
            worstScore = max(worstScore, abs(o.predictedIoU - ref.predicted_iou), abs(o.stabilityScore - ref.stability_score))
            #expect(iou >= 0.98, "\(c.name): mask \(i) IoU \(iou) with the official (areas \(o.area), \(refRLE.area))")
            #expect(abs(o.stabilityScore - ref.stability_score) < 1e-3 || o.stabilityScore.isNaN && ref.stability_score.isNaN,
                    "\(c.name): mask \(i) stability \(o.stabilityScore) vs \(ref.stability_score)")
            if iou == 1 {
                #expect(o.area == ref.area && o.bbox == ref.bbox, "\(c.name): mask \(i) area/box \(o.area) \(o.bbox) vs \(ref.area) \(ref.bbox)")
            }
        }
        print("\(c.name): \(ours.count) masks, worst mask IoU \(worstIoU), worst score difference \(worstScore)")
    }

    @Test func samMatchesTheOfficialGenerator() throws { try Self.check(model: "tiny_sam") }
    @Test func sam2MatchesTheOfficialGenerator() throws { try Self.check(model: "sam2_reduced") }

    @Test func cropBoxesAndPointGridsAreTheOfficialOnes() throws {
        let f = try Self.fixture()
        for c in f.crops {
            let ours = AutoMaskGeometry.cropBoxes(width: c.width, height: c.height, layers: c.layers, overlapRatio: 512.0 / 1500.0)
            #expect(ours.map { [$0.x0, $0.y0, $0.x1, $0.y1] } == c.crop_boxes, "\(c.width)x\(c.height), \(c.layers) layers")
            #expect(ours.map(\.layer) == c.layer_idxs)
        }
        for g in f.grids {
            let ours = AutoMaskGeometry.layerGrids(pointsPerSide: g.points_per_side, layers: g.layers, scale: g.scale)
            #expect(ours.map { $0.map { [$0.x, $0.y] } } == g.grids, "\(g.points_per_side) points, scale \(g.scale)")
        }
    }

    @Test func nmsFollowsTorchvision() {
        typealias B = AutoMaskGeometry.Box
        // Equal scores keep their order; IoU exactly at the threshold does not suppress; a
        // degenerate box (zero area: 0/0 IoU) suppresses nothing.
        let boxes = [B(x0: 0, y0: 0, x1: 10, y1: 10), B(x0: 0, y0: 0, x1: 10, y1: 10), B(x0: 0, y0: 0, x1: 10, y1: 5),
                     B(x0: 3, y0: 3, x1: 3, y1: 3), B(x0: 3, y0: 3, x1: 3, y1: 3)]
        #expect(AutoMaskGeometry.nms(boxes: boxes, scores: [0.5, 0.5, 0.9, 0.1, 0.1], threshold: 0.5) == [2, 0, 3, 4])
        #expect(AutoMaskGeometry.nms(boxes: boxes, scores: [0.5, 0.5, 0.9, 0.1, 0.1], threshold: 0.49) == [2, 3, 4])
    }

    @Test func optionsHaveTheOfficialDefaults() {
        let sam = AutoMaskOptions(family: .sam), sam2 = AutoMaskOptions(family: .sam2)
        #expect(sam.pointsPerSide == 32 && sam.pointsPerBatch == 64 && sam.predIoUThresh == 0.88 && sam.stabilityScoreThresh == 0.95)
        #expect(sam.stabilityScoreOffset == 1 && sam.boxNMSThresh == 0.7 && sam.cropNLayers == 0 && sam.cropNMSThresh == 0.7)
        #expect(sam.cropOverlapRatio == 512.0 / 1500.0 && sam.cropNPointsDownscaleFactor == 1 && sam.minMaskRegionArea == 0)
        #expect(sam2.predIoUThresh == 0.8 && sam2.maskThreshold == 0 && !sam2.useM2M && sam2.multimaskOutput)
    }
}
