import SegCore

/// One thing a pane's overlay draws — a mask in its style, a prompt, the cursor — and the display
/// pixels it may touch. Two frames' parts tell where their overlays can differ, so a keystroke
/// that accepts one proposal out of 500 redraws that proposal's rectangle, not the pane.
public struct OverlayPart: Hashable, Sendable {
    /// Names what is drawn and how (the same key draws the same pixels in the same box).
    public let key: String
    public let box: PixelBox

    public init(key: String, box: PixelBox) {
        self.key = key
        self.box = box
    }
}

enum OverlayDamage {
    /// The boxes where an overlay drawn from `new` can differ from one drawn from `old`: the
    /// boxes of the parts only one of them has. Nil when the parts both have are drawn in another
    /// order (where they overlap, the other one is on top now): then anything may differ.
    static func boxes(from old: [OverlayPart], to new: [OverlayPart]) -> [PixelBox]? {
        // A part drawn twice (the same mask twice in one style) counts twice: its nth copy is its own part.
        struct Numbered: Hashable { let part: OverlayPart; let copy: Int }
        func numbered(_ parts: [OverlayPart]) -> [Numbered] {
            var seen: [OverlayPart: Int] = [:]
            return parts.map { part in
                defer { seen[part, default: 0] += 1 }
                return Numbered(part: part, copy: seen[part, default: 0])
            }
        }
        let before = numbered(old), after = numbered(new)
        let beforeSet = Set(before), afterSet = Set(after)
        let keptInOldOrder = before.filter(afterSet.contains), keptInNewOrder = after.filter(beforeSet.contains)
        guard keptInOldOrder == keptInNewOrder else { return nil }
        return before.filter { !afterSet.contains($0) }.map(\.part.box) + after.filter { !beforeSet.contains($0) }.map(\.part.box)
    }

    static func intersects(_ a: PixelBox, _ b: PixelBox) -> Bool {
        a.minX < b.maxX && b.minX < a.maxX && a.minY < b.maxY && b.minY < a.maxY
    }
}

/// A pane cut into at most `limit` × `limit` tiles of whole cells (at least `smallest` each): a graphics terminal gets one
/// overlay image per tile, so a keystroke re-sends the tiles its change touches.
struct OverlayTiles: Equatable {
    static let limit = 16
    static let smallest = (columns: 6, rows: 3)
    let cells: CellRect
    let cell: PixelSize
    /// One tile, in cells.
    let tileColumns: Int
    let tileRows: Int

    init(cells: CellRect, cell: PixelSize) {
        self.cells = cells
        self.cell = cell
        // Not smaller than a few cells: each tile sent costs its own PNG and commands.
        tileColumns = max(Self.smallest.columns, (cells.columns + Self.limit - 1) / Self.limit)
        tileRows = max(Self.smallest.rows, (cells.rows + Self.limit - 1) / Self.limit)
    }

    var across: Int { (cells.columns + tileColumns - 1) / tileColumns }
    var down: Int { (cells.rows + tileRows - 1) / tileRows }
    var count: Int { across * down }

    /// Tile `index`'s cells, relative to the pane's first cell.
    func cells(of index: Int) -> CellRect {
        let column = index % across * tileColumns, row = index / across * tileRows
        return CellRect(column: column, row: row, columns: min(tileColumns, cells.columns - column), rows: min(tileRows, cells.rows - row))
    }

    /// Tile `index`'s display pixels, relative to the pane's first pixel.
    func box(of index: Int) -> PixelBox {
        let c = cells(of: index)
        return PixelBox(minX: c.column * cell.width, minY: c.row * cell.height,
                        maxX: (c.column + c.columns) * cell.width, maxY: (c.row + c.rows) * cell.height)
    }

    /// The tiles that meet any of `boxes`.
    func touched(by boxes: [PixelBox]) -> [Int] {
        (0..<count).filter { index in
            let tile = box(of: index)
            return boxes.contains { OverlayDamage.intersects($0, tile) }
        }
    }
}
