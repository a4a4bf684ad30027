/// A pixel position in image coordinates: x right, y down, 0-based. Pixel (x, y) covers
/// [x, x+1) × [y, y+1), so its centre is at (x + 0.5, y + 0.5).
public struct PixelPoint: Hashable, Sendable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public init(x: Int, y: Int) { self.x = x; self.y = y }
    public var description: String { "(\(x), \(y))" }
}

/// A size as width × height.
public struct PixelSize: Hashable, Sendable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
    public var pixelCount: Int { width * height }
    public var description: String { "\(width)x\(height)" }
}

/// An axis-aligned box of whole pixels, half-open: columns minX..<maxX, rows minY..<maxY.
public struct PixelBox: Hashable, Sendable, Codable, CustomStringConvertible {
    public var minX: Int
    public var minY: Int
    public var maxX: Int
    public var maxY: Int

    public init(minX: Int, minY: Int, maxX: Int, maxY: Int) {
        self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
    }

    /// The box spanned by two corner pixels, both included, in any order.
    public init(corner a: PixelPoint, _ b: PixelPoint) {
        self.init(minX: min(a.x, b.x), minY: min(a.y, b.y), maxX: max(a.x, b.x) + 1, maxY: max(a.y, b.y) + 1)
    }

    public var width: Int { max(0, maxX - minX) }
    public var height: Int { max(0, maxY - minY) }
    public var area: Int { width * height }
    public var isEmpty: Bool { width == 0 || height == 0 }

    public func contains(_ p: PixelPoint) -> Bool { p.x >= minX && p.x < maxX && p.y >= minY && p.y < maxY }

    /// The part of the box inside an image of `size`.
    public func clamped(to size: PixelSize) -> PixelBox {
        PixelBox(minX: min(max(minX, 0), size.width), minY: min(max(minY, 0), size.height),
                 maxX: min(max(maxX, 0), size.width), maxY: min(max(maxY, 0), size.height))
    }

    public var description: String { "[\(minX), \(minY), \(maxX), \(maxY))" }
}
