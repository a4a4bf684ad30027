/// A binary mask, row-major, one byte per pixel holding 0 or 1.
public struct Mask: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var bits: [UInt8]  // width * height, each 0 or 1

    public init(width: Int, height: Int, bits: [UInt8]) {
        precondition(width >= 0 && height >= 0 && bits.count == width * height, "Mask: pixel count mismatch")
        self.width = width
        self.height = height
        self.bits = bits
    }

    public init(width: Int, height: Int) {
        self.init(width: width, height: height, bits: [UInt8](repeating: 0, count: width * height))
    }

    public var size: PixelSize { PixelSize(width: width, height: height) }

    public subscript(x: Int, y: Int) -> Bool {
        get { bits[y * width + x] != 0 }
        set { bits[y * width + x] = newValue ? 1 : 0 }
    }

    /// Number of pixels set.
    public var area: Int {
        // Sums in 32-bit lanes over chunks that cannot overflow them, so the loop vectorises.
        bits.withUnsafeBufferPointer { b in
            var total = 0, start = 0
            while start < b.count {
                let end = min(start + (1 << 24), b.count)
                var chunk: UInt32 = 0
                for i in start..<end { chunk &+= UInt32(b[i]) }
                total += Int(chunk)
                start = end
            }
            return total
        }
    }

    /// The tightest box holding every set pixel, or nil for an empty mask.
    public var boundingBox: PixelBox? {
        var minX = width, minY = height, maxX = -1, maxY = -1
        bits.withUnsafeBufferPointer { b in
            for y in 0..<height {
                let row = b.baseAddress! + y * width
                // Most rows of a mask are empty: an OR over the row (branch-free, vectorised) skips them.
                var any: UInt8 = 0
                for x in 0..<width { any |= row[x] }
                if any == 0 { continue }
                if y < minY { minY = y }
                maxY = y
                var first = 0
                while row[first] == 0 { first += 1 }
                var last = width - 1
                while row[last] == 0 { last -= 1 }
                minX = min(minX, first)
                maxX = max(maxX, last)
            }
        }
        return maxX < 0 ? nil : PixelBox(minX: minX, minY: minY, maxX: maxX + 1, maxY: maxY + 1)
    }
}

/// Class or instance ids per pixel, row-major. Files hold 8- or 16-bit values (or palette
/// indices); 32 bits here leave room for panoptic ids.
public struct LabelMap: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var labels: [UInt32]  // width * height

    public init(width: Int, height: Int, labels: [UInt32]) {
        precondition(width >= 0 && height >= 0 && labels.count == width * height, "LabelMap: pixel count mismatch")
        self.width = width
        self.height = height
        self.labels = labels
    }

    public init(width: Int, height: Int, fill: UInt32 = 0) {
        self.init(width: width, height: height, labels: [UInt32](repeating: fill, count: width * height))
    }

    public var size: PixelSize { PixelSize(width: width, height: height) }

    public subscript(x: Int, y: Int) -> UInt32 {
        get { labels[y * width + x] }
        set { labels[y * width + x] = newValue }
    }

    /// The pixels holding `label`.
    public func mask(of label: UInt32) -> Mask {
        Mask(width: width, height: height, bits: labels.map { $0 == label ? 1 : 0 })
    }

    /// Each distinct value with its pixel count, in increasing value order.
    public func histogram() -> [(value: UInt32, count: Int)] {
        var counts: [UInt32: Int] = [:]
        for v in labels { counts[v, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
