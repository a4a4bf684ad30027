import Testing
import SegCore
@testable import SegTUI

@Suite("Text mode symbols")
struct TextModeTests {
    static let red = RGB(255, 0, 0), blue = RGB(0, 0, 255)

    /// An image from rows of colours.
    static func image(_ rows: [[RGB]]) -> RGBImage {
        var image = RGBImage(width: rows[0].count, height: rows.count)
        for (y, row) in rows.enumerated() { for (x, c) in row.enumerated() { image[x, y] = (c.r, c.g, c.b) } }
        return image
    }

    @Test("sextant code points: U+1FB00 is sextant-1, the sequence skips ▌ ▐ █, U+1FB3B is sextant-23456")
    func sextantTable() {
        #expect(BlockSymbols.sextantGlyph(1) == "\u{1FB00}")
        #expect(BlockSymbols.sextantGlyph(20) == "\u{1FB13}")   // sextant-35
        #expect(BlockSymbols.sextantGlyph(22) == "\u{1FB14}")   // sextant-235: first after the skipped ▌
        #expect(BlockSymbols.sextantGlyph(62) == "\u{1FB3B}")
        #expect(BlockSymbols.sextantGlyph(21) == "\u{258C}")
        #expect(BlockSymbols.sextantGlyph(42) == "\u{2590}")
        // 60 distinct code points for the 60 patterns that need one.
        let fresh = (1..<63).filter { $0 != 21 && $0 != 42 }.map { BlockSymbols.sextantGlyph($0).value }
        #expect(Set(fresh).count == 60 && fresh.min() == 0x1FB00 && fresh.max() == 0x1FB3B)
    }

    @Test("left half red, right half blue: ▌ in red on blue, zero error, and ▀ for half blocks split by rows")
    func leftRightSplit() {
        let sextant = BlockSymbols.sextants.fit([Self.red, Self.blue, Self.red, Self.blue, Self.red, Self.blue])
        #expect(sextant.glyph == "\u{258C}")
        #expect(sextant.foreground == Self.red && sextant.background == Self.blue && sextant.error == 0)
        let quadrant = BlockSymbols.quadrants.fit([Self.red, Self.blue, Self.red, Self.blue])
        #expect(quadrant.glyph == "\u{258C}")
        #expect(quadrant.foreground == Self.red && quadrant.background == Self.blue && quadrant.error == 0)
        // Half blocks split rows: red above blue is ▀ in red on blue (the same pixels as today's painter).
        let half = BlockSymbols.halfBlocks.fit([Self.red, Self.blue])
        #expect(half.glyph == "\u{2580}" && half.foreground == Self.red && half.background == Self.blue && half.error == 0)
    }

    @Test("a uniform cell is a space in its own colour with zero error")
    func uniform() {
        let grey = RGB(90, 91, 92)
        for symbols in BlockSymbols.allCases {
            let fit = symbols.fit(Array(repeating: grey, count: symbols.pixelsPerCell))
            #expect(fit.glyph == " " && fit.background == grey && fit.foreground == grey && fit.error == 0)
        }
    }

    @Test("a diagonal: the split along it, drawn as ▞ with the colours swapped (same pixels as ▚)")
    func diagonal() {
        let a = RGB(10, 200, 30), b = RGB(240, 240, 240)
        // TL=a TR=b / BL=b BR=a: pattern of a is 1+8 = ▚; the canonical split puts the last pixel
        // (bottom-right) in the background, so it is drawn as ▞ in b on a.
        let fit = BlockSymbols.quadrants.fit([a, b, b, a])
        #expect(fit.glyph == "\u{259E}" && fit.foreground == b && fit.background == a && fit.error == 0)
        // Sextants: a staircase top-left to bottom-right.
        let stairs = BlockSymbols.sextants.fit([a, b, a, a, a, a])
        #expect(stairs.glyph == BlockSymbols.sextantGlyph(2) && stairs.foreground == b && stairs.background == a)
    }

    @Test("three colours in a sextant: the split with the least squared error, colours are the means")
    func threeColours() {
        // Top row white, the rest two near-blacks: white must be alone.
        let w = RGB(255, 255, 255), k1 = RGB(0, 0, 0), k2 = RGB(20, 20, 20)
        let fit = BlockSymbols.sextants.fit([w, w, k1, k2, k1, k2])
        #expect(fit.glyph == BlockSymbols.sextantGlyph(3))  // sextant-12
        #expect(fit.foreground == w && fit.background == RGB(10, 10, 10))
        #expect(fit.error == 4 * 3 * 100)  // each of four pixels off by 10 in three channels
        // Brute force over all 64 patterns agrees that no split does better.
        let block = [w, w, k1, k2, k1, k2]
        var best = Int.max
        for p in 0..<64 {
            func mean(_ set: [RGB]) -> (Double, Double, Double) {
                guard !set.isEmpty else { return (0, 0, 0) }
                let n = Double(set.count)
                return (set.map { Double($0.r) }.reduce(0, +) / n, set.map { Double($0.g) }.reduce(0, +) / n,
                        set.map { Double($0.b) }.reduce(0, +) / n)
            }
            let fg = block.indices.filter { p & (1 << $0) != 0 }.map { block[$0] }
            let bg = block.indices.filter { p & (1 << $0) == 0 }.map { block[$0] }
            var e = 0.0
            for (set, m) in [(fg, mean(fg)), (bg, mean(bg))] {
                for c in set { e += pow2(Double(c.r) - m.0) + pow2(Double(c.g) - m.1) + pow2(Double(c.b) - m.2) }
            }
            best = min(best, Int(e.rounded()))
        }
        #expect(best == fit.error)
    }

    func pow2(_ v: Double) -> Double { v * v }

    @Test("render: a 4×6 image into 2×2 sextant cells, edges repeated for a partial block")
    func renderGrid() {
        let r = Self.red, b = Self.blue, g = RGB(0, 255, 0)
        let image = Self.image([
            [r, b, g, g],
            [r, b, g, g],
            [r, b, g, g],
            [b, b, g, r],
            [b, b, g, r],
        ])
        let cells = TextModeRenderer.render(image, symbols: .sextants)
        #expect(cells.rows == 2 && cells.columns == 2)
        #expect(cells[0, 0] == Cell("\u{258C}", foreground: r, background: b))
        #expect(cells[0, 1] == Cell(" ", foreground: g, background: g))
        // Second band has two pixel rows; the third repeats the last: left all blue, right ▌ green on red.
        #expect(cells[1, 0] == Cell(" ", foreground: b, background: b))
        #expect(cells[1, 1] == Cell("\u{258C}", foreground: g, background: r))
    }

    @Test("braille outline of a 4×8 mask with a filled 4×6 rectangle: dots on its border only")
    func brailleOutline() {
        var mask = Mask(width: 4, height: 8)
        for y in 1..<7 { for x in 0..<4 { mask[x, y] = true } }
        let outline = TextModeRenderer.brailleOutline(mask)
        #expect(outline.count == 2 && outline[0].count == 2)
        // Cell (0,0): dots x 0–1, y 0–3. Row 0 is empty; row 1 is the top edge (dots 2 and 5);
        // x = 0 is the left edge on rows 2–3 (dots 3 and 7). 0x02|0x10|0x04|0x40 = 0x56.
        #expect(outline[0][0] == "\u{2856}")
        // Cell (0,1): x 2–3; top edge (2, 5), right edge x = 3 rows 2–3 (6, 8): 0x02|0x10|0x20|0x80 = 0xB2.
        #expect(outline[0][1] == "\u{28B2}")
        // Cell (1,0): y 4–7; left edge rows 4–5 (1, 2), bottom edge row 6 (3, 6), row 7 empty: 0x01|0x02|0x04|0x20.
        #expect(outline[1][0] == "\u{2827}")
        #expect(outline[1][1] == "\u{283C}")  // right edge rows 4–5 (4, 5), bottom (3, 6): 0x08|0x10|0x04|0x20
        // An interior-only cell has no dots: a 4×8 cell-aligned mask inside a larger one.
        var big = Mask(width: 6, height: 12)
        for y in 0..<12 { for x in 0..<6 { big[x, y] = true } }
        let inner = TextModeRenderer.brailleOutline(big)
        #expect(inner[1][1] == nil)
        #expect(inner[0][0] == "\u{284F}")  // top row (1, 4) and left column (1, 2, 3, 7)
    }

    @Test("outline drawn over rendered cells keeps their background")
    func drawOutline() {
        var cells = TextModeRenderer.render(Self.image([[Self.red, Self.blue], [Self.red, Self.blue], [Self.red, Self.blue]]),
                                            symbols: .sextants)
        let yellow = RGB(255, 255, 0)
        TextModeRenderer.drawOutline([["\u{2801}"]], color: yellow, into: &cells)
        #expect(cells[0, 0] == Cell("\u{2801}", foreground: yellow, background: Self.blue))
    }
}
