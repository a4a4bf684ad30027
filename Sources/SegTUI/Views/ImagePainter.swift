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
    public var mask: Mask
    public var fill: RGB
    public var fillOpacity: Double
    public var boundary: RGB
    public var boundaryOpacity: Double
    /// Names this mask's content for `SampleCache` (nil: never cached). The caller guarantees that
    /// one key always names the same mask.
    public var cacheKey: String?

    public init(mask: Mask, fill: RGB, fillOpacity: Double, boundary: RGB, boundaryOpacity: Double, cacheKey: String? = nil) {
        self.mask = mask
        self.fill = fill
        self.fillOpacity = fillOpacity
        self.boundary = boundary
        self.boundaryOpacity = boundaryOpacity
        self.cacheKey = cacheKey
    }

    /// The theme's mask colours.
    public init(mask: Mask, theme: Theme) {
        self.init(mask: mask, fill: theme.maskFill, fillOpacity: theme.maskOpacity, boundary: theme.maskBoundary,
                  boundaryOpacity: theme.boundaryOpacity)
    }
}

/// Draws an image and masks over it into cells with the upper-half-block technique: the
/// character ▀ takes the upper display pixel as foreground and the lower as background.
enum ImagePainter {
    static let upperHalf: Unicode.Scalar = "\u{2580}"
    static let lowerHalf: Unicode.Scalar = "\u{2584}"
    /// Brightness ramp for terminals without colour, darkest first.
    static let ramp: [Unicode.Scalar] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    /// One overlay's coverage in display pixels, and which of them are inside and on its boundary.
    struct Layer {
        let overlay: MaskOverlay
        let coverage: [Float]
        let inside: [Bool]
        let boundary: [Bool]
        /// The display pixels with any coverage: x in `columns`, y in `rows` (empty when none).
        let columns: Range<Int>
        let rows: Range<Int>
    }

    /// Each overlay's coverage of the shown display pixels, with its inside and boundary pixels.
    /// `cache`: where samples of earlier frames are kept (nil: none, all computed now).
    static func layers(_ overlays: [MaskOverlay], image: RGBImage, layout: ImageLayout, grid: ImageSampler.Grid,
                       cache: SampleCache? = nil) -> [Layer] {
        let w = layout.shownWidth, h = layout.shownHeight
        // Past the edge of the view, the image may go on: a mask running off a zoomed view has no
        // boundary there. Past the edge of the image, it does.
        let cut = (left: layout.originX > 0, top: layout.originY > 0,
                   right: layout.originX + Double(w) / layout.scaleX < Double(image.width),
                   bottom: layout.originY + Double(h) / layout.scaleY < Double(image.height))
        return overlays.compactMap { overlay in
            let coverage = SampleCache.samples(in: cache, overlay.cacheKey, layout: layout) { ImageSampler.coverage(overlay.mask, grid: grid) }
            guard !coverage.isEmpty else { return nil }
            let inside = coverage.map { $0 >= 0.5 }
            // Work only where the mask is: most masks cover a small part of the view.
            var minX = w, maxX = -1, minY = h, maxY = -1
            coverage.withUnsafeBufferPointer { c in
                for y in 0..<h {
                    let row = y * w
                    guard let first = (0..<w).first(where: { c[row + $0] > 0 }) else { continue }
                    let last = (0..<w).last(where: { c[row + $0] > 0 })!
                    minX = min(minX, first); maxX = max(maxX, last); minY = min(minY, y); maxY = y
                }
            }
            func isInside(_ x: Int, _ y: Int) -> Bool {
                if x >= 0 && y >= 0 && x < w && y < h { return inside[y * w + x] }
                if x < 0 { return cut.left && isInside(0, y) }
                if x >= w { return cut.right && isInside(w - 1, y) }
                if y < 0 { return cut.top && isInside(x, 0) }
                return cut.bottom && isInside(x, h - 1)
            }
            // A display pixel is on the boundary when it is inside and a 4-neighbour is not.
            var boundary = [Bool](repeating: false, count: w * h)
            let columns = minX <= maxX ? minX..<(maxX + 1) : 0..<0, rows = minY <= maxY ? minY..<(maxY + 1) : 0..<0
            for y in rows {
                for x in columns where inside[y * w + x] {
                    boundary[y * w + x] = !isInside(x - 1, y) || !isInside(x + 1, y) || !isInside(x, y - 1) || !isInside(x, y + 1)
                }
            }
            return Layer(overlay: overlay, coverage: coverage, inside: inside, boundary: boundary, columns: columns, rows: rows)
        }
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
        // Later overlays are drawn over earlier ones.
        func color(_ x: Int, _ y: Int) -> RGB? {
            guard var c = baseColor(x, y) else { return nil }
            let i = y * w + x
            for layer in layers {
                if layer.boundary[i] {
                    c = c.blended(with: layer.overlay.boundary, amount: layer.overlay.boundaryOpacity)
                } else if layer.coverage[i] > 0 {
                    c = c.blended(with: layer.overlay.fill, amount: layer.overlay.fillOpacity * Double(layer.coverage[i]))
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
            let pixels = shown.map { $0.y * w + $0.x }
            if layers.contains(where: { layer in pixels.contains { layer.boundary[$0] } }) { return Cell("@", bold: true) }
            let masked = layers.contains { layer in pixels.contains { layer.inside[$0] } }
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
    static let capacity = 256

    public init() {}

    /// `compute()`, remembered in `cache` under `name` and `layout` when both are given.
    static func samples(in cache: SampleCache?, _ name: String?, layout: ImageLayout, compute: () -> [Float]) -> [Float] {
        guard let cache else { return compute() }
        return cache.samples(name, layout: layout, compute: compute)
    }

    private struct Key: Hashable {
        let name: String
        let layout: ImageLayout
    }

    /// The samples by image and layout, and their insertion order (oldest first is evicted).
    private struct Store {
        var entries: [Key: [Float]] = [:]
        var order: [Key] = []
    }

    private let store = Mutex(Store())

    func samples(_ name: String?, layout: ImageLayout, compute: () -> [Float]) -> [Float] {
        guard let name else { return compute() }
        let key = Key(name: name, layout: layout)
        if let hit = store.withLock({ $0.entries[key] }) { return hit }
        let value = compute()
        store.withLock { store in
            if store.entries.updateValue(value, forKey: key) == nil { store.order.append(key) }
            while store.order.count > Self.capacity { store.entries[store.order.removeFirst()] = nil }
        }
        return value
    }
}
