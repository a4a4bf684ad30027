import SegCore

/// What the `view` command shows: one image and, optionally, one mask over it.
public struct ViewerContent: Sendable {
    public let image: RGBImage
    public let imageName: String
    public let mask: Mask?
    public let maskName: String?
    public let maskArea: Int

    public init(image: RGBImage, imageName: String, mask: Mask?, maskName: String?) {
        self.image = image
        self.imageName = imageName
        self.mask = mask
        self.maskName = maskName
        maskArea = mask?.area ?? 0
    }
}

/// The viewer's state: everything `render` needs besides the content.
public struct ViewerState: Equatable, Sendable {
    public var rows: Int
    public var columns: Int
    public var viewport: Viewport = .fit
    public var showMask = true
    public var colorMode: ColorMode
    public var quit = false

    public init(rows: Int, columns: Int, colorMode: ColorMode) {
        self.rows = rows
        self.columns = columns
        self.colorMode = colorMode
    }
}

/// Input, as the terminal edge reports it.
public enum InputEvent: Equatable, Sendable {
    case character(Character)
    case key(SpecialKey)
    case mouse(column: Int, row: Int, MouseAction)
    case resize(rows: Int, columns: Int)
}

public enum SpecialKey: Equatable, Sendable {
    case up, down, left, right, shiftUp, shiftDown, shiftLeft, shiftRight, pageUp, pageDown, home, end, enter, backspace, delete, escape
}

public enum MouseAction: Equatable, Sendable {
    case leftPress, leftRelease, rightPress, rightRelease, wheelUp, wheelDown, motion
}

public enum Viewer {
    /// Zoom steps by √2, so two presses double the size.
    static let zoomStep = 2.0.squareRoot()
    static let maxZoom = 64.0

    public static func reduce(_ state: ViewerState, _ event: InputEvent, imageSize: PixelSize) -> ViewerState {
        var s = state
        let layout = imageLayout(s, imageSize: imageSize)
        // Pan by a quarter of what is shown, in image pixels.
        let panX = Double(max(layout.shownWidth, 1)) / layout.scale / 4
        let panY = Double(max(layout.shownHeight, 1)) / layout.scale / 4
        func pan(_ dx: Double, _ dy: Double) {
            s.viewport.centerX = layout.originX + Double(layout.shownWidth) / layout.scale / 2 + dx
            s.viewport.centerY = layout.originY + Double(layout.shownHeight) / layout.scale / 2 + dy
        }
        switch event {
        case .character("q"), .character("Q"), .key(.escape):
            s.quit = true
        case .character("m"):
            s.showMask.toggle()
        case .character("+"), .character("="), .mouse(_, _, .wheelUp):
            pan(0, 0)
            s.viewport.zoom = min(s.viewport.zoom * zoomStep, maxZoom)
        case .character("-"), .mouse(_, _, .wheelDown):
            pan(0, 0)
            s.viewport.zoom = max(s.viewport.zoom / zoomStep, 1)
        case .character("0"):
            s.viewport = .fit
        case .key(.left), .character("h"): pan(-panX, 0)
        case .key(.right), .character("l"): pan(panX, 0)
        case .key(.up), .character("k"): pan(0, -panY)
        case .key(.down), .character("j"): pan(0, panY)
        case .resize(let rows, let columns):
            s.rows = rows
            s.columns = columns
        default:
            break
        }
        return s
    }

    /// The image area: every row but the status line, two display pixels per cell row.
    public static func imageLayout(_ state: ViewerState, imageSize: PixelSize) -> ImageLayout {
        ImageLayout(imageSize: imageSize, viewWidth: state.columns, viewHeight: max(state.rows - 1, 0) * 2,
                    viewport: state.viewport)
    }

    public static func render(_ content: ViewerContent, _ state: ViewerState, theme: Theme = .dark) -> CellBuffer {
        var buffer = CellBuffer(rows: state.rows, columns: state.columns)
        guard state.rows > 0, state.columns > 0 else { return buffer }
        let layout = imageLayout(state, imageSize: content.image.size)
        ImagePainter.paint(content.image, mask: state.showMask ? content.mask : nil, layout: layout,
                           into: &buffer, rows: state.rows - 1, colorMode: state.colorMode, theme: theme)
        drawStatus(content, state, layout: layout, into: &buffer, theme: theme)
        return buffer
    }

    static func statusText(_ content: ViewerContent, _ state: ViewerState, layout: ImageLayout) -> String {
        var parts = [content.imageName, "\(content.image.width)x\(content.image.height)",
                     "zoom \(Int((layout.scale * 100).rounded()))%"]
        if let name = content.maskName {
            parts.append("mask \(name) \(content.maskArea) px" + (state.showMask ? "" : " (hidden)"))
        }
        parts.append("m mask  +/- zoom  arrows pan  0 fit  q quit")
        return " " + parts.joined(separator: "  ")
    }

    static func drawStatus(_ content: ViewerContent, _ state: ViewerState, layout: ImageLayout,
                           into buffer: inout CellBuffer, theme: Theme) {
        let row = state.rows - 1
        let colored = state.colorMode != .none
        let fg = colored ? theme.statusForeground : nil, bg = colored ? theme.statusBackground : nil
        buffer.fillRow(row, with: Cell(" ", foreground: fg, background: bg, reverse: !colored))
        buffer.write(statusText(content, state, layout: layout), row: row, column: 0, foreground: fg, background: bg,
                     reverse: !colored)
    }
}

/// Draws an image (and a mask over it) into cells with the upper-half-block technique: the
/// character ▀ takes the upper display pixel as foreground and the lower as background.
enum ImagePainter {
    static let upperHalf: Unicode.Scalar = "\u{2580}"
    /// Brightness ramp for terminals without colour, darkest first.
    static let ramp: [Unicode.Scalar] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    static func paint(_ image: RGBImage, mask: Mask?, layout: ImageLayout, into buffer: inout CellBuffer,
                      rows: Int, colorMode: ColorMode, theme: Theme) {
        let w = layout.shownWidth, h = layout.shownHeight
        guard w > 0, h > 0, rows > 0 else { return }
        let (rgb, coverage) = ImageSampler.sample(image, mask: mask, layout: layout)
        let inside = coverage.map { $0 >= 0.5 }
        // Past the edge of the view, the image may go on: a mask running off a zoomed view has no
        // boundary there. Past the edge of the image, it does.
        let cut = (left: layout.originX > 0, top: layout.originY > 0,
                   right: layout.originX + Double(w) / layout.scale < Double(image.width),
                   bottom: layout.originY + Double(h) / layout.scale < Double(image.height))
        func isInside(_ x: Int, _ y: Int) -> Bool {
            if x >= 0 && y >= 0 && x < w && y < h { return inside[y * w + x] }
            if x < 0 { return cut.left && isInside(0, y) }
            if x >= w { return cut.right && isInside(w - 1, y) }
            if y < 0 { return cut.top && isInside(x, 0) }
            return cut.bottom && isInside(x, h - 1)
        }
        // A display pixel is on the boundary when it is inside and a 4-neighbour is not.
        func isBoundary(_ x: Int, _ y: Int) -> Bool {
            isInside(x, y) && (!isInside(x - 1, y) || !isInside(x + 1, y) || !isInside(x, y - 1) || !isInside(x, y + 1))
        }
        func baseColor(_ x: Int, _ y: Int) -> RGB? {
            guard x >= 0, y >= 0, x < w, y < h else { return nil }
            let o = (y * w + x) * 3
            return RGB(UInt8(min(max(rgb[o].rounded(), 0), 255)), UInt8(min(max(rgb[o + 1].rounded(), 0), 255)),
                       UInt8(min(max(rgb[o + 2].rounded(), 0), 255)))
        }
        func color(_ x: Int, _ y: Int) -> RGB? {
            guard let base = baseColor(x, y) else { return nil }
            guard !coverage.isEmpty else { return base }
            if isBoundary(x, y) { return base.blended(with: theme.maskBoundary, amount: theme.boundaryOpacity) }
            return base.blended(with: theme.maskFill, amount: theme.maskOpacity * Double(coverage[y * w + x]))
        }

        let firstRow = layout.offsetY / 2
        let lastRow = min(rows - 1, (layout.offsetY + h - 1) / 2)
        guard firstRow <= lastRow else { return }
        for row in firstRow...lastRow {
            let top = row * 2 - layout.offsetY, bottom = top + 1
            for x in 0..<w {
                let column = layout.offsetX + x
                guard column >= 0, column < buffer.columns else { continue }
                if colorMode == .none {
                    buffer[row, column] = monochromeCell(x, top, bottom, color: baseColor, isInside: isInside, isBoundary: isBoundary)
                    continue
                }
                let upper = color(x, top), lower = color(x, bottom)
                if let upper {
                    buffer[row, column] = Cell(upperHalf, foreground: upper, background: lower)
                } else if let lower {
                    // The image starts on the lower half of this cell.
                    buffer[row, column] = Cell("\u{2584}", foreground: lower, background: nil)
                }
            }
        }
    }

    /// Without colour: brightness as a character, the mask in reverse video, its boundary as bold `@`.
    private static func monochromeCell(_ x: Int, _ top: Int, _ bottom: Int, color: (Int, Int) -> RGB?,
                                       isInside: (Int, Int) -> Bool, isBoundary: (Int, Int) -> Bool) -> Cell {
        let colors = [color(x, top), color(x, bottom)].compactMap { $0 }
        guard !colors.isEmpty else { return .blank }
        let luma = colors.map(\.luma).reduce(0, +) / Double(colors.count)
        let index = min(ramp.count - 1, Int(luma / 256 * Double(ramp.count)))
        if isBoundary(x, top) || isBoundary(x, bottom) { return Cell("@", bold: true) }
        let masked = isInside(x, top) || isInside(x, bottom)
        return Cell(ramp[index], reverse: masked)
    }
}

extension Viewer {
    /// Runs the viewer until the user quits: render, draw, wait for input, reduce.
    public static func run(_ content: ViewerContent, terminal: CursesTerminal, theme: Theme = .dark) {
        let (rows, columns) = terminal.size
        var state = ViewerState(rows: rows, columns: columns, colorMode: terminal.colorMode)
        while !state.quit {
            terminal.draw(render(content, state, theme: theme))
            guard let event = terminal.read(timeoutMilliseconds: -1) else { continue }
            state = reduce(state, event, imageSize: content.image.size)
        }
    }
}
