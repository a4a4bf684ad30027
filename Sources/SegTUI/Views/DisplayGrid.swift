import SegCore

/// How the image area maps onto terminal cells: how many display pixels one cell holds, and what
/// draws them (block symbols in text mode; the terminal's own pixels with kitty or sixel graphics).
public struct DisplayGrid: Hashable, Sendable {
    public let mode: GraphicsMode
    /// Text mode's symbols; in a graphics mode, what the full-screen views draw images with.
    public let symbols: BlockSymbols
    /// One cell in the terminal's pixels, when the terminal said (graphics need it; so do mouse
    /// reports in pixels).
    public let cellPixels: PixelSize?

    /// kitty: the first of this session's image ids (`KittyImageIDs`).
    public let imageIDBase: UInt32
    /// kitty: the image cells hold Unicode placeholders (else they stay blank and the images are
    /// placed at them directly).
    public let placeholders: Bool

    public init(mode: GraphicsMode = .text, symbols: BlockSymbols = .halfBlocks, cellPixels: PixelSize? = nil,
                imageIDBase: UInt32 = KittyImageIDs.defaultBase, placeholders: Bool = true) {
        self.mode = cellPixels == nil ? .text : mode
        self.symbols = symbols
        self.cellPixels = cellPixels
        self.imageIDBase = imageIDBase
        self.placeholders = placeholders
    }

    /// The same grid with another cell size (after a font change).
    public func with(cellPixels: PixelSize) -> DisplayGrid {
        DisplayGrid(mode: mode, symbols: symbols, cellPixels: cellPixels, imageIDBase: imageIDBase, placeholders: placeholders)
    }

    public static let halfBlocks = DisplayGrid()
    /// The cell size a graphics mode assumes when the terminal did not say.
    public static let assumedCell = PixelSize(width: 10, height: 20)
    /// What `segterm open` draws with when the terminal shows no graphics: quadrants halve the
    /// cell's width in pixels, and most fonts have them.
    public static let textDefault = DisplayGrid(symbols: .quadrants)

    /// Whether the image is drawn by the terminal in its own pixels.
    public var isGraphics: Bool { mode != .text }

    /// Display pixels per cell.
    public var cellWidth: Int { isGraphics ? cellPixels!.width : symbols.blockWidth }
    public var cellHeight: Int { isGraphics ? cellPixels!.height : symbols.blockHeight }

    /// The same grid drawn with text symbols (the full-screen views).
    public var text: DisplayGrid { DisplayGrid(mode: .text, symbols: symbols, cellPixels: cellPixels, imageIDBase: imageIDBase) }

    /// Where an image lands in `area`. Half blocks may start an image halfway down a cell (their
    /// glyphs have a lower half); every other grid starts it on a cell's corner, so each cell
    /// holds one whole block of display pixels and graphics are placed at a cell.
    public func imageLayout(_ size: PixelSize, area: CellRect, viewport: Viewport) -> ImageLayout {
        let aligned = isGraphics || symbols != .halfBlocks
        return ImageLayout(imageSize: size, viewWidth: area.columns * cellWidth, viewHeight: area.rows * cellHeight,
                           viewport: viewport, alignment: aligned ? (cellWidth, cellHeight) : (1, 1), pixelAspect: pixelAspect)
    }

    /// The cells an image laid out in `area` covers (its last row and column may be covered in
    /// part): where graphics are placed.
    public func imageCells(_ shown: ImageLayout, in area: CellRect) -> CellRect {
        CellRect(column: area.column + shown.offsetX / cellWidth, row: area.row + shown.offsetY / cellHeight,
                 columns: (shown.shownWidth + cellWidth - 1) / cellWidth, rows: (shown.shownHeight + cellHeight - 1) / cellHeight)
    }

    /// A display pixel's width over its height on the screen: 1 for the terminal's own pixels;
    /// for symbols, the cell's shape (as the terminal said, else twice as tall as wide) split
    /// by the block (quadrants on such a cell: 0.5, sextants 0.75, half blocks 1).
    public var pixelAspect: Double {
        if isGraphics { return 1 }
        let cell = cellPixels ?? PixelSize(width: 1, height: 2)
        return (Double(cell.width) / Double(symbols.blockWidth)) / (Double(cell.height) / Double(symbols.blockHeight))
    }
}

/// The kitty image ids of one session: per pane, the photo and its overlay's tiles. The base differs
/// between processes (`forProcess`), so two segterm sessions in one terminal (two tmux panes)
/// never replace each other's images; ids stay below 2^24, so a placeholder's colour names one.
public struct KittyImageIDs: Sendable {
    public static let defaultBase: UInt32 = 0x5E_00_00
    public let base: UInt32

    public init(base: UInt32) { self.base = base }

    /// 1024 ids per process (two panes of up to 256 overlay tiles each), 4096 processes apart.
    public static func forProcess(_ pid: Int32) -> UInt32 { 0x40_00_00 | (UInt32(truncatingIfNeeded: pid) & 0xFFF) << 10 }

    public func photo(lane: Int) -> UInt32 { base + UInt32(lane) * 2 + 1 }
    /// Tile `tile` (< 256, `OverlayTiles`) of pane `lane`'s overlay (lanes 0 and 1: ids up to base + 519).
    public func overlayTile(lane: Int, tile: Int) -> UInt32 { base + 8 + UInt32(lane) * 256 + UInt32(tile) }
}
