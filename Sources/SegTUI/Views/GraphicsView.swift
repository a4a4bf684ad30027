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
        guard s.overlay == .none || layout.pickerBeside else { return [] }
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
                overlay: { overlayPixels(s, layout: pane, masks: masks, image: image, grid: samples, theme: theme, cache: s.samples) })
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
    /// earlier ones), as straight-alpha pixels; then the prompts and the cursor.
    static func overlayPixels(_ s: WorkbenchState, layout: WorkbenchLayout, masks: [MaskOverlay], image: RGBImage,
                              grid: ImageSampler.Grid, theme: Theme, cache: SampleCache? = nil) -> RGBAImage {
        var out = maskPixels(masks, image: image, layout: layout.image, grid: grid, cache: cache)
        drawPromptPixels(s, layout: layout, into: &out, theme: theme)
        return out
    }

    /// The masks alone, in display pixels, as straight-alpha pixels (`segterm view`'s overlay).
    static func maskPixels(_ masks: [MaskOverlay], image: RGBImage, layout shown: ImageLayout, grid: ImageSampler.Grid,
                           cache: SampleCache? = nil) -> RGBAImage {
        let w = shown.shownWidth, h = shown.shownHeight
        var out = RGBAImage(width: w, height: h)
        for layer in ImagePainter.layers(masks, image: image, layout: shown, grid: grid, cache: cache) {
            let shape = layer.shape, rw = shape.columns.count
            out.pixels.withUnsafeMutableBufferPointer { px in
                for y in shape.rows {
                    for x in shape.columns {
                        let local = (y - shape.rows.lowerBound) * rw + x - shape.columns.lowerBound
                        let (color, opacity): (RGB, Double)
                        if shape.boundary[local] {
                            (color, opacity) = (layer.overlay.boundary, layer.overlay.boundaryOpacity)
                        } else if shape.coverage[local] > 0 {
                            (color, opacity) = (layer.overlay.fill, layer.overlay.fillOpacity * Double(shape.coverage[local]))
                        } else {
                            continue
                        }
                        blend(px, (y * w + x) * 4, color, alpha: opacity)
                    }
                }
            }
        }
        return out
    }

    /// `color` at `alpha` drawn over the straight-alpha pixel at `o` (Porter–Duff over).
    private static func blend(_ px: UnsafeMutableBufferPointer<UInt8>, _ o: Int, _ color: RGB, alpha: Double) {
        let a = min(max(alpha, 0), 1)
        guard a > 0 else { return }
        let below = Double(px[o + 3]) / 255
        let out = a + below * (1 - a)
        func mix(_ top: UInt8, _ bottom: UInt8) -> UInt8 {
            UInt8(min(255, ((Double(top) * a + Double(bottom) * below * (1 - a)) / out).rounded()))
        }
        px[o] = mix(color.r, px[o]); px[o + 1] = mix(color.g, px[o + 1]); px[o + 2] = mix(color.b, px[o + 2])
        px[o + 3] = UInt8((out * 255).rounded())
    }

    /// Points as crosses (✚ positive, ✖ negative), the keyboard cursor as a ring, boxes as
    /// rectangles: sized from the cell, so they read like the text glyphs at any zoom.
    static func drawPromptPixels(_ s: WorkbenchState, layout: WorkbenchLayout, into out: inout RGBAImage, theme: Theme) {
        let shown = layout.image
        let radius = max(3, min(layout.grid.cellWidth, layout.grid.cellHeight) / 2)
        func position(_ x: Double, _ y: Double) -> (x: Int, y: Int) {
            (Int(((x - shown.originX) * shown.scaleX).rounded(.down)), Int(((y - shown.originY) * shown.scaleY).rounded(.down)))
        }
        func center(_ p: PixelPoint) -> (x: Int, y: Int) { position(Double(p.x) + 0.5, Double(p.y) + 0.5) }
        func put(_ x: Int, _ y: Int, _ color: RGB) {
            guard x >= 0, y >= 0, x < out.width, y < out.height else { return }
            out[x, y] = (color.r, color.g, color.b, 255)
        }
        /// Around the box's pixels (its corners included), two display pixels thick, inside.
        func rectangle(_ box: PromptBox, _ color: RGB) {
            let pixels = box.pixels
            let a = position(Double(pixels.minX), Double(pixels.minY))
            var b = position(Double(pixels.maxX), Double(pixels.maxY))
            b = (max(a.x, b.x - 1), max(a.y, b.y - 1))
            for t in 0..<2 {
                for x in min(a.x, b.x)...max(a.x, b.x) { put(x, a.y + t, color); put(x, b.y - t, color) }
                for y in min(a.y, b.y)...max(a.y, b.y) { put(a.x + t, y, color); put(b.x - t, y, color) }
            }
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
        let c = center(s.cursor)
        for dy in -radius...radius {
            for dx in -radius...radius {
                let d = (dx * dx + dy * dy), r = radius * radius
                if d <= r && d >= (radius - 1) * (radius - 1) - 1 { put(c.x + dx, c.y + dy, theme.maskBoundary) }
            }
        }
        for point in s.editor.prompts.points {
            let p = center(point.pixel), color = point.positive ? theme.positivePoint : theme.negativePoint
            // A dark rim keeps the cross visible on a bright photo and on a mask of its own colour.
            for pass in 0..<2 {
                let width = pass == 0 ? 2 : 1, ink = pass == 0 ? RGB(0, 0, 0) : color
                for t in -radius...radius {
                    for u in -width...width {
                        if point.positive {
                            put(p.x + t, p.y + u, ink); put(p.x + u, p.y + t, ink)
                        } else {
                            put(p.x + t + u, p.y + t, ink); put(p.x + t + u, p.y - t, ink)
                        }
                    }
                }
            }
        }
    }
}
