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
    /// What draws the image: the terminal's own pixels (kitty, sixel) or text symbols.
    public var display: DisplayGrid
    public var quit = false

    public init(rows: Int, columns: Int, colorMode: ColorMode, display: DisplayGrid = .halfBlocks) {
        self.rows = rows
        self.columns = columns
        self.colorMode = colorMode
        self.display = display
    }
}

/// Input, as the terminal edge reports it.
public enum InputEvent: Equatable, Sendable {
    case character(Character)
    case key(SpecialKey)
    case mouse(column: Int, row: Int, MouseAction)
    /// A mouse report in terminal pixels, 0-based from the screen's top-left (SGR pixel mode 1016).
    case pixelMouse(x: Int, y: Int, MouseAction)
    case resize(rows: Int, columns: Int)
    /// The terminal went away: nothing more can be read or shown.
    case hangup
}

public enum SpecialKey: Equatable, Sendable {
    case up, down, left, right, shiftUp, shiftDown, shiftLeft, shiftRight, pageUp, pageDown, home, end, enter, backspace, delete, escape
}

public enum MouseAction: Equatable, Sendable {
    /// A press and release that the terminal reported as one click.
    case leftClick, rightClick
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
        let panX = Double(max(layout.shownWidth, 1)) / layout.scaleX / 4
        let panY = Double(max(layout.shownHeight, 1)) / layout.scaleY / 4
        func pan(_ dx: Double, _ dy: Double) {
            s.viewport.centerX = layout.originX + Double(layout.shownWidth) / layout.scaleX / 2 + dx
            s.viewport.centerY = layout.originY + Double(layout.shownHeight) / layout.scaleY / 2 + dy
        }
        switch event {
        case .character("q"), .character("Q"), .key(.escape), .hangup:
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

    /// Every row but the status line.
    static func imageArea(_ state: ViewerState) -> CellRect {
        CellRect(column: 0, row: 0, columns: state.columns, rows: max(state.rows - 1, 0))
    }

    /// Where the image lands in the image area, in the display's pixels.
    public static func imageLayout(_ state: ViewerState, imageSize: PixelSize) -> ImageLayout {
        state.display.imageLayout(imageSize, area: imageArea(state), viewport: state.viewport)
    }

    static func overlays(_ content: ViewerContent, _ state: ViewerState, theme: Theme) -> [MaskOverlay] {
        state.showMask ? content.mask.map { [MaskOverlay(mask: $0, theme: theme)] } ?? [] : []
    }

    /// The status line, and the image in text symbols; with graphics the image cells stay blank
    /// for the terminal's pixels (`graphics`).
    public static func render(_ content: ViewerContent, _ state: ViewerState, theme: Theme = .dark) -> CellBuffer {
        var buffer = CellBuffer(rows: state.rows, columns: state.columns)
        guard state.rows > 0, state.columns > 0 else { return buffer }
        let layout = imageLayout(state, imageSize: content.image.size)
        if !state.display.isGraphics {
            ImagePainter.paint(content.image, overlays: overlays(content, state, theme: theme), layout: layout, into: &buffer,
                               area: imageArea(state), colorMode: state.colorMode, symbols: state.display.symbols)
        }
        drawStatus(content, state, layout: layout, into: &buffer, theme: theme)
        return buffer
    }

    /// The image and its mask for a graphics terminal, through the workbench's presenters: the
    /// photo sent once per zoom and pan, the mask as the overlay above it.
    public static func graphics(_ content: ViewerContent, _ state: ViewerState, theme: Theme = .dark) -> [PaneGraphics] {
        guard state.display.isGraphics, state.rows > 1, state.columns > 0 else { return [] }
        let grid = state.display
        let shown = imageLayout(state, imageSize: content.image.size)
        guard shown.shownWidth > 0, shown.shownHeight > 0 else { return [] }
        let cells = grid.imageCells(shown, in: imageArea(state))
        let samples = ImageSampler.Grid(shown, imageWidth: content.image.width, imageHeight: content.image.height)
        let masks = overlays(content, state, theme: theme)
        return [PaneGraphics(
            lane: 0, cells: cells, size: PixelSize(width: shown.shownWidth, height: shown.shownHeight),
            cell: PixelSize(width: grid.cellWidth, height: grid.cellHeight),
            photoKey: "view \(shown)",
            photo: { Workbench.photoPixels(content.image, layout: shown, grid: samples, cacheKey: nil) },
            enlarged: nil,
            overlayKey: "view \(shown) mask \(state.showMask)",
            overlay: { Workbench.maskPixels(masks, image: content.image, layout: shown, grid: samples) })]
    }

    static func statusText(_ content: ViewerContent, _ state: ViewerState, layout: ImageLayout) -> String {
        var parts = [content.imageName, "\(content.image.width)x\(content.image.height)",
                     "zoom \(Int((layout.scaleY * 100).rounded()))%"]
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

extension Viewer {
    /// Runs the viewer until the user quits: render, draw, wait for input, reduce.
    public static func run(_ content: ViewerContent, terminal: CursesTerminal, theme: Theme = .dark,
                           display: DisplayGrid = .halfBlocks) {
        let (rows, columns) = terminal.size
        var state = ViewerState(rows: rows, columns: columns, colorMode: terminal.colorMode, display: display)
        while !state.quit {
            terminal.draw(render(content, state, theme: theme), graphics: graphics(content, state, theme: theme))
            guard let event = terminal.read(timeoutMilliseconds: -1) else { continue }
            state = reduce(state, event, imageSize: content.image.size)
        }
        terminal.finishGraphics()
    }
}
