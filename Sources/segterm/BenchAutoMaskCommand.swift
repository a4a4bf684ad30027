import ArgumentParser
import Dispatch
import Foundation
import SegCore
import SegModels
import SegNN

/// `segterm bench automask`: the automatic mask generator on one image, timed end to end (encoder,
/// decoder over the grid, filters, NMS, RLE), as `scripts/bench_amg_peers.py` times the official one.
struct BenchAutoMask: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "automask",
        abstract: "Time the automatic mask generator (segment everything) on one image with a SAM / MobileSAM / SAM 2.1 checkpoint.",
        discussion: "Prints one JSON line: wall and process CPU seconds per run (median), the mask count. Options left out take the model family's official defaults."
    )

    @Option(help: "Checkpoint file.") var model: String
    @Option(help: "Image (default: the deterministic 1024x1024 noise image of `bench model`).") var image: String?
    @Option(help: "Timed runs.") var runs = 1
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "points_per_side.") var pointsPerSide: Int?
    @Option(help: "pred_iou_thresh.") var predIouThresh: Float?
    @Option(help: "stability_score_thresh.") var stabilityScoreThresh: Float?
    @Option(help: "crop_n_layers.") var cropNLayers: Int?
    @Option(help: "min_mask_region_area.") var minMaskRegionArea: Int?

    func run() throws {
        Threads.configure(threads)
        let sam = try SAMModel.load(checkpoint: model)
        let rgb = try image.map { try ImageFile.read($0).rgbImage() } ?? Self.noiseImage()
        var options = AutoMaskOptions(for: sam)
        if let pointsPerSide { options.pointsPerSide = pointsPerSide }
        if let predIouThresh { options.predIoUThresh = predIouThresh }
        if let stabilityScoreThresh { options.stabilityScoreThresh = stabilityScoreThresh }
        if let cropNLayers { options.cropNLayers = cropNLayers }
        if let minMaskRegionArea { options.minMaskRegionArea = minMaskRegionArea }
        let generator = AutomaticMaskGenerator(options: options)
        var walls: [Double] = [], cpus: [Double] = []
        var count = 0
        for _ in 0..<max(runs, 1) {
            let t = DispatchTime.now().uptimeNanoseconds, c = SGEMMRate.processCPUSeconds()
            count = try generator.generate(model: sam, image: rgb).count
            walls.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
            cpus.append(SGEMMRate.processCPUSeconds() - c)
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        print("{\"tool\": \"segterm\", \"model\": \"\(sam.name)\", \"threads\": \(Threads.count), \"width\": \(rgb.width), \"height\": \(rgb.height), "
              + "\"points_per_side\": \(options.pointsPerSide), \"masks\": \(count), \"wall_s\": \(median(walls)), \"cpu_s\": \(median(cpus))}")
    }

    /// The same deterministic noise image as `bench model`.
    static func noiseImage() -> RGBImage {
        var state: UInt32 = 12345
        var px = [UInt8](repeating: 0, count: 1024 * 1024 * 3)
        for i in px.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            px[i] = UInt8(truncatingIfNeeded: state >> 24)
        }
        return RGBImage(width: 1024, height: 1024, pixels: px)
    }
}
