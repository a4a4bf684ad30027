import Foundation
import Testing
@testable import SegCore
@testable import SegModels
@testable import SegTUI

/// The workbench's outputs agree with pycocotools (scripts/make_output_fixtures.py made the values).
@Suite("Workbench outputs")
struct OutputTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let name: String
            let height: Int
            let width: Int
            let bits: String
            let counts: String
            let area: Int
            let bbox: [Double]
        }
        let cases: [Case]
    }

    static func fixture() throws -> Fixture {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/coco_output.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func unpack(_ c: Fixture.Case) -> Mask {
        let packed = [UInt8](Data(base64Encoded: c.bits) ?? Data())
        var mask = Mask(width: c.width, height: c.height)
        for i in 0..<(c.width * c.height) where packed[i / 8] & (0x80 >> UInt8(i % 8)) != 0 { mask.bits[i] = 1 }
        return mask
    }

    @Test("instances.json carries pycocotools' RLE strings, areas and boxes; the label map holds class ids")
    func cocoMatchesPycocotools() throws {
        let fixture = try Self.fixture()
        #expect(fixture.cases.count == 6)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var state = WorkbenchState(rows: 30, columns: 100, colorMode: .direct, images: [ImageEntry(path: "/data/x.png")],
                                   classes: ["background", "cell", "leaf"], modelName: "test")
        state.accepted["/data/x.png"] = fixture.cases.enumerated().map { i, c in
            AcceptedObject(id: i + 1, className: i % 2 == 0 ? "cell" : "leaf", mask: Self.unpack(c), prompts: Prompts())
        }
        let writer = OutputWriter(folder: folder.path, palette: Theme.okabeIto)
        try writer.prepareFolders()
        try writer.save(image: "/data/x.png", work: state.work)

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: writer.cocoPath))) as? [String: Any]
        let annotations = try #require(json?["annotations"] as? [[String: Any]])
        #expect(annotations.count == fixture.cases.count)
        for (annotation, c) in zip(annotations, fixture.cases) {
            let segmentation = annotation["segmentation"] as? [String: Any]
            #expect(segmentation?["counts"] as? String == c.counts, "\(c.name)")
            #expect(segmentation?["size"] as? [Int] == [c.height, c.width], "\(c.name)")
            #expect(annotation["area"] as? Int == c.area, "\(c.name)")
            #expect(annotation["bbox"] as? [Double] == c.bbox, "\(c.name)")
            #expect(annotation["iscrowd"] as? Int == 0)
        }
        let categories = json?["categories"] as? [[String: Any]]
        #expect(categories?.map { $0["name"] as? String } == ["cell", "leaf"])
        #expect(annotations.map { $0["category_id"] as? Int } == [1, 2, 1, 2, 1, 2])
        let images = json?["images"] as? [[String: Any]]
        #expect(images?.first?["width"] as? Int == 83 && images?.first?["height"] as? Int == 45)

        // The label map: later objects over earlier ones; the last ("full", leaf) covers everything.
        let labels = try ImageFile.read(writer.labelsFolder + "/x.png")
        #expect(labels.colorModel == .palette)
        #expect(Set(labels.labelMap().labels) == [2])
    }

    @Test("an image whose last object is deleted loses its label map and leaves the COCO file")
    func deleteLast() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var state = WorkbenchState(rows: 30, columns: 100, colorMode: .direct, images: [ImageEntry(path: "/data/y.png")],
                                   classes: [], modelName: "test")
        var mask = Mask(width: 4, height: 3)
        mask[1, 1] = true
        state.accepted["/data/y.png"] = [AcceptedObject(id: 1, className: "thing", mask: mask, prompts: Prompts())]
        state.classes = ["thing"]
        let writer = OutputWriter(folder: folder.path, palette: [])
        try writer.prepareFolders()
        try writer.save(image: "/data/y.png", work: state.work)
        #expect(FileManager.default.fileExists(atPath: writer.labelsFolder + "/y.png"))
        state.accepted["/data/y.png"] = []
        try writer.save(image: "/data/y.png", work: state.work)
        #expect(!FileManager.default.fileExists(atPath: writer.labelsFolder + "/y.png"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: writer.cocoPath))) as? [String: Any]
        #expect((json?["annotations"] as? [Any])?.isEmpty == true)
    }
}
