import ArgumentParser
import Foundation
import SegCore
import SegModels
import SegNN

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (figures go to BENCHMARKS.md with the command that produced them).",
        subcommands: [BenchModel.self, BenchGemm.self, BenchFrame.self, BenchReview.self, BenchFailures.self, BenchOpen.self, BenchAB.self,
                      BenchLink.self, BenchAutoMask.self, BenchText.self]
    )
}

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time a model: SAM / MobileSAM / SAM 2.1 / SAM 3 (image encoder per image, prompt encoder + mask decoder per click) or grabcut (preparation per image, work per click).",
        discussion: "Medians over repeated runs after warm-up. Without --image a deterministic 1024x1024 noise image is used (the encoder's cost does not depend on content)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Checkpoint file, or grabcut.") var model: String
    @Option(help: "Image to encode (default: synthetic 1024x1024).") var image: String?
    @Option(help: "Timed encoder runs.") var encoderRuns = 5
    @Option(help: "Timed clicks.") var clicks = 50
    @Option(help: "Untimed warm-up runs before each measurement.") var warmup = 2
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Output format: text or json.") var format: Format = .text
    @Flag(help: "SAM 2.1: also time the image encoder per phase (extra untimed-in-the-totals runs) and print GFLOP/s per phase.")
    var phases = false

    func validate() throws {
        guard encoderRuns > 0, clicks > 0, warmup >= 0 else { throw ValidationError("run counts must be positive") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        Threads.configure(threads)
        if ModelRegistry.isBuiltIn(model) { return try runBuiltIn() }
        let t0 = DispatchTime.now()
        let sam = try SAMModel.load(checkpoint: model)
        let loadMs = BenchTiming.ms(since: t0)
        let rgb = try BenchTiming.image(image)
        var embedding: SAMEmbedding?
        let encoder = try BenchTiming.time(runs: encoderRuns, warmup: warmup) { embedding = try sam.prepare(rgb) }
        guard let e = embedding else { return }
        let w = Double(rgb.width), h = Double(rgb.height)
        let click = [PromptPoint(x: w * 0.5, y: h * 0.45, positive: true)]
        let three = click + [PromptPoint(x: w * 0.3, y: h * 0.62, positive: true), PromptPoint(x: w * 0.78, y: h * 0.3, positive: false)]
        var lowRes: [Float] = []
        let decoder1 = try BenchTiming.time(runs: clicks, warmup: warmup) {
            let r = try sam.predictLowRes(e, points: click, box: nil, maskInput: nil, multimask: true)
            lowRes = Array(r.lowRes.prefix(sam.lowResSide * sam.lowResSide))
        }
        let decoder3 = try BenchTiming.time(runs: clicks, warmup: warmup) {
            _ = try sam.predictLowRes(e, points: three, box: nil, maskInput: lowRes, multimask: false)
        }
        let full = try BenchTiming.time(runs: clicks, warmup: warmup) {
            _ = try sam.predict(e, points: click, multimask: true)
        }
        // What the workbench does per click and what the official ONNX model returns: the best of
        // the three masks, upsampled to the image.
        let side = sam.lowResSide * sam.lowResSide
        let best = try BenchTiming.time(runs: clicks, warmup: warmup) {
            let r = try sam.predictLowRes(e, points: click, box: nil, maskInput: nil, multimask: true)
            let i = r.iou.indices.max { r.iou[$0] < r.iou[$1] } ?? 0
            _ = sam.postprocess(Array(r.lowRes[(i * side)..<((i + 1) * side)]), count: 1, e, keepLogits: false)
        }
        let cost = encoderCost(sam, rgb: rgb, encoder: encoder)
        struct Report: Encodable {
            let model: String, checkpoint: String, image: String, threads: Int, blasCore: String, kernels: String
            let loadMs: Double, encoderMs: Double, encoderMinMs: Double
            let decoderClickMs: Double, decoderClickMinMs: Double, decoderRefineMs: Double, clickWithMasksMs: Double
            let encoderCpuMs: Double, decoderClickCpuMs: Double, clickWithMasksCpuMs: Double
            let clickBestMaskMs: Double, clickBestMaskCpuMs: Double
            let loadAverage: Double
            let encoderRuns: Int, clicks: Int
            let encoderCost: EncoderCost?
        }
        let r = Report(model: sam.name, checkpoint: model, image: image ?? "synthetic 1024x1024", threads: Threads.count,
                       blasCore: SegNN.blasCoreName, kernels: SegNN.kernelName, loadMs: loadMs, encoderMs: encoder.median, encoderMinMs: encoder.min,
                       decoderClickMs: decoder1.median, decoderClickMinMs: decoder1.min, decoderRefineMs: decoder3.median, clickWithMasksMs: full.median,
                       encoderCpuMs: encoder.cpu, decoderClickCpuMs: decoder1.cpu, clickWithMasksCpuMs: full.cpu,
                       clickBestMaskMs: best.median, clickBestMaskCpuMs: best.cpu,
                       loadAverage: loadAverage(), encoderRuns: encoderRuns, clicks: clicks, encoderCost: cost)
        switch format {
        case .json:
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(r), as: UTF8.self))
        case .text:
            print("""
                model            \(r.model) (\(model))
                image            \(r.image), \(rgb.width)x\(rgb.height)
                threads          \(r.threads) (OpenBLAS \(r.blasCore), element-wise kernels \(r.kernels)), load average \(f(r.loadAverage)) (other processes on the machine)
                load             \(f(r.loadMs)) ms
                image encoder    \(f(r.encoderMs)) ms median, \(f(r.encoderMinMs)) ms best of \(encoderRuns); CPU time \(f(r.encoderCpuMs)) ms
                click (decoder)  \(f(r.decoderClickMs)) ms median of \(clicks), \(f(r.decoderClickMinMs)) ms best: 1 point, 3 masks, low-res logits; CPU time \(f(r.decoderClickCpuMs)) ms
                refine           \(f(r.decoderRefineMs)) ms median: 3 points + mask input, 1 mask
                click + masks    \(f(r.clickWithMasksMs)) ms median: 1 point, 3 masks upsampled to the image and thresholded; CPU time \(f(r.clickWithMasksCpuMs)) ms
                click, best mask \(f(r.clickBestMaskMs)) ms median: 1 point, best of 3 masks upsampled and thresholded; CPU time \(f(r.clickBestMaskCpuMs)) ms
                """)
            if let cost { printCost(cost) }
        }
    }

    private func loadAverage() -> Double {
        var l = [Double](repeating: 0, count: 3)
        return getloadavg(&l, 3) > 0 ? l[0] : -1
    }

    private func f(_ v: Double) -> String { String(format: "%.2f", v) }
}
