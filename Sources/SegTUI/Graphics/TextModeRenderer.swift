import Foundation
import SegCore

/// Text mode at its best: display pixels into block glyphs (one fit per cell) and mask outlines
/// into braille dots. Pure functions of pixels into a `CellBuffer`, so the cell buffer and its
/// tests stay the single source of what text mode draws.
public enum TextModeRenderer {
    /// Cells for a grid of display pixels: ⌈width / blockWidth⌉ × ⌈height / blockHeight⌉ of them.
    /// Blocks running past the right or bottom edge repeat the edge pixels, so they fit the
    /// pixels that are there instead of inventing a colour.
    public static func render(_ pixels: RGBImage, symbols: BlockSymbols) -> CellBuffer {
        let bw = symbols.blockWidth, bh = symbols.blockHeight, n = symbols.pixelsPerCell
        let columns = (pixels.width + bw - 1) / bw, rows = (pixels.height + bh - 1) / bh
        var buffer = CellBuffer(rows: rows, columns: columns)
        guard columns > 0, rows > 0 else { return buffer }
        let w = pixels.width, h = pixels.height
        var r = [Int32](repeating: 0, count: n), g = r, b = r
        pixels.pixels.withUnsafeBufferPointer { px in
            r.withUnsafeMutableBufferPointer { r in
                g.withUnsafeMutableBufferPointer { g in
                    b.withUnsafeMutableBufferPointer { b in
                        for row in 0..<rows {
                            for column in 0..<columns {
                                for dy in 0..<bh {
                                    let y = min(row * bh + dy, h - 1)
                                    for dx in 0..<bw {
                                        let x = min(column * bw + dx, w - 1), o = (y * w + x) * 3, i = dy * bw + dx
                                        r[i] = Int32(px[o]); g[i] = Int32(px[o + 1]); b[i] = Int32(px[o + 2])
                                    }
                                }
                                let fit = symbols.fit(r: r.baseAddress!, g: g.baseAddress!, b: b.baseAddress!)
                                buffer[row, column] = Cell(fit.glyph, foreground: fit.foreground, background: fit.background)
                            }
                        }
                    }
                }
            }
        }
        return buffer
    }

    // MARK: Braille outlines

    /// Braille cells hold 2×4 dots; dot (x, y) of a cell is this bit of U+2800 + bits.
    static let brailleBits: [[UInt32]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]  // [y][x]

    /// The outline of a mask sampled at 2×4 dots per cell (the mask's pixels are the dots): a dot
    /// is on where the mask is set and one of its 4-neighbours is not (past the mask's edge counts
    /// as not set, as in `ImagePainter`). Rows × columns of braille characters, nil where a cell
    /// has no dot, so the caller keeps what is under it.
    public static func brailleOutline(_ mask: Mask) -> [[Unicode.Scalar?]] {
        let w = mask.width, h = mask.height
        let columns = (w + 1) / 2, rows = (h + 3) / 4
        var out = [[Unicode.Scalar?]](repeating: [Unicode.Scalar?](repeating: nil, count: columns), count: rows)
        let edge = mask.boundary
        for row in 0..<rows {
            for column in 0..<columns {
                var bits: UInt32 = 0
                for dy in 0..<4 {
                    for dx in 0..<2 {
                        let x = column * 2 + dx, y = row * 4 + dy
                        if x < w, y < h, edge.bits[y * w + x] != 0 { bits |= brailleBits[dy][dx] }
                    }
                }
                if bits != 0 { out[row][column] = Unicode.Scalar(0x2800 + bits) }
            }
        }
        return out
    }

    /// Draws an outline from `brailleOutline` over cells already in `buffer`, starting at
    /// (`row`, `column`): the dots take `color`, and the cell keeps its background so the image
    /// still shows between them (block glyphs under the dots are replaced; their background —
    /// the colour of most of the cell for the best fit — stays).
    public static func drawOutline(_ outline: [[Unicode.Scalar?]], color: RGB, into buffer: inout CellBuffer,
                                   row: Int = 0, column: Int = 0) {
        for (dy, line) in outline.enumerated() {
            let r = row + dy
            guard r >= 0, r < buffer.rows else { continue }
            for (dx, scalar) in line.enumerated() {
                let c = column + dx
                guard let scalar, c >= 0, c < buffer.columns else { continue }
                let under = buffer[r, c]
                buffer[r, c] = Cell(scalar, foreground: color, background: under.background ?? under.foreground)
            }
        }
    }
}
