import SegCore
import SegModels

/// What a graphics terminal shows in one pane: the shown part of the photo in display pixels
/// (one per terminal pixel) and the overlay drawn above it — masks, prompts, the keyboard cursor —
/// both `size`, with their top-left corner on the corner of cell (`cells.row`, `cells.column`).
/// The images are made only when asked for: a presenter compares the keys with what the terminal
/// already shows, so a click costs the overlay and the photo is sampled once per image and zoom.
public struct PaneGraphics {
    public let lane: Int
    /// The cells the image covers (its last row and column may be covered only in part).
    public let cells: CellRect
    public let size: PixelSize
    /// One cell in pixels.
    public let cell: PixelSize
    /// Names the photo's pixels: the image, the region shown and its size.
    public let photoKey: String
    public let photo: () -> RGBImage
    /// When the pane shows the whole image enlarged: the image itself, on a canvas that the
    /// placement's cells enlarge by the view's scale (to within half an image pixel). A terminal
    /// that scales images (kitty) gets it instead of `photo`: the same picture, a fraction of the bytes.
    /// The canvas beyond the image is in the colour given (the terminal's background).
    public let enlarged: ((RGB) -> RGBImage)?
    /// Names the overlay's pixels (nil: not known to be unchanged, so always made again).
    public let overlayKey: String?
    public let overlay: () -> RGBAImage
    /// What the overlay draws, part by part (nil: not known, so a change may be anywhere): a
    /// presenter that kept the last frame's parts redraws only where they differ.
    public let overlayParts: [OverlayPart]?
    /// The overlay's pixels within a box of the shown display pixels (nil: only whole, `overlay`).
    public let overlayRegion: ((PixelBox) -> RGBAImage)?

    public init(lane: Int, cells: CellRect, size: PixelSize, cell: PixelSize, photoKey: String, photo: @escaping () -> RGBImage,
                enlarged: ((RGB) -> RGBImage)?, overlayKey: String?, overlay: @escaping () -> RGBAImage,
                overlayParts: [OverlayPart]? = nil, overlayRegion: ((PixelBox) -> RGBAImage)? = nil) {
        self.lane = lane
        self.cells = cells
        self.size = size
        self.cell = cell
        self.photoKey = photoKey
        self.photo = photo
        self.enlarged = enlarged
        self.overlayKey = overlayKey
        self.overlay = overlay
        self.overlayParts = overlayParts
        self.overlayRegion = overlayRegion
    }
}

extension Workbench {
    /// The panes a graphics terminal draws (none in text mode, while loading, or under any view
    /// over the image).
    public static func graphics(_ s: WorkbenchState, theme: Theme = .dark) -> [PaneGraphics] {
        // Any view over the image (help, the class picker in a box, the full-screen ones) puts
        // text in the pane's cells: the terminal's pixels there would hide it.
        guard s.display.isGraphics, !s.isTooSmall, let image = s.image else { return [] }
        if s.overlay == .compare { return compareGraphics(s, image: image, theme: theme) }
        let layout = WorkbenchLayout(s)
        // The class picker beside the image leaves the pane in view.
        // So does the phrase being typed on the status line.
        guard s.overlay == .none || layout.pickerBeside || s.overlay.isPhrase else { return [] }
        let grid = layout.grid
        return layout.paneAreas.indices.compactMap { k in
            let pane = layout.pane(k), shown = pane.image
            guard shown.shownWidth > 0, shown.shownHeight > 0 else { return nil }
            let cells = pane.imageCells
            let samples = ImageSampler.Grid(shown, imageWidth: image.width, imageHeight: image.height)
            let photoCache = s.imageGeneration > 0 ? "image \(s.imageGeneration)" : nil
            let masks = overlays(s, lane: k, theme: theme)
            // The overlay's content: its masks (by cache key) and everything drawn over them.
            let maskKeys = masks.map(\.cacheKey)
            let overlayKey: String? = maskKeys.contains(where: { $0 == nil }) || photoCache == nil ? nil
                : "\(shown) \(maskKeys) \(masks.map { "\($0.fill) \($0.fillOpacity) \($0.boundary) \($0.boundaryOpacity)" }) "
                + "\(s.editor.prompts) \(s.cursor) \(String(describing: s.boxStart ?? s.dragStart)) \(String(describing: s.failureFocus?.row.box))"
            let layers = ImagePainter.layers(masks, image: image, layout: shown, grid: samples, cache: s.samples)
            let marks = promptMarks(s, layout: pane, theme: theme)
            let whole = PixelBox(minX: 0, minY: 0, maxX: shown.shownWidth, maxY: shown.shownHeight)
            return PaneGraphics(
                lane: k, cells: cells, size: PixelSize(width: shown.shownWidth, height: shown.shownHeight),
                cell: PixelSize(width: grid.cellWidth, height: grid.cellHeight),
                // An image the reducer did not load has no generation: its pixels name it.
                photoKey: "\(photoCache ?? "pixels \(image.pixels.hashValue)") \(shown)",
                photo: { photoPixels(image, layout: shown, grid: samples, cacheKey: photoCache, cache: s.samples) },
                enlarged: showsWholeImageEnlarged(shown, image: image.size) ? { background in
                    image.padded(width: max(image.width, Int((Double(cells.columns * grid.cellWidth) / shown.scaleX).rounded())),
                                 height: max(image.height, Int((Double(cells.rows * grid.cellHeight) / shown.scaleY).rounded())),
                                 fill: background)
                } : nil,
                overlayKey: overlayKey,
                overlay: { overlayPixels(layers, marks, in: whole) },
                overlayParts: overlayKey == nil ? nil : layers.map(\.part) + marks.map(\.part),
                overlayRegion: { overlayPixels(layers, marks, in: $0) })
        }
    }

    /// Whether the view shows all of the image, each image pixel larger than a display pixel.
    static func showsWholeImageEnlarged(_ layout: ImageLayout, image: PixelSize) -> Bool {
        // Within half an image pixel: fitting rounds the shown size to whole display pixels.
        layout.scaleX > 1 && layout.scaleY > 1 && layout.originX < 0.5 && layout.originY < 0.5
            && abs(Double(layout.shownWidth) / layout.scaleX - Double(image.width)) < 1
            && abs(Double(layout.shownHeight) / layout.scaleY - Double(image.height)) < 1
    }

    static func photoPixels(_ image: RGBImage, layout: ImageLayout, grid: ImageSampler.Grid, cacheKey: String?,
                            cache: SampleCache? = nil) -> RGBImage {
        let rgb = ImagePainter.samples(image, layout: layout, grid: grid, cacheKey: cacheKey, cache: cache)
        return RGBImage(width: layout.shownWidth, height: layout.shownHeight, pixels: rgb.map { UInt8(min(max($0.rounded(), 0), 255)) })
    }

    /// The masks as the text painter blends them (a boundary over a fill, later masks over
    /// earlier ones), as straight-alpha pixels, then the prompts and the cursor: the part of
    /// the shown display pixels inside `box`.
    static func overlayPixels(_ layers: [ImagePainter.Layer], _ marks: [PromptMark], in box: PixelBox) -> RGBAImage {
        var out = layerPixels(layers, in: box)
        for mark in marks where OverlayDamage.intersects(mark.part.box, box) {
            mark.draw { x, y, color in
                guard x >= box.minX, y >= box.minY, x < box.maxX, y < box.maxY else { return }
                out[x - box.minX, y - box.minY] = (color.r, color.g, color.b, 255)
            }
        }
        return out
    }

    /// The masks alone, in display pixels, as straight-alpha pixels (`segterm view`'s overlay).
    static func maskPixels(_ masks: [MaskOverlay], image: RGBImage, layout shown: ImageLayout, grid: ImageSampler.Grid,
                           cache: SampleCache? = nil) -> RGBAImage {
        layerPixels(ImagePainter.layers(masks, image: image, layout: shown, grid: grid, cache: cache),
                    in: PixelBox(minX: 0, minY: 0, maxX: shown.shownWidth, maxY: shown.shownHeight))
    }

    /// The layers blended within `box` of the shown display pixels, row by row: each row's
    /// layers blended premultiplied in float planes (red, green, blue, alpha: one multiply-add
    /// per layer, pixel and plane, in loops the compiler vectorises; the row stays in the cache),
    /// then made straight-alpha bytes. With hundreds of overlapping proposals, this is the
    /// frame's whole cost.
    static func layerPixels(_ layers: [ImagePainter.Layer], in box: PixelBox) -> RGBAImage {
        let w = box.width, h = box.height
        var out = RGBAImage(width: w, height: h)
        guard w > 0, h > 0 else { return out }
        /// A layer's part of the box, its colours, and where its boundary list has got to.
        struct Clipped {
            let shape: ImagePainter.LayerShape
            let x0: Int, x1: Int, y0: Int, y1: Int
            let fill: SIMD4<Float>, fillAlpha: Float
            let edge: SIMD4<Float>, edgeAlpha: Float
            var nextEdge: Int
        }
        var clipped: [Clipped] = layers.compactMap { layer in
            let shape = layer.shape
            let x0 = max(shape.columns.lowerBound, box.minX), x1 = min(shape.columns.upperBound, box.maxX)
            let y0 = max(shape.rows.lowerBound, box.minY), y1 = min(shape.rows.upperBound, box.maxY)
            guard x0 < x1, y0 < y1 else { return nil }
            let o = layer.overlay
            // The boundary list from the box's first row on.
            let firstIndex = Int32((y0 - shape.rows.lowerBound) * shape.columns.count)
            var k = 0, upper = shape.edges.count
            while k < upper {
                let middle = (k + upper) / 2
                if shape.edges[middle] < firstIndex { k = middle + 1 } else { upper = middle }
            }
            return Clipped(shape: shape, x0: x0, x1: x1, y0: y0, y1: y1,
                           fill: SIMD4(Float(o.fill.r), Float(o.fill.g), Float(o.fill.b), 255),
                           fillAlpha: Float(min(max(o.fillOpacity, 0), 1)) / 255,
                           edge: SIMD4(Float(o.boundary.r), Float(o.boundary.g), Float(o.boundary.b), 255),
                           edgeAlpha: Float(min(max(o.boundaryOpacity, 0), 1)), nextEdge: k)
        }
        guard !clipped.isEmpty else { return out }
        var planes = [Float](repeating: 0, count: 4 * w)
        planes.withUnsafeMutableBufferPointer { planes in
            let red = planes.baseAddress!, green = red + w, blue = green + w, alphas = blue + w
            out.pixels.withUnsafeMutableBufferPointer { px in
                for y in box.minY..<box.maxY {
                    planes.update(repeating: 0)
                    var drawn = false
                    for j in clipped.indices where clipped[j].y0 <= y && y < clipped[j].y1 {
                        drawn = true
                        let layer = clipped[j], shape = layer.shape, rw = shape.columns.count
                        let fr = layer.fill[0], fg = layer.fill[1], fb = layer.fill[2], fa = layer.fillAlpha
                        shape.fill.withUnsafeBufferPointer { coverage in
                            let c = coverage.baseAddress! + (y - shape.rows.lowerBound) * rw + layer.x0 - shape.columns.lowerBound
                            let at = layer.x0 - box.minX
                            let r = red + at, g = green + at, b = blue + at, al = alphas + at
                            // Porter–Duff over, premultiplied: below × (1 − a) + colour × a.
                            for i in 0..<(layer.x1 - layer.x0) {
                                let a = fa * Float(c[i]), keep = 1 - a
                                r[i] = r[i] * keep + fr * a
                                g[i] = g[i] * keep + fg * a
                                b[i] = b[i] * keep + fb * a
                                al[i] = al[i] * keep + 255 * a
                            }
                        }
                        // This row's boundary pixels: the next ones of the row-major list.
                        let rowEnd = Int32((y - shape.rows.lowerBound + 1) * rw), ea = layer.edgeAlpha, edge = layer.edge * ea
                        var k = layer.nextEdge
                        while k < shape.edges.count, shape.edges[k] < rowEnd {
                            let x = Int(shape.edges[k]) % rw + shape.columns.lowerBound
                            if x >= layer.x0 && x < layer.x1 {
                                let i = x - box.minX
                                red[i] = red[i] * (1 - ea) + edge[0]
                                green[i] = green[i] * (1 - ea) + edge[1]
                                blue[i] = blue[i] * (1 - ea) + edge[2]
                                alphas[i] = alphas[i] * (1 - ea) + edge[3]
                            }
                            k += 1
                        }
                        clipped[j].nextEdge = k
                    }
                    guard drawn else { continue }
                    let row = (y - box.minY) * w * 4
                    for x in 0..<w {
                        let alpha = alphas[x]
                        guard alpha > 0 else { continue }
                        // Straight colour: the premultiplied sum over alpha (both on the 0–255 scale).
                        let scale = 255 / alpha
                        px[row + x * 4] = UInt8(min(red[x] * scale + 0.5, 255))
                        px[row + x * 4 + 1] = UInt8(min(green[x] * scale + 0.5, 255))
                        px[row + x * 4 + 2] = UInt8(min(blue[x] * scale + 0.5, 255))
                        px[row + x * 4 + 3] = UInt8(min(alpha + 0.5, 255))
                    }
                }
            }
        }
        return out
    }

    /// One prompt drawn over the masks: its part (what and where) and how to draw it, through a
    /// `put` that clips.
    struct PromptMark {
        let part: OverlayPart
        let draw: (_ put: (_ x: Int, _ y: Int, _ color: RGB) -> Void) -> Void
    }

    /// Points as crosses (✚ positive, ✖ negative), the keyboard cursor as a ring, boxes as
    /// rectangles: sized from the cell, so they read like the text glyphs at any zoom. In
    /// drawing order: boxes, the cursor, points.
    static func promptMarks(_ s: WorkbenchState, layout: WorkbenchLayout, theme: Theme) -> [PromptMark] {
        let shown = layout.image
        let radius = max(3, min(layout.grid.cellWidth, layout.grid.cellHeight) / 2)
        func position(_ x: Double, _ y: Double) -> (x: Int, y: Int) {
            (Int(((x - shown.originX) * shown.scaleX).rounded(.down)), Int(((y - shown.originY) * shown.scaleY).rounded(.down)))
        }
        func center(_ p: PixelPoint) -> (x: Int, y: Int) { position(Double(p.x) + 0.5, Double(p.y) + 0.5) }
        func around(_ c: (x: Int, y: Int), _ r: Int) -> PixelBox { PixelBox(minX: c.x - r, minY: c.y - r, maxX: c.x + r + 1, maxY: c.y + r + 1) }
        var marks: [PromptMark] = []
        /// Around the box's pixels (its corners included), two display pixels thick, inside.
        func rectangle(_ box: PromptBox, _ color: RGB) {
            let pixels = box.pixels
            let a = position(Double(pixels.minX), Double(pixels.minY))
            var b = position(Double(pixels.maxX), Double(pixels.maxY))
            b = (max(a.x, b.x - 1), max(a.y, b.y - 1))
            let extent = PixelBox(minX: a.x, minY: a.y, maxX: b.x + 1, maxY: b.y + 1)
            marks.append(PromptMark(part: OverlayPart(key: "box \(extent) \(color)", box: extent)) { put in
                for t in 0..<2 {
                    for x in a.x...b.x { put(x, a.y + t, color); put(x, b.y - t, color) }
                    for y in a.y...b.y { put(a.x + t, y, color); put(b.x - t, y, color) }
                }
            })
        }
        var boxes: [(PromptBox, RGB)] = []
        if let box = s.failureFocus?.row.box {
            // The failure's box is continuous (COCO's x, y, w, h): its last pixel is at x + w − 1.
            boxes.append((PromptBox(x0: box.x, y0: box.y, x1: max(box.x, box.x + box.width - 1), y1: max(box.y, box.y + box.height - 1)),
                          theme.negativePoint))
        }
        if let box = s.editor.prompts.box { boxes.append((box, theme.boxColor)) }
        if let start = s.boxStart ?? s.dragStart {
            boxes.append((PromptBox(x0: Double(start.x), y0: Double(start.y), x1: Double(s.cursor.x), y1: Double(s.cursor.y)), theme.boxColor))
        }
        for (box, color) in boxes { rectangle(box, color) }
        let c = center(s.cursor), ring = theme.maskBoundary
        marks.append(PromptMark(part: OverlayPart(key: "cursor \(ring)", box: around(c, radius))) { put in
            for dy in -radius...radius {
                for dx in -radius...radius {
                    let d = (dx * dx + dy * dy), r = radius * radius
                    if d <= r && d >= (radius - 1) * (radius - 1) - 1 { put(c.x + dx, c.y + dy, ring) }
                }
            }
        })
        for point in s.editor.prompts.points {
            let p = center(point.pixel), color = point.positive ? theme.positivePoint : theme.negativePoint
            let positive = point.positive
            marks.append(PromptMark(part: OverlayPart(key: "point \(positive) \(color)", box: around(p, radius + 2))) { put in
                // A dark rim keeps the cross visible on a bright photo and on a mask of its own colour.
                for pass in 0..<2 {
                    let width = pass == 0 ? 2 : 1, ink = pass == 0 ? RGB(0, 0, 0) : color
                    for t in -radius...radius {
                        for u in -width...width {
                            if positive {
                                put(p.x + t, p.y + u, ink); put(p.x + u, p.y + t, ink)
                            } else {
                                put(p.x + t + u, p.y + t, ink); put(p.x + t + u, p.y - t, ink)
                            }
                        }
                    }
                }
            })
        }
        return marks
    }
}
