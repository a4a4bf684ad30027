import SegCore

/// Sends the panes' pixels to a graphics terminal after ncurses has drawn the cells: only what
/// the terminal does not show yet, so a click costs its overlay, not the photo.
public protocol GraphicsPresenter: AnyObject {
    /// Whether the cells must all be drawn again before presenting `panes` (sixel pixels stay on
    /// the screen where a pane went away until ncurses clears it).
    func needsClear(for panes: [PaneGraphics]) -> Bool
    /// The bytes for this frame. `repainted`: whether ncurses wrote a cell inside a rectangle
    /// during the frame (text written there covers sixel pixels).
    func present(_ panes: [PaneGraphics], repainted: (CellRect) -> Bool) -> String
    /// The bytes that take everything this presenter put on the terminal away (at exit).
    func finish() -> String
}

/// kitty graphics: per pane, the photo is transmitted once and the overlay — masks, prompts,
/// cursor — is a second, small image above it, so a click re-sends the overlay only.
/// With `placeholders` the photo shows through Unicode placeholder cells (which the workbench's
/// cell buffer holds, so ncurses and tmux carry them as text) and the overlay is placed relative
/// to it; without, both are placed at their cells, which every kitty-protocol terminal draws
/// (but tmux cannot carry).
public final class KittyPresenter: GraphicsPresenter {
    private struct Shown {
        var photoKey: String
        var cells: CellRect
        var overlayKey: String?
        /// Where the overlay is placed, relative to the image's first cell (nil: nothing drawn).
        var overlayCells: CellRect?
        /// Whether the placements are on the screen (a view over the pane takes them down).
        var placed = true
    }

    let ids: KittyImageIDs
    /// Inside tmux every command goes through its passthrough.
    let inTmux: Bool
    let placeholders: Bool
    /// The terminal's background: the photo is padded to whole cells in it, so the part of the
    /// last cell row and column the image does not cover looks like the rest of the screen.
    let background: RGB
    private var shown: [Int: Shown] = [:]

    public init(ids: KittyImageIDs, inTmux: Bool, placeholders: Bool = true, background: RGB = RGB(0, 0, 0)) {
        self.ids = ids
        self.inTmux = inTmux
        self.placeholders = placeholders
        self.background = background
    }

    private func wrap(_ command: String) -> String { inTmux ? KittyGraphics.tmuxPassthrough(command) : command }

    /// tmux wraps each command on its own; a multi-chunk transmission becomes one passthrough per chunk.
    private func wrapEach(_ commands: String) -> String {
        guard inTmux else { return commands }
        return commands.components(separatedBy: "\u{1B}\\").filter { !$0.isEmpty }.map { wrap($0 + "\u{1B}\\") }.joined()
    }

    public func needsClear(for panes: [PaneGraphics]) -> Bool { false }

    public func present(_ panes: [PaneGraphics], repainted: (CellRect) -> Bool) -> String {
        var out = ""
        for pane in panes {
            let photoID = ids.photo(lane: pane.lane), overlayID = ids.overlay(lane: pane.lane)
            let before = shown[pane.lane]
            let newPhoto = before?.photoKey != pane.photoKey || before?.cells != pane.cells
            // Placed directly, the images go with a screen clear: put them back (no pixels sent).
            let replace = before?.placed == false || (!placeholders && repainted(pane.cells))
            if newPhoto {
                // Encoding cannot fail for a well-formed image; if it ever did, the pane stays empty.
                let photo = pane.enlarged?(background) ?? Self.padded(pane.photo(), to: pane, fill: background)
                out += wrapEach((try? KittyGraphics.transmit(photo, id: photoID)) ?? "")
            }
            if newPhoto || (replace && !placeholders) {
                out += wrap(placeholders
                    ? KittyGraphics.placeVirtual(id: photoID, columns: pane.cells.columns, rows: pane.cells.rows)
                    : KittyGraphics.place(id: photoID, columns: pane.cells.columns, rows: pane.cells.rows, z: 0,
                                          at: (pane.cells.row, pane.cells.column)))
            }
            func placeOverlay(_ drawn: CellRect) -> String {
                wrap(placeholders
                    ? KittyGraphics.placeRelative(id: overlayID, parent: photoID, columns: drawn.columns, rows: drawn.rows,
                                                  z: 1, offset: (drawn.column, drawn.row))
                    : KittyGraphics.place(id: overlayID, columns: drawn.columns, rows: drawn.rows, z: 1,
                                          at: (pane.cells.row + drawn.row, pane.cells.column + drawn.column)))
            }
            var overlayCells = before?.overlayCells
            if newPhoto || pane.overlayKey == nil || pane.overlayKey != before?.overlayKey {
                // Only the cells the overlay draws in: most of it is transparent, and even a
                // transparent PNG of the whole pane costs kilobytes per click.
                let overlay = Self.padded(pane.overlay(), to: pane)
                overlayCells = Self.drawnCells(overlay, cell: pane.cell)
                if let drawn = overlayCells {
                    out += wrapEach((try? KittyGraphics.transmit(Self.crop(overlay, drawn, cell: pane.cell), id: overlayID)) ?? "")
                    out += placeOverlay(drawn)
                } else {
                    out += wrap(KittyGraphics.delete(id: overlayID))
                }
            } else if replace, let drawn = overlayCells {
                out += placeOverlay(drawn)  // still stored: placed again, no pixels sent
            }
            shown[pane.lane] = Shown(photoKey: pane.photoKey, cells: pane.cells, overlayKey: pane.overlayKey, overlayCells: overlayCells)
        }
        // A pane hidden by a view over it: its images are taken down (they would draw above the
        // view's text) but stay stored, so coming back costs a few placement commands.
        // Placeholder cells hide the photo themselves when the view covers them.
        for lane in shown.keys where !panes.contains(where: { $0.lane == lane }) && shown[lane]?.placed == true {
            if !placeholders { out += wrap(KittyGraphics.delete(id: ids.photo(lane: lane))) }
            out += wrap(KittyGraphics.delete(id: ids.overlay(lane: lane)))
            shown[lane]?.placed = false
        }
        return out
    }

    /// The image on the whole cells of its placement: the terminal scales an image to fill the
    /// placement's cells, so one ending partway into its last cell would be stretched by up to a
    /// cell, and a click near its far edge would land off the pixel under it.
    static func padded(_ image: RGBImage, to pane: PaneGraphics, fill: RGB = RGB(0, 0, 0)) -> RGBImage {
        image.padded(width: pane.cells.columns * pane.cell.width, height: pane.cells.rows * pane.cell.height, fill: fill)
    }

    static func padded(_ image: RGBAImage, to pane: PaneGraphics) -> RGBAImage {
        image.padded(width: pane.cells.columns * pane.cell.width, height: pane.cells.rows * pane.cell.height)
    }

    /// The cells (relative to the image's first cell) holding every pixel with alpha above 0;
    /// nil when the overlay is empty.
    static func drawnCells(_ image: RGBAImage, cell: PixelSize) -> CellRect? {
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<image.height {
                for x in 0..<image.width where px[(y * image.width + x) * 4 + 3] != 0 {
                    minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                }
            }
        }
        guard maxX >= 0 else { return nil }
        let column = minX / cell.width, row = minY / cell.height
        return CellRect(column: column, row: row, columns: maxX / cell.width - column + 1, rows: maxY / cell.height - row + 1)
    }

    /// The pixels of `cells` (relative to the image's first cell).
    static func crop(_ image: RGBAImage, _ cells: CellRect, cell: PixelSize) -> RGBAImage {
        image.cropped(x: cells.column * cell.width, y: cells.row * cell.height,
                      width: cells.columns * cell.width, height: cells.rows * cell.height)
    }

    public func finish() -> String {
        let lanes = 0..<2
        return lanes.map { wrap(KittyGraphics.delete(id: ids.photo(lane: $0), freeData: true))
            + wrap(KittyGraphics.delete(id: ids.overlay(lane: $0), freeData: true)) }.joined()
    }
}

/// sixel: the pane's cells stay blank to ncurses, and the photo with its overlay composited is
/// drawn over them after each frame. A frame that changed only the overlay re-sends the
/// rectangle of cells whose pixels changed; one where ncurses wrote into the pane, the whole pane.
public final class SixelPresenter: GraphicsPresenter {
    private struct Shown {
        var photoKey: String
        var cells: CellRect
        var overlayKey: String?
        var frame: RGBAImage
    }

    /// Colours kept exact in the palette (the masks' and the prompts'), so boundaries never dither.
    let exactColors: [RGB]
    /// The largest sixel image the terminal draws (XTSMGRAPHICS; nil: no limit known). xterm
    /// draws nothing at all of a larger one, so larger regions go as tiles of whole cells.
    let limit: PixelSize?
    private var shown: [Int: Shown] = [:]

    public init(exactColors: [RGB], limit: PixelSize? = nil) {
        self.exactColors = exactColors
        self.limit = limit
    }

    public func needsClear(for panes: [PaneGraphics]) -> Bool {
        shown.contains { lane, before in !panes.contains { $0.lane == lane && $0.cells == before.cells } }
    }

    public func present(_ panes: [PaneGraphics], repainted: (CellRect) -> Bool) -> String {
        var out = ""
        for lane in shown.keys where !panes.contains(where: { $0.lane == lane }) { shown[lane] = nil }
        for pane in panes {
            let before = shown[pane.lane]
            let samePlace = before.map { $0.photoKey == pane.photoKey && $0.cells == pane.cells } ?? false
            let wiped = repainted(pane.cells)
            if samePlace, !wiped, pane.overlayKey != nil, pane.overlayKey == before?.overlayKey { continue }
            let frame = pane.overlay().composited(over: pane.photo())
            var region = (x: 0, y: 0, width: frame.width, height: frame.height)
            if samePlace, !wiped, let previous = before?.frame {
                guard let changed = Self.changedRegion(previous, frame, cell: pane.cell) else {
                    shown[pane.lane]?.overlayKey = pane.overlayKey
                    continue
                }
                region = changed
            }
            out += emit(frame, region: region, at: pane.cells, cell: pane.cell)
            shown[pane.lane] = Shown(photoKey: pane.photoKey, cells: pane.cells, overlayKey: pane.overlayKey, frame: frame)
        }
        return out
    }

    public func finish() -> String { "" }

    /// The smallest rectangle of whole cells holding every pixel that differs, nil if none does.
    static func changedRegion(_ a: RGBAImage, _ b: RGBAImage, cell: PixelSize) -> (x: Int, y: Int, width: Int, height: Int)? {
        guard a.width == b.width, a.height == b.height else { return (0, 0, b.width, b.height) }
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        a.pixels.withUnsafeBufferPointer { pa in
            b.pixels.withUnsafeBufferPointer { pb in
                for y in 0..<b.height {
                    let row = y * b.width * 4
                    var x = 0
                    while x < b.width {
                        let o = row + x * 4
                        if pa[o] != pb[o] || pa[o + 1] != pb[o + 1] || pa[o + 2] != pb[o + 2] {
                            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                        }
                        x += 1
                    }
                }
            }
        }
        guard maxX >= 0 else { return nil }
        let x0 = minX / cell.width * cell.width, y0 = minY / cell.height * cell.height
        let x1 = min(b.width, (maxX / cell.width + 1) * cell.width), y1 = min(b.height, (maxY / cell.height + 1) * cell.height)
        return (x0, y0, x1 - x0, y1 - y0)
    }

    /// The region of `frame` as a sixel image at its cell. Its height is cut to whole sixel bands
    /// (six pixel rows) when the last band would run past the pane: a band reaching the row
    /// below could scroll the screen in a terminal with sixel scrolling on.
    private func emit(_ frame: RGBAImage, region: (x: Int, y: Int, width: Int, height: Int), at cells: CellRect,
                      cell: PixelSize) -> String {
        // The pane's cells end here; a band may not reach past them. When it would, the region
        // ends at the last whole band that fits, counted from its own top.
        let paneBottom = cells.rows * cell.height
        var height = region.height
        if region.y + (height + 5) / 6 * 6 > paneBottom { height = (paneBottom - region.y) / 6 * 6 }
        guard height > 0, region.width > 0 else { return "" }
        let tile = Self.tileSize(limit: limit, cell: cell) ?? (region.width, height)
        let whole = frame.cropped(x: region.x, y: region.y, width: region.width, height: height)
        // One palette for all the tiles, so no seam shows where they meet.
        var palette = SixelPalette(for: whole, exact: exactColors)
        var out = ""
        for y in stride(from: 0, to: height, by: tile.height) {
            for x in stride(from: 0, to: region.width, by: tile.width) {
                let part = whole.cropped(x: x, y: y, width: min(tile.width, region.width - x), height: min(tile.height, height - y))
                let row = cells.row + (region.y + y) / cell.height, column = cells.column + (region.x + x) / cell.width
                // Save the cursor, draw at the tile's cell, restore: ncurses' idea of the cursor stays true.
                out += "\u{1B}7\u{1B}[\(row + 1);\(column + 1)H" + SixelEncoder.encode(part, palette: &palette) + "\u{1B}8"
            }
        }
        return out
    }

    /// The largest tile of whole cells within `limit`, counting the last sixel band whole (a
    /// terminal sizes an image by its six-pixel bands); nil: no limit, or not even a cell fits.
    static func tileSize(limit: PixelSize?, cell: PixelSize) -> (width: Int, height: Int)? {
        guard let limit, cell.width > 0, cell.height > 0 else { return nil }
        let width = limit.width / cell.width * cell.width
        var height = limit.height / cell.height * cell.height
        while height > 0, (height + 5) / 6 * 6 > limit.height { height -= cell.height }
        return width > 0 && height > 0 ? (width, height) : nil
    }
}
