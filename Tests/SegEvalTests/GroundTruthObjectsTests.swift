import Foundation
import Testing
import SegCore
@testable import SegEval

/// The workbench's "IoU against the best-matching ground-truth object", worked out by hand.
@Suite("Ground-truth objects of one image")
struct GroundTruthObjectsTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-gt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Columns `columns` of an 10x8 image, all rows.
    static func columns(_ columns: ClosedRange<Int>) -> Mask {
        var mask = Mask(width: 10, height: 8)
        for x in columns { for y in 0..<8 { mask[x, y] = true } }
        return mask
    }

    @Test("COCO: objects by file name or stem, crowd skipped, best match by IoU; a size mismatch is an error")
    func coco() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        // Uncompressed RLE counts are column-major: 16 zeros = columns 0-1, then 16 ones = columns 2-3.
        let json = """
            {"images": [{"id": 7, "width": 10, "height": 8, "file_name": "train/a.jpg"},
                        {"id": 8, "width": 10, "height": 8, "file_name": "b.png"}],
             "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "car"}],
             "annotations": [
               {"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 16, "bbox": [2, 0, 2, 8],
                "segmentation": {"size": [8, 10], "counts": [16, 16, 48]}},
               {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 1, "area": 80, "bbox": [0, 0, 10, 8],
                "segmentation": {"size": [8, 10], "counts": [0, 80]}},
               {"id": 3, "image_id": 7, "category_id": 2, "iscrowd": 0, "area": 8, "bbox": [8, 0, 1, 8],
                "segmentation": {"size": [8, 10], "counts": [64, 8, 8]}}]}
            """
        let path = root.appendingPathComponent("gt.json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        let truth = try GroundTruthObjects(path: path)

        let found = try #require(try truth.objects(forImage: "a.png", width: 10, height: 8))
        #expect(found.objects.map(\.className) == ["cat", "car"])
        #expect(found.objects.map(\.mask.area) == [16, 8])
        #expect(found.objects[0].mask == Self.columns(2...3))
        #expect(try truth.objects(forImage: "b.png", width: 10, height: 8)?.objects.count == 0)
        #expect(try truth.objects(forImage: "zzz.png", width: 10, height: 8) == nil)

        // Column 2 alone: half of the cat; columns 7-8: half of the car (8 of 16).
        #expect(GroundTruthObjects.bestMatch(Self.columns(2...2), among: found.objects) == GroundTruthMatch(object: 0, className: "cat", iou: 0.5))
        #expect(GroundTruthObjects.bestMatch(Self.columns(7...9), among: found.objects) == GroundTruthMatch(object: 1, className: "car", iou: 8.0 / 24))
        #expect(GroundTruthObjects.bestMatch(Mask(width: 10, height: 8), among: found.objects) == nil)

        #expect { try truth.objects(forImage: "a.jpg", width: 12, height: 8) } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("10x8 but the image is 12x8")
        }
    }

    @Test("a folder of masks: one object per label, named from the classes; the ignore value counts nowhere")
    func masks() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        // 4x2: labels 1 (road) at two pixels, 2 (car) at four, 255 ignored at one.
        try ImageFile.writePNG(LabelMap(width: 4, height: 2, labels: [0, 1, 1, 255, 2, 2, 2, 2]),
                               to: root.appendingPathComponent("scene.PNG").path)
        try ImageFile.writePNG(LabelMap(width: 4, height: 2, labels: [0, 0, 255, 255, 0, 0, 0, 0]),
                               to: root.appendingPathComponent("binary.png").path)
        let truth = try GroundTruthObjects(path: root.path, classes: ["background", "road", "car"], ignoreValue: 255)

        let scene = try #require(try truth.objects(forImage: "scene.jpg", width: 4, height: 2))
        #expect(scene.objects.map(\.className) == ["road", "car"])
        #expect(scene.ignored?.area == 1)
        // The bottom row plus the ignored pixel: all of "car" once the ignored pixel is left out.
        let mask = Mask(width: 4, height: 2, bits: [0, 0, 0, 1, 1, 1, 1, 1])
        #expect(GroundTruthObjects.bestMatch(mask, among: scene.objects, ignoring: scene.ignored)?.iou == 1.0)
        #expect(GroundTruthObjects.bestMatch(mask, among: scene.objects)?.iou == 0.8)

        // An image holding only one class is still named by it.
        try ImageFile.writePNG(LabelMap(width: 4, height: 2, labels: [0, 2, 2, 0, 0, 0, 0, 0]),
                               to: root.appendingPathComponent("only-car.png").path)
        let again = try GroundTruthObjects(path: root.path, classes: ["background", "road", "car"], ignoreValue: 255)
        #expect(try again.objects(forImage: "only-car.png", width: 4, height: 2)?.objects.map(\.className) == ["car"])

        // Everything is the ignore value here: no objects.
        #expect(try truth.objects(forImage: "binary.png", width: 4, height: 2)?.objects.isEmpty == true)
        let plain = try GroundTruthObjects(path: root.path)
        #expect(try plain.objects(forImage: "binary.png", width: 4, height: 2)?.objects.map(\.className) == ["object"])
    }

    @Test("a broken ground-truth file is an error naming it")
    func broken() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("gt.json").path
        try Data("{\"images\": [".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try GroundTruthObjects(path: path) } throws: { "\($0)".contains(path) }
        #expect { try GroundTruthObjects(path: root.appendingPathComponent("missing").path) } throws: { "\($0)".contains("missing") }
    }
}
