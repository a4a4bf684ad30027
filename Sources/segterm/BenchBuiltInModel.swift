import ArgumentParser
import Foundation
import SegCore
import SegEval
import SegModels
#if canImport(Glibc)
import Glibc
#endif

/// `bench model --model grabcut`: preparation per image and the work of each click, on a
/// photograph (`--image`, with fixed clicks) or on a generated 1024×1024 scene with a known object,
/// where the clicks come from the benchmark's click simulator.
extension BenchModel {
    func runBuiltIn() throws {
        let segmenter = try ModelRegistry.segmenter(named: model)
        let (rgb, truth) = try image.map { (try ImageFile.read($0).rgbImage(), Mask?.none) } ?? Self.scene(side: 1024)
        var prepared: AnySegmenter.Prepared?
        let prepare = try timed(runs: encoderRuns, warmup: warmup) { prepared = try segmenter.prepare(rgb) }
        guard let p = prepared else { return }

        // One object's clicks, replayed `clicks` times round-robin: the first click starts afresh,
        // later ones carry the previous answer, as in the workbench.
        var sequence: [[PromptPoint]] = []
        if let truth {
            var simulator = try ClickSimulator(truth: truth)
            var prediction = Mask(width: truth.width, height: truth.height)
            var previous: Candidate?
            for _ in 0..<10 {
                _ = try simulator.click(after: prediction)
                let points = simulator.clicks.map { PromptPoint(x: Double($0.x), y: Double($0.y), positive: $0.positive) }
                sequence.append(points)
                previous = try segmenter.segment(p, prompts: Prompts(points: points), previous: previous, multimask: false).best
                prediction = previous?.mask ?? prediction
            }
        } else {
            let w = Double(rgb.width), h = Double(rgb.height)
            let all = [PromptPoint(x: w * 0.5, y: h * 0.45, positive: true), PromptPoint(x: w * 0.3, y: h * 0.62, positive: true),
                       PromptPoint(x: w * 0.78, y: h * 0.3, positive: false), PromptPoint(x: w * 0.1, y: h * 0.9, positive: false)]
            sequence = (1...all.count).map { Array(all.prefix($0)) }
        }
        var previous: Candidate?
        var k = 0
        let click = try timed(runs: clicks, warmup: warmup) {
            let points = sequence[k % sequence.count]
            if k % sequence.count == 0 { previous = nil }
            previous = try segmenter.segment(p, prompts: Prompts(points: points), previous: previous, multimask: false).best
            k += 1
        }
        var load = [Double](repeating: 0, count: 3)
        _ = getloadavg(&load, 3)
        print("""
            model            \(segmenter.name) (\(model))
            image            \(image ?? "generated scene"), \(rgb.width)x\(rgb.height)
            load average     \(String(format: "%.2f", load[0])) (other processes on the machine)
            prepare          \(String(format: "%.1f", prepare.median)) ms median of \(encoderRuns); CPU time \(String(format: "%.1f", prepare.cpu)) ms
            click            \(String(format: "%.1f", click.median)) ms median of \(clicks) (a sequence of \(sequence.count) clicks, replayed); CPU time \(String(format: "%.1f", click.cpu)) ms
            """)
    }

    /// An orange ellipse with a notch on tiles of greens, blues and a brown, with noise.
    static func scene(side: Int) -> (RGBImage, Mask?) {
        var state: UInt32 = 2024
        func next() -> UInt32 { state = state &* 1_664_525 &+ 1_013_904_223; return state >> 8 }
        let palette: [(Int, Int, Int)] = [(40, 110, 50), (70, 140, 60), (30, 80, 120), (60, 100, 160), (120, 80, 40)]
        let tile = max(1, side / 24)
        let tiles = (0..<((side / tile + 1) * (side / tile + 1))).map { _ in palette[Int(next() % UInt32(palette.count))] }
        var image = RGBImage(width: side, height: side)
        var truth = Mask(width: side, height: side)
        let c = Double(side) / 2, rx = Double(side) * 0.28, ry = Double(side) * 0.2
        for y in 0..<side {
            for x in 0..<side {
                let dx = (Double(x) - c) / rx, dy = (Double(y) - c) / ry
                let inside = dx * dx + dy * dy <= 1 && !(dx > 0.3 && abs(dy) < 0.2)
                let base = inside ? (230, 140, 40) : tiles[(y / tile) * (side / tile + 1) + x / tile]
                func noisy(_ v: Int) -> UInt8 { UInt8(clamping: v + Int(next() % 33) - 16) }
                image[x, y] = (noisy(base.0), noisy(base.1), noisy(base.2))
                truth[x, y] = inside
            }
        }
        return (image, truth)
    }

    private func timed(runs: Int, warmup: Int, _ body: () throws -> Void) throws -> (median: Double, cpu: Double) {
        func cpu() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
        }
        for _ in 0..<warmup { try body() }
        var wall: [Double] = [], used: [Double] = []
        for _ in 0..<runs {
            let t = DispatchTime.now(), c = cpu()
            try body()
            wall.append(Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e6)
            used.append(cpu() - c)
        }
        return (median(wall), median(used))
    }
}
