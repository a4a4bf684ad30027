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
/// cursor — is drawn above it as a grid of tile images (`OverlayTiles`), so a click re-sends the
/// tiles it changed: with 500 proposals over the image, accepting one re-sends its tiles only.
/// With `placeholders` the photo shows through Unicode placeholder cells (which the workbench's
/// cell buffer holds, so ncurses and tmux carry them as text) and the tiles are placed relative
/// to it; without, all are placed at their cells, which every kitty-protocol terminal draws
/// (but tmux cannot carry).
public final class KittyPresenter: GraphicsPresenter {
    private struct Shown {
        var photoKey: String
        var cells: CellRect
        var overlayKey: String?
        var parts: [OverlayPart]?
        var tiles: OverlayTiles
        /// Per tile with pixels on the terminal, the cells they cover (relative to the image's first cell).
        var drawn: [Int: CellRect]
        /// Every tile's pixels as last sent (whole tiles, before cutting to their drawn cells):
        /// a change is composed in its own boxes and pasted in.
        var tileImages: [Int: RGBAImage]
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
    /// Every tile id transmitted, so `finish` frees them all.
    private var transmittedTiles: Set<UInt32> = []

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
            let photoID = ids.photo(lane: pane.lane)
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
            let tiles = OverlayTiles(cells: pane.cells, cell: pane.cell)
            var drawn = before?.drawn ?? [:]
            if newPhoto || before?.tiles != tiles {
                // Another grid, or tiles placed on a photo that is gone: start from none.
                for tile in drawn.keys.sorted() { out += wrap(KittyGraphics.delete(id: ids.overlayTile(lane: pane.lane, tile: tile))) }
                drawn = [:]
            }
            var tileImages = newPhoto || before?.tiles != tiles ? [:] : before?.tileImages ?? [:]
            let damage = self.damage(pane, before: before, tiles: tiles, newPhoto: newPhoto)
            var dirty: [Int] = []
            switch damage {
            case .everything:
                // Compose the overlay once and cut it up.
                let whole = Self.padded(pane.overlay(), to: pane)
                dirty = Array(0..<tiles.count)
                for tile in dirty { tileImages[tile] = Self.crop(whole, tiles.cells(of: tile), cell: pane.cell) }
            case .boxes(let boxes):
                let shown = PixelBox(minX: 0, minY: 0, maxX: pane.size.width, maxY: pane.size.height)
                for tile in tiles.touched(by: boxes) {
                    let tileBox = tiles.box(of: tile)
                    var image = tileImages[tile] ?? RGBAImage(width: tileBox.width, height: tileBox.height)
                    for box in boxes {
                        let clip = PixelBox(minX: max(box.minX, tileBox.minX, 0), minY: max(box.minY, tileBox.minY, 0),
                                            maxX: min(box.maxX, tileBox.maxX, shown.maxX), maxY: min(box.maxY, tileBox.maxY, shown.maxY))
                        guard !clip.isEmpty, let region = pane.overlayRegion else { continue }
                        image.paste(region(clip), x: clip.minX - tileBox.minX, y: clip.minY - tileBox.minY)
                    }
                    tileImages[tile] = image
                    dirty.append(tile)
                }
            }
            for tile in dirty {
                let id = ids.overlayTile(lane: pane.lane, tile: tile), tileCells = tiles.cells(of: tile)
                guard let image = tileImages[tile] else { continue }
                // Only the tile's cells the overlay draws in: most of it is transparent.
                if let cells = Self.drawnCells(image, cell: pane.cell) {
                    out += wrapEach((try? KittyGraphics.transmit(Self.crop(image, cells, cell: pane.cell), id: id)) ?? "")
                    transmittedTiles.insert(id)
                    let at = CellRect(column: tileCells.column + cells.column, row: tileCells.row + cells.row,
                                      columns: cells.columns, rows: cells.rows)
                    out += placeTile(id, at, pane: pane)
                    drawn[tile] = at
                } else if drawn[tile] != nil {
                    out += wrap(KittyGraphics.delete(id: id))
                    drawn[tile] = nil
                }
            }
            if replace {
                // Still stored: placed again, no pixels sent.
                for (tile, at) in drawn.sorted(by: { $0.key < $1.key }) where !dirty.contains(tile) {
                    out += placeTile(ids.overlayTile(lane: pane.lane, tile: tile), at, pane: pane)
                }
            }
            shown[pane.lane] = Shown(photoKey: pane.photoKey, cells: pane.cells, overlayKey: pane.overlayKey,
                                     parts: pane.overlayParts, tiles: tiles, drawn: drawn, tileImages: tileImages)
        }
        // A pane hidden by a view over it: its images are taken down (they would draw above the
        // view's text) but stay stored, so coming back costs a few placement commands.
        // Placeholder cells hide the photo themselves when the view covers them.
        for lane in shown.keys.sorted() where !panes.contains(where: { $0.lane == lane }) && shown[lane]?.placed == true {
            if !placeholders { out += wrap(KittyGraphics.delete(id: ids.photo(lane: lane))) }
            for tile in (shown[lane]?.drawn ?? [:]).keys.sorted() { out += wrap(KittyGraphics.delete(id: ids.overlayTile(lane: lane, tile: tile))) }
            shown[lane]?.placed = false
        }
        return out
    }

    /// Where the overlay may have changed since the last frame.
    enum Damage: Equatable {
        case everything
        /// Boxes of the shown display pixels (none: the same overlay).
        case boxes([PixelBox])
    }

    /// Everything for a new photo or another tile grid, or when the parts are not known (or were
    /// reordered); nothing when the overlay is the same; else the boxes of the changed parts.
    private func damage(_ pane: PaneGraphics, before: Shown?, tiles: OverlayTiles, newPhoto: Bool) -> Damage {
        guard let before, !newPhoto, before.tiles == tiles else { return .everything }
        if let key = pane.overlayKey, key == before.overlayKey { return .boxes([]) }
        guard pane.overlayRegion != nil, let old = before.parts, let new = pane.overlayParts,
              let boxes = OverlayDamage.boxes(from: old, to: new) else { return .everything }
        return .boxes(boxes)
    }

    private func placeTile(_ id: UInt32, _ at: CellRect, pane: PaneGraphics) -> String {
        wrap(placeholders
            ? KittyGraphics.placeRelative(id: id, parent: ids.photo(lane: pane.lane), columns: at.columns, rows: at.rows,
                                          z: 1, offset: (at.column, at.row))
            : KittyGraphics.place(id: id, columns: at.columns, rows: at.rows, z: 1,
                                  at: (pane.cells.row + at.row, pane.cells.column + at.column)))
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
        let photos = (0..<2).map { ids.photo(lane: $0) }
        return (photos + transmittedTiles.sorted()).map { wrap(KittyGraphics.delete(id: $0, freeData: true)) }.joined()
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
        /// The photo under the frame and the overlay's parts: a change is composed in its own boxes.
        var photo: RGBImage
        var parts: [OverlayPart]?
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
            if samePlace, !wiped, let before, let damage = Self.damage(pane, before: before) {
                // Only the changed parts' boxes are composed again and sent (whole cells each).
                var frame = before.frame
                for box in damage {
                    let patch = pane.overlayRegion!(box).composited(over: before.photo.cropped(box))
                    frame.paste(patch, x: box.minX, y: box.minY)
                }
                for box in Self.cellRegions(damage, cell: pane.cell, size: PixelSize(width: frame.width, height: frame.height)) {
                    out += emit(frame, region: (box.minX, box.minY, box.width, box.height), at: pane.cells, cell: pane.cell)
                }
                shown[pane.lane] = Shown(photoKey: pane.photoKey, cells: pane.cells, overlayKey: pane.overlayKey, frame: frame,
                                         photo: before.photo, parts: pane.overlayParts)
                continue
            }
            let photo = pane.photo()
            let frame = pane.overlay().composited(over: photo)
            var region = (x: 0, y: 0, width: frame.width, height: frame.height)
            if samePlace, !wiped, let previous = before?.frame {
                guard let changed = Self.changedRegion(previous, frame, cell: pane.cell) else {
                    shown[pane.lane]?.overlayKey = pane.overlayKey
                    continue
                }
                region = changed
            }
            out += emit(frame, region: region, at: pane.cells, cell: pane.cell)
            shown[pane.lane] = Shown(photoKey: pane.photoKey, cells: pane.cells, overlayKey: pane.overlayKey, frame: frame,
                                     photo: photo, parts: pane.overlayParts)
        }
        return out
    }

    /// The boxes widened to whole cells, those that meet merged into one (a cursor that moved a
    /// little is one region, not two overlapping ones).
    static func cellRegions(_ boxes: [PixelBox], cell: PixelSize, size: PixelSize) -> [PixelBox] {
        var regions = boxes.map { box in
            PixelBox(minX: box.minX / cell.width * cell.width, minY: box.minY / cell.height * cell.height,
                     maxX: min(size.width, (box.maxX + cell.width - 1) / cell.width * cell.width),
                     maxY: min(size.height, (box.maxY + cell.height - 1) / cell.height * cell.height))
        }
        var merged = true
        while merged {
            merged = false
            outer: for i in regions.indices {
                for j in regions.indices where j > i && OverlayDamage.intersects(regions[i], regions[j]) {
                    let a = regions[i], b = regions[j]
                    regions[i] = PixelBox(minX: min(a.minX, b.minX), minY: min(a.minY, b.minY), maxX: max(a.maxX, b.maxX), maxY: max(a.maxY, b.maxY))
                    regions.remove(at: j)
                    merged = true
                    break outer
                }
            }
        }
        return regions
    }

    /// The boxes of the shown pixels where the overlay changed since `before` (each once, cut to
    /// the frame), nil when they are not known (then the whole overlay is composed and compared).
    private static func damage(_ pane: PaneGraphics, before: Shown) -> [PixelBox]? {
        guard pane.overlayRegion != nil, let old = before.parts, let new = pane.overlayParts,
              let boxes = OverlayDamage.boxes(from: old, to: new) else { return nil }
        let size = PixelSize(width: before.frame.width, height: before.frame.height)
        var seen = Set<PixelBox>()
        return boxes.map { $0.clamped(to: size) }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    public func finish() -> String { "" }

    /// What lane `lane` shows now, photo and overlay composited (tests).
    func shownFrame(lane: Int) -> RGBAImage? { shown[lane]?.frame }

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
