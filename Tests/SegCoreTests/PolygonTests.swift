import Foundation
import Testing
@testable import SegCore

private struct PolygonFile: Decodable {
    struct Case: Decodable { let name: String, h: Int, w: Int, polygons: [[Double]], each: [[UInt32]], merged: [UInt32] }
    struct Box: Decodable { let bbox: [Double], h: Int, w: Int, counts: [UInt32] }
    let polygons: [Case]
    let boxes: [Box]
}

@Suite("Polygon rasterisation against pycocotools")
struct PolygonGoldenTests {
    fileprivate static let file = Result { try COCOFixtures.load("polygons", as: PolygonFile.self) }

    @Test("each polygon gives frPyObjects' counts")
    func eachPolygon() throws {
        let file = try Self.file.get()
        #expect(file.polygons.count >= 80)
        for c in file.polygons {
            for (polygon, expected) in zip(c.polygons, c.each) {
                let rle = try RLE(polygon: polygon, height: c.h, width: c.w)
                #expect(rle.counts == expected, "\(c.name): \(polygon)")
            }
        }
    }

    @Test("a polygon list gives merge(frPyObjects(...))")
    func mergedAnnotation() throws {
        for c in try Self.file.get().polygons {
            let rle = try RLE(polygons: c.polygons, height: c.h, width: c.w)
            #expect(rle.counts == c.merged, "\(c.name)")
            #expect(rle.height == c.h && rle.width == c.w)
        }
    }

    @Test("cancelling toggles in pairs early (for polygons with very many edges) changes nothing")
    func compaction() throws {
        for c in try Self.file.get().polygons {
            for (polygon, expected) in zip(c.polygons, c.each) {
                let rle = try RLE.rasterised(polygon, height: c.h, width: c.w, compactionThreshold: 2)
                #expect(rle.counts == expected, "\(c.name): \(polygon)")
            }
        }
    }

    @Test("boxes give frBbox's counts")
    func boxes() throws {
        let file = try Self.file.get()
        #expect(file.boxes.count >= 8)
        for b in file.boxes {
            #expect(try RLE(bbox: b.bbox, height: b.h, width: b.w).counts == b.counts, "\(b.bbox)")
        }
    }
}

@Suite("Polygon edge cases")
struct PolygonEdgeTests {
    @Test("hand-checked: an integer square covers the pixels whose centres are inside")
    func integerSquare() throws {
        let rle = try RLE(polygon: [1, 1, 3, 1, 3, 3, 1, 3], height: 4, width: 4)
        // Centres 1.5 and 2.5 are inside [1, 3]; 3.5 is not.
        var expected = Mask(width: 4, height: 4)
        for y in 1...2 { for x in 1...2 { expected[x, y] = true } }
        #expect(rle.decode() == expected)
    }

    @Test("non-finite or out-of-range coordinates throw")
    func badCoordinates() {
        for bad in [Double.nan, .infinity, -.infinity, 1e9, -1.00001e8] {
            #expect(throws: SegError.self) { try RLE(polygon: [0, 0, bad, 0, 5, 5], height: 10, width: 10) }
        }
        #expect(throws: SegError.self) { try RLE(polygon: [0, 0, 5, 0, 5, 5], height: -1, width: 10) }
        #expect(throws: SegError.self) { try RLE(polygon: [0, 0, 5, 0, 5, 5], height: 1 << 20, width: 1 << 20) }
        #expect(throws: SegError.self) { try RLE(bbox: [0, 0, 1], height: 4, width: 4) }
        #expect(throws: SegError.self) { try RLE(polygons: [[0, 0, 4, 0, 4, .nan]], height: 4, width: 4) }
    }

    @Test("coordinates at the limit cost time in proportion to the image, not the coordinates")
    func hugeCoordinates() throws {
        let m = RLE.maxPolygonCoordinate
        let all = try RLE(polygon: [-m, -m, m, -m, m, m, -m, m], height: 300, width: 400)
        #expect(all.counts == [0, 120_000])
        // A thin sliver crossing the image from far away: steep edges of 5e8 upsampled steps.
        let sliver = try RLE(polygon: [100.2, -m, 101.4, -m, 101.4, m, 100.2, m], height: 50, width: 200)
        #expect(sliver.area == 50)
        #expect(sliver.boundingBox == [100, 0, 1, 50])  // pycocotools agrees (checked once: it needs 16 GB)
    }

    @Test("no polygon, no vertex, one or two vertices: empty masks")
    func degenerate() throws {
        #expect(try RLE(polygons: [], height: 3, width: 4).counts == [12])
        #expect(try RLE(polygon: [], height: 3, width: 4).counts == [12])
        #expect(try RLE(polygon: [1.5, 1.5], height: 3, width: 4).counts == [12])
        #expect(try RLE(polygon: [0, 0, 3, 2], height: 3, width: 4).counts == [12])
        // pycocotools would read a first polygon of 4 numbers as a box (and raise); here it is a line.
        #expect(try RLE(polygons: [[0, 0, 3, 2], [0, 0, 4, 0, 4, 3, 0, 3]], height: 3, width: 4).counts == [0, 12])
    }

    @Test("0-pixel images give the empty RLE (pycocotools' width-0 result is garbage)")
    func zeroSizeImages() throws {
        for (h, w) in [(0, 0), (0, 5), (5, 0)] {
            let rle = try RLE(polygon: [0, 0, 3, 0, 3, 3], height: h, width: w)
            #expect(rle.counts == [0])
            #expect(rle.decode() == Mask(width: w, height: h))
        }
    }

    @Test("a 1x1 image and boxes of zero or negative size")
    func tinyImages() throws {
        #expect(try RLE(bbox: [0, 0, 1, 1], height: 1, width: 1).counts == [0, 1])
        #expect(try RLE(bbox: [0.4, 0.4, 0.2, 0.2], height: 1, width: 1).counts == [0, 1])
        #expect(try RLE(bbox: [2, 2, 0, 0], height: 5, width: 5).counts == [25])
    }
}
