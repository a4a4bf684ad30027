extension Mask {
    /// For each set pixel, the Euclidean distance from its centre to the centre of the nearest
    /// unset pixel; 0 on unset pixels. Row-major, like `scipy.ndimage.distance_transform_edt(mask)`.
    ///
    /// A mask with no unset pixel has no finite answer: every pixel gets `+infinity`. (scipy
    /// returns finite numbers there, measured to a phantom background pixel just above the
    /// top-left corner — d² = (row + 1)² + column² — which would look like real distances.)
    public func distanceTransform() -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        let complete = forEachSquaredDistanceRow { y, row in
            out.withUnsafeMutableBufferPointer { dst in
                let base = y * width
                for x in 0..<width { dst[base + x] = Float(Double(row[x]).squareRoot()) }
            }
        }
        if !complete { return [Float](repeating: .infinity, count: width * height) }
        return out
    }

    /// The exact squared distances (integers: squared distances between pixel centres) behind
    /// `distanceTransform()`, row-major, or nil when the mask has pixels but none unset.
    public func squaredDistanceTransform() -> [Int]? {
        var out = [Int](repeating: 0, count: width * height)
        let complete = forEachSquaredDistanceRow { y, row in
            out.withUnsafeMutableBufferPointer { dst in
                let base = y * width
                for x in 0..<width { dst[base + x] = row[x] }
            }
        }
        return complete ? out : nil
    }

    /// Meijster, Roerdink & Hesselink's exact separable EDT: per column, the distance to the
    /// nearest unset pixel in that column; then per row, the lower envelope of the parabolas
    /// (x - i)² + g(i)², with integer arithmetic only. Calls `body` with each finished row of
    /// squared distances; returns false (without calling it) when no pixel is unset.
    private func forEachSquaredDistanceRow(_ body: (Int, UnsafeBufferPointer<Int>) -> Void) -> Bool {
        let w = width, h = height
        guard w > 0, h > 0 else { return true }
        // Larger than any real distance, so a column without an unset pixel never wins (and
        // below UInt32.max, so adding 1 cannot wrap).
        let infinity = UInt32(clamping: min(w + h, Int(UInt32.max) - 1))
        var g = [UInt32](repeating: 0, count: w * h)
        var anyUnset = false
        bits.withUnsafeBufferPointer { src in
            g.withUnsafeMutableBufferPointer { g in
                // Downward then upward sweeps, row by row so memory is read in order.
                for x in 0..<w { g[x] = src[x] != 0 ? infinity : 0 }
                for y in 1..<h {
                    let row = y * w
                    for x in 0..<w { g[row + x] = src[row + x] != 0 ? min(g[row - w + x] &+ 1, infinity) : 0 }
                }
                for y in stride(from: h - 2, through: 0, by: -1) {
                    let row = y * w
                    for x in 0..<w { g[row + x] = min(g[row + x], g[row + w + x] &+ 1) }
                }
                // After both sweeps row 0 is finite exactly in the columns holding an unset pixel.
                anyUnset = g[0..<w].contains { $0 < infinity }
            }
        }
        guard anyUnset else { return false }

        var sites = [Int](repeating: 0, count: w)  // s: the column of each parabola in the envelope
        var starts = [Int](repeating: 0, count: w)  // t: where each one starts to be the lowest
        var row = [Int](repeating: 0, count: w)
        g.withUnsafeBufferPointer { g in
            for y in 0..<h {
                let base = y * w
                // Exact for sides up to 2^30 pixels; beyond, the wrapping operators keep an
                // absurdly long mask from trapping, at the cost of meaningless values.
                @inline(__always) func f(_ x: Int, _ i: Int) -> Int {
                    let gi = Int(g[base + i])
                    return (x &- i) &* (x &- i) &+ gi &* gi
                }
                @inline(__always) func separation(_ i: Int, _ u: Int) -> Int {
                    let gi = Int(g[base + i]), gu = Int(g[base + u])
                    return (u &* u &- i &* i &+ gu &* gu &- gi &* gi) / (2 * (u - i))
                }
                var q = 0
                sites[0] = 0
                starts[0] = 0
                for u in 1..<w {
                    while q >= 0 && f(starts[q], sites[q]) > f(starts[q], u) { q -= 1 }
                    if q < 0 {
                        q = 0
                        sites[0] = u
                    } else {
                        // Non-negative here (the new parabola is not lower at starts[q] >= 0),
                        // so integer division rounds down as the method requires.
                        let start = 1 + separation(sites[q], u)
                        if start < w {
                            q += 1
                            sites[q] = u
                            starts[q] = start
                        }
                    }
                }
                for u in stride(from: w - 1, through: 0, by: -1) {
                    row[u] = f(u, sites[q])
                    if u == starts[q] { q -= 1 }
                }
                row.withUnsafeBufferPointer { body(y, $0) }
            }
        }
        return true
    }
}
