import Foundation
import Testing
@testable import SegCore
@testable import SegEval

/// Issue #9: JSON nested 10^5 deep and label maps with absurd class ids, refused with a typed
/// error before any table is sized by them.
@Suite("Resource bombs in evaluation input")
struct EvalResourceBombTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-evalbomb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let depth = 100_000
    static let deep = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    static let deepObjects = String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)

    /// The reader (SegEval's JSONCursor) recurses only in `skipValue`, which stops at 512 levels;
    /// everywhere else it reads a fixed shape. Nesting where a value is skipped, where an array of
    /// entries is expected, and inside a segmentation: a typed error, no stack overflow.
    @Test("COCO ground truth and results nested 10^5 deep are typed errors naming the file, not a stack overflow")
    func deepJSON() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gtCases = [
            Self.deep,
            "{\"info\": \(Self.deep), \"images\": [], \"annotations\": [], \"categories\": []}",
            "{\"info\": \(Self.deepObjects)}",
            "{\"images\": \(Self.deep)}",
            "{\"images\": [{\"id\": 1, \"width\": 4, \"height\": 3}], \"categories\": [{\"id\": 5, \"name\": \"a\"}], "
                + "\"annotations\": [{\"id\": 9, \"image_id\": 1, \"category_id\": 5, \"segmentation\": \(Self.deep)}]}",
        ]
        for (n, text) in gtCases.enumerated() {
            let path = dir.appendingPathComponent("gt\(n).json").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: SegError.self, "case \(n)") { _ = try COCOReader.readGroundTruth(path) }
            #expect(error?.file == path, "case \(n)")
        }
        let gt = try COCOReader.parseGroundTruth(Array(BadInputTests.gt.utf8), file: "gt.json")
        let resultCases = [
            Self.deep,
            "[\(Self.deep)]",
            "[{\"image_id\": 1, \"category_id\": 5, \"score\": 0.5, \"extra\": \(Self.deepObjects)}]",
            "[{\"image_id\": 1, \"category_id\": 5, \"score\": 0.5, \"segmentation\": \(Self.deep)}]",
        ]
        for (n, text) in resultCases.enumerated() {
            let path = dir.appendingPathComponent("res\(n).json").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: SegError.self, "case \(n)") { _ = try COCOReader.readResults(path, groundTruth: gt) }
            #expect(error?.file == path, "case \(n)")
        }
        // A class list too.
        let classes = dir.appendingPathComponent("classes.json").path
        try Data(Self.deep.utf8).write(to: URL(fileURLWithPath: classes))
        #expect(throws: SegError.self) { _ = try ClassNames.load(classes) }
    }

    /// A 16-bit label map holding 65535 and no class list: the classes would be 0...65535 and the
    /// confusion matrix 65536 × 65537 counts (34 GB). Before the fix it was allocated; now the
    /// label is refused, naming the file it is in.
    @Test("a label map whose values would make 2^16 (or 2^32) classes is refused before any table is sized by them")
    func hugeClassIds() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gtDir = dir.appendingPathComponent("gt"), predDir = dir.appendingPathComponent("pred")
        for d in [gtDir, predDir] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        var small = LabelMap(width: 4, height: 4)
        small.labels[5] = 2
        try ImageFile.writePNG(small, to: gtDir.appendingPathComponent("a.png").path)
        var huge = LabelMap(width: 4, height: 4)
        huge.labels[3] = 65535
        try ImageFile.writePNG(huge, to: gtDir.appendingPathComponent("b.png").path)
        for name in ["a.png", "b.png"] { try ImageFile.writePNG(small, to: predDir.appendingPathComponent(name).path) }

        var request = EvalRequest(groundTruth: gtDir.path, predictions: predDir.path)
        request.task = .semantic
        let error = #expect(throws: SegError.self) { _ = try Evaluation.semantic(request) }
        #expect(error?.kind == .tooLarge)
        #expect(error?.file == gtDir.appendingPathComponent("b.png").path, "\(String(describing: error))")
        #expect(error?.reason.contains("65536 classes") == true, "\(error?.reason ?? "")")

        // A class list of more than 4096 names is refused naming the list.
        let names = dir.appendingPathComponent("classes.txt").path
        try Data((0..<70_000).map { "c\($0)" }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: names))
        request.classesFile = names
        let listError = #expect(throws: SegError.self) { _ = try Evaluation.semantic(request) }
        #expect(listError?.file == names && listError?.kind == .tooLarge, "\(String(describing: listError))")

        // Within the limit the same files evaluate, and each image keeps only its non-zero cells.
        try ImageFile.writePNG(small, to: gtDir.appendingPathComponent("b.png").path)
        request.classesFile = nil
        let ev = try Evaluation.semantic(request)
        #expect(ev.classes.count == 3)
        #expect(ev.images.allSatisfy { $0.confusion.count == 2 })  // (0,0) and (2,2)
        #expect(ev.confusion[2 * 4 + 2] == 2)
    }

    /// Panoptic ids are R + 256·G + 256²·B, up to 2^24 - 1: the per-image tables are keyed by the ids
    /// that occur, so the largest id costs no more than the smallest.
    @Test("panoptic PNG ids up to 2^24 - 1 are counted in tables keyed by the ids present")
    func panopticLargeIds() throws {
        var rgb = RGBImage(width: 8, height: 2)
        for x in 0..<8 { rgb[x, 0] = (255, 255, 255); rgb[x, 1] = (1, 0, 0) }
        let ids = RasterImage(width: 8, height: 2, colorModel: .rgb, fileBitDepth: 8, format: .png, samples: .eight(rgb.pixels))
            .labelMap(reducing: .packedRGB)
        #expect(ids.labels.max() == UInt32((1 << 24) - 1))
        let segments = [PanopticFile.Segment(id: (1 << 24) - 1, categoryId: 1, area: nil, isCrowd: false),
                        PanopticFile.Segment(id: 1, categoryId: 2, area: nil, isCrowd: false)]
        let annotation = PanopticFile.Annotation(imageId: 1, fileName: "p.png", segments: segments)
        let result = try PanopticEvaluator.evaluateImage(gt: annotation, pred: annotation, gtIds: ids, predIds: ids,
                                                         categories: [1: 0, 2: 1], gtFile: "gt.png", predFile: "pred.png")
        #expect(result.counts[0]?.tp == 1 && result.counts[1]?.tp == 1)
        #expect(result.failures.isEmpty)
    }
}
