import SegCore

/// Which block characters text mode may use: each set splits a cell into `blockWidth` ×
/// `blockHeight` display pixels and has a glyph for every on/off pattern of them (bit i of a
/// pattern is pixel i in row-major order; a set bit is drawn in the foreground colour).
public enum BlockSymbols: String, Sendable, CaseIterable {
    /// ▀ ▄ █: 1×2, every terminal font has them.
    case halfBlocks = "half"
    /// ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█: 2×2, in most fonts.
    case quadrants
    /// U+1FB00… (Unicode 13, Symbols for Legacy Computing): 2×3, needs a recent font.
    case sextants

    public var blockWidth: Int { self == .halfBlocks ? 1 : 2 }
    public var blockHeight: Int { self == .sextants ? 3 : 2 }
    public var pixelsPerCell: Int { blockWidth * blockHeight }

    /// The glyph whose ink covers exactly the pixels set in `pattern`.
    public func glyph(_ pattern: Int) -> Unicode.Scalar {
        switch self {
        case .halfBlocks: Self.halfGlyphs[pattern & 3]
        case .quadrants: Self.quadrantGlyphs[pattern & 15]
        case .sextants: Self.sextantGlyph(pattern & 63)
        }
    }

    private static let halfGlyphs: [Unicode.Scalar] = [" ", "\u{2580}", "\u{2584}", "\u{2588}"]
    // Bits: 1 top-left, 2 top-right, 4 bottom-left, 8 bottom-right.
    private static let quadrantGlyphs: [Unicode.Scalar] = [
        " ", "\u{2598}", "\u{259D}", "\u{2580}", "\u{2596}", "\u{258C}", "\u{259E}", "\u{259B}",
        "\u{2597}", "\u{259A}", "\u{2590}", "\u{259C}", "\u{2584}", "\u{2599}", "\u{259F}", "\u{2588}",
    ]

    /// Sextant bits follow Unicode's numbering (sextant-1 top-left … sextant-6 bottom-right), so
    /// U+1FB00 + pattern − 1 — except that the four patterns older blocks already cover (empty,
    /// left column ▌, right column ▐, full █) were left out of the sequence.
    static func sextantGlyph(_ pattern: Int) -> Unicode.Scalar {
        switch pattern {
        case 0: return " "
        case 21: return "\u{258C}"
        case 42: return "\u{2590}"
        case 63: return "\u{2588}"
        default:
            let skipped = (pattern > 21 ? 1 : 0) + (pattern > 42 ? 1 : 0)
            return Unicode.Scalar(UInt32(0x1FB00 + pattern - 1 - skipped))!
        }
    }
}

/// The glyph and two colours that best draw one cell's block of pixels.
public struct BlockFit: Equatable, Sendable {
    public var pattern: Int
    public var glyph: Unicode.Scalar
    public var foreground: RGB
    public var background: RGB
    /// Sum over the block's pixels and channels of (drawn − true)², with the rounded colours.
    public var error: Int
}

extension BlockSymbols {
    /// chafa's exhaustive fit: every split of the block's pixels into two sets, each drawn in its
    /// mean colour; the split with the least squared error wins. A pattern and its complement
    /// are the same split with the colours swapped, so only patterns with the last pixel in the
    /// background are tried (32 for sextants). Ties keep the lower pattern, so a uniform block is
    /// a space in its own colour.
    /// `r`, `g`, `b` hold the block's pixels in row-major order (`pixelsPerCell` of each).
    @inline(__always)
    func fit(r: UnsafePointer<Int32>, g: UnsafePointer<Int32>, b: UnsafePointer<Int32>) -> BlockFit {
        let n = pixelsPerCell
        var totalR: Int32 = 0, totalG: Int32 = 0, totalB: Int32 = 0
        for i in 0..<n { totalR += r[i]; totalG += g[i]; totalB += b[i] }
        // SSE of a split = Σx² − |S₁|²/n₁ − |S₀|²/n₀, and Σx² is the same for every split:
        // maximise the last two terms. The foreground sums of every pattern come from a smaller
        // pattern's plus one pixel (its lowest set bit): one SIMD add per pattern, no loop over bits.
        let patterns = 1 << (n - 1)
        let total = SIMD4<Int32>(totalR, totalG, totalB, Int32(n))
        var best = 0, bestScore = -1.0
        withUnsafeTemporaryAllocation(of: SIMD4<Int32>.self, capacity: patterns) { sums in
            sums[0] = .zero
            for pattern in 0..<patterns {
                if pattern > 0 {
                    let i = pattern.trailingZeroBitCount
                    sums[pattern] = sums[pattern & (pattern - 1)] &+ SIMD4(r[i], g[i], b[i], 1)
                }
                let f = sums[pattern], rest = total &- f
                var score = Double(rest.x * rest.x + rest.y * rest.y + rest.z * rest.z) / Double(rest.w)
                if f.w > 0 { score += Double(f.x * f.x + f.y * f.y + f.z * f.z) / Double(f.w) }
                if score > bestScore + 1e-9 { bestScore = score; best = pattern }
            }
        }
        var sums = (fr: Int32(0), fg: Int32(0), fb: Int32(0), fn: Int32(0), br: Int32(0), bg: Int32(0), bb: Int32(0), bn: Int32(0))
        for i in 0..<n {
            if best & (1 << i) != 0 {
                sums.fr += r[i]; sums.fg += g[i]; sums.fb += b[i]; sums.fn += 1
            } else {
                sums.br += r[i]; sums.bg += g[i]; sums.bb += b[i]; sums.bn += 1
            }
        }
        func mean(_ sum: Int32, _ count: Int32) -> UInt8 { count == 0 ? 0 : UInt8((sum + count / 2) / count) }
        let background = RGB(mean(sums.br, sums.bn), mean(sums.bg, sums.bn), mean(sums.bb, sums.bn))
        // An empty foreground set (a uniform block) draws no ink: give it the background colour.
        let foreground = sums.fn == 0 ? background : RGB(mean(sums.fr, sums.fn), mean(sums.fg, sums.fn), mean(sums.fb, sums.fn))
        var error = 0
        for i in 0..<n {
            let c = best & (1 << i) != 0 ? foreground : background
            let dr = Int(c.r) - Int(r[i]), dg = Int(c.g) - Int(g[i]), db = Int(c.b) - Int(b[i])
            error += dr * dr + dg * dg + db * db
        }
        return BlockFit(pattern: best, glyph: glyph(best), foreground: foreground, background: background, error: error)
    }

    /// The best fit for a block given as colours in row-major order (`pixelsPerCell` of them).
    public func fit(_ block: [RGB]) -> BlockFit {
        precondition(block.count == pixelsPerCell, "BlockSymbols.fit: expected \(pixelsPerCell) pixels")
        let r = block.map { Int32($0.r) }, g = block.map { Int32($0.g) }, b = block.map { Int32($0.b) }
        return r.withUnsafeBufferPointer { r in
            g.withUnsafeBufferPointer { g in b.withUnsafeBufferPointer { b in fit(r: r.baseAddress!, g: g.baseAddress!, b: b.baseAddress!) } }
        }
    }
}
