import ArgumentParser
import Dispatch
import Foundation
import SegCore
import SegEval
import SegModels
import SegTUI

struct BenchReview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Time one review keystroke (accept or reject a proposal) with many proposals on an image: the reduce and the whole frame."
    )

    @Option(help: "Proposals on the image.") var proposals = 500
    @Option(help: "Keystrokes to time (alternately y and x).") var keystrokes = 200
    @Option(help: "Image to draw (default: a generated 1920x1080 scene).") var image: String?
    @Option(help: "Terminal columns.") var columns = 240
    @Option(help: "Terminal rows.") var rows = 70
    @Option(help: "Draw as: text, kitty or sixel (graphics include encoding what the terminal is sent).")
    var graphics: GraphicsMode = .text
    @Option(help: "One cell in pixels for graphics, as WxH.") var cell = "10x20"

    func validate() throws {
        guard proposals > 0, keystrokes > 0 else { throw ValidationError("--proposals and --keystrokes must be positive") }
    }

    func run() throws {
        let picture: RGBImage
        if let image {
            picture = try ImageFile.read(image).rgbImage()
        } else {
            var generated = RGBImage(width: 1920, height: 1080)
            for y in 0..<1080 { for x in 0..<1920 { generated[x, y] = (UInt8(x % 256), UInt8(y % 256), UInt8((x + y) % 256)) } }
            picture = generated
        }
        let cellPixels = try BenchFrame.size(cell)
        let display = DisplayGrid(mode: graphics, symbols: .halfBlocks, cellPixels: graphics == .text ? nil : cellPixels, placeholders: true)
        let presenter: GraphicsPresenter? = switch graphics {
        case .kitty: KittyPresenter(ids: KittyImageIDs(base: display.imageIDBase), inTmux: false)
        case .sixel: SixelPresenter(exactColors: [], limit: nil)
        case .text: nil
        }
        let result = try ReviewBenchmark.run(image: picture, proposals: proposals, keystrokes: min(keystrokes, proposals),
                                             columns: columns, rows: rows, display: display, presenter: presenter)
        print("review keystroke, \(proposals) proposals on a \(picture.width)x\(picture.height) image, frame \(columns)x\(rows), "
            + "\(graphics.rawValue), \(result.keystrokes) keystrokes (y and x):")
        print(String(format: "  reduce        median %.3f ms  max %.3f ms", result.reduceMedian, result.reduceMax))
        print(String(format: "  reduce+frame  median %.2f ms  p95 %.2f ms  max %.2f ms", result.frameMedian, result.frameP95, result.frameMax))
        print(String(format: "  CPU of the thread, reduce+frame  median %.2f ms  p95 %.2f ms  max %.2f ms",
                     result.cpuMedian, result.cpuP95, result.cpuMax))
    }
}

enum ReviewBenchmark {
    struct Result {
        let keystrokes: Int
        let reduceMedian: Double, reduceMax: Double
        let frameMedian: Double, frameP95: Double, frameMax: Double
        /// The keystroke's CPU time on its thread: what the target counts, and steady on a loaded machine.
        let cpuMedian: Double, cpuP95: Double, cpuMax: Double
    }


    /// `proposals` ellipses of many sizes (seeded) on one image, reviewed keystroke by keystroke as
    /// a person would: each timed from the key to the frame drawn (and encoded, with a presenter).
    static func run(image: RGBImage, proposals count: Int, keystrokes: Int, columns: Int, rows: Int, display: DisplayGrid,
                    presenter: GraphicsPresenter?) throws -> Result {
        let w = image.width, h = image.height
        var rng = SeededGenerator(seed: 7)
        var list: [Proposal] = []
        for i in 0..<count {
            // Mostly small objects, some large: as a detector's proposals on a crowded scene.
            let r = Int(rng.next() % 100) < 85 ? 4 + Int(rng.next() % 30) : 40 + Int(rng.next() % 150)
            let cx = Int(rng.next() % UInt64(w)), cy = Int(rng.next() % UInt64(h))
            var mask = Mask(width: w, height: h)
            for y in max(0, cy - r)..<min(h, cy + r) {
                for x in max(0, cx - r)..<min(w, cx + r) where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r { mask[x, y] = true }
            }
            guard mask.area > 0 else { continue }
            list.append(try Proposal(imageId: 1, fileName: "image-0.png", categoryId: 1 + i % 4, categoryName: ["cell", "leaf", "stone", "seed"][i % 4],
                                     mask: mask, score: Double(rng.next() % 1000) / 1000, source: ProposalSource(model: "bench", prompt: "box")))
        }
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct,
                               images: (0..<40).map { ImageEntry(path: "/bench/image-\($0).png") },
                               classes: ["background", "cell", "leaf", "stone", "seed"], modelName: "bench")
        s.display = display
        s.proposals = try ReviewProposal.byImage(list, file: "bench")
        // As the runtime opens an image: the visit, then the image loaded.
        (s, _) = Workbench.reduce(s, .input(.key(.home)))
        (s, _) = Workbench.reduce(s, .imageLoaded(index: 0, image))
        (s, _) = Workbench.reduce(s, .prepared(lane: 0, index: 0, milliseconds: 1))
        _ = Workbench.render(s)
        _ = presenter?.present(Workbench.graphics(s), repainted: { _ in false })
        var reduceTimes: [Double] = [], frameTimes: [Double] = [], cpuTimes: [Double] = []
        for k in 0..<keystrokes {
            let start = DispatchTime.now(), cpuStart = BenchTiming.threadCPUms()
            (s, _) = Workbench.reduce(s, .input(.character(k % 2 == 0 ? "y" : "x")))
            let reduced = DispatchTime.now()
            let buffer = Workbench.render(s)
            _ = presenter?.present(Workbench.graphics(s), repainted: { _ in false })
            let end = DispatchTime.now()
            cpuTimes.append(BenchTiming.threadCPUms() - cpuStart)
            precondition(buffer.rows == rows)
            reduceTimes.append(Double(reduced.uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
            frameTimes.append(Double(end.uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
        }
        reduceTimes.sort()
        frameTimes.sort()
        cpuTimes.sort()
        return Result(keystrokes: keystrokes, reduceMedian: reduceTimes[reduceTimes.count / 2], reduceMax: reduceTimes.last ?? 0,
                      frameMedian: frameTimes[frameTimes.count / 2], frameP95: frameTimes[frameTimes.count * 95 / 100],
                      frameMax: frameTimes.last ?? 0, cpuMedian: cpuTimes[cpuTimes.count / 2],
                      cpuP95: cpuTimes[cpuTimes.count * 95 / 100], cpuMax: cpuTimes.last ?? 0)
    }
}
