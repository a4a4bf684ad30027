import ArgumentParser
import Foundation
import SegCore
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
        let size = cell.split(separator: "x").compactMap { Int($0) }
        guard size.count == 2, size.allSatisfy({ $0 > 0 && $0 <= 200 }) else { throw ValidationError("--cell takes WxH, e.g. 10x20") }
        let cellPixels = PixelSize(width: size[0], height: size[1])
        let display = DisplayGrid(mode: graphics, symbols: symbols, cellPixels: graphics == .text ? nil : cellPixels,
                                  placeholders: true)
        let presenter: GraphicsPresenter? = switch graphics {
        case .kitty: KittyPresenter(ids: KittyImageIDs(base: display.imageIDBase), inTmux: false)
        case .sixel: SixelPresenter(exactColors: [])
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
