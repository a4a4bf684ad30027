import Foundation
import Testing
@testable import SegCore

/// Fixtures written by scripts/make_coco_fixtures.py from pycocotools and scipy.
enum COCOFixtures {
    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/coco"),
                               "missing fixture Fixtures/coco/\(name).json")
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    /// A mask from the fixtures' row-major string of '0' and '1'.
    static func mask(_ bits: String, width: Int, height: Int) -> Mask {
        Mask(width: width, height: height, bits: bits.utf8.map { $0 == UInt8(ascii: "1") ? 1 : 0 })
    }

    struct RLEFile: Decodable {
        struct Case: Decodable {
            let name: String, h: Int, w: Int, bits: String, counts: [UInt32], string: String, area: Int, bbox: [Double]
        }
        struct Huge: Decodable { let h: Int, w: Int, string: String, counts: [UInt32], area: Int, bbox: [Double] }
        let masks: [Case]
        let huge: [Huge]
    }

    struct Counts: Decodable { let h: Int, w: Int, counts: [UInt32] }

    struct IoUFile: Decodable {
        struct Group: Decodable { let name: String, dt: [Counts], gt: [Counts], iscrowd: [Bool], iou: [[Double]] }
        let groups: [Group]
    }

    struct MergeFile: Decodable {
        struct Case: Decodable { let name: String, h: Int, w: Int, inputs: [[UInt32]], union: [UInt32], intersection: [UInt32] }
        let cases: [Case]
    }
}


@Suite("COCO RLE against pycocotools")
struct RLEGoldenTests {
    static let file = Result { try COCOFixtures.load("rle", as: COCOFixtures.RLEFile.self) }

    @Test("fixtures are present and non-trivial")
    func fixturesLoad() throws {
        let file = try Self.file.get()
        #expect(file.masks.count >= 30)
        #expect(file.huge.count >= 4)
    }

    @Test("encode gives pycocotools' counts, string, area and toBbox; decode inverts it")
    func encodeMatchesPycocotools() throws {
        for c in try Self.file.get().masks {
            let mask = COCOFixtures.mask(c.bits, width: c.w, height: c.h)
            let rle = try RLE(mask: mask)
            #expect(rle.counts == c.counts, "\(c.name): counts")
            #expect(rle.compressedString == c.string, "\(c.name): string")
            #expect(rle.area == c.area, "\(c.name): area")
            #expect(rle.boundingBox == c.bbox, "\(c.name): bbox")
            let parsed = try RLE(compressed: c.string, height: c.h, width: c.w)
            #expect(parsed.counts == c.counts, "\(c.name): parsed counts")
            #expect(parsed.decode() == mask, "\(c.name): decode")
            #expect(try RLE(height: c.h, width: c.w, counts: c.counts) == rle, "\(c.name): validated init")
        }
    }

    @Test("huge images: multi-character counts, negative deltas, counts above 2^31, read and written without decoding")
    func hugeStrings() throws {
        for c in try Self.file.get().huge {
            let rle = try RLE(compressed: c.string, height: c.h, width: c.w)
            #expect(rle.counts == c.counts, "\(c.h)x\(c.w): counts")
            #expect(rle.compressedString == c.string, "\(c.h)x\(c.w): string")
            #expect(rle.area == c.area, "\(c.h)x\(c.w): area")
            #expect(rle.boundingBox == c.bbox, "\(c.h)x\(c.w): bbox")
        }
    }

    @Test("merge (union and intersection) gives pycocotools' counts")
    func mergeMatchesPycocotools() throws {
        let file = try COCOFixtures.load("merge", as: COCOFixtures.MergeFile.self)
        #expect(file.cases.count >= 10)
        for c in file.cases {
            let inputs = try c.inputs.map { try RLE(height: c.h, width: c.w, counts: $0) }
            #expect(try RLE.merge(inputs).counts == c.union, "\(c.name): union")
            #expect(try RLE.merge(inputs, intersect: true).counts == c.intersection, "\(c.name): intersection")
        }
    }

    @Test("iou matrices, crowd rule, bbox pre-check and size mismatch equal pycocotools' to the bit")
    func iouMatchesPycocotools() throws {
        let file = try COCOFixtures.load("iou", as: COCOFixtures.IoUFile.self)
        #expect(file.groups.count >= 10)
        for g in file.groups {
            let dt = try g.dt.map { try RLE(height: $0.h, width: $0.w, counts: $0.counts) }
            let gt = try g.gt.map { try RLE(height: $0.h, width: $0.w, counts: $0.counts) }
            let result = try RLE.iou(dt, gt, iscrowd: g.iscrowd)
            #expect(result == g.iou, "\(g.name)")
        }
    }
}

@Suite("COCO RLE edge cases")
struct RLEEdgeTests {
    @Test("0-pixel masks encode as one empty run and decode back")
    func zeroSize() throws {
        for (w, h) in [(0, 0), (5, 0), (0, 3)] {
            let rle = try RLE(mask: Mask(width: w, height: h))
            #expect(rle.counts == [0])
            #expect(rle.compressedString == "0")
            #expect(rle.area == 0)
            #expect(rle.boundingBox == [0, 0, 0, 0])
            #expect(rle.decode() == Mask(width: w, height: h))
            #expect(try RLE(compressed: "", height: h, width: w).counts == [0])
        }
    }

    @Test("1x1 and one-row masks")
    func tiny() throws {
        var one = Mask(width: 1, height: 1)
        #expect(try RLE(mask: one).counts == [1])
        one[0, 0] = true
        #expect(try RLE(mask: one).counts == [0, 1])
        #expect(try RLE(mask: one).boundingBox == [0, 0, 1, 1])
        // A single row is column-major too: each pixel is its own column.
        let row = Mask(width: 5, height: 1, bits: [1, 1, 0, 1, 0])
        let rle = try RLE(mask: row)
        #expect(rle.counts == [0, 2, 1, 1, 1])
        #expect(rle.boundingBox == [0, 0, 4, 1])
        #expect(rle.decode() == row)
    }

    @Test("a mask byte other than 0 and 1 counts as set")
    func nonBinaryBytes() throws {
        let mask = Mask(width: 2, height: 2, bits: [0, 255, 7, 0])
        #expect(try RLE(mask: mask).counts == [1, 2, 1])
    }

    @Test("column-major order: the counts run down the columns")
    func columnMajor() throws {
        // 2 rows x 3 columns, the middle column set.
        let mask = Mask(width: 3, height: 2, bits: [0, 1, 0, 0, 1, 0])
        let rle = try RLE(mask: mask)
        #expect(rle.counts == [2, 2, 2])
        #expect(rle.boundingBox == [1, 0, 1, 2])
        #expect(rle.area == 2)
    }

    @Test("bounding box of a run wrapping across columns spans the full height")
    func wrappingRun() throws {
        // 4x3 (h=4): pixels (x=0,y=3) and (x=1,y=0) are consecutive in column-major order.
        var mask = Mask(width: 3, height: 4)
        mask[0, 3] = true
        mask[1, 0] = true
        #expect(try RLE(mask: mask).boundingBox == [0, 0, 2, 4])
    }

    @Test("only empty runs of ones: an empty box, not pycocotools' wrapped values")
    func emptyWithZeroRuns() throws {
        #expect(try RLE(height: 5, width: 5, counts: [25, 0]).boundingBox == [0, 0, 0, 0])
        #expect(try RLE(height: 5, width: 5, counts: [3, 0, 22]).boundingBox == [0, 0, 0, 0])
        #expect(try RLE(height: 5, width: 5, counts: [3, 0, 2, 4, 16]).boundingBox == [1, 0, 1, 4])
    }

    @Test("counts that do not cover the mask are refused")
    func badCounts() {
        #expect(throws: SegError.self) { try RLE(height: 2, width: 2, counts: [1, 2]) }
        #expect(throws: SegError.self) { try RLE(height: 2, width: 2, counts: [3, 2]) }
        #expect(throws: SegError.self) { try RLE(height: 2, width: 2, counts: []) }
        #expect(throws: SegError.self) { try RLE(height: -1, width: 2, counts: [0]) }
        #expect(throws: SegError.self) { try RLE(height: 1 << 40, width: 1 << 40, counts: [0]) }
        #expect(throws: SegError.self) { try RLE(height: 70000, width: 70000, counts: [0]) }  // > 2^32 pixels
        #expect(throws: SegError.self) { try RLE(height: 2, width: 2, counts: [UInt32.max, UInt32.max]) }
    }

    /// The error kind thrown by `body`, or nil.
    private func kind(_ body: () throws -> Void) -> SegError.Kind? {
        do { try body() } catch let e as SegError { return e.kind } catch { return nil }
        return nil
    }

    @Test("hostile compressed strings throw, never trap")
    func hostileStrings() {
        func parse(_ s: String, _ h: Int = 4, _ w: Int = 4) -> SegError.Kind? {
            kind { _ = try RLE(compressed: s, height: h, width: w) }
        }
        #expect(parse("0?") == .truncated)  // 0 then 15: 15 of 16 pixels
        #expect(parse("0@") == .corrupt)  // '@' = 16 has the sign bit: -16
        #expect(parse("p") == .corrupt)  // above 'o'
        #expect(parse("/") == .corrupt)  // below '0'
        #expect(parse(" 0") == .corrupt)
        #expect(parse("é") == .corrupt)  // non-ASCII bytes
        #expect(parse("0\u{0}") == .corrupt)
        #expect(parse("P") == .truncated)  // continuation bit, then the end
        #expect(parse("R") == .truncated)
        #expect(parse("PPPPPPPPPPPPP0") == .corrupt)  // a 70-bit count
        #expect(parse("oooooo7", 65536, 65535) == .corrupt)  // 2^33 - 1: above 32 bits
        #expect(parse("2") == .truncated)  // 2 of 16 pixels
        #expect(parse("") == .truncated)
        #expect(parse("a0") == .corrupt)  // 17 > 16 pixels
        #expect(parse("0801") == .corrupt)  // 0, 8, 0, then 8 + 1: 17 pixels
        #expect(parse("121M") == .corrupt)  // 1, 2, 1, then 2 + (-3) = -1
        #expect(parse("00", -1, 4) == .invalid)
        #expect(parse("00", 1 << 33, 1 << 33) == .tooLarge)
        #expect(parse("00", Int.max, 2) == .tooLarge)
        // Valid strings of the same families, so the checks above do not reject everything.
        #expect(parse("0`0") == nil)  // 0, 16 in two groups: the full mask
        #expect(parse("0800") == nil)  // 0, 8, 0, 8 + 0
        #expect(parse("121O") == .truncated)  // 1, 2, 1, 2 - 1: 5 of 16 pixels, a valid count
    }

    @Test("merge: none, one, mismatched sizes")
    func mergeEdges() throws {
        let empty = try RLE.merge([])
        #expect(empty.height == 0 && empty.width == 0 && empty.counts.isEmpty)
        #expect(empty.compressedString == "")
        let a = try RLE(height: 2, width: 2, counts: [1, 2, 1])
        #expect(try RLE.merge([a]) == a)
        let b = try RLE(height: 1, width: 4, counts: [4])
        #expect(throws: SegError.self) { try RLE.merge([a, b]) }
        // Empty runs inside the counts are tolerated and the result is canonical.
        let odd = try RLE(height: 2, width: 2, counts: [1, 0, 0, 1, 2])
        #expect(try RLE.merge([odd, a]).counts == [1, 2, 1])
        #expect(try RLE.merge([odd, a], intersect: true).counts == [1, 1, 2])
    }

    @Test("iou: iscrowd length, empty lists, hand-computed values")
    func iouEdges() throws {
        let a = try RLE(mask: Mask(width: 4, height: 1, bits: [1, 1, 0, 0]))
        let b = try RLE(mask: Mask(width: 4, height: 1, bits: [0, 1, 1, 1]))
        #expect(throws: SegError.self) { try RLE.iou([a], [b], iscrowd: []) }
        #expect(try RLE.iou([], [b], iscrowd: [false]).isEmpty)
        #expect(try RLE.iou([a, b], [], iscrowd: []) == [[], []])
        #expect(try RLE.iou([a], [b], iscrowd: [false]) == [[0.25]])
        // Crowd: the union is the detection's area (2 pixels), so 1 / 2.
        #expect(try RLE.iou([a], [b], iscrowd: [true]) == [[0.5]])
        #expect(try RLE.iou([a, b], [a, b], iscrowd: [false, false]) == [[1, 0.25], [0.25, 1]])
    }

    @Test("random masks round-trip through counts and strings")
    func roundTrip() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<50 {
            let w = Int.random(in: 0...70, using: &rng), h = Int.random(in: 0...70, using: &rng)
            let density = Double.random(in: 0...1, using: &rng)
            let mask = Mask(width: w, height: h, bits: (0..<(w * h)).map { _ in Double.random(in: 0..<1, using: &rng) < density ? 1 : 0 })
            let rle = try RLE(mask: mask)
            #expect(rle.decode() == mask)
            #expect(rle.area == mask.area)
            let parsed = try RLE(compressed: rle.compressedString, height: h, width: w)
            #expect(parsed == rle)
            if let box = mask.boundingBox {
                #expect(rle.boundingBox == [Double(box.minX), Double(box.minY), Double(box.width), Double(box.height)]
                        || rle.boundingBox[1] == 0)  // a wrapping run widens y to the full height
            } else {
                #expect(rle.boundingBox == [0, 0, 0, 0])
            }
        }
    }

    @Test("a mask wider than one column band round-trips (tiles are stitched in order)")
    func wideMask() throws {
        var rng = SeededGenerator(seed: 99)
        let w = 3000, h = 200  // 256 KiB / 200 rows = 1310 columns per band: three bands
        let mask = Mask(width: w, height: h, bits: (0..<(w * h)).map { _ in UInt8(rng.next() & 1) })
        let rle = try RLE(mask: mask)
        #expect(rle.decode() == mask)
        #expect(rle.area == mask.area)
    }
}
