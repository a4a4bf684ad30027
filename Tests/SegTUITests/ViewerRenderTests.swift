import Testing
@testable import SegCore
@testable import SegTUI

@Suite("Viewer rendering")
struct ViewerRenderTests {
    /// A theme with round numbers, so expected colours can be worked out by hand:
    /// inside the mask a pixel is halfway to black, on its boundary it is white.
    static let theme = Theme(name: "test", maskFill: RGB(0, 0, 0), maskBoundary: RGB(255, 255, 255),
                             maskOpacity: 0.5, boundaryOpacity: 1.0,
                             statusForeground: RGB(1, 2, 3), statusBackground: RGB(4, 5, 6))

    /// 4×4 image: pixel (x, y) = (40x + 10, 40y + 20, 100).
    static let image: RGBImage = {
        var image = RGBImage(width: 4, height: 4)
        for y in 0..<4 { for x in 0..<4 { image[x, y] = (UInt8(40 * x + 10), UInt8(40 * y + 20), 100) } }
        return image
    }()

    /// A 3×3 block in the top-left corner: (1, 1) is its only interior pixel.
    static let mask: Mask = {
        var mask = Mask(width: 4, height: 4)
        for y in 0..<3 { for x in 0..<3 { mask[x, y] = true } }
        return mask
    }()

    @Test("a 4x4 image and mask in a 4x3 terminal: every cell as worked out by hand")
    func fourByFour() {
        let content = ViewerContent(image: Self.image, imageName: "four.png", mask: Self.mask, maskName: "m.png")
        let state = ViewerState(rows: 3, columns: 4, colorMode: .direct)
        let buffer = Viewer.render(content, state, theme: Self.theme)

        let white = RGB(255, 255, 255)
        // Row 0 holds image rows 0 (foreground) and 1 (background); row 1 holds image rows 2 and 3.
        // Boundary pixels are white; (1, 1) is halved: (50, 60, 100) -> (25, 30, 50); outside, unchanged.
        let expected: [[(RGB, RGB)]] = [
            [(white, white), (white, RGB(25, 30, 50)), (white, white), (RGB(130, 20, 100), RGB(130, 60, 100))],
            [(white, RGB(10, 140, 100)), (white, RGB(50, 140, 100)), (white, RGB(90, 140, 100)), (RGB(130, 100, 100), RGB(130, 140, 100))],
        ]
        for row in 0..<2 {
            for col in 0..<4 {
                let cell = buffer[row, col]
                #expect(cell.character == "\u{2580}")
                #expect(cell.foreground == expected[row][col].0, "cell (\(row), \(col)) foreground")
                #expect(cell.background == expected[row][col].1, "cell (\(row), \(col)) background")
            }
        }
        // The status line: file, size, zoom (4 display pixels for 4 image pixels: 100%), clipped at 4 columns.
        #expect(buffer.text(row: 2) == " fou")
        #expect(buffer[2, 0].background == RGB(4, 5, 6))
        // 80 columns but still 4 display pixels high: the fit stays at 1 display pixel per image pixel.
        let wide = Viewer.render(content, ViewerState(rows: 3, columns: 80, colorMode: .direct), theme: Self.theme)
        #expect(wide.text(row: 2).hasPrefix(" four.png  4x4  zoom 100%  mask m.png 9 px"))
        let tall = Viewer.render(content, ViewerState(rows: 9, columns: 80, colorMode: .direct), theme: Self.theme)
        #expect(tall.text(row: 8).hasPrefix(" four.png  4x4  zoom 400%"))
    }

    @Test("zoomed in, a mask that runs off the view has no boundary at the view's edge")
    func noBoundaryAtViewEdge() {
        let image = RGBImage(width: 8, height: 8, fill: (100, 100, 100))
        let full = Mask(width: 8, height: 8, bits: Array(repeating: 1, count: 64))
        let content = ViewerContent(image: image, imageName: "g.png", mask: full, maskName: "m.png")
        var state = ViewerState(rows: 5, columns: 8, colorMode: .direct)
        // Fitted, the whole mask shows, and its outer ring is the boundary.
        let fitted = Viewer.render(content, state, theme: Self.theme)
        #expect(fitted[0, 0].foreground == RGB(255, 255, 255))
        #expect(fitted[1, 1].foreground == RGB(50, 50, 50))
        // Zoomed ×2 on the centre, the view shows the middle 4×4 pixels: all interior.
        state.viewport = Viewport(zoom: 2)
        let zoomed = Viewer.render(content, state, theme: Self.theme)
        for row in 0..<4 { for col in 0..<8 { #expect(zoomed[row, col].foreground == RGB(50, 50, 50), "(\(row), \(col))") } }
    }

    @Test("without colour: brightness characters, the mask in reverse, its boundary as @")
    func monochrome() {
        let content = ViewerContent(image: Self.image, imageName: "four.png", mask: Self.mask, maskName: nil)
        let buffer = Viewer.render(content, ViewerState(rows: 3, columns: 4, colorMode: .none), theme: Self.theme)
        #expect(buffer.cells.allSatisfy { $0.foreground == nil && $0.background == nil })
        #expect(buffer.text(row: 0).hasPrefix("@@@"))
        #expect(buffer[0, 3].reverse == false)
        #expect(buffer[2, 0].reverse)  // the status line stands out without colour
    }

    @Test("hiding the mask shows the plain image")
    func hideMask() {
        let content = ViewerContent(image: Self.image, imageName: "four.png", mask: Self.mask, maskName: "m.png")
        var state = ViewerState(rows: 3, columns: 4, colorMode: .direct)
        state = Viewer.reduce(state, .character("m"), imageSize: Self.image.size)
        let buffer = Viewer.render(content, state, theme: Self.theme)
        #expect(buffer[0, 0].foreground == RGB(10, 20, 100))
        #expect(buffer[0, 0].background == RGB(10, 60, 100))
    }

    @Test("tiny and empty terminal areas do not crash", arguments: [(0, 0), (1, 1), (1, 0), (0, 5), (2, 1), (1, 80), (200, 1)])
    func tinyAreas(_ size: (Int, Int)) {
        let content = ViewerContent(image: Self.image, imageName: "four.png", mask: Self.mask, maskName: "m.png")
        let buffer = Viewer.render(content, ViewerState(rows: size.0, columns: size.1, colorMode: .direct), theme: Self.theme)
        #expect(buffer.rows == max(0, size.0) && buffer.columns == max(0, size.1))
    }

    @Test("a 1x1 image fills the view with one colour")
    func onePixel() {
        let pixel = RGBImage(width: 1, height: 1, fill: (9, 8, 7))
        let content = ViewerContent(image: pixel, imageName: "p.png", mask: nil, maskName: nil)
        let buffer = Viewer.render(content, ViewerState(rows: 5, columns: 8, colorMode: .direct), theme: Self.theme)
        // Fit: 8 columns × 8 display pixels, so the pixel becomes an 8×8 block.
        for row in 0..<4 { for col in 0..<8 { #expect(buffer[row, col].foreground == RGB(9, 8, 7)) } }
    }

    @Test("area averaging: a 2x1 black/white image in one display pixel is mid gray")
    func areaAverage() {
        var image = RGBImage(width: 4, height: 2)
        image[1, 0] = (255, 255, 255); image[1, 1] = (255, 255, 255)
        image[3, 0] = (255, 255, 255); image[3, 1] = (255, 255, 255)
        // 2 columns, 2 rows (1 image row = 2 display pixels): scale 1/2, each display pixel covers 2x2 image pixels.
        let content = ViewerContent(image: image, imageName: "s.png", mask: nil, maskName: nil)
        let buffer = Viewer.render(content, ViewerState(rows: 2, columns: 2, colorMode: .direct), theme: Self.theme)
        #expect(buffer[0, 0].foreground == RGB(128, 128, 128))
        #expect(buffer[0, 1].foreground == RGB(128, 128, 128))
    }

    @Test("display pixels map to the image pixels under them at several zooms")
    func mapping() {
        let size = PixelSize(width: 100, height: 50)
        // 50 columns × 25 display pixels: fit scale 0.5 (each display pixel is 2×2 image pixels).
        let fit = ImageLayout(imageSize: size, viewWidth: 50, viewHeight: 25, viewport: .fit)
        #expect(fit.scaleX == 0.5 && fit.scaleY == 0.5)
        #expect(fit.imagePixel(displayX: 0, displayY: 0, imageSize: size) == PixelPoint(x: 1, y: 1))
        #expect(fit.imagePixel(displayX: 49, displayY: 24, imageSize: size) == PixelPoint(x: 99, y: 49))
        // Zoom ×4 on the centre: 2 display pixels per image pixel, showing 25×12.5 image pixels around
        // (50, 25), so the view starts at (37.5, 18.75); display pixel (i, j) has its centre at
        // (37.5 + (i + 0.5) / 2, 18.75 + (j + 0.5) / 2).
        let zoomed = ImageLayout(imageSize: size, viewWidth: 50, viewHeight: 25, viewport: Viewport(zoom: 4))
        #expect(zoomed.scaleX == 2 && zoomed.scaleY == 2)
        #expect(zoomed.originX == 37.5 && zoomed.originY == 18.75)
        #expect(zoomed.imagePixel(displayX: 0, displayY: 0, imageSize: size) == PixelPoint(x: 37, y: 19))
        #expect(zoomed.imagePixel(displayX: 1, displayY: 1, imageSize: size) == PixelPoint(x: 38, y: 19))
        #expect(zoomed.imagePixel(displayX: 2, displayY: 2, imageSize: size) == PixelPoint(x: 38, y: 20))
        #expect(zoomed.imagePixel(displayX: 49, displayY: 24, imageSize: size) == PixelPoint(x: 62, y: 31))
        // An odd view (7 × 9) of a square image: centred vertically, nothing outside maps.
        let odd = ImageLayout(imageSize: PixelSize(width: 10, height: 10), viewWidth: 7, viewHeight: 9, viewport: .fit)
        #expect(odd.shownWidth == 7 && odd.shownHeight == 7 && odd.offsetY == 1)
        #expect(odd.imagePixel(displayX: 0, displayY: 0, imageSize: PixelSize(width: 10, height: 10)) == nil)
        #expect(odd.imagePixel(displayX: 6, displayY: 7, imageSize: PixelSize(width: 10, height: 10)) == PixelPoint(x: 9, y: 9))
    }

    @Test("zoom and pan stay inside the image; 0 fits again; q quits")
    func reduceKeys() {
        let size = PixelSize(width: 100, height: 50)
        var state = ViewerState(rows: 26, columns: 50, colorMode: .direct)
        state = Viewer.reduce(state, .character("+"), imageSize: size)
        state = Viewer.reduce(state, .character("+"), imageSize: size)
        #expect(abs(state.viewport.zoom - 2) < 1e-9)
        for _ in 0..<20 { state = Viewer.reduce(state, .key(.left), imageSize: size) }
        let layout = Viewer.imageLayout(state, imageSize: size)
        #expect(layout.originX == 0)
        state = Viewer.reduce(state, .character("0"), imageSize: size)
        #expect(state.viewport == .fit)
        state = Viewer.reduce(state, .character("-"), imageSize: size)
        #expect(state.viewport.zoom == 1)
        #expect(!state.quit)
        #expect(Viewer.reduce(state, .character("q"), imageSize: size).quit)
        let resized = Viewer.reduce(state, .resize(rows: 10, columns: 20), imageSize: size)
        #expect(resized.rows == 10 && resized.columns == 20)
    }

    @Test("terminal palettes: nearest colours")
    func palettes() {
        #expect(TerminalPalette.xterm256(RGB(0, 0, 0)) == 16)
        #expect(TerminalPalette.xterm256(RGB(255, 255, 255)) == 231)
        #expect(TerminalPalette.xterm256(RGB(255, 0, 0)) == 196)
        #expect(TerminalPalette.xterm256(RGB(128, 128, 128)) == 244)
        #expect(TerminalPalette.ansi8(RGB(250, 10, 10)) == 1)
        #expect(TerminalPalette.ansi8(RGB(240, 240, 240)) == 7)
    }
}

@Suite("SGR mouse reports")
struct SGRMouseTests {
    @Test("press, release, drag, right button, wheel; columns past 223")
    func parse() {
        #expect(CursesTerminal.parseSGRMouse("[<0;10;5M") == .mouse(column: 9, row: 4, .leftPress))
        #expect(CursesTerminal.parseSGRMouse("[<0;10;5m") == .mouse(column: 9, row: 4, .leftRelease))
        #expect(CursesTerminal.parseSGRMouse("[<32;300;60M") == .mouse(column: 299, row: 59, .motion))
        #expect(CursesTerminal.parseSGRMouse("[<2;1;1M") == .mouse(column: 0, row: 0, .rightPress))
        #expect(CursesTerminal.parseSGRMouse("[<64;5;5M") == .mouse(column: 4, row: 4, .wheelUp))
        #expect(CursesTerminal.parseSGRMouse("[<65;5;5M") == .mouse(column: 4, row: 4, .wheelDown))
        #expect(CursesTerminal.parseSGRMouse("[<16;5;5M") == .mouse(column: 4, row: 4, .leftPress))  // with Ctrl
        #expect(CursesTerminal.parseSGRMouse("[<0;0;5M") == nil)
        #expect(CursesTerminal.parseSGRMouse("[<0;5M") == nil)
        #expect(CursesTerminal.parseSGRMouse("[<1;5;5M") == nil)  // middle button: unused
    }
}
