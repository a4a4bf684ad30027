import ArgumentParser
import Foundation
import SegCore
import SegTUI

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
        let result = FrameBenchmark.run(image: picture, columns: columns, rows: rows, frames: frames, zoom: zoom)
        print("frame \(result.columns)x\(result.rows), image \(result.imageSize), zoom \(zoom), \(result.frames) frames each:")
        print(String(format: "  after a click: median %.2f ms (min %.2f ms)", result.clickMedianMilliseconds,
                     result.clickMinimumMilliseconds))
        print(String(format: "  cold (after zoom, pan or a new image): median %.2f ms", result.coldMedianMilliseconds))
    }
}
