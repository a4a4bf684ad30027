import Foundation
import Testing
@testable import SegCore

private struct LabelFile: Decodable {
    struct Case: Decodable {
        let name: String, h: Int, w: Int, bits: String
        let labels4: [UInt32], count4: Int, labels8: [UInt32], count8: Int
    }
    let cases: [Case]
}

private struct EDTFile: Decodable {
    struct Case: Decodable { let name: String, h: Int, w: Int, bits: String, squared: [Int], distance: [Double] }
    let cases: [Case]
    let scipy_all_set_3x4_squared: [Int]
}

/// A mask from rows of '#' (set) and '.' (unset).
private func mask(_ rows: [String]) -> Mask {
    let w = rows.first?.count ?? 0
    return Mask(width: w, height: rows.count, bits: rows.flatMap { $0.map { $0 == "#" ? UInt8(1) : 0 } })
}

@Suite("Connected components")
struct ConnectedComponentsTests {
    @Test("labels and counts equal scipy.ndimage.label, 4- and 8-connected")
    func matchesScipy() throws {
        let file = try COCOFixtures.load("labels", as: LabelFile.self)
        #expect(file.cases.count >= 10)
        for c in file.cases {
            let m = COCOFixtures.mask(c.bits, width: c.w, height: c.h)
            let four = try m.connectedComponents(.four)
            #expect(four.labels.labels == c.labels4, "\(c.name): 4-connected labels")
            #expect(four.count == c.count4, "\(c.name): 4-connected count")
            let eight = try m.connectedComponents(.eight)
            #expect(eight.labels.labels == c.labels8, "\(c.name): 8-connected labels")
            #expect(eight.count == c.count8, "\(c.name): 8-connected count")
        }
    }

    @Test("hand-computed: diagonal neighbours join only with 8-connectivity; numbering follows first pixels")
    func handComputed() throws {
        let m = mask([
            "#..#",
            ".#.#",
            "...#",
            "##..",
        ])
        let four = try m.connectedComponents(.four)
        #expect(four.count == 4)
        #expect(four.labels.labels == [1, 0, 0, 2, 0, 3, 0, 2, 0, 0, 0, 2, 4, 4, 0, 0])
        let eight = try m.connectedComponents(.eight)
        #expect(eight.count == 3)
        #expect(eight.labels.labels == [1, 0, 0, 2, 0, 1, 0, 2, 0, 0, 0, 2, 3, 3, 0, 0])
    }

    @Test("a component whose first row pixel is found late keeps the smaller number (U shape)")
    func mergeKeepsRasterOrder() throws {
        let m = mask([
            "#.#.#",
            "#.#.#",
            "#####",
        ])
        let c = try m.connectedComponents(.four)
        #expect(c.count == 1)
        #expect(Set(c.labels.labels) == [0, 1])
    }

    @Test("empty, 0-size, 1x1 and one-row masks")
    func edges() throws {
        #expect(try Mask(width: 0, height: 0).connectedComponents().count == 0)
        #expect(try Mask(width: 5, height: 0).connectedComponents().labels.labels.isEmpty)
        #expect(try Mask(width: 3, height: 2).connectedComponents().count == 0)
        let one = try Mask(width: 1, height: 1, bits: [1]).connectedComponents(.eight)
        #expect(one.count == 1 && one.labels.labels == [1])
        let row = try Mask(width: 6, height: 1, bits: [1, 0, 1, 1, 0, 1]).connectedComponents(.eight)
        #expect(row.count == 3 && row.labels.labels == [1, 0, 2, 2, 0, 3])
    }

    @Test("a 1000x1000 checkerboard: half a million components, no recursion")
    func manyComponents() throws {
        let n = 1000
        let m = Mask(width: n, height: n, bits: (0..<(n * n)).map { UInt8(($0 / n + $0 % n) % 2) })
        #expect(try m.connectedComponents(.four).count == n * n / 2)
        #expect(try m.connectedComponents(.eight).count == 1)
    }
}

@Suite("Euclidean distance transform")
struct DistanceTransformTests {
    @Test("squared distances equal scipy's exactly; distances within 2e-5")
    func matchesScipy() throws {
        let file = try COCOFixtures.load("edt", as: EDTFile.self)
        #expect(file.cases.count >= 8)
        for c in file.cases {
            let m = COCOFixtures.mask(c.bits, width: c.w, height: c.h)
            #expect(m.squaredDistanceTransform() == c.squared, "\(c.name): squared")
            let d = m.distanceTransform()
            #expect(d.count == c.distance.count)
            let worst = zip(d, c.distance).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 2e-5, "\(c.name): distance off by \(worst)")
        }
    }

    @Test("no unset pixel: +infinity (and nil squared), where scipy measures to a phantom pixel")
    func allSet() throws {
        let m = Mask(width: 4, height: 3, bits: [UInt8](repeating: 1, count: 12))
        #expect(m.squaredDistanceTransform() == nil)
        #expect(m.distanceTransform().allSatisfy { $0 == .infinity })
        // What scipy returns instead: d² = (row + 1)² + column², as documented.
        let scipy = try COCOFixtures.load("edt", as: EDTFile.self).scipy_all_set_3x4_squared
        #expect(scipy == (0..<12).map { ($0 / 4 + 1) * ($0 / 4 + 1) + ($0 % 4) * ($0 % 4) })
    }

    @Test("hand-computed: one hole in a 3x5 mask")
    func handComputed() {
        var m = Mask(width: 5, height: 3, bits: [UInt8](repeating: 1, count: 15))
        m[0, 1] = false
        #expect(m.squaredDistanceTransform() == [1, 2, 5, 10, 17, 0, 1, 4, 9, 16, 1, 2, 5, 10, 17])
        #expect(m.distanceTransform()[3] == Float(10.0.squareRoot()))
    }

    @Test("0-size, 1x1, empty and one-row masks")
    func edges() {
        #expect(Mask(width: 0, height: 4).distanceTransform().isEmpty)
        #expect(Mask(width: 0, height: 0).squaredDistanceTransform() == [])
        #expect(Mask(width: 1, height: 1).squaredDistanceTransform() == [0])
        #expect(Mask(width: 1, height: 1, bits: [1]).distanceTransform() == [.infinity])
        #expect(Mask(width: 3, height: 2).squaredDistanceTransform() == [0, 0, 0, 0, 0, 0])
        #expect(Mask(width: 6, height: 1, bits: [1, 1, 0, 1, 1, 1]).squaredDistanceTransform() == [4, 1, 0, 1, 4, 9])
    }
}

@Suite("Resize")
struct ResizeTests {
    @Test("nearest: floor((x + 0.5) * src / dst) for masks and label maps")
    func nearest() throws {
        // 3 -> 2 picks source 0 and 2; 2 -> 4 repeats each pixel twice.
        let labels = LabelMap(width: 3, height: 1, labels: [7, 8, 9])
        #expect(try labels.resizedNearest(to: PixelSize(width: 2, height: 1)).labels == [7, 9])
        #expect(try labels.resizedNearest(to: PixelSize(width: 5, height: 2)).labels == [7, 7, 8, 9, 9, 7, 7, 8, 9, 9])
        let m = Mask(width: 2, height: 2, bits: [1, 0, 0, 1])
        let up = try m.resizedNearest(to: PixelSize(width: 4, height: 4))
        #expect(up.bits == [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1])
        // 4 -> 3: (2i + 1) * 4 / 6 = 0, 2, 3.
        let wide = LabelMap(width: 4, height: 1, labels: [0, 1, 2, 3])
        #expect(try wide.resizedNearest(to: PixelSize(width: 3, height: 1)).labels == [0, 2, 3])
        #expect(try m.resizedNearest(to: PixelSize(width: 2, height: 2)) == m)
    }

    @Test("bilinear: half-pixel centres, clamped edges, rounded half up")
    func bilinear() throws {
        let src = RGBImage(width: 2, height: 1, pixels: [0, 2, 200, 100, 3, 0])
        let out = try src.resizedBilinear(to: PixelSize(width: 4, height: 1))
        // Source x: -0.25 -> 0, 0.25, 0.75, 1.25 -> 1 (clamped).
        // Channel 0: 0, 25, 75, 100. Channel 1: 2, 2.25 -> 2, 2.75 -> 3, 3. Channel 2: 200, 150, 50, 0.
        #expect(out.pixels == [0, 2, 200, 25, 2, 150, 75, 3, 50, 100, 3, 0])
        // A tie: 0.5 rounds up.
        let tie = try RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 1, 1, 1]).resizedBilinear(to: PixelSize(width: 1, height: 1))
        #expect(tie.pixels == [1, 1, 1])
        // 2x2 -> 1x1 samples the centre: the mean of four.
        let quad = RGBImage(width: 2, height: 2, pixels: [0, 0, 0, 10, 10, 10, 20, 20, 20, 31, 31, 31])
        #expect(try quad.resizedBilinear(to: PixelSize(width: 1, height: 1)).pixels == [15, 15, 15])
        // Identity.
        #expect(try quad.resizedBilinear(to: quad.size) == quad)
    }

    @Test("area: exact fractional coverage, rounded half up")
    func area() throws {
        // 3 -> 2: weights (1, 1/2) and (1/2, 1) over 1.5 pixels.
        let src = RGBImage(width: 3, height: 1, pixels: [0, 30, 255, 90, 30, 255, 30, 30, 0])
        let out = try src.resizedArea(to: PixelSize(width: 2, height: 1))
        // Channel 0: (0 + 45) / 1.5 = 30, (45 + 30) / 1.5 = 50. Channel 2: 255, (127.5 + 0) / 1.5 = 85.
        #expect(out.pixels == [30, 30, 255, 50, 30, 85])
        // 4x2 -> 2x1: plain 2x2 block means; 1.5 rounds to 2.
        let block = RGBImage(width: 4, height: 2, pixels: [
            1, 0, 0, 2, 0, 0, 10, 0, 0, 10, 0, 0,
            1, 0, 0, 2, 0, 0, 10, 0, 0, 11, 0, 0,
        ])
        #expect(try block.resizedArea(to: PixelSize(width: 2, height: 1)).pixels == [2, 0, 0, 10, 0, 0])
        // Enlarging 1 -> 3 copies; 2 -> 3 mixes the middle pixel half and half.
        let two = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 101, 101, 101])
        #expect(try two.resizedArea(to: PixelSize(width: 3, height: 1)).pixels == [0, 0, 0, 51, 51, 51, 101, 101, 101])
    }

    @Test("mask coverage: fractions of each destination pixel")
    func coverage() throws {
        let quadrant = Mask(width: 4, height: 4, bits: [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try quadrant.areaCoverage(to: PixelSize(width: 2, height: 2)) == [1, 0, 0, 0])
        // The centre pixel of 3x3 overlaps each 1.5x1.5 destination pixel by 0.5x0.5.
        var centre = Mask(width: 3, height: 3)
        centre[1, 1] = true
        #expect(try centre.areaCoverage(to: PixelSize(width: 2, height: 2)) == [Float](repeating: Float(1.0 / 9.0), count: 4))
        #expect(try centre.areaCoverage(to: PixelSize(width: 1, height: 1)) == [Float(1.0 / 9.0)])
        let full = Mask(width: 5, height: 7, bits: [UInt8](repeating: 1, count: 35))
        #expect(try full.areaCoverage(to: PixelSize(width: 3, height: 2)).allSatisfy { $0 == 1 })
    }

    @Test("0-size sources, 0-size targets, negative and unrepresentable targets")
    func sizes() throws {
        let empty = Mask(width: 0, height: 3)
        #expect(try empty.resizedNearest(to: PixelSize(width: 2, height: 2)).bits == [0, 0, 0, 0])
        #expect(try empty.areaCoverage(to: PixelSize(width: 2, height: 1)) == [0, 0])
        #expect(try RGBImage(width: 0, height: 0).resizedBilinear(to: PixelSize(width: 1, height: 1)).pixels == [0, 0, 0])
        #expect(try RGBImage(width: 0, height: 0).resizedArea(to: PixelSize(width: 1, height: 1)).pixels == [0, 0, 0])
        let m = Mask(width: 2, height: 2, bits: [1, 1, 1, 1])
        #expect(try m.resizedNearest(to: PixelSize(width: 0, height: 5)).bits.isEmpty)
        #expect(try m.areaCoverage(to: PixelSize(width: 3, height: 0)).isEmpty)
        #expect(throws: SegError.self) { try m.resizedNearest(to: PixelSize(width: -1, height: 2)) }
        #expect(throws: SegError.self) { try m.areaCoverage(to: PixelSize(width: Int.max, height: 2)) }
        #expect(throws: SegError.self) {
            try RGBImage(width: 1, height: 1).resizedBilinear(to: PixelSize(width: 1 << 31, height: 1 << 31))
        }
        // One row to one column and back.
        let row = Mask(width: 4, height: 1, bits: [1, 0, 0, 1])
        #expect(try row.resizedNearest(to: PixelSize(width: 1, height: 3)).bits == [0, 0, 0])
        #expect(try row.areaCoverage(to: PixelSize(width: 1, height: 1)) == [0.5])
    }
}

@Suite("Mask IoU and boundary")
struct MaskOpsTests {
    @Test("hand-computed intersection, union and IoU")
    func iou() throws {
        let a = Mask(width: 4, height: 1, bits: [1, 1, 0, 0])
        let b = Mask(width: 4, height: 1, bits: [0, 1, 1, 0])
        #expect(try a.overlap(with: b) == MaskOverlap(intersection: 1, union: 3))
        #expect(try a.iou(with: b) == 1.0 / 3.0)
        // Ignoring the third pixel removes it from the union only.
        let ignore = Mask(width: 4, height: 1, bits: [0, 0, 1, 0])
        #expect(try a.overlap(with: b, ignoring: ignore) == MaskOverlap(intersection: 1, union: 2))
        #expect(try a.iou(with: b, ignoring: ignore) == 0.5)
        #expect(try a.iou(with: a) == 1)
        #expect(try a.iou(with: Mask(width: 4, height: 1)) == 0)
    }

    @Test("0/0: both empty (everywhere, or wherever not ignored) is 1.0")
    func emptyUnion() throws {
        let empty = Mask(width: 3, height: 2)
        #expect(try empty.iou(with: empty) == 1)
        #expect(try Mask(width: 0, height: 0).iou(with: Mask(width: 0, height: 0)) == 1)
        let a = Mask(width: 3, height: 2, bits: [1, 0, 0, 0, 0, 0])
        let all = Mask(width: 3, height: 2, bits: [UInt8](repeating: 1, count: 6))
        #expect(try a.overlap(with: empty, ignoring: all) == MaskOverlap(intersection: 0, union: 0))
        #expect(try a.iou(with: empty, ignoring: all) == 1)
    }

    @Test("mismatched sizes throw")
    func mismatched() {
        let a = Mask(width: 3, height: 2)
        #expect(throws: SegError.self) { try a.iou(with: Mask(width: 2, height: 3)) }
        #expect(throws: SegError.self) { try a.iou(with: a, ignoring: Mask(width: 3, height: 1)) }
    }

    @Test("agrees with the RLE IoU of pycocotools' rule on random masks")
    func agreesWithRLE() throws {
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<30 {
            let w = Int.random(in: 1...40, using: &rng), h = Int.random(in: 1...40, using: &rng)
            let a = Mask(width: w, height: h, bits: (0..<(w * h)).map { _ in UInt8(rng.next() % 3 == 0 ? 1 : 0) })
            let b = Mask(width: w, height: h, bits: (0..<(w * h)).map { _ in UInt8(rng.next() % 2) })
            let overlap = try a.overlap(with: b)
            let rle = try RLE.iou([RLE(mask: a)], [RLE(mask: b)], iscrowd: [false])[0][0]
            #expect(rle == (overlap.intersection == 0 ? 0 : overlap.iou))
        }
    }

    @Test("boundary: set pixels with an unset or outside 4-neighbour")
    func boundary() {
        let block = mask([
            ".....",
            ".###.",
            ".###.",
            ".###.",
            ".....",
        ])
        #expect(block.boundary == mask([
            ".....",
            ".###.",
            ".#.#.",
            ".###.",
            ".....",
        ]))
        let full = Mask(width: 4, height: 3, bits: [UInt8](repeating: 1, count: 12))
        #expect(full.boundary == mask([
            "####",
            "#..#",
            "####",
        ]))
        // A diagonal neighbour does not shield a pixel.
        let plus = mask([
            "#####",
            "#####",
            "##.##",
            "#####",
            "#####",
        ])
        #expect(plus.boundary == mask([
            "#####",
            "#.#.#",
            "##.##",
            "#.#.#",
            "#####",
        ]))
        #expect(Mask(width: 1, height: 1, bits: [1]).boundary.bits == [1])
        #expect(Mask(width: 0, height: 0).boundary.bits.isEmpty)
        #expect(Mask(width: 3, height: 1, bits: [1, 1, 1]).boundary.bits == [1, 1, 1])
    }
}
