import SegCore

/// Which part of an image a view shows: `zoom` is relative to fitting the whole image, the
/// centre is in image pixels (nil: the image's centre).
public struct Viewport: Equatable, Sendable {
    public var zoom: Double
    public var centerX: Double?
    public var centerY: Double?

    public init(zoom: Double = 1, centerX: Double? = nil, centerY: Double? = nil) {
        self.zoom = zoom
        self.centerX = centerX
        self.centerY = centerY
    }

    public static let fit = Viewport()
}

/// Where the image lands in a view of `width` × `height` display pixels (see `DisplayGrid` for how
/// many a cell holds).
public struct ImageLayout: Hashable, Sendable {
    /// Display pixels per image pixel, across and down: they differ where display pixels are not
    /// square (quadrants split a cell twice as tall as wide into pixels twice as tall as wide).
    public let scaleX: Double
    public let scaleY: Double
    /// Image coordinates of the top-left corner of the shown part.
    public let originX: Double
    public let originY: Double
    /// The shown part, in display pixels, and where it starts in the view.
    public let shownWidth: Int
    public let shownHeight: Int
    public let offsetX: Int
    public let offsetY: Int

    /// `alignment`: the image starts at a multiple of these display pixels (a cell's corner).
    /// `pixelAspect`: a display pixel's width over its height on the screen, so that image pixels
    /// stay square there.
    public init(imageSize: PixelSize, viewWidth: Int, viewHeight: Int, viewport: Viewport, alignment: (x: Int, y: Int) = (1, 1),
                pixelAspect: Double = 1) {
        let iw = Double(max(imageSize.width, 1)), ih = Double(max(imageSize.height, 1))
        let vw = max(viewWidth, 0), vh = max(viewHeight, 0)
        let aspect = pixelAspect > 0 ? pixelAspect : 1
        let fit = min(Double(vw) * aspect / iw, Double(vh) / ih)
        let scaleY = max(fit * max(viewport.zoom, 1e-6), 1e-9), scaleX = scaleY / aspect
        let shownWidth = min(vw, max(vw > 0 ? 1 : 0, Int((iw * scaleX).rounded())))
        let shownHeight = min(vh, max(vh > 0 ? 1 : 0, Int((ih * scaleY).rounded())))
        let spanX = Double(shownWidth) / scaleX, spanY = Double(shownHeight) / scaleY
        let cx = viewport.centerX ?? iw / 2, cy = viewport.centerY ?? ih / 2
        self.scaleX = scaleX
        self.scaleY = scaleY
        originX = min(max(cx - spanX / 2, 0), max(iw - spanX, 0))
        originY = min(max(cy - spanY / 2, 0), max(ih - spanY, 0))
        self.shownWidth = shownWidth
        self.shownHeight = shownHeight
        offsetX = (vw - shownWidth) / 2 / max(alignment.x, 1) * max(alignment.x, 1)
        offsetY = (vh - shownHeight) / 2 / max(alignment.y, 1) * max(alignment.y, 1)
    }

    /// The image pixel under display pixel (x, y) of the view, or nil outside the image.
    public func imagePixel(displayX x: Int, displayY y: Int, imageSize: PixelSize) -> PixelPoint? {
        imagePixel(shownX: Double(x - offsetX) + 0.5, shownY: Double(y - offsetY) + 0.5, imageSize: imageSize)
    }

    /// The image pixel at a point of the shown part, in display pixels from its top-left corner
    /// (fractions count: a pointer reported in terminal pixels falls inside a display pixel).
    public func imagePixel(shownX dx: Double, shownY dy: Double, imageSize: PixelSize) -> PixelPoint? {
        guard dx >= 0, dy >= 0, dx <= Double(shownWidth), dy <= Double(shownHeight) else { return nil }
        let ix = Int((originX + dx / scaleX).rounded(.down))
        let iy = Int((originY + dy / scaleY).rounded(.down))
        guard ix >= 0, iy >= 0, ix < imageSize.width, iy < imageSize.height else { return nil }
        return PixelPoint(x: ix, y: iy)
    }
}

/// Area-averaged sampling of an image region onto display pixels: each display pixel is the mean
/// of the image pixels it covers, weighted by the covered fraction (an exact box filter), so
/// thin structures fade instead of flickering in and out as the zoom changes.
enum ImageSampler {
    /// Source indices and weights (summing to 1) for each output position along one axis.
    struct Taps {
        var start: [Int] = []     // per output: index into `sources`
        var count: [Int] = []
        var sources: [Int] = []
        var weights: [Float] = []
    }

    static func taps(origin: Double, scale: Double, outputs: Int, inputLength: Int) -> Taps {
        var taps = Taps()
        taps.start.reserveCapacity(outputs)
        for o in 0..<outputs {
            let lo = min(max(origin + Double(o) / scale, 0), Double(inputLength))
            let hi = min(max(origin + Double(o + 1) / scale, 0), Double(inputLength))
            taps.start.append(taps.sources.count)
            var first = Int(lo.rounded(.down))
            var last = Int(hi.rounded(.up)) - 1
            first = min(max(first, 0), inputLength - 1)
            last = min(max(last, first), inputLength - 1)
            let span = hi - lo
            if span <= 0 {
                taps.sources.append(first)
                taps.weights.append(1)
                taps.count.append(1)
                continue
            }
            var n = 0
            for s in first...last {
                let covered = min(hi, Double(s + 1)) - max(lo, Double(s))
                if covered > 0 {
                    taps.sources.append(s)
                    taps.weights.append(Float(covered / span))
                    n += 1
                }
            }
            if n == 0 {
                taps.sources.append(first)
                taps.weights.append(1)
                n = 1
            }
            taps.count.append(n)
        }
        return taps
    }

    /// The filter taps of a layout, computed once and used for the image and every mask over it.
    struct Grid {
        let width: Int
        let height: Int
        let xs: Taps
        let ys: Taps
        let imageWidth: Int
        let imageHeight: Int

        init(_ layout: ImageLayout, imageWidth: Int, imageHeight: Int) {
            width = layout.shownWidth
            height = layout.shownHeight
            self.imageWidth = imageWidth
            self.imageHeight = imageHeight
            let valid = width > 0 && height > 0 && imageWidth > 0 && imageHeight > 0
            xs = valid ? taps(origin: layout.originX, scale: layout.scaleX, outputs: width, inputLength: imageWidth) : Taps()
            ys = valid ? taps(origin: layout.originY, scale: layout.scaleY, outputs: height, inputLength: imageHeight) : Taps()
        }

        var isEmpty: Bool { xs.count.isEmpty || ys.count.isEmpty }
    }

    /// Colours of the shown region: RGB floats, interleaved. Separable: each output row first sums
    /// its source rows into one row of floats (a contiguous loop the compiler vectorises), then
    /// each output pixel sums its columns of that row.
    static func colors(_ image: RGBImage, grid: Grid) -> [Float] {
        guard !grid.isEmpty else { return [] }
        let w = grid.width, h = grid.height, rowLength = image.width * 3
        var rgb = [Float](repeating: 0, count: w * h * 3)
        var row = [Float](repeating: 0, count: rowLength)
        image.pixels.withUnsafeBufferPointer { px in
            row.withUnsafeMutableBufferPointer { row in
                rgb.withUnsafeMutableBufferPointer { out in
                    for oy in 0..<h {
                        sumRows(grid.ys, output: oy, rowLength: rowLength, into: row) { j, weight, row in
                            let source = px.baseAddress! + j * rowLength
                            for k in 0..<rowLength { row[k] += weight * Float(source[k]) }
                        }
                        for ox in 0..<w {
                            var r: Float = 0, g: Float = 0, b: Float = 0
                            for i in grid.xs.start[ox]..<(grid.xs.start[ox] + grid.xs.count[ox]) {
                                let weight = grid.xs.weights[i], p = grid.xs.sources[i] * 3
                                r += weight * row[p]; g += weight * row[p + 1]; b += weight * row[p + 2]
                            }
                            let o = (oy * w + ox) * 3
                            out[o] = r; out[o + 1] = g; out[o + 2] = b
                        }
                    }
                }
            }
        }
        return rgb
    }

    /// The fraction (0–1) of each display pixel that a mask covers, kept for the display
    /// rectangle whose source pixels meet the mask's box (the rest is 0): a small mask on a large
    /// view costs its box, not the view. nil if the mask's size differs or it is empty.
    struct Coverage {
        let columns: Range<Int>
        let rows: Range<Int>
        /// Row-major over `columns` × `rows`.
        let values: [Float]
    }

    static func coverage(_ mask: Mask, grid: Grid) -> Coverage? {
        guard !grid.isEmpty, mask.width == grid.imageWidth, mask.height == grid.imageHeight,
              let box = mask.boundingBox else { return nil }
        let iw = mask.width
        let xs = grid.xs, ys = grid.ys
        // The display rows and columns whose taps reach into the box (taps are monotonic).
        func outputs(_ taps: Taps, count: Int, from lo: Int, to hi: Int) -> Range<Int> {
            var first = count, last = -1
            for o in 0..<count {
                let a = taps.sources[taps.start[o]], b = taps.sources[taps.start[o] + taps.count[o] - 1]
                if b >= lo && a < hi { first = min(first, o); last = o }
            }
            return first <= last ? first..<(last + 1) : 0..<0
        }
        let columns = outputs(xs, count: grid.width, from: box.minX, to: box.maxX)
        let rows = outputs(ys, count: grid.height, from: box.minY, to: box.maxY)
        guard !columns.isEmpty, !rows.isEmpty else { return nil }
        let rw = columns.count
        var values = [Float](repeating: 0, count: rw * rows.count)
        var row = [Float](repeating: 0, count: iw)
        mask.bits.withUnsafeBufferPointer { bits in
            row.withUnsafeMutableBufferPointer { row in
                for oy in rows {
                    sumRows(ys, output: oy, rowLength: iw, into: row) { j, weight, row in
                        let source = bits.baseAddress! + j * iw
                        for x in box.minX..<box.maxX { row[x] += weight * Float(source[x]) }
                    }
                    for ox in columns {
                        var c: Float = 0
                        for i in xs.start[ox]..<(xs.start[ox] + xs.count[ox]) { c += xs.weights[i] * row[xs.sources[i]] }
                        values[(oy - rows.lowerBound) * rw + ox - columns.lowerBound] = c
                    }
                }
            }
        }
        return Coverage(columns: columns, rows: rows, values: values)
    }

    /// Clears `row`, then lets `add` accumulate each source row of output row `oy` with its weight.
    @inline(__always)
    private static func sumRows(_ ys: Taps, output oy: Int, rowLength: Int, into row: UnsafeMutableBufferPointer<Float>,
                                _ add: (_ sourceRow: Int, _ weight: Float, _ row: UnsafeMutableBufferPointer<Float>) -> Void) {
        row.update(repeating: 0)
        for j in ys.start[oy]..<(ys.start[oy] + ys.count[oy]) { add(ys.sources[j], ys.weights[j], row) }
    }
}
