import SegCore

/// A palette of at most 256 colours for sixel: the `exact` colours first (mask fills and
/// boundaries, so a mask looks the same on every frame and in every terminal), then colours
/// chosen by median cut over the image's other pixels.
public struct SixelPalette: Sendable {
    public private(set) var colors: [RGB]
    public let exactCount: Int
    /// Nearest palette index for each 5-bit-per-channel colour cell, filled when first needed.
    private var nearest: [Int16]

    public static let maxColors = 256

    /// `exact` is deduplicated and cut to 256; the remaining registers go to median cut.
    public init(for image: RGBAImage, exact: [RGB], maxColors: Int = SixelPalette.maxColors) {
        var fixed: [RGB] = []
        for c in exact where !fixed.contains(c) && fixed.count < min(maxColors, Self.maxColors) { fixed.append(c) }
        exactCount = fixed.count
        let budget = min(maxColors, Self.maxColors) - fixed.count
        colors = fixed + (budget > 0 ? Self.medianCut(image, exact: fixed, count: budget) : [])
        nearest = [Int16](repeating: -1, count: 1 << 15)
    }

    /// The register for a colour: an exact colour's own register, else the nearest colour
    /// (Euclidean in RGB) to the centre of its 5-bit cell, remembered per cell.
    public mutating func index(of c: RGB) -> Int {
        for i in 0..<exactCount where colors[i] == c { return i }
        let cell = Int(c.r >> 3) << 10 | Int(c.g >> 3) << 5 | Int(c.b >> 3)
        if nearest[cell] >= 0 { return Int(nearest[cell]) }
        let (r, g, b) = (Int(c.r) | 4, Int(c.g) | 4, Int(c.b) | 4)
        var best = 0, bestDistance = Int.max
        for (i, p) in colors.enumerated() {
            let dr = Int(p.r) - r, dg = Int(p.g) - g, db = Int(p.b) - b
            let d = dr * dr + dg * dg + db * db
            if d < bestDistance { bestDistance = d; best = i }
        }
        // An image with only exact colours has no other register: the nearest exact one serves.
        nearest[cell] = Int16(best)
        return best
    }

    /// Median cut on a 5-bit-per-channel histogram of the opaque pixels that are not exact
    /// colours: split the box with the most pixels (that can still split) at the median of its
    /// widest channel; each box becomes its pixels' mean colour.
    static func medianCut(_ image: RGBAImage, exact: [RGB], count: Int) -> [RGB] {
        var histogram = [Int](repeating: 0, count: 1 << 15)
        var sums = [(r: Int, g: Int, b: Int)](repeating: (0, 0, 0), count: 1 << 15)
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<(image.width * image.height) where px[i * 4 + 3] >= 128 {
                let r = px[i * 4], g = px[i * 4 + 1], b = px[i * 4 + 2]
                // A linear scan: the exact colours are a handful (mask fill and boundary colours).
                if !exact.isEmpty && exact.contains(RGB(r, g, b)) { continue }
                let cell = Int(r >> 3) << 10 | Int(g >> 3) << 5 | Int(b >> 3)
                histogram[cell] += 1
                sums[cell].r += Int(r); sums[cell].g += Int(g); sums[cell].b += Int(b)
            }
        }
        var boxes: [[Int]] = [histogram.indices.filter { histogram[$0] > 0 }]
        if boxes[0].isEmpty { return [] }
        func channel(_ cell: Int, _ c: Int) -> Int { (cell >> (10 - 5 * c)) & 31 }
        func pixels(_ box: ArraySlice<Int>) -> Int { box.reduce(0) { $0 + histogram[$1] } }
        var counts = [pixels(boxes[0][...])]  // pixels per box, kept alongside
        while boxes.count < count {
            var pick = -1
            for i in boxes.indices where boxes[i].count > 1 && (pick < 0 || counts[i] > counts[pick]) { pick = i }
            guard pick >= 0 else { break }
            let box = boxes[pick]
            var low = [31, 31, 31], high = [0, 0, 0]
            for cell in box {
                for c in 0..<3 { let v = channel(cell, c); low[c] = min(low[c], v); high[c] = max(high[c], v) }
            }
            let widest = (0..<3).max { high[$0] - low[$0] < high[$1] - low[$1] }!
            let sorted = box.sorted { channel($0, widest) < channel($1, widest) }
            // Split where half the pixels are on each side, keeping both halves non-empty.
            let half = counts[pick] / 2
            var running = 0, cut = 1
            for (k, cell) in sorted.enumerated() {
                running += histogram[cell]
                if running >= half { cut = min(max(k + 1, 1), sorted.count - 1); break }
            }
            boxes[pick] = Array(sorted[..<cut])
            boxes.append(Array(sorted[cut...]))
            counts[pick] = pixels(sorted[..<cut])
            counts.append(pixels(sorted[cut...]))
        }
        return boxes.indices.map { i in
            let box = boxes[i], n = counts[i]
            let r = box.reduce(0) { $0 + sums[$1].r }, g = box.reduce(0) { $0 + sums[$1].g }, b = box.reduce(0) { $0 + sums[$1].b }
            return RGB(UInt8((r + n / 2) / n), UInt8((g + n / 2) / n), UInt8((b + n / 2) / n))
        }
    }
}

/// RGBA pixels into a sixel image (foot, mlterm, xterm in VT340 mode, WezTerm, iTerm2):
/// `ESC P 0;1;0 q`, raster attributes, palette, then bands of six pixel rows, each colour of a
/// band as one pass of characters `?`…`~` (63 + six bits, top pixel lowest), runs as `!n`.
/// Pixels with alpha below 128 are left unpainted (P2 = 1: the terminal keeps what was there).
public enum SixelEncoder {
    public static func encode(_ image: RGBAImage, exactColors: [RGB] = []) -> String {
        var palette = SixelPalette(for: image, exact: exactColors)
        return encode(image, palette: &palette)
    }

    /// Sixel colours are percentages, so a colour survives only to about 1/100: the terminal shows
    /// about p·255/100 (libsixel rounds it; xterm takes the top byte of p·65535/100, one lower at times).
    public static func percent(_ c: UInt8) -> Int { (Int(c) * 100 + 127) / 255 }

    public static func encode(_ image: RGBAImage, palette: inout SixelPalette) -> String {
        let w = image.width, h = image.height
        var out: [UInt8] = Array("\u{1B}P0;1;0q\"1;1;\(w);\(h)".utf8)
        guard w > 0, h > 0 else { return String(decoding: out + Array("\u{1B}\\".utf8), as: UTF8.self) }
        // Registers per pixel (-1: transparent), so the palette search runs once per pixel.
        var registers = [Int16](repeating: -1, count: w * h)
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<(w * h) where px[i * 4 + 3] >= 128 {
                registers[i] = Int16(palette.index(of: RGB(px[i * 4], px[i * 4 + 1], px[i * 4 + 2])))
            }
        }
        var used = [Bool](repeating: false, count: palette.colors.count)
        for r in registers where r >= 0 { used[Int(r)] = true }
        for (i, c) in palette.colors.enumerated() where used[i] {
            out += Array("#\(i);2;\(percent(c.r));\(percent(c.g));\(percent(c.b))".utf8)
        }
        // Per band: one row of six-bit columns per colour present in it.
        var bits = [[UInt8]](repeating: [], count: palette.colors.count)
        var present: [Int] = []
        for band in stride(from: 0, to: h, by: 6) {
            present.removeAll(keepingCapacity: true)
            for dy in 0..<min(6, h - band) {
                let rowStart = (band + dy) * w
                for x in 0..<w {
                    let r = Int(registers[rowStart + x])
                    guard r >= 0 else { continue }
                    if bits[r].isEmpty { bits[r] = [UInt8](repeating: 0, count: w); present.append(r) }
                    bits[r][x] |= 1 << dy
                }
            }
            for (k, r) in present.enumerated() {
                if k > 0 { out.append(UInt8(ascii: "$")) }  // back to the band's left edge
                out += Array("#\(r)".utf8)
                appendRuns(bits[r], to: &out)
                bits[r] = []
            }
            if band + 6 < h { out.append(UInt8(ascii: "-")) }  // next band
        }
        out += Array("\u{1B}\\".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// Sixel characters for one colour's columns; runs of four or more as `!n<char>`. Trailing
    /// empty columns are dropped: the next pass starts again at the band's left edge.
    static func appendRuns(_ columns: [UInt8], to out: inout [UInt8]) {
        var end = columns.count
        while end > 0 && columns[end - 1] == 0 { end -= 1 }
        var x = 0
        while x < end {
            let value = columns[x]
            var run = 1
            while x + run < end && columns[x + run] == value { run += 1 }
            let char = 63 + value
            if run >= 4 {
                out += Array("!\(run)".utf8)
                out.append(char)
            } else {
                for _ in 0..<run { out.append(char) }
            }
            x += run
        }
    }
}
