import ArgumentParser
import Dispatch
import Foundation
import SegCore
import SegModels
import SegTUI

extension GraphicsMode: ExpressibleByArgument {}

struct BenchFrame: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frame",
        abstract: "Time frame composition of the workbench (image, objects, mask, prompts, panels)."
    )

    @Option(help: "Image to draw (default: a generated 1920x1080 scene).")
    var image: String?

    @Option(help: "Terminal columns.") var columns = 240
    @Option(help: "Terminal rows.") var rows = 70
    @Option(help: "Frames to time.") var frames = 60
    @Option(help: "Zoom relative to fitting the image.") var zoom = 1.0
    @Option(help: "Draw as: text, kitty or sixel (graphics frames include encoding what the terminal is sent).")
    var graphics: GraphicsMode = .text
    @Option(help: "Text mode's symbols: half, quadrants or sextants.") var symbols: BlockSymbols = .halfBlocks
    @Option(help: "One cell in pixels for graphics, as WxH.") var cell = "10x20"
    @Option(help: "sixel: the terminal's largest image, as WxH (xterm's default is 1000x1000); larger panes go in tiles.")
    var sixelLimit: String?

    /// "WxH" as a size of positive numbers.
    static func size(_ text: String) throws -> PixelSize {
        let parts = text.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { throw ValidationError("give a size as WxH, e.g. 10x20, not '\(text)'") }
        return PixelSize(width: parts[0], height: parts[1])
    }

    func run() throws {
        let picture: RGBImage
        if let image {
            picture = try ImageFile.read(image).rgbImage()
        } else {
            var generated = RGBImage(width: 1920, height: 1080)
            for y in 0..<1080 {
                for x in 0..<1920 { generated[x, y] = (UInt8(x % 256), UInt8(y % 256), UInt8((x + y) % 256)) }
            }
            picture = generated
        }
        let cellPixels = try Self.size(cell)
        guard cellPixels.width <= 200, cellPixels.height <= 200 else { throw ValidationError("--cell takes WxH, e.g. 10x20") }
        let display = DisplayGrid(mode: graphics, symbols: symbols, cellPixels: graphics == .text ? nil : cellPixels,
                                  placeholders: true)
        let presenter: GraphicsPresenter? = switch graphics {
        case .kitty: KittyPresenter(ids: KittyImageIDs(base: display.imageIDBase), inTmux: false)
        case .sixel: SixelPresenter(exactColors: [], limit: try sixelLimit.map(Self.size))
        case .text: nil
        }
        let result = FrameBenchmark.run(image: picture, columns: columns, rows: rows, frames: frames, zoom: zoom,
                                        display: display, presenter: presenter)
        let mode = graphics == .text ? "text (\(symbols.rawValue))" : "\(graphics.rawValue), \(cell) cells"
        print("frame \(result.columns)x\(result.rows), \(mode), image \(result.imageSize), zoom \(zoom), \(result.frames) frames each:")
        print(String(format: "  after a click: median %.2f ms (min %.2f ms)", result.clickMedianMilliseconds,
                     result.clickMinimumMilliseconds) + (presenter == nil ? "" : ", \(result.clickMedianBytes) B of graphics"))
        print(String(format: "  cold (after zoom, pan or a new image): median %.2f ms", result.coldMedianMilliseconds)
              + (presenter == nil ? "" : ", \(result.coldMedianBytes) B of graphics"))
    }
}

/// Times frame composition (`Workbench.render`) on a full workbench: image, accepted objects,
/// the mask being made, prompts, the image list and the status line.
enum FrameBenchmark {
    struct Result: Sendable {
        let columns: Int
        let rows: Int
        let imageSize: PixelSize
        /// A frame after a click (the new mask sampled, the rest cached).
        let clickMedianMilliseconds: Double
        let clickMinimumMilliseconds: Double
        /// A frame with nothing cached (after a zoom, a pan or a new image).
        let coldMedianMilliseconds: Double
        let frames: Int
        /// With graphics: the median bytes a presenter sent for a frame after a click, and for a cold one.
        let clickMedianBytes: Int
        let coldMedianBytes: Int
    }

    /// `display` and `presenter`: time the graphics a frame sends too (the overlay after a click,
    /// photo and overlay when cold), encoding included.
    static func run(image: RGBImage, columns: Int = 240, rows: Int = 70, objects: Int = 8, frames: Int = 60,
                           zoom: Double = 1, display: DisplayGrid = .halfBlocks, presenter: GraphicsPresenter? = nil) -> Result {
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct,
                               images: (0..<40).map { ImageEntry(path: "/bench/image-\($0).png") },
                               classes: ["background", "cell", "leaf", "stone", "seed"], modelName: "bench")
        s.display = display
        s.image = image
        s.imagesLoaded += 1
        s.imageGeneration = s.imagesLoaded
        s.lanes[0].prepared = true
        s.viewport = Viewport(zoom: zoom)
        let w = image.width, h = image.height
        func ellipse(_ cx: Int, _ cy: Int, _ rx: Int, _ ry: Int) -> Mask {
            var m = Mask(width: w, height: h)
            for y in max(0, cy - ry)..<min(h, cy + ry) {
                for x in max(0, cx - rx)..<min(w, cx + rx) {
                    let dx = Double(x - cx) / Double(rx), dy = Double(y - cy) / Double(ry)
                    if dx * dx + dy * dy <= 1 { m[x, y] = true }
                }
            }
            return m
        }
        s.accepted["/bench/image-0.png"] = (0..<objects).map { i in
            AcceptedObject(id: i + 1, className: ["cell", "leaf", "stone", "seed"][i % 4],
                           mask: ellipse(w * (i % 4 + 1) / 5, h * (i / 4 + 1) / 3, w / 12, h / 10), prompts: Prompts())
        }
        s.editor.prompts = Prompts(points: [PromptPoint(x: Double(w / 2), y: Double(h / 2), positive: true),
                                            PromptPoint(x: Double(w / 3), y: Double(h / 2), positive: false)],
                                   box: PromptBox(x0: Double(w / 4), y0: Double(h / 4), x1: Double(3 * w / 4), y1: Double(3 * h / 4)))
        s.lanes[0].candidates = [Candidate(mask: ellipse(w / 2, h / 2, w / 5, h / 5), score: 0.9)]
        s.cursor = PixelPoint(x: w / 2 + 3, y: h / 2 + 3)

        // A frame after a click: only the mask being made is new (the photo and the accepted
        // objects come from the painter's cache). A cold frame: everything sampled again, as after
        // a zoom, a pan or a new image.
        func time(_ prepare: (inout WorkbenchState, Int) -> Void) -> (median: Double, minimum: Double, bytes: Int) {
            var times: [Double] = [], bytes: [Int] = []
            for frame in 0..<(frames + 3) {
                prepare(&s, frame)
                let start = DispatchTime.now()
                let buffer = Workbench.render(s)
                let sent = presenter?.present(Workbench.graphics(s), repainted: { _ in false }).utf8.count ?? 0
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6)
                bytes.append(sent)
                precondition(buffer.rows == rows)
            }
            let measured = Array(times.dropFirst(3)).sorted()  // the first frames fill the cache
            let sent = Array(bytes.dropFirst(3)).sorted()
            return (measured[measured.count / 2], measured[0], sent[sent.count / 2])
        }
        // A click moves the mask being made (its request changes, and the mask moves a little).
        let click = time { state, frame in
            state.lanes[0].candidatesRequest = frame
            state.lanes[0].candidates = [Candidate(mask: ellipse(w / 2 + frame % 7, h / 2, w / 5, h / 5), score: 0.9)]
        }
        let cold = time { state, _ in
            // As a new image: a generation the sample cache has not seen.
            state.imagesLoaded += 1
            state.imageGeneration = state.imagesLoaded
        }
        return Result(columns: columns, rows: rows, imageSize: image.size, clickMedianMilliseconds: click.median,
                      clickMinimumMilliseconds: click.minimum, coldMedianMilliseconds: cold.median, frames: frames,
                      clickMedianBytes: click.bytes, coldMedianBytes: cold.bytes)
    }
}
