/// Resampling of masks, label maps and RGB images.
///
/// Conventions shared by every filter: pixel (x, y) covers [x, x+1) × [y, y+1), so source and
/// destination are aligned at their outer edges (pixel-centre mapping, PyTorch
/// `align_corners=False`). Resizing a 0-pixel source to a non-empty size gives all zeros (there is
/// nothing to sample). A negative target size throws `.invalid`; a side above 2^31 - 1 pixels
/// (source or target) or a target pixel count that cannot be represented throws `.tooLarge`.
/// Memory for the result is the caller's concern.

extension Mask {
    /// Nearest neighbour: destination pixel x takes source pixel floor((x + 0.5) * src / dst).
    public func resizedNearest(to size: PixelSize) throws -> Mask {
        let (w, h) = try Resampling.checkedTarget(size, from: self.size, channels: 1)
        let bits = Resampling.nearest(self.bits, width: width, height: height, toWidth: w, height: h, zero: 0)
        return Mask(width: w, height: h, bits: bits)
    }

    /// The fraction of each destination pixel covered by set source pixels (exact box filter with
    /// fractional pixel coverage), row-major, in 0...1. Used to draw a large mask in few cells.
    public func areaCoverage(to size: PixelSize) throws -> [Float] {
        let (w, h) = try Resampling.checkedTarget(size, from: self.size, channels: 1)
        var out = [Float](repeating: 0, count: w * h)
        guard width > 0, height > 0 else { return out }
        bits.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                Resampling.boxFilter(src, width: width, height: height, channels: 1, binary: true,
                                     toWidth: w, height: h) { i, sum, total in
                    dst[i] = Float(Double(sum) / Double(total))
                }
            }
        }
        return out
    }
}

extension LabelMap {
    /// Nearest neighbour, with the same pixel mapping as `Mask.resizedNearest(to:)`.
    public func resizedNearest(to size: PixelSize) throws -> LabelMap {
        let (w, h) = try Resampling.checkedTarget(size, from: self.size, channels: 1)
        let labels = Resampling.nearest(self.labels, width: width, height: height, toWidth: w, height: h, zero: 0)
        return LabelMap(width: w, height: h, labels: labels)
    }
}

extension RGBImage {
    /// Bilinear with half-pixel centres, as PyTorch `interpolate(mode="bilinear",
    /// align_corners=False, antialias=False)`: source coordinate (x + 0.5) * src / dst - 0.5,
    /// clamped at 0 below and to the last pixel above. Computed in Double, then rounded half up
    /// to 8 bits (PyTorch's own uint8 path may differ by one level on exact ties).
    public func resizedBilinear(to size: PixelSize) throws -> RGBImage {
        let (w, h) = try Resampling.checkedTarget(size, from: self.size, channels: 3)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        guard width > 0, height > 0, w > 0, h > 0 else { return RGBImage(width: w, height: h, pixels: out) }
        let xs = Resampling.linearTaps(source: width, destination: w)
        let ys = Resampling.linearTaps(source: height, destination: h)
        let sw = width
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let ty = ys[y]
                    let row0 = ty.low * sw * 3, row1 = ty.high * sw * 3
                    for x in 0..<w {
                        let tx = xs[x]
                        let c0 = tx.low * 3, c1 = tx.high * 3
                        for c in 0..<3 {
                            let top = (1 - tx.weight) * Double(src[row0 + c0 + c]) + tx.weight * Double(src[row0 + c1 + c])
                            let bottom = (1 - tx.weight) * Double(src[row1 + c0 + c]) + tx.weight * Double(src[row1 + c1 + c])
                            let value = (1 - ty.weight) * top + ty.weight * bottom
                            dst[(y * w + x) * 3 + c] = Resampling.roundHalfUp(value)
                        }
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Area averaging: each destination pixel is the mean of the source area it covers, source
    /// pixels weighted by their exact fractional overlap (OpenCV INTER_AREA when shrinking; when
    /// enlarging, a pixel straddling two source pixels mixes them by coverage). The sums are
    /// exact integers, so the only rounding is the final one, half up.
    public func resizedArea(to size: PixelSize) throws -> RGBImage {
        let (w, h) = try Resampling.checkedTarget(size, from: self.size, channels: 3)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        guard width > 0, height > 0 else { return RGBImage(width: w, height: h, pixels: out) }
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                Resampling.boxFilter(src, width: width, height: height, channels: 3, binary: false,
                                     toWidth: w, height: h) { i, sum, total in
                    // floor(sum / total + 1/2) in integers.
                    dst[i] = UInt8(clamping: (2 * sum + total) / (2 * total))
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}

/// The shared machinery.
enum Resampling {
    /// Sides up to 2^31 - 1 keep every index product below 2^63.
    static func checkedTarget(_ size: PixelSize, from source: PixelSize, channels: Int) throws -> (width: Int, height: Int) {
        guard size.width >= 0, size.height >= 0 else {
            throw SegError(.invalid, file: "", "cannot resize to a negative size \(size)")
        }
        let limit = Int(Int32.max)
        guard source.width <= limit, source.height <= limit else {
            throw SegError(.tooLarge, file: "", "cannot resize an image of \(source): a side is above \(limit) pixels")
        }
        let (pixels, overflow) = size.width.multipliedReportingOverflow(by: size.height)
        guard size.width <= limit, size.height <= limit, !overflow,
              !pixels.multipliedReportingOverflow(by: channels).overflow else {
            throw SegError(.tooLarge, file: "", "cannot resize to \(size): too many pixels")
        }
        return (size.width, size.height)
    }

    /// Source index for each destination index: floor((i + 0.5) * source / destination), in
    /// integers: ((2i + 1) * source) / (2 * destination), always < source.
    static func nearestIndices(source: Int, destination: Int) -> [Int] {
        (0..<destination).map { ((2 * $0 + 1) * source) / (2 * destination) }
    }

    static func nearest<T>(_ src: [T], width sw: Int, height sh: Int, toWidth w: Int, height h: Int, zero: T) -> [T] {
        var out = [T](repeating: zero, count: w * h)
        guard sw > 0, sh > 0, w > 0, h > 0 else { return out }
        let xs = nearestIndices(source: sw, destination: w)
        let ys = nearestIndices(source: sh, destination: h)
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                xs.withUnsafeBufferPointer { xs in
                    for y in 0..<h {
                        let from = ys[y] * sw, to = y * w
                        for x in 0..<w { d[to + x] = s[from + xs[x]] }
                    }
                }
            }
        }
        return out
    }

    /// The two source pixels and the weight of the second for each destination index (PyTorch's
    /// `area_pixel_compute_source_index` for linear modes).
    static func linearTaps(source: Int, destination: Int) -> [(low: Int, high: Int, weight: Double)] {
        let scale = Double(source) / Double(destination)
        return (0..<destination).map { i in
            let position = max((Double(i) + 0.5) * scale - 0.5, 0)
            let low = min(Int(position), source - 1)  // position >= 0: truncation is floor
            let high = low < source - 1 ? low + 1 : low
            return (low, high, min(max(position - Double(low), 0), 1))
        }
    }

    static func roundHalfUp(_ value: Double) -> UInt8 {
        UInt8(clamping: Int((value + 0.5).rounded(.down)))
    }

    /// For each destination index, the source indices it overlaps and the overlap lengths, in
    /// units where one source pixel is `destination` long and one destination pixel `source`
    /// long; the overlaps of one destination pixel add up to `source`.
    struct BoxTaps {
        var first: [Int] = []  // destination i uses entries first[i]..<first[i + 1]
        var index: [Int] = []
        var weight: [Int] = []

        init(source: Int, destination: Int) {
            first.reserveCapacity(destination + 1)
            for i in 0..<destination {
                first.append(index.count)
                let lo = i * source, hi = (i + 1) * source
                for j in (lo / destination)...((hi - 1) / destination) {
                    index.append(j)
                    weight.append(min((j + 1) * destination, hi) - max(j * destination, lo))
                }
            }
            first.append(index.count)
        }
    }

    /// Exact separable box filter. Calls `emit(i, sum, total)` for each destination sample i
    /// (row-major, interleaved channels) with the weighted sum of source values and the total
    /// weight (`sourceWidth * sourceHeight`); the mean is sum / total. With `binary`, any
    /// non-zero source byte counts as 1.
    static func boxFilter(_ src: UnsafeBufferPointer<UInt8>, width sw: Int, height sh: Int, channels: Int,
                          binary: Bool, toWidth w: Int, height h: Int, emit: (Int, Int, Int) -> Void) {
        guard sw > 0, sh > 0, w > 0, h > 0 else { return }
        let xt = BoxTaps(source: sw, destination: w), yt = BoxTaps(source: sh, destination: h)
        let total = sw * sh
        let rowLength = w * channels
        var horizontal = [Int](repeating: 0, count: rowLength)
        var accumulated = [Int](repeating: 0, count: rowLength)
        for y in 0..<h {
            for k in 0..<rowLength { accumulated[k] = 0 }
            for e in yt.first[y]..<yt.first[y + 1] {
                let sourceRow = yt.index[e] * sw * channels, wy = yt.weight[e]
                for x in 0..<w {
                    for c in 0..<channels {
                        var sum = 0
                        for f in xt.first[x]..<xt.first[x + 1] {
                            let v = Int(src[sourceRow + xt.index[f] * channels + c])
                            sum += (binary ? (v != 0 ? 1 : 0) : v) * xt.weight[f]
                        }
                        horizontal[x * channels + c] = sum
                    }
                }
                for k in 0..<rowLength { accumulated[k] += horizontal[k] * wy }
            }
            let base = y * rowLength
            for k in 0..<rowLength { emit(base + k, accumulated[k], total) }
        }
    }
}
