import Foundation
import Testing
@testable import SegCore

/// Every image and mask of the benchmark sets in ../shared decodes, and each pair agrees in size.
@Suite("Benchmark sets in ../shared", .enabled(if: TestPaths.sharedDatasetsAvailable, "../shared/datasets is absent: skipped"))
struct DatasetTests {
    static let sets = ["GrabCut", "Berkeley"]

    static func stems(_ folder: URL) -> [String: URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var byStem: [String: URL] = [:]
        for name in names {
            byStem[(name as NSString).deletingPathExtension] = folder.appendingPathComponent(name)
        }
        return byStem
    }

    @Test("images and masks decode and pair by stem", arguments: sets)
    func decodeAll(_ set: String) throws {
        let root = TestPaths.shared.appendingPathComponent("datasets").appendingPathComponent(set)
        let images = Self.stems(root.appendingPathComponent("images"))
        let masks = Self.stems(root.appendingPathComponent("masks"))
        #expect(images.count >= 50)
        #expect(Set(images.keys) == Set(masks.keys))
        for (stem, imageURL) in images.sorted(by: { $0.key < $1.key }) {
            let image = try ImageFile.read(imageURL.path)
            let rgb = image.rgbImage()
            #expect(rgb.width > 0)
            guard let maskURL = masks[stem] else { continue }
            let mask = try ImageFile.read(maskURL.path)
            #expect(image.size == mask.size, "\(stem): image \(image.size), mask \(mask.size)")
            let (object, ignored) = mask.objectMask(ignoreValue: set == "GrabCut" ? 128 : nil)
            #expect(object.area > 0, "\(stem): empty object")
            if set == "Berkeley" { #expect(ignored.area == 0) }
        }
    }

    @Test("GrabCut masks hold 0, 128 and 255 only")
    func grabCutValues() throws {
        let folder = TestPaths.shared.appendingPathComponent("datasets/GrabCut/masks")
        var withBand = 0
        for (_, url) in Self.stems(folder) {
            let values = Set(try ImageFile.read(url.path).labelMap().labels)
            #expect(values.isSubset(of: [0, 128, 255]), "\(url.lastPathComponent): \(values.sorted())")
            if values.contains(128) { withBand += 1 }
        }
        // The dataset README says 42 of the 50 masks carry the 128 band.
        #expect(withBand == 42)
    }
}
