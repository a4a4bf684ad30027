import Foundation
import SegCore
import Synchronization

/// A rectangle of cells.
public struct CellRect: Equatable, Sendable {
    public var column: Int
    public var row: Int
    public var columns: Int
    public var rows: Int

    public init(column: Int, row: Int, columns: Int, rows: Int) {
        self.column = column
        self.row = row
        self.columns = max(0, columns)
        self.rows = max(0, rows)
    }

    public func contains(column c: Int, row r: Int) -> Bool {
        c >= column && c < column + columns && r >= row && r < row + rows
    }
}

/// A mask drawn over the image: a translucent fill and a stronger boundary.
public struct MaskOverlay {
    /// The mask, or its runs: a run-length mask (a proposal under review) is decoded only when its
    /// samples are not cached, so hundreds of them cost nothing on a frame that reuses them.
    enum Source {
        case mask(Mask)
        case runs(RLE)
    }

    var source: Source
    public var fill: RGB
    public var fillOpacity: Double
    public var boundary: RGB
    public var boundaryOpacity: Double
    /// Names this mask's content for `SampleCache` (nil: never cached). The caller guarantees that
    /// one key always names the same mask.
    public var cacheKey: String?

    public init(mask: Mask, fill: RGB, fillOpacity: Double, boundary: RGB, boundaryOpacity: Double, cacheKey: String? = nil) {
        source = .mask(mask)
        self.fill = fill
        self.fillOpacity = fillOpacity
        self.boundary = boundary
        self.boundaryOpacity = boundaryOpacity
        self.cacheKey = cacheKey
    }

    public init(runs: RLE, fill: RGB, fillOpacity: Double, boundary: RGB, boundaryOpacity: Double, cacheKey: String? = nil) {
        self.init(mask: Mask(width: 0, height: 0), fill: fill, fillOpacity: fillOpacity, boundary: boundary,
                  boundaryOpacity: boundaryOpacity, cacheKey: cacheKey)
        source = .runs(runs)
    }

    /// The theme's mask colours.
    public init(mask: Mask, theme: Theme) {
        self.init(mask: mask, fill: theme.maskFill, fillOpacity: theme.maskOpacity, boundary: theme.maskBoundary,
                  boundaryOpacity: theme.boundaryOpacity)
    }

    public var mask: Mask {
        switch source {
        case .mask(let mask): mask
        case .runs(let rle): rle.decode()
        }
    }

    public var maskSize: PixelSize {
        switch source {
        case .mask(let mask): mask.size
        case .runs(let rle): PixelSize(width: rle.width, height: rle.height)
        }
    }
}

/// Draws an image and masks over it into cells with the upper-half-block technique: the
/// character ▀ takes the upper display pixel as foreground and the lower as background.
enum ImagePainter {
    static let upperHalf: Unicode.Scalar = "\u{2580}"
    static let lowerHalf: Unicode.Scalar = "\u{2584}"
    /// Brightness ramp for terminals without colour, darkest first.
    static let ramp: [Unicode.Scalar] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    /// Where one overlay lies in the shown display pixels: which pixels are on its boundary,
    /// the coverage of the others, and the boundary's list, kept only for the rectangle
    /// `columns` × `rows` where it has any coverage (most masks cover a small part of the view).
    /// Cached whole by the overlay's key, so a frame with hundreds of unchanged masks costs their
    /// rectangles, not the view each. Two bytes a pixel: a proposal as large as a zoomed view
    /// holds a million of them, and hundreds are cached at once.
    struct LayerShape: Sendable {
        let columns: Range<Int>
        let rows: Range<Int>
        /// The coverage (0–255 for 0–1) off the boundary, 0 on it: what the fill is drawn with.
        let fill: [UInt8]
        let boundary: [Bool]
        /// The boundary's indices in row-major order: a graphics overlay blends each row's fill in
        /// one branch-free pass, then these few pixels.
        let edges: [Int32]
        /// Inside the mask: covered at least half (the boundary is inside).
        @inline(__always) func inside(_ i: Int) -> Bool { boundary[i] || fill[i] >= 128 }

        /// The index of display pixel (x, y) in the arrays (nil: outside the rectangle).
        @inline(__always) func index(_ x: Int, _ y: Int) -> Int? {
            guard columns.contains(x), rows.contains(y) else { return nil }
            return (y - rows.lowerBound) * columns.count + (x - columns.lowerBound)
        }
    }

    /// One overlay's shape, with its colours.
    struct Layer {
        let overlay: MaskOverlay
        let shape: LayerShape
        var columns: Range<Int> { shape.columns }
        var rows: Range<Int> { shape.rows }
        @inline(__always) func boundary(_ x: Int, _ y: Int) -> Bool { shape.index(x, y).map { shape.boundary[$0] } ?? false }
        @inline(__always) func inside(_ x: Int, _ y: Int) -> Bool { shape.index(x, y).map { shape.inside($0) } ?? false }
        /// What the layer draws (its mask by cache key, in its style) and where.
        var part: OverlayPart {
            OverlayPart(key: "\(overlay.cacheKey ?? "uncached") \(overlay.fill) \(overlay.fillOpacity) \(overlay.boundary) \(overlay.boundaryOpacity)",
                        box: PixelBox(minX: columns.lowerBound, minY: rows.lowerBound, maxX: columns.upperBound, maxY: rows.upperBound))
        }
    }

    /// Each overlay's coverage of the shown display pixels, with its inside and boundary pixels.
    /// `cache`: where shapes of earlier frames are kept (nil: none, all computed now).
    static func layers(_ overlays: [MaskOverlay], image: RGBImage, layout: ImageLayout, grid: ImageSampler.Grid,
                       cache: SampleCache? = nil) -> [Layer] {
        let w = layout.shownWidth, h = layout.shownHeight
        // Past the edge of the view, the image may go on: a mask running off a zoomed view has no
        // boundary there. Past the edge of the image, it does.
        let cut = (left: layout.originX > 0, top: layout.originY > 0,
                   right: layout.originX + Double(w) / layout.scaleX < Double(image.width),
                   bottom: layout.originY + Double(h) / layout.scaleY < Double(image.height))
        return overlays.compactMap { overlay in
            guard overlay.maskSize == image.size else { return nil }
            let shape = SampleCache.shape(in: cache, overlay.cacheKey, layout: layout) { () -> LayerShape? in
                ImageSampler.coverage(overlay.mask, grid: grid).map { Self.shape($0, width: w, height: h, cut: cut) }
            }
            return shape.map { Layer(overlay: overlay, shape: $0) }
        }
    }

    /// The rectangle of a coverage where it is above zero, and its inside and boundary there.
    static func shape(_ coverage: ImageSampler.Coverage, width w: Int, height h: Int,
                      cut: (left: Bool, top: Bool, right: Bool, bottom: Bool)) -> LayerShape {
        let cw = coverage.columns.count, cx = coverage.columns.lowerBound, cy = coverage.rows.lowerBound
        var minX = Int.max, maxX = -1, minY = Int.max, maxY = -1
        coverage.values.withUnsafeBufferPointer { c in
            for y in coverage.rows {
                let row = (y - cy) * cw
                guard let first = (0..<cw).first(where: { c[row + $0] > 0 }) else { continue }
                let last = (0..<cw).last(where: { c[row + $0] > 0 })!
                minX = min(minX, cx + first); maxX = max(maxX, cx + last); minY = min(minY, y); maxY = y
            }
        }
        let columns = minX <= maxX ? minX..<(maxX + 1) : 0..<0, rows = minY <= maxY ? minY..<(maxY + 1) : 0..<0
        let rw = columns.count
        var local = [Float](repeating: 0, count: rw * rows.count)
        for y in rows { for x in columns { local[(y - rows.lowerBound) * rw + x - columns.lowerBound] = coverage.values[(y - cy) * cw + x - cx] } }
        let inside = local.map { $0 >= 0.5 }
        func isInside(_ x: Int, _ y: Int) -> Bool {
            if x >= 0 && y >= 0 && x < w && y < h {
                guard columns.contains(x), rows.contains(y) else { return false }
                return inside[(y - rows.lowerBound) * rw + x - columns.lowerBound]
            }
            if x < 0 { return cut.left && isInside(0, y) }
            if x >= w { return cut.right && isInside(w - 1, y) }
            if y < 0 { return cut.top && isInside(x, 0) }
            return cut.bottom && isInside(x, h - 1)
        }
        // A display pixel is on the boundary when it is inside and a 4-neighbour is not.
        // Within the rectangle the neighbours are read directly; only its edge asks `isInside`.
        var boundary = [Bool](repeating: false, count: rw * rows.count)
        for y in rows {
            let row = (y - rows.lowerBound) * rw - columns.lowerBound
            let hasAbove = y > rows.lowerBound, hasBelow = y + 1 < rows.upperBound
            for x in columns where inside[row + x] {
                let i = row + x
                let left = x > columns.lowerBound ? inside[i - 1] : isInside(x - 1, y)
                let right = x + 1 < columns.upperBound ? inside[i + 1] : isInside(x + 1, y)
                let above = hasAbove ? inside[i - rw] : isInside(x, y - 1)
                let below = hasBelow ? inside[i + rw] : isInside(x, y + 1)
                boundary[i] = !(left && right && above && below)
            }
        }
        var fill = [UInt8](repeating: 0, count: local.count), edges: [Int32] = []
        for i in local.indices {
            if boundary[i] {
                edges.append(Int32(i))
            } else {
                fill[i] = UInt8(min(max(local[i], 0), 1) * 255 + 0.5)
            }
        }
        return LayerShape(columns: columns, rows: rows, fill: fill, boundary: boundary, edges: edges)
    }

    /// The shown part of the image in display pixels (cached by `cacheKey`, as `paint` does).
    static func samples(_ image: RGBImage, layout: ImageLayout, grid: ImageSampler.Grid, cacheKey: String?,
                        cache: SampleCache? = nil) -> [Float] {
        SampleCache.samples(in: cache, cacheKey, layout: layout) { ImageSampler.colors(image, grid: grid) }
    }

    /// `symbols`: half blocks draw each display pixel exactly; quadrants and sextants fit each
    /// cell's block of display pixels with the two colours and glyph of least error (`BlockSymbols.fit`).
    /// With those, `layout` must start the image on a cell's corner (`DisplayGrid.imageLayout`).
    static func paint(_ image: RGBImage, overlays: [MaskOverlay], layout: ImageLayout, into buffer: inout CellBuffer,
                      area: CellRect, colorMode: ColorMode, symbols: BlockSymbols = .halfBlocks, cacheKey: String? = nil,
                      cache: SampleCache? = nil) {
        let w = layout.shownWidth, h = layout.shownHeight
        guard w > 0, h > 0, area.rows > 0, area.columns > 0 else { return }
        let grid = ImageSampler.Grid(layout, imageWidth: image.width, imageHeight: image.height)
        let rgb = samples(image, layout: layout, grid: grid, cacheKey: cacheKey, cache: cache)
        let layers = self.layers(overlays, image: image, layout: layout, grid: grid, cache: cache)

        func baseColor(_ x: Int, _ y: Int) -> RGB? {
            guard x >= 0, y >= 0, x < w, y < h else { return nil }
            let o = (y * w + x) * 3
            return RGB(UInt8(min(max(rgb[o].rounded(), 0), 255)), UInt8(min(max(rgb[o + 1].rounded(), 0), 255)),
                       UInt8(min(max(rgb[o + 2].rounded(), 0), 255)))
        }
        // Per display row, the layers whose rectangle meets it (in drawing order): with hundreds
        // of small masks (proposals under review) a pixel then looks at a few, not all.
        var layersOfRow = [[Int]](repeating: [], count: h)
        for (k, layer) in layers.enumerated() { for y in layer.rows where y < h { layersOfRow[y].append(k) } }
        // Later overlays are drawn over earlier ones.
        func color(_ x: Int, _ y: Int) -> RGB? {
            guard var c = baseColor(x, y) else { return nil }
            for k in layersOfRow[y] {
                let layer = layers[k]
                guard let i = layer.shape.index(x, y) else { continue }
                if layer.shape.boundary[i] {
                    c = c.blended(with: layer.overlay.boundary, amount: layer.overlay.boundaryOpacity)
                } else if layer.shape.fill[i] > 0 {
                    c = c.blended(with: layer.overlay.fill, amount: layer.overlay.fillOpacity * Double(layer.shape.fill[i]) / 255)
                }
            }
            return c
        }
        /// A brightness character for the display pixels (x, y) of one cell, `@` on a boundary.
        func monochrome(_ points: [(x: Int, y: Int)]) -> Cell {
            let shown = points.filter { $0.x >= 0 && $0.y >= 0 && $0.x < w && $0.y < h }
            guard !shown.isEmpty else { return .blank }
            let luma = shown.map { baseColor($0.x, $0.y)!.luma }.reduce(0, +) / Double(shown.count)
            let index = min(ramp.count - 1, Int(luma / 256 * Double(ramp.count)))
            if layers.contains(where: { layer in shown.contains { layer.boundary($0.x, $0.y) } }) { return Cell("@", bold: true) }
            let masked = layers.contains { layer in shown.contains { layer.inside($0.x, $0.y) } }
            return Cell(ramp[index], reverse: masked)
        }

        if symbols != .halfBlocks {
            paintBlocks(symbols, width: w, height: h, layout: layout, area: area, colored: colorMode != .none, into: &buffer,
                        color: { color($0, $1)! }, monochrome: { monochrome($0) })
            return
        }

        let firstRow = layout.offsetY / 2
        let lastRow = min(area.rows - 1, (layout.offsetY + h - 1) / 2)
        guard firstRow <= lastRow else { return }
        for cellRow in firstRow...lastRow {
            let top = cellRow * 2 - layout.offsetY, bottom = top + 1
            let row = area.row + cellRow
            guard row >= 0, row < buffer.rows else { continue }
            for x in 0..<w {
                let localColumn = layout.offsetX + x
                let column = area.column + localColumn
                guard localColumn < area.columns, column >= 0, column < buffer.columns else { continue }
                if colorMode == .none {
                    buffer[row, column] = monochrome([(x, top), (x, bottom)])
                    continue
                }
                let upper = color(x, top), lower = color(x, bottom)
                if let upper {
                    buffer[row, column] = Cell(upperHalf, foreground: upper, background: lower)
                } else if let lower {
                    // The image starts on the lower half of this cell.
                    buffer[row, column] = Cell(lowerHalf, foreground: lower, background: nil)
                }
            }
        }
    }
}

extension ImagePainter {
    /// Quadrant or sextant cells over the shown `width` × `height` display pixels, which start on
    /// a cell's corner: `TextModeRenderer` fits each cell to the composited pixels. Without
    /// colours, `monochrome` draws each cell from its display pixels.
    fileprivate static func paintBlocks(_ symbols: BlockSymbols, width w: Int, height h: Int, layout: ImageLayout, area: CellRect,
                                        colored: Bool, into buffer: inout CellBuffer, color: (Int, Int) -> RGB,
                                        monochrome: ([(x: Int, y: Int)]) -> Cell) {
        let bw = symbols.blockWidth, bh = symbols.blockHeight
        var cells = CellBuffer(rows: (h + bh - 1) / bh, columns: (w + bw - 1) / bw)
        if colored {
            var pixels = RGBImage(width: w, height: h)
            for y in 0..<h { for x in 0..<w { let c = color(x, y); pixels[x, y] = (c.r, c.g, c.b) } }
            cells = TextModeRenderer.render(pixels, symbols: symbols)
        } else {
            for row in 0..<cells.rows {
                for column in 0..<cells.columns {
                    // A block past the image's edge repeats the edge pixels, as the colour fit does.
                    cells[row, column] = monochrome((0..<(bw * bh)).map { i in
                        (min(column * bw + i % bw, w - 1), min(row * bh + i / bw, h - 1))
                    })
                }
            }
        }
        let firstColumn = layout.offsetX / bw, firstRow = layout.offsetY / bh
        for row in 0..<cells.rows where firstRow + row < area.rows && area.row + firstRow + row < buffer.rows {
            for column in 0..<cells.columns where firstColumn + column < area.columns && area.column + firstColumn + column < buffer.columns {
                buffer[area.row + firstRow + row, area.column + firstColumn + column] = cells[row, column]
            }
        }
    }
}

/// Samples of the last frames, by what they show and where: most frames after a click differ
/// only in the mask being made, so the photo and the accepted objects are sampled once per
/// image, zoom and pan instead of once per frame. One per workbench state (`WorkbenchState.samples`):
/// its keys name images by the state's own generation numbers. It only remembers what `render`
/// would compute anyway, so render stays a function of the state.
public final class SampleCache: @unchecked Sendable {
    /// Entries kept: shapes are small (their rectangle only), and an image under review may
    /// show hundreds of proposals and objects.
    static let capacity = 4096

    public init() {}

    /// `compute()`, remembered in `cache` under `name` and `layout` when both are given.
    static func samples(in cache: SampleCache?, _ name: String?, layout: ImageLayout, compute: () -> [Float]) -> [Float] {
        guard let cache, let name else { return compute() }
        if case .samples(let hit)? = cache.entry(Key(name: name, layout: layout)) { return hit }
        let value = compute()
        cache.store(.samples(value), Key(name: name, layout: layout))
        return value
    }

    /// A mask's shape in the view, remembered as `samples` is.
    static func shape(in cache: SampleCache?, _ name: String?, layout: ImageLayout,
                      compute: () -> ImagePainter.LayerShape?) -> ImagePainter.LayerShape? {
        guard let cache, let name else { return compute() }
        let key = Key(name: "shape: " + name, layout: layout)
        if case .shape(let hit)? = cache.entry(key) { return hit }
        guard let value = compute() else { return nil }
        cache.store(.shape(value), key)
        return value
    }

    private struct Key: Hashable {
        let name: String
        let layout: ImageLayout
    }

    private enum Entry {
        case samples([Float])
        case shape(ImagePainter.LayerShape)
    }

    /// The entries by name and layout, and their insertion order (oldest first is evicted).
    private struct Store {
        var entries: [Key: Entry] = [:]
        var order: [Key] = []
    }

    private let store = Mutex(Store())

    private func entry(_ key: Key) -> Entry? { store.withLock { $0.entries[key] } }

    private func store(_ value: Entry, _ key: Key) {
        store.withLock { store in
            if store.entries.updateValue(value, forKey: key) == nil { store.order.append(key) }
            while store.order.count > Self.capacity { store.entries[store.order.removeFirst()] = nil }
        }
    }
}
