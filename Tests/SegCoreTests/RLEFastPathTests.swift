import Foundation
import Testing
@testable import SegCore

/// The evaluation's fast paths on runs (issue #19, speed): the interval walk of `intersection`,
/// the box and area in one pass (`summary`), and decoding JSON-escaped text in place. Each is
/// checked against an independent way to the same number: pixels of the decoded masks, the
/// older `boundingBox` / `area`, and the plain string decoder. (Their agreement with pycocotools
/// is `RLETests`' fixtures, which run through the same functions.)
@Suite("RLE fast paths of the evaluation")
struct RLEFastPathTests {
    static func randomMask(_ rng: inout SeededGenerator, maxSide: Int = 60) -> Mask {
        let w = Int.random(in: 0...maxSide, using: &rng), h = Int.random(in: 0...maxSide, using: &rng)
        let density = Double.random(in: 0...1, using: &rng)
        // Some masks are blobs (few runs), some noise (many short runs).
        let blob = Bool.random(using: &rng)
        let cx = Double.random(in: 0...Double(max(w, 1)), using: &rng), cy = Double.random(in: 0...Double(max(h, 1)), using: &rng)
        let r = Double.random(in: 0...Double(max(w, h, 1)) / 2, using: &rng)
        var bits = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let inside = blob ? (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= r * r
                                  : Double.random(in: 0..<1, using: &rng) < density
                bits[y * w + x] = inside ? 1 : 0
            }
        }
        return Mask(width: w, height: h, bits: bits)
    }

    @Test("intersection and IoU equal the decoded masks' pixel counts")
    func intersectionMatchesPixels() throws {
        var rng = SeededGenerator(seed: 1919)
        for _ in 0..<300 {
            let a = Self.randomMask(&rng, maxSide: 40)
            // Same size for the pair: another mask of a's size.
            var bits = [UInt8](repeating: 0, count: a.width * a.height)
            let other = Self.randomMask(&rng, maxSide: 40)
            for i in bits.indices where i < other.bits.count { bits[i] = other.bits[i] }
            let b = Mask(width: a.width, height: a.height, bits: bits)
            let ra = try RLE(mask: a), rb = try RLE(mask: b)
            let both = zip(a.bits, b.bits).filter { $0 != 0 && $1 != 0 }.count
            #expect(RLE.intersection(ra.counts, rb.counts) == both)
            #expect(RLE.intersection(rb.counts, ra.counts) == both)
            let union = a.area + b.area - both
            let iou = RLE.iou(ra, ra.summary, rb, rb.summary, crowd: false)
            #expect(iou == (both == 0 ? 0 : Double(both) / Double(union)))
            let crowd = RLE.iou(ra, ra.summary, rb, rb.summary, crowd: true)
            #expect(crowd == (both == 0 ? 0 : Double(both) / Double(a.area)))
        }
    }

    @Test("runs with empty runs of ones inside (uncanonical counts) intersect as their pixels")
    func uncanonicalCounts() throws {
        // 1×10 masks: a = ones at 2..<4 and 6..<9 with an empty ones run between; b = ones at 3..<7.
        let a = try RLE(height: 10, width: 1, counts: [2, 2, 0, 0, 2, 3, 1])
        let b = try RLE(height: 10, width: 1, counts: [3, 4, 3])
        #expect(RLE.intersection(a.counts, b.counts) == 2)
        #expect(RLE.intersection(b.counts, a.counts) == 2)
        #expect(RLE.intersection(a.counts, try RLE(height: 10, width: 1, counts: [10]).counts) == 0)
        #expect(a.summary.area == 5)
    }

    @Test("summary: the box and area of one pass equal boundingBox and area")
    func summaryMatchesBoxAndArea() throws {
        var rng = SeededGenerator(seed: 2020)
        for _ in 0..<300 {
            let rle = try RLE(mask: Self.randomMask(&rng))
            let s = rle.summary
            #expect(s.area == rle.area)
            let box = rle.boundingBox
            if s.isEmpty {
                #expect(box == [0, 0, 0, 0] || rle.area == 0)
            } else {
                #expect([Double(s.x0), Double(s.y0), Double(s.x1 - s.x0), Double(s.y1 - s.y0)] == box)
            }
        }
    }

    @Test("JSON-escaped text (doubled backslashes) decodes in place to the plain string's runs; other escapes are refused")
    func doubledBackslashes() throws {
        var rng = SeededGenerator(seed: 2121)
        var withBackslash = 0
        for _ in 0..<300 {
            let rle = try RLE(mask: Self.randomMask(&rng))
            let plain = rle.compressedString
            if plain.contains("\\") { withBackslash += 1 }
            let escaped = Array(plain.replacingOccurrences(of: "\\", with: "\\\\").utf8)
            let decoded = try escaped.withUnsafeBufferPointer {
                try RLE(compressedBytes: $0, height: rle.height, width: rle.width, doubledBackslashes: true)
            }
            #expect(decoded == rle)
        }
        #expect(withBackslash > 20, "the sample holds texts with a backslash")
        // A lone backslash, `\/` or `\u005c` is left to the caller's full JSON unescaping.
        for text in ["1\\", "\\/1", "\\u005c"] {
            #expect(throws: SegError.self) {
                try Array(text.utf8).withUnsafeBufferPointer { try RLE(compressedBytes: $0, height: 3, width: 3, doubledBackslashes: true) }
            }
            do {
                _ = try Array(text.utf8).withUnsafeBufferPointer { try RLE(compressedBytes: $0, height: 3, width: 3, doubledBackslashes: true) }
            } catch let error as SegError {
                #expect(error.kind == .unsupported)
            }
        }
    }
}
