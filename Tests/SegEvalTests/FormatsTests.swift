import Foundation
import Testing
import SegCore
@testable import SegEval

/// The format converters against the reference tools (scripts/make_format_fixtures.py):
/// Ultralytics' convert_coco, OpenCV's findContours, labelme's loader, pycocotools' rasterisation.
@Suite("Formats against Ultralytics, OpenCV and labelme")
struct FormatsTests {
    static func path(_ parts: String...) -> String { parts.reduce(Fixtures.url("formats")) { $0.appendingPathComponent($1) }.path }

    static func temp() throws -> String {
        let dir = NSTemporaryDirectory() + "segterm-formats-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    static func text(_ p: String) throws -> String { try String(contentsOfFile: p, encoding: .utf8) }

    static func masks(_ set: FormatSet, image: String) throws -> [(Int, String)] {
        let gt = set.groundTruth
        let img = try #require(gt.images.first { $0.fileName == image })
        return try gt.annotations.filter { $0.imageId == img.id }.map {
            ($0.categoryId, try FormatShapes.rle($0, height: img.height, width: img.width).compressedString)
        }
    }

    @Test("COCO → YOLO: every label file equals Ultralytics' convert_coco output byte for byte")
    func yoloWriterEqualsConvertCOCO() throws {
        let set = try Formats.read(Self.path("coco_small.json"), format: .coco)
        let out = try Self.temp()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let notes = try Formats.write(set, format: .yolo, to: out)
        for rel in ["a.txt", "b.txt", "sub/c.txt"] {
            let expected = try Self.text(Self.path("ultralytics_labels", rel))
            let got = try Self.text(out + "/labels/" + rel)
            #expect(got == expected, "\(rel)")
        }
        // Nothing is lost silently: each change is named.
        let said = notes.joined(separator: "\n")
        for phrase in ["merge_multi_segment", "crowd", "empty box", "four corners", "repeated", "outer contour"] {
            #expect(said.contains(phrase), "no note about \(phrase)")
        }
        let yaml = try Self.text(out + "/data.yaml")
        #expect(yaml.contains("0: cat") && yaml.contains("2: \"traffic light\""))
    }

    @Test("RLE masks' outer contours equal OpenCV's findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE)")
    func contoursEqualOpenCV() throws {
        let doc = try #require(try Self.json("contours.json") as? [String: Any])
        let cases = try #require(doc["cases"] as? [[String: Any]])
        #expect(cases.count == 40)
        for (k, c) in cases.enumerated() {
            let h = c["height"] as! Int, w = c["width"] as! Int
            let rle = try RLE(compressed: c["counts"] as! String, height: h, width: w)
            let expected = (c["contours"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
            #expect(MaskContours.external(rle.decode()) == expected, "case \(k)")
        }
    }

    /// A YOLO set on disk: Ultralytics' label files, blank images of the COCO file's sizes.
    static func yoloSet(labels: [String: String]? = nil, yaml: String = "names:\n  0: cat\n  1: dog\n  2: traffic light\n") throws -> String {
        let root = try temp()
        let coco = try COCOReader.readGroundTruth(path("coco_small.json"))
        for image in coco.images {
            let p = root + "/images/" + image.fileName
            try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try ImageFile.writePNG(Mask(width: image.width, height: image.height), to: p)
        }
        for rel in ["a.txt", "b.txt", "sub/c.txt"] {
            let p = root + "/labels/" + rel
            try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let text = try labels?[rel] ?? Self.text(path("ultralytics_labels", rel))
            try text.write(toFile: p, atomically: true, encoding: .utf8)
        }
        try yaml.write(toFile: root + "/data.yaml", atomically: true, encoding: .utf8)
        return root
    }

    @Test("YOLO → COCO: each line's mask equals pycocotools' rasterisation of it scaled back (the round trip)")
    func yoloReaderRoundTrip() throws {
        let root = try Self.yoloSet()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let set = try Formats.read(root)
        #expect(set.groundTruth.categories.map(\.name) == ["cat", "dog", "traffic light"])
        #expect(!set.hasScores)
        let expected = try #require(try Self.json("yolo_roundtrip.json") as? [String: [[String: Any]]])
        var lines = 0
        for (image, rows) in expected {
            let got = try Self.masks(set, image: image)
            #expect(got.count == rows.count, "\(image)")
            for (g, e) in zip(got, rows) {
                #expect(g.0 == (e["class"] as! Int) + 1)
                #expect(g.1 == e["counts"] as! String, "\(image)")
                lines += 1
            }
        }
        #expect(lines == 7)
    }

    @Test("YOLO predictions: a confidence last on every line; data.yaml names as a list")
    func yoloPredictions() throws {
        let root = try Self.yoloSet(labels: ["a.txt": "1 0.1 0.1 0.5 0.1 0.3 0.6 0.87\n0 0.2 0.2 0.4 0.2 0.4 0.4 0.2 0.4 0.5\n", "b.txt": "", "sub/c.txt": ""],
                                    yaml: "path: .\ntrain: images\nnames: [cat, dog, 'traffic light']\n")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let set = try Formats.read(root + "/data.yaml")
        #expect(set.hasScores)
        #expect(set.groundTruth.annotations.map(\.score) == [0.87, 0.5])
        #expect(set.groundTruth.annotations.map(\.categoryId) == [2, 1])
        // Written back with the confidence last, as save_txt(save_conf=True).
        let out = try Self.temp()
        defer { try? FileManager.default.removeItem(atPath: out) }
        try Formats.write(set, format: .yolo, to: out)
        #expect(try Self.text(out + "/labels/a.txt") == "1 0.1 0.1 0.5 0.1 0.3 0.6 0.87\n0 0.2 0.2 0.4 0.2 0.4 0.4 0.2 0.4 0.5\n")
    }

    @Test("LabelMe: objects, polygons and masks equal labelme's loader (shapes_to_label grouping, labelme2coco polygons)")
    func labelMeEqualsLabelme() throws {
        let dir = try Self.temp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["p.json", "q.json"] {
            try FileManager.default.copyItem(atPath: Self.path("labelme_" + name), toPath: dir + "/" + name)
        }
        let set = try Formats.read(dir, format: .labelme)
        #expect(set.hasScores)
        #expect(set.notes.contains { $0.contains("line shapes are not regions") })
        let doc = try #require(try Self.json("labelme_expected.json") as? [String: Any])
        let files = try #require(doc["files"] as? [String: [String: Any]])
        let names = Dictionary(uniqueKeysWithValues: set.groundTruth.categories.map { ($0.id, $0.name) })
        var objects = 0
        for (file, expected) in files {
            let image = file == "p.json" ? "p.jpg" : "q.png"
            let img = try #require(set.groundTruth.images.first { $0.fileName == image })
            let anns = set.groundTruth.annotations.filter { $0.imageId == img.id }
            let rows = expected["objects"] as! [[String: Any]]
            #expect(anns.count == rows.count, "\(file)")
            for (a, e) in zip(anns, rows) {
                #expect(names[a.categoryId] == e["label"] as? String)
                #expect(try FormatShapes.rle(a, height: img.height, width: img.width).compressedString == e["counts"] as! String, "\(file) \(e["label"]!)")
                if let polygons = e["polygons"] as? [[NSNumber]] {
                    guard case .polygons(let got) = a.segmentation else { Issue.record("not polygons"); continue }
                    #expect(got.count == polygons.count)
                    for (g, p) in zip(got, polygons) {
                        #expect(g.count == p.count)
                        for (x, y) in zip(g, p) { #expect(abs(x - y.doubleValue) < 1e-9) }
                    }
                }
                if let score = e["score"] as? Double { #expect(a.score == score) }
                objects += 1
            }
        }
        #expect(objects == 7)
    }

    @Test("COCO → LabelMe → COCO keeps every mask (polygons, group_id parts, RLE as mask shapes)")
    func labelMeRoundTrip() throws {
        let set = try Formats.read(Self.path("coco_small.json"), format: .coco)
        let out = try Self.temp()
        defer { try? FileManager.default.removeItem(atPath: out) }
        try Formats.write(set, format: .labelme, to: out)
        let back = try Formats.read(out, format: .labelme, options: FormatOptions(classNames: ["cat", "dog", "traffic light"]))
        for image in set.groundTruth.images {
            let before = try Self.masks(set, image: image.fileName).filter { !$0.1.isEmpty }
            let after = try Self.masks(back, image: FileName.last(image.fileName))
            // The box-only annotation comes back as a rectangle: the same box, rasterised.
            #expect(before.count == after.count, "\(image.fileName)")
            for (b, a) in zip(before, after) where b.1 != "" {
                #expect(b.0 == a.0)
            }
        }
        let rleBefore = try Self.masks(set, image: "b.png")[0]
        let rleAfter = try Self.masks(back, image: "b.png")[0]
        #expect(rleBefore.1 == rleAfter.1)
    }

    @Test("COCO → VOC → COCO: instances from SegmentationObject, classes.txt for non-VOC names")
    func vocRoundTrip() throws {
        let set = try Formats.read(Self.path("coco_small.json"), format: .coco)
        let out = try Self.temp()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let notes = try Formats.write(set, format: .voc, to: out)
        #expect(notes.contains { $0.contains("classes.txt") })
        let names = try ClassNames.load(out + "/classes.txt")
        #expect(names == ["background", "cat", "dog", "traffic light"])
        let back = try Formats.read(out, options: FormatOptions(classNames: names))
        #expect(back.groundTruth.images.count == 3)
        // Image b: the RLE object (id 5) is alone where it lies; its mask comes back exactly.
        let b = try Self.masks(back, image: "b.jpg")
        let original = try Self.masks(set, image: "b.png")
        #expect(b.contains { $0.0 == 2 && $0.1 == original[0].1 })
    }

    @Test("COCO → Cityscapes → COCO: instance ids ×1000 and trainIds")
    func cityscapesRoundTrip() throws {
        var car = Mask(width: 20, height: 10), person = Mask(width: 20, height: 10), road = Mask(width: 20, height: 10)
        for y in 2..<6 { for x in 1..<7 { car[x, y] = true } }
        for y in 1..<9 { for x in 10..<13 { person[x, y] = true } }
        for x in 0..<20 { road[x, 9] = true }
        func ann(_ id: Int, _ cat: Int, _ m: Mask) throws -> COCOAnnotation {
            let r = try RLE(mask: m)
            return COCOAnnotation(id: id, imageId: 1, categoryId: cat, segmentation: .compressed(height: 10, width: 20, string: r.compressedString))
        }
        let gt = COCOGroundTruth(images: [COCOImage(id: 1, width: 20, height: 10, fileName: "aachen_000000_000019_leftImg8bit.png")],
                                 categories: [COCOCategory(id: 1, name: "car"), COCOCategory(id: 2, name: "person"), COCOCategory(id: 3, name: "road")],
                                 annotations: [try ann(1, 1, car), try ann(2, 2, person), try ann(3, 3, road)])
        let out = try Self.temp()
        defer { try? FileManager.default.removeItem(atPath: out) }
        try Formats.write(FormatSet(groundTruth: gt), format: .cityscapes, to: out)
        let ids = try ImageFile.read(out + "/aachen_000000_000019_gtFine_instanceIds.png").labelMap().labels
        #expect(ids[2 * 20 + 1] == 26000 && ids[1 * 20 + 10] == 24000 && ids[9 * 20] == 7 && ids[0] == 0)
        let train = try ImageFile.read(out + "/aachen_000000_000019_gtFine_labelTrainIds.png").labelMap().labels
        #expect(train[2 * 20 + 1] == 13 && train[9 * 20] == 0 && train[0] == 255)
        let back = try Formats.read(out)
        let anns = back.groundTruth.annotations
        #expect(anns.map(\.categoryId) == [24, 26])
        #expect(try FormatShapes.rle(anns[1], height: 10, width: 20) == RLE(mask: car))
        #expect(back.groundTruth.images.first?.fileName == "aachen_000000_000019_leftImg8bit.png")
        #expect(CityscapesLabels.labelId(forTrainId: 18) == 33 && CityscapesLabels.trainId(forLabelId: 4) == 255)
    }

    // MARK: Bad input: a typed error naming the file and the line

    static func yoloError(_ line: String) throws -> SegError {
        let root = try yoloSet(labels: ["a.txt": "0 0.1 0.1 0.5 0.1 0.3 0.6\n" + line + "\n", "b.txt": "", "sub/c.txt": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            _ = try Formats.read(root)
        } catch let e as SegError {
            return e
        }
        Issue.record("no error for \(line)")
        return SegError(.invalid, file: "", "")
    }

    @Test("a YOLO line of 5 numbers (a detection box)")
    func yoloFiveNumbers() throws {
        let e = try Self.yoloError("1 0.5 0.5 0.2 0.2")
        #expect(e.kind == .invalid && e.file.hasSuffix("labels/a.txt") && e.reason.hasPrefix("line 2:") && e.reason.contains("detection box"))
    }

    @Test("YOLO coordinates outside [0, 1]")
    func yoloOutside() throws {
        let e = try Self.yoloError("1 0.5 0.5 1.5 0.2 0.3 0.3")
        #expect(e.kind == .invalid && e.file.hasSuffix("labels/a.txt") && e.reason.hasPrefix("line 2:") && e.reason.contains("outside [0, 1]"))
        let negative = try Self.yoloError("1 0.5 -0.2 0.5 0.2 0.3 0.3")
        #expect(negative.reason.hasPrefix("line 2:") && negative.reason.contains("y = -0.2"))
    }

    @Test("a YOLO class the names do not list")
    func yoloUnknownClass() throws {
        let e = try Self.yoloError("7 0.5 0.5 0.6 0.2 0.3 0.3")
        #expect(e.file.hasSuffix("labels/a.txt") && e.reason.hasPrefix("line 2:") && e.reason.contains("class 7 is unknown"))
    }

    @Test("a data.yaml without names")
    func yamlWithoutNames() throws {
        let root = try Self.yoloSet(yaml: "path: .\ntrain: images\nnc: 3\n")
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: SegError.self) { try Formats.read(root) }
        do { _ = try Formats.read(root) } catch let e as SegError {
            #expect(e.file.hasSuffix("data.yaml") && e.reason.contains("no \"names\""))
        }
        let skip = try Self.yoloSet(yaml: "names:\n  0: cat\n  2: dog\n")
        defer { try? FileManager.default.removeItem(atPath: skip) }
        do { _ = try Formats.read(skip); Issue.record("no error") } catch let e as SegError {
            #expect(e.file.hasSuffix("data.yaml") && e.reason.hasPrefix("line 2:") && e.reason.contains("skip a class index"))
        }
    }

    static func labelMeError(_ shapes: String, classes: [String]? = nil) throws -> SegError {
        let dir = try temp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let doc = "{\n  \"version\": \"5.5.0\",\n  \"flags\": {},\n  \"shapes\": [\n" + shapes + "\n  ],\n  \"imagePath\": \"x.jpg\",\n  \"imageData\": null,\n  \"imageHeight\": 20,\n  \"imageWidth\": 20\n}\n"
        try doc.write(toFile: dir + "/x.json", atomically: true, encoding: .utf8)
        do {
            _ = try Formats.read(dir, format: .labelme, options: FormatOptions(classNames: classes))
        } catch let e as SegError {
            return e
        }
        Issue.record("no error")
        return SegError(.invalid, file: "", "")
    }

    static let good = "    {\n      \"label\": \"cat\",\n      \"points\": [[1, 1], [5, 1], [3, 4]],\n      \"group_id\": null,\n      \"shape_type\": \"polygon\"\n    }"

    @Test("a LabelMe polygon of 2 points")
    func labelMeTwoPoints() throws {
        let bad = "    {\n      \"label\": \"cat\",\n      \"points\": [[1, 1], [5, 1]],\n      \"group_id\": null,\n      \"shape_type\": \"polygon\"\n    }"
        let e = try Self.labelMeError(Self.good + ",\n" + bad)
        #expect(e.kind == .invalid && e.file.hasSuffix("x.json") && e.reason.hasPrefix("line 12: shapes[1]") && e.reason.contains("at least 3 points"))
    }

    @Test("a LabelMe label outside the class list")
    func labelMeUnknownClass() throws {
        let e = try Self.labelMeError(Self.good, classes: ["dog"])
        #expect(e.file.hasSuffix("x.json") && e.reason.hasPrefix("line 6: shapes[0]") && e.reason.contains("unknown class name \"cat\""))
    }

    @Test("format detection from the layout")
    func detection() throws {
        let root = try Self.yoloSet()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(DatasetFormat.detect(root) == .yolo)
        #expect(DatasetFormat.detect(Self.path("coco_small.json")) == .coco)
        #expect(DatasetFormat.detect(Self.path("labelme_p.json")) == .labelme)
    }

    @Test("predictions read from another format become COCO results against a ground truth (by file stem and class name)")
    func resultsMatching() throws {
        let gt = try COCOReader.readGroundTruth(Self.path("coco_small.json"))
        let root = try Self.yoloSet(labels: ["a.txt": "1 0.1 0.1 0.5 0.1 0.3 0.6 0.87\n", "b.txt": "", "sub/c.txt": "2 0.1 0.1 0.5 0.1 0.3 0.6 0.5\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let results = try Formats.read(root).results(matching: gt)
        #expect(results.detections.map(\.imageId) == [1, 3])
        #expect(results.detections.map(\.categoryId) == [2, 3])
        #expect(results.detections.map(\.score) == [0.87, 0.5])
    }
}
