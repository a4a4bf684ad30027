import Foundation
import SegCore
import Testing
@testable import SegEval

/// The evaluation's reader leaves compressed RLE text in the mapped file (`RLEText`); the text a
/// JSON writer escapes must decode to the same runs as the copying reader's.
@Suite("RLE text read in place from a mapped file")
struct MappedRLETextTests {
    /// A 40×30 mask of seeded noise whose compressed text holds a backslash (one of the 64 letters
    /// of COCO's RLE alphabet, which JSON must escape).
    static func maskWithBackslash() throws -> RLE {
        var generator = SeededGenerator(seed: 19)
        for _ in 0..<200 {
            var bits = [UInt8](repeating: 0, count: 40 * 30)
            for i in bits.indices where Int.random(in: 0..<3, using: &generator) == 0 { bits[i] = 1 }
            let rle = try RLE(mask: Mask(width: 40, height: 30, bits: bits))
            if rle.compressedString.contains("\\") { return rle }
        }
        throw SegError(.invalid, file: "", "no mask with a backslash in 200 tries")
    }

    static func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-rletext-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("escaped text (\\\\ and \\u005c) decodes to the copying reader's runs, and the evaluation agrees")
    func escapes() throws {
        let rle = try Self.maskWithBackslash()
        let plain = rle.compressedString
        let escaped = plain.replacingOccurrences(of: "\\", with: "\\\\")
        // The general escape for one backslash, resolved by the cursor's path.
        let unicode = escaped.replacingOccurrences(of: "\\\\", with: "\\u005c")
        let noBackslash = try RLE(mask: Mask(width: 40, height: 30, bits: [UInt8](repeating: 1, count: 1200))).compressedString
        #expect(!noBackslash.contains("\\"))
        let gt = #"{"images": [{"id": 1, "width": 40, "height": 30}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": \#(rle.area), "bbox": [0, 0, 40, 30], "segmentation": {"size": [30, 40], "counts": "\#(escaped)"}}]}"#
        let texts = [escaped, unicode, noBackslash]
        let results = "[" + texts.enumerated().map { k, text in
            #"{"image_id": 1, "category_id": 1, "score": 0.\#(9 - k), "segmentation": {"size": [30, 40], "counts": "\#(text)"}}"#
        }.joined(separator: ",") + "]"
        let gtPath = try Self.write(gt), resPath = try Self.write(results)
        defer { try? FileManager.default.removeItem(atPath: gtPath); try? FileManager.default.removeItem(atPath: resPath) }

        let (mappedGT, mapped) = try COCOReader.readBoth(groundTruth: gtPath, results: resPath)
        let copiedGT = try COCOReader.parseGroundTruth(Array(gt.utf8), file: gtPath)
        let copied = try COCOReader.parseResults(Array(results.utf8), file: resPath, groundTruth: copiedGT)
        #expect(mapped.detections.count == 3)
        for (d, c) in zip(mapped.detections + mappedGT.annotations, copied.detections + copiedGT.annotations) {
            guard case .compressedText(let text) = d.segmentation else {
                Issue.record("the mapped reader copied the text: \(d.segmentation)")
                continue
            }
            #expect(d.segmentation.owned == c.segmentation)
            guard case .compressed(let h, let w, let string) = c.segmentation else { Issue.record("not compressed"); continue }
            #expect(try text.decode() == RLE(compressed: string, height: h, width: w))
        }
        #expect(mapped.detections[0].segmentation.owned == .compressed(height: 30, width: 40, string: plain))

        // The whole evaluation from the files equals the one from the copied inputs.
        let fromFiles = try COCOEvaluator().evaluate(COCOInputs(groundTruth: mappedGT, results: mapped))
        let fromCopies = try COCOEvaluator().evaluate(COCOInputs(groundTruth: copiedGT, results: copied))
        #expect(fromFiles.stats == fromCopies.stats)
        // AP50: the best detection is the ground truth itself (1 up to pycocotools' epsilon).
        #expect(abs(fromFiles.stats[1] - 1) < 1e-12)
    }
}
