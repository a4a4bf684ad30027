import Foundation
import Testing
import SegCore
@testable import SegEval

@Suite("Bad COCO input names the file and the entry")
struct BadInputTests {
    static let gt = """
        {"images": [{"id": 1, "width": 4, "height": 3}], "categories": [{"id": 5, "name": "a"}],
         "annotations": [{"id": 9, "image_id": 1, "category_id": 5, "area": 2, "bbox": [0, 0, 1, 2], "iscrowd": 0,
                          "segmentation": {"size": [3, 4], "counts": [0, 2, 10]}}]}
        """

    static func groundTruth() throws -> COCOGroundTruth { try COCOReader.parseGroundTruth(Array(gt.utf8), file: "gt.json") }

    static func resultsError(_ text: String) throws -> SegError {
        do {
            let results = try COCOReader.parseResults(Array(text.utf8), file: "res.json", groundTruth: try groundTruth())
            _ = try COCOEvaluator().evaluate(COCOInputs(groundTruth: try groundTruth(), results: results))
        } catch let error as SegError {
            return error
        }
        throw SegError(.invalid, file: "", "no error for \(text)")
    }

    @Test("a long results list (checked in two halves at once) still names its first bad entry")
    func longResults() throws {
        // 10,000 detections; bad categories at 9,000 (second half) and 6,000 (first half).
        func list(bad: [Int]) -> String {
            "[" + (0..<10_000).map { i in
                #"{"image_id": 1, "category_id": \#(bad.contains(i) ? 6 : 5), "score": 0.5, "bbox": [0, 0, 1, 2]}"#
            }.joined(separator: ",") + "]"
        }
        var e = try Self.resultsError(list(bad: [9_000]))
        #expect(e.file == "res.json" && e.reason.hasPrefix("results[9000]: category id 6"), "\(e.reason)")
        e = try Self.resultsError(list(bad: [6_000, 9_000]))
        #expect(e.reason.hasPrefix("results[6000]: category id 6"), "\(e.reason)")
        let ok = try COCOReader.parseResults(Array(list(bad: []).utf8), file: "res.json", groundTruth: try Self.groundTruth())
        #expect(ok.detections.enumerated().allSatisfy { $0.element.id == $0.offset + 1 && !$0.element.isCrowd })
    }

    @Test("results: unknown image, unknown category, NaN score, malformed and mis-sized RLE")
    func results() throws {
        let seg = #""segmentation": {"size": [3, 4], "counts": "02:"}"#
        var e = try Self.resultsError(#"[{"image_id": 2, "category_id": 5, "score": 0.5, \#(seg)}]"#)
        #expect(e.file == "res.json" && e.reason.contains("results[0]") && e.reason.contains("image id 2"))
        e = try Self.resultsError(#"[{"image_id": 1, "category_id": 5, "score": 0.5, \#(seg)}, {"image_id": 1, "category_id": 6, "score": 0.5, \#(seg)}]"#)
        #expect(e.reason.contains("results[1]") && e.reason.contains("category id 6"))
        e = try Self.resultsError(#"[{"image_id": 1, "category_id": 5, "score": NaN, \#(seg)}]"#)
        #expect(e.reason.contains("results[0]") && e.reason.contains("score"))
        e = try Self.resultsError(#"[{"image_id": 1, "category_id": 5, "score": 0.5, "segmentation": {"size": [3, 4], "counts": "0~"}}]"#)
        #expect(e.file == "res.json" && e.reason.contains("results[0]") && e.reason.contains("RLE"))
        e = try Self.resultsError(#"[{"image_id": 1, "category_id": 5, "score": 0.5, "segmentation": {"size": [5, 4], "counts": "05"}}]"#)
        #expect(e.reason.contains("results[0]") && e.reason.contains("differs from the image"))
        e = try Self.resultsError(#"[{"image_id": 1, "category_id": 5, "score": 0.5 "bbox": [1, 2, 3, 4]}]"#)
        #expect(e.file == "res.json" && e.reason.contains("line 1"))
    }

    @Test("ground truth: unknown image and category, RLE counts that do not cover the image, duplicate ids")
    func groundTruth() throws {
        func error(_ text: String) -> SegError? {
            do { _ = try COCOReader.parseGroundTruth(Array(text.utf8), file: "gt.json"); return nil } catch { return error }
        }
        let base = #"{"images": [{"id": 1, "width": 4, "height": 3}], "categories": [{"id": 5}], "annotations": [%@]}"#
        func with(_ anns: String) -> String { base.replacingOccurrences(of: "%@", with: anns) }
        #expect(error(with(#"{"id": 1, "image_id": 7, "category_id": 5, "bbox": [0,0,1,1]}"#))?.reason.contains("annotations[0] (id 1): unknown image id 7") == true)
        #expect(error(with(#"{"id": 1, "image_id": 1, "category_id": 8, "bbox": [0,0,1,1]}"#))?.reason.contains("unknown category id 8") == true)
        #expect(error(with(#"{"id": 1, "image_id": 1, "category_id": 5, "segmentation": {"size": [3, 4], "counts": [1, 2]}}"#))?.reason.contains("add up to 3") == true)
        #expect(error(with(#"{"id": 1, "image_id": 1, "category_id": 5, "bbox": [0,0,1,1]}, {"id": 1, "image_id": 1, "category_id": 5, "bbox": [0,0,1,1]}"#))?.reason.contains("annotations[1] (id 1): duplicate") == true)
        #expect(error("[1, 2]")?.file == "gt.json")
        #expect(try Self.groundTruth().annotations.count == 1)
    }

    @Test("JSON numbers are read exactly (fast path and strtod), escapes resolved")
    func numbers() throws {
        let text = #"[0.1, 1e-7, 123456789012345678901, -0.0, 3.0e2, 0.30000000000000004, "a\\b\"c\u00e9"]"#
        let bytes = Array(text.utf8)
        var values: [Double] = []
        var string = ""
        try bytes.withUnsafeBufferPointer { (buffer) throws(SegError) in
            var json = JSONCursor(buffer)
            var array = try json.beginArray()
            while try json.nextElement(&array) {
                if json.peek() == UInt8(ascii: "\"") { string = try json.string() } else { values.append(try json.double()) }
            }
        }
        #expect(values == [0.1, 1e-7, 123456789012345678901, -0.0, 300, 0.30000000000000004])
        #expect(string == "a\\b\"cé")
    }
}

@Suite("JSON strings found eight bytes at a time, values skipped unchecked")
struct JSONScanTests {
    /// The byte-by-byte rule the word-at-a-time scan must give: the end of the string (the index
    /// of its closing quote) or nil for an error.
    static func referenceEnd(_ b: [UInt8], from start: Int) -> Int? {
        var i = start
        while i < b.count {
            if b[i] == 0x22 { return i }
            if b[i] == 0x5C { i += 2; continue }
            if b[i] < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    @Test("every placement of quotes, backslash runs and control characters across the 8-byte words")
    func strings() {
        var generator = SeededGenerator(seed: 77)
        let alphabet: [UInt8] = [0x22, 0x5C, 0x5C, 0x0A, 0x01, 0x41, 0x4F, 0x30, 0xC3, 0xA9, 0x7B, 0x5D]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...40, using: &generator)
            var body = (0..<length).map { _ in Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8(0x61) }
            if Bool.random(using: &generator) { body.append(0x22) }
            let bytes = [0x22] + body
            let expected = Self.referenceEnd(bytes, from: 1)
            let found: Int? = bytes.withUnsafeBufferPointer { buffer in
                var json = JSONCursor(buffer)
                guard let range = try? json.rawStringRange() else { return nil }
                #expect(json.position == range.upperBound + 1)
                return range.upperBound
            }
            #expect(found == expected, "\(bytes)")
        }
    }

    @Test("skipUnchecked ends where skipValue does on valid JSON, and never crashes on damaged JSON")
    func skipping() {
        let values = [#"{"a": [1, {"b": "]}\"["}], "c": null, "d": -1.5e3}"#, #"[[], {}, [[["x"]]], "\\", true]"#, #""plain""#,
                      #"12.5"#, #"{"counts": "P\\f76g>6K4L4M2N3M2N2N1O2N2O1N1O2O1N101N\\"}"#, #"[1,2 , 3 ]"#, #"false"#]
        for value in values {
            let bytes = Array((value + " , 7").utf8)
            bytes.withUnsafeBufferPointer { buffer in
                var strict = JSONCursor(buffer), quick = JSONCursor(buffer)
                #expect(throws: Never.self) { try strict.skipValue() }
                #expect(throws: Never.self) { try quick.skipUnchecked() }
                #expect(quick.position == strict.position, "\(value)")
            }
        }
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<5_000 {
            var bytes = Array(values.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = [0x22, 0x5C, 0x5B, 0x5D, 0x7B, 0x7D, 0x00].randomElement(using: &generator)!
            }
            if Bool.random(using: &generator) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &generator)) }
            bytes.withUnsafeBufferPointer { buffer in
                var json = JSONCursor(buffer)
                _ = try? json.skipUnchecked()
                #expect(json.position <= buffer.count)
            }
        }
    }
}

@Suite("Results parsed in two halves")
struct SplitParseTests {
    static func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-split-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static let gt = #"{"images": [{"id": 1, "width": 4, "height": 3}, {"id": 2, "width": 4, "height": 3}], "categories": [{"id": 5}], "annotations": []}"#

    @Test("the two halves give the sequential result, also when the guessed boundary is inside a detection")
    func halves() throws {
        let gtPath = try Self.write(Self.gt)
        for trap in [false, true] {
            var items: [String] = []
            for i in 0..<16000 {
                var extra = ""
                // Objects in a list inside a detection put "},{" where the guess looks.
                if trap && i >= 6000 && i < 10000 { extra = #", "parts": [{"a": 1},{"b": 2}]"# }
                items.append(#"{"image_id": \#(1 + i % 2), "category_id": 5, "score": 0.\#(i % 97), "bbox": [\#(i % 3), 0, 1, 1]\#(extra)}"#)
            }
            let text = "[" + items.joined(separator: ",") + "]"
            #expect(text.utf8.count > 1 << 20)
            let resPath = try Self.write(text)
            let (gt, both) = try COCOReader.readBoth(groundTruth: gtPath, results: resPath)
            let sequential = try COCOReader.parseResults(Array(text.utf8), file: resPath, groundTruth: gt)
            #expect(both.detections == sequential.detections, "trap \(trap)")
            #expect(both.detections.count == 16000)
            #expect(both.areaFromBox == sequential.areaFromBox)
        }
    }
}
