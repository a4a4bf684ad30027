/// Pixel counts of two masks compared over the pixels not ignored.
public struct MaskOverlap: Equatable, Sendable {
    public let intersection: Int
    public let union: Int

    public init(intersection: Int, union: Int) {
        self.intersection = intersection
        self.union = union
    }

    /// intersection / union. When the union is empty, both masks are empty over every pixel
    /// evaluated, so they agree perfectly: 1.0 (never 0/0 = NaN).
    public var iou: Double { union == 0 ? 1 : Double(intersection) / Double(union) }
}

extension Mask {
    /// |self ∧ other ∧ ¬ignore| and |(self ∨ other) ∧ ¬ignore|. Any non-zero byte counts as set.
    /// Throws `.invalid` when the sizes differ.
    public func overlap(with other: Mask, ignoring ignore: Mask? = nil) throws -> MaskOverlap {
        try requireSameSize(other, "masks")
        if let ignore { try requireSameSize(ignore, "the ignore mask and the masks") }
        var intersection = 0, union = 0
        bits.withUnsafeBufferPointer { a in
            other.bits.withUnsafeBufferPointer { b in
                if let ignore {
                    ignore.bits.withUnsafeBufferPointer { ig in
                        for i in 0..<a.count where ig[i] == 0 {
                            let sa = a[i] != 0, sb = b[i] != 0
                            if sa && sb { intersection += 1 }
                            if sa || sb { union += 1 }
                        }
                    }
                } else {
                    for i in 0..<a.count {
                        let sa = a[i] != 0, sb = b[i] != 0
                        if sa && sb { intersection += 1 }
                        if sa || sb { union += 1 }
                    }
                }
            }
        }
        return MaskOverlap(intersection: intersection, union: union)
    }

    /// IoU with `other` outside `ignore` (see `MaskOverlap.iou`: 1.0 when both are empty there).
    public func iou(with other: Mask, ignoring ignore: Mask? = nil) throws -> Double {
        try overlap(with: other, ignoring: ignore).iou
    }

    private func requireSameSize(_ other: Mask, _ what: String) throws {
        guard other.width == width, other.height == height else {
            throw SegError(.invalid, file: "", "\(what) differ in size: \(size) and \(other.size)")
        }
    }

    /// The set pixels with a 4-neighbour unset or outside the image (so set pixels on the image
    /// edge are boundary).
    public var boundary: Mask {
        let w = width, h = height
        var out = [UInt8](repeating: 0, count: w * h)
        bits.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * w
                    let edgeRow = y == 0 || y == h - 1
                    for x in 0..<w where src[row + x] != 0 {
                        let onEdge = edgeRow || x == 0 || x == w - 1
                        if onEdge || src[row + x - 1] == 0 || src[row + x + 1] == 0
                            || src[row + x - w] == 0 || src[row + x + w] == 0 {
                            dst[row + x] = 1
                        }
                    }
                }
            }
        }
        return Mask(width: w, height: h, bits: out)
    }
}
