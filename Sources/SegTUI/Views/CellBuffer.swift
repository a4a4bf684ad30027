/// A 24-bit colour.
public struct RGB: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public var description: String { "#" + [r, g, b].map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

    /// `self` moved towards `other` by `amount` (0: self, 1: other), rounded.
    public func blended(with other: RGB, amount: Double) -> RGB {
        let t = min(max(amount, 0), 1)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - t) + Double(b) * t).rounded()) }
        return RGB(mix(r, other.r), mix(g, other.g), mix(b, other.b))
    }

    /// Rec. 601 luma, 0–255.
    public var luma: Double { 0.299 * Double(r) + 0.587 * Double(g) + 0.114 * Double(b) }
}

/// One terminal cell: a character and its colours (nil: the terminal's default).
public struct Cell: Equatable, Sendable {
    public var character: Unicode.Scalar
    /// Combining marks drawn in the same cell (kitty's image placeholders carry their row and column so).
    public var marks: [Unicode.Scalar]
    public var foreground: RGB?
    public var background: RGB?
    public var bold: Bool
    public var reverse: Bool

    public init(_ character: Unicode.Scalar = " ", marks: [Unicode.Scalar] = [], foreground: RGB? = nil, background: RGB? = nil,
                bold: Bool = false, reverse: Bool = false) {
        self.character = character
        self.marks = marks
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.reverse = reverse
    }

    public static let blank = Cell()
}

/// What a frame looks like, before any terminal sees it: rows × columns of cells.
/// Views render into it; the terminal edge writes it out. Tests read it.
public struct CellBuffer: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public private(set) var cells: [Cell]

    public init(rows: Int, columns: Int) {
        self.rows = max(0, rows)
        self.columns = max(0, columns)
        cells = Array(repeating: .blank, count: self.rows * self.columns)
    }

    public subscript(row: Int, column: Int) -> Cell {
        get { cells[row * columns + column] }
        set { cells[row * columns + column] = newValue }
    }

    /// Writes `text` from (row, column), clipped at the right edge and outside the buffer.
    public mutating func write(_ text: String, row: Int, column: Int, foreground: RGB? = nil, background: RGB? = nil,
                               bold: Bool = false, reverse: Bool = false) {
        guard row >= 0, row < rows else { return }
        var col = column
        for scalar in text.unicodeScalars {
            if col >= columns { break }
            if col >= 0 {
                self[row, col] = Cell(scalar, foreground: foreground, background: background, bold: bold, reverse: reverse)
            }
            col += 1
        }
    }

    /// Fills a row from `column` to the right edge.
    public mutating func fillRow(_ row: Int, from column: Int = 0, with cell: Cell) {
        guard row >= 0, row < rows else { return }
        for col in max(0, column)..<columns { self[row, col] = cell }
    }

    /// The characters of one row, for tests and text captures.
    public func text(row: Int) -> String {
        guard row >= 0, row < rows else { return "" }
        var s = String.UnicodeScalarView()
        for col in 0..<columns { s.append(self[row, col].character) }
        return String(s)
    }
}
