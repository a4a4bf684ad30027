import Foundation
import Testing
@testable import SegCore
@testable import SegEval

/// The interactive benchmark over a folder, with a stand-in model (SegEval knows none).
@Suite("NoC over a folder of images and masks")
struct NoCBatchTests {
    /// Two images with a bright square each and their masks; the second mask is `maskWidth` wide.
    static func writeSet(maskWidth: Int = 24) throws -> (folder: URL, pairs: [StemPairing.Pair]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-nocbatch-\(UUID().uuidString)")
        for sub in ["images", "masks"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        for (k, stem) in ["a", "b"].enumerated() {
            var image = RGBImage(width: 24, height: 16)
            var labels = LabelMap(width: k == 1 ? maskWidth : 24, height: 16)
            for y in 4..<12 {
                for x in (4 + 4 * k)..<(12 + 4 * k) { image[x, y] = (250, 250, 250); labels[x, y] = 255 }
            }
            try ImageFile.writePNG(image, to: folder.appendingPathComponent("images/\(stem).png").path)
            try ImageFile.writePNG(labels, to: folder.appendingPathComponent("masks/\(stem).png").path)
        }
        let (pairs, _, _) = try StemPairing.pair(images: ["a.png", "b.png"], masks: ["a.png", "b.png"])
        return (folder, pairs)
    }

    static func batch(_ folder: URL, _ pairs: [StemPairing.Pair]) -> NoCBatch {
        NoCBatch(pairs: pairs, imageFolder: folder.appendingPathComponent("images").path,
                 maskFolder: folder.appendingPathComponent("masks").path, ignoreValue: nil, maxClicks: 3, jobs: 2)
    }

    /// A model that finds the bright pixels at once: every object at IoU 1 from the first click.
    static func thresholding(_ image: RGBImage, _ path: String) -> NoCBatch.Session {
        { _ in
            var mask = Mask(width: image.width, height: image.height)
            for y in 0..<image.height { for x in 0..<image.width where image[x, y].r > 128 { mask[x, y] = true } }
            return mask
        }
    }

    @Test("records in pair order, every click run, one prepare time per image; the report sums them")
    func run() throws {
        let (folder, pairs) = try Self.writeSet()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try Self.batch(folder, pairs).run(prepare: Self.thresholding)
        #expect(output.records.map(\.name) == ["a", "b"])
        #expect(output.records.allSatisfy { $0.ious == [1, 1, 1] && $0.clicks.count == 3 })
        #expect(output.prepareSeconds.count == 2)
        let report = NoCReport(model: "threshold", images: "i", masks: "m", ignoreValue: nil, maxClicks: 3, run: output, perImage: true)
        #expect(report.noc90 == 1 && report.objects == 2 && report.overMax90 == 0 && report.meanIoU == [1, 1, 1])
        #expect(report.perImage?.map(\.name) == ["a", "b"])
    }

    @Test("a mask of another size and a failing model are errors naming the file")
    func errors() throws {
        let (folder, pairs) = try Self.writeSet(maskWidth: 20)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sizeError = #expect(throws: SegError.self) { try Self.batch(folder, pairs).run(prepare: Self.thresholding) }
        #expect(sizeError?.file == folder.appendingPathComponent("masks/b.png").path, "\(String(describing: sizeError))")
        struct Broken: Error {}
        let (good, goodPairs) = try Self.writeSet()
        defer { try? FileManager.default.removeItem(at: good) }
        let modelError = #expect(throws: SegError.self) {
            try Self.batch(good, Array(goodPairs.prefix(1))).run { _, _ in { _ in throw Broken() } }
        }
        #expect(modelError?.file == good.appendingPathComponent("images/a.png").path, "\(String(describing: modelError))")
    }
}
