import Testing
import SegCore
import SegModels
@testable import SegTUI

/// The workbench drawn for graphics terminals and for the better text modes: what the cells hold,
/// the pixels a presenter sends, and where clicks and keys land.
@Suite("Workbench graphics")
struct WorkbenchGraphicsTests {
    static let images = ["a.png", "b.png"].map { ImageEntry(path: "/data/" + $0) }

    /// A 160×45 terminal with 6×13-pixel cells (xterm's `fixed` font) showing a 480×360 image
    /// with a bright square at (200…280, 150…210).
    static func state(_ display: DisplayGrid) -> WorkbenchState {
        var s = WorkbenchState(rows: 45, columns: 160, colorMode: .direct, images: images, classes: ["background", "blob"], modelName: "m")
        var image = RGBImage(width: 480, height: 360, fill: (30, 40, 50))
        for y in 150..<210 { for x in 200..<280 { image[x, y] = (230, 200, 40) } }
        s.image = image
        s.imagesLoaded += 1  // as the reducer names a loaded image
        s.imageGeneration = s.imagesLoaded
        s.display = display
        s.lane.prepared = true
        s.lane.activity = .ready(milliseconds: 5)
        s.cursor = PixelPoint(x: 240, y: 180)
        return s
    }

    static let sixel = DisplayGrid(mode: .sixel, cellPixels: PixelSize(width: 6, height: 13))

    /// The terminal pixel (0-based) where image pixel `p`'s centre is shown.
    static func screenPixel(_ p: PixelPoint, _ s: WorkbenchState) -> (x: Int, y: Int) {
        let layout = WorkbenchLayout(s), image = layout.image, cell = s.display.cellPixels!
        let dx = (Double(p.x) + 0.5 - image.originX) * image.scaleX, dy = (Double(p.y) + 0.5 - image.originY) * image.scaleY
        // Display pixels to terminal pixels (the same with graphics; a cell's worth per block in text).
        let x = Double(layout.imageArea.column * cell.width) + (Double(image.offsetX) + dx) * Double(cell.width) / Double(s.display.cellWidth)
        let y = Double(layout.imageArea.row * cell.height) + (Double(image.offsetY) + dy) * Double(cell.height) / Double(s.display.cellHeight)
        return (Int(x), Int(y))
    }

    static func send(_ s: inout WorkbenchState, _ events: WorkbenchEvent...) -> [WorkbenchEffect] {
        events.flatMap { WorkbenchReducerTests.send(&s, $0) }
    }

    @Test("a pixel mouse report puts the point on the image pixel under the pointer, finer than a cell", arguments: [
        sixel, DisplayGrid(mode: .text, symbols: .quadrants, cellPixels: PixelSize(width: 8, height: 16)),
    ])
    func pixelClick(_ display: DisplayGrid) {
        var s = Self.state(display)
        // Image pixels a few apart: with cells they would share a cell and land on its centre.
        for target in [PixelPoint(x: 101, y: 77), PixelPoint(x: 104, y: 79)] {
            s.editor = ObjectEditor()
            let at = Self.screenPixel(target, s)
            _ = Self.send(&s, .input(.pixelMouse(x: at.x, y: at.y, .leftPress)), .input(.pixelMouse(x: at.x, y: at.y, .leftRelease)))
            let point = s.editor.prompts.points.first?.pixel
            let scale = min(WorkbenchLayout(s).image.scaleX, WorkbenchLayout(s).image.scaleY)
            // One terminal pixel is 1/scale image pixels: the point is the target, up to that.
            let tolerance = display.isGraphics ? Int((1 / scale).rounded(.up)) : Int((Double(display.cellWidth) / 8 / scale).rounded(.up))
            #expect(point != nil && abs(point!.x - target.x) <= tolerance && abs(point!.y - target.y) <= tolerance,
                    "\(String(describing: point)) for \(target)")
        }
    }

    @Test("a pixel report just outside the shown image places nothing, one just inside its first and last pixels does")
    func pixelClickEdges() {
        var s = Self.state(Self.sixel)
        let layout = WorkbenchLayout(s), cells = layout.imageCells
        let left = cells.column * 6 + layout.image.offsetX % 6, top = cells.row * 13 + layout.image.offsetY % 13
        func click(_ x: Int, _ y: Int) -> PixelPoint? {
            s.editor = ObjectEditor()
            _ = Self.send(&s, .input(.pixelMouse(x: x, y: y, .leftPress)), .input(.pixelMouse(x: x, y: y, .leftRelease)))
            return s.editor.prompts.points.first?.pixel
        }
        #expect(click(left, top) == PixelPoint(x: 0, y: 0))
        #expect(click(left + layout.image.shownWidth - 1, top + layout.image.shownHeight - 1) == PixelPoint(x: 479, y: 359))
        #expect(click(left - 1, top + 10) == nil)
        #expect(click(left + 10, top + layout.image.shownHeight) == nil)
    }

    @Test("image pixels stay square on the screen with every symbol set, on cells of the assumed and of a known shape",
          arguments: [(BlockSymbols.halfBlocks, nil), (.quadrants, nil), (.sextants, nil), (.quadrants, PixelSize(width: 9, height: 20)),
                      (.sextants, PixelSize(width: 8, height: 16))] as [(BlockSymbols, PixelSize?)])
    func squarePixels(_ symbols: BlockSymbols, _ cell: PixelSize?) {
        let s = Self.state(DisplayGrid(mode: .text, symbols: symbols, cellPixels: cell))
        let layout = WorkbenchLayout(s), shape = cell ?? PixelSize(width: 1, height: 2)
        // The shown image's size on the screen, in terminal pixels, against the image's 480×360.
        let width = Double(layout.image.shownWidth) * Double(shape.width) / Double(symbols.blockWidth)
        let height = Double(layout.image.shownHeight) * Double(shape.height) / Double(symbols.blockHeight)
        #expect(abs(width / height - 480.0 / 360.0) < 0.03, "\(symbols) on \(shape): \(width) × \(height)")
    }

    @Test("without a known cell size, pixel reports are dropped rather than read as cells")
    func pixelClickWithoutCellSize() {
        var s = Self.state(.textDefault)
        let effects = Self.send(&s, .input(.pixelMouse(x: 400, y: 300, .leftPress)), .input(.pixelMouse(x: 400, y: 300, .leftRelease)))
        #expect(s.editor.prompts.isEmpty && effects.isEmpty)
    }

    @Test("arrows step one image pixel at any zoom; h j k l one display pixel; Shift eight")
    func keyboardSteps() {
        var s = Self.state(.halfBlocks)
        s.image = RGBImage(width: 4000, height: 3000)
        s.cursor = PixelPoint(x: 2000, y: 1500)
        let step = Int((1 / WorkbenchLayout(s).image.scaleX).rounded())
        #expect(step > 10)  // zoomed far out: a display pixel is many image pixels
        _ = Self.send(&s, .input(.key(.right)), .input(.key(.down)))
        #expect(s.cursor == PixelPoint(x: 2001, y: 1501))
        _ = Self.send(&s, .input(.character("l")))
        #expect(s.cursor.x == 2001 + step)
        _ = Self.send(&s, .input(.key(.shiftLeft)))
        #expect(s.cursor.x == 2001 + step - 8 * step)
    }

    @Test("sixel: the image cells stay blank to ncurses; the pane's pixels are the photo with the mask and the point drawn in")
    func sixelPane() throws {
        var s = Self.state(Self.sixel)
        var mask = Mask(width: 480, height: 360)
        for y in 150..<210 { for x in 200..<280 { mask[x, y] = true } }
        s.lane.candidates = [Candidate(mask: mask, score: 1)]
        s.editor.prompts.points = [PromptPoint(x: 240, y: 180, positive: true)]
        let buffer = Workbench.render(s)
        let panes = Workbench.graphics(s)
        let pane = try #require(panes.first)
        #expect(panes.count == 1)
        // Blank cells under the image (a sixel is drawn over them), text elsewhere.
        for row in pane.cells.row..<(pane.cells.row + pane.cells.rows) {
            for column in pane.cells.column..<(pane.cells.column + pane.cells.columns) {
                #expect(buffer[row, column] == .blank)
            }
        }
        let layout = WorkbenchLayout(s)
        #expect(pane.size == PixelSize(width: layout.image.shownWidth, height: layout.image.shownHeight))
        #expect(layout.image.scaleX > 1.5)  // the terminal's pixels: zoomed in on a 480×360 image
        let frame = pane.overlay().composited(over: pane.photo())
        func shown(_ x: Double, _ y: Double) -> RGB {
            let px = Int((x - layout.image.originX) * layout.image.scaleX), py = Int((y - layout.image.originY) * layout.image.scaleY)
            let c = frame[px, py]
            return RGB(c.r, c.g, c.b)
        }
        let theme = Theme.dark, opacity = WorkbenchState.opacitySteps[s.opacityStep]
        #expect(shown(20.5, 20.5) == RGB(30, 40, 50))  // the photo, untouched
        let inside = shown(215.5, 195.5), expected = RGB(230, 200, 40).blended(with: theme.maskFill, amount: opacity)
        #expect(abs(Int(inside.r) - Int(expected.r)) <= 1 && abs(Int(inside.g) - Int(expected.g)) <= 1
                && abs(Int(inside.b) - Int(expected.b)) <= 1, "\(inside) vs \(expected)")
        #expect(shown(240.5, 180.5) == theme.positivePoint)  // the point's cross
        // The mask's left edge: its first display pixel inside is drawn in the boundary colour.
        let edge = RGB(230, 200, 40).blended(with: theme.maskBoundary, amount: theme.boundaryOpacity)
        let edgeX = ((200 - layout.image.originX) * layout.image.scaleX).rounded(.up) / layout.image.scaleX + layout.image.originX
        let drawn = shown(edgeX + 0.01, 170.5)
        #expect(abs(Int(drawn.r) - Int(edge.r)) <= 1 && abs(Int(drawn.g) - Int(edge.g)) <= 1 && abs(Int(drawn.b) - Int(edge.b)) <= 1,
                "\(drawn) vs \(edge)")
    }

    @Test("a box is outlined on its own pixels: the first and last pixels it holds, nothing outside")
    func boxOutline() throws {
        var s = Self.state(Self.sixel)
        s.cursor = PixelPoint(x: 400, y: 300)  // the cursor ring away from the box
        s.editor.prompts.box = PromptBox(x0: 100, y0: 100, x1: 149, y1: 129)  // pixels 100…149 × 100…129
        let pane = try #require(Workbench.graphics(s).first)
        let overlay = pane.overlay(), image = WorkbenchLayout(s).image
        func display(_ x: Double) -> Int { Int(((x - image.originX) * image.scaleX).rounded(.down)) }
        func displayY(_ y: Double) -> Int { Int(((y - image.originY) * image.scaleY).rounded(.down)) }
        func isBox(_ x: Int, _ y: Int) -> Bool {
            let p = overlay[x, y]
            return (p.r, p.g, p.b, p.a) == (Theme.dark.boxColor.r, Theme.dark.boxColor.g, Theme.dark.boxColor.b, 255)
        }
        let left = display(100), right = display(150) - 1, top = displayY(100), bottom = displayY(130) - 1
        let middleY = displayY(115), middleX = display(125)
        #expect(isBox(left, middleY) && isBox(right, middleY) && isBox(middleX, top) && isBox(middleX, bottom))
        #expect(!isBox(left - 1, middleY) && !isBox(right + 1, middleY) && !isBox(middleX, top - 1) && !isBox(middleX, bottom + 1))
    }

    @Test("kitty: the image cells are placeholders naming the session's photo id, row and column")
    func kittyCells() throws {
        var s = Self.state(DisplayGrid(mode: .kitty, cellPixels: PixelSize(width: 10, height: 20), imageIDBase: 0x12_34_00))
        s.columns = 120
        let buffer = Workbench.render(s)
        let pane = try #require(Workbench.graphics(s).first)
        let id = KittyImageIDs(base: 0x12_34_00).photo(lane: 0)
        let first = buffer[pane.cells.row, pane.cells.column]
        #expect(first.character == KittyGraphics.placeholder && first.foreground == KittyGraphics.placeholderColor(id: id))
        #expect(first.marks == [KittyDiacritics.scalars[0], KittyDiacritics.scalars[0]])
        let last = buffer[pane.cells.row + pane.cells.rows - 1, pane.cells.column + pane.cells.columns - 1]
        #expect(last.marks == [KittyDiacritics.scalars[pane.cells.rows - 1], KittyDiacritics.scalars[pane.cells.columns - 1]])
        // Full-screen views hide the image: no pane, so no graphics.
        s.overlay = .metrics
        #expect(Workbench.graphics(s).isEmpty)
    }

    @Test("sixel presenter: the whole pane once, nothing when nothing changed, a cursor move re-sends only its cells, text written over the pane re-sends it all")
    func sixelPresenter() throws {
        var s = Self.state(Self.sixel)
        let presenter = SixelPresenter(exactColors: [])
        let never: (CellRect) -> Bool = { _ in false }
        // Each update: save the cursor, move to the region's cell, the sixel (DCS … ST), restore.
        func sixel(_ bytes: String) throws -> SixelTests.Decoded {
            let start = try #require(bytes.range(of: "\u{1B}P")), end = try #require(bytes.range(of: "\u{1B}\\", options: .backwards))
            #expect(bytes.hasPrefix("\u{1B}7\u{1B}[") && bytes.hasSuffix("\u{1B}8"))
            return try SixelTests.decode(String(bytes[start.lowerBound..<end.upperBound]))
        }
        let first = presenter.present(Workbench.graphics(s), repainted: never)
        let full = try sixel(first)
        let pane = try #require(Workbench.graphics(s).first)
        #expect(full.width == pane.size.width && full.height <= pane.size.height && full.height > pane.size.height - 6)
        #expect(presenter.present(Workbench.graphics(s), repainted: never).isEmpty)
        s.cursor.x += 3
        let moved = presenter.present(Workbench.graphics(s), repainted: never)
        let region = try sixel(moved)
        #expect(region.width < 60 && region.height < 60 && moved.utf8.count * 10 < first.utf8.count,
                "\(region.width)×\(region.height), \(moved.utf8.count) vs \(first.utf8.count) bytes")
        let again = presenter.present(Workbench.graphics(s), repainted: { _ in true })
        #expect(again.utf8.count * 2 > first.utf8.count)
        // A view over the image (help, the class picker, a full-screen view) hides the pane, and
        // its pixels must go: the screen is cleared so the view's text shows.
        for view in [Overlay.help, .metrics] {
            s.overlay = view
            #expect(Workbench.graphics(s).isEmpty && presenter.needsClear(for: Workbench.graphics(s)))
        }
    }

    @Test("quadrants: each cell takes the glyph and two colours of its 2×2 block")
    func quadrantCells() {
        var image = RGBImage(width: 4, height: 2, fill: (0, 0, 255))
        image[0, 0] = (255, 0, 0)
        for y in 0..<2 { for x in 2..<4 { image[x, y] = (0, 200, 0) } }
        let layout = ImageLayout(imageSize: image.size, viewWidth: 4, viewHeight: 2, viewport: .fit, alignment: (2, 2))
        var buffer = CellBuffer(rows: 1, columns: 2)
        ImagePainter.paint(image, overlays: [], layout: layout, into: &buffer, area: CellRect(column: 0, row: 0, columns: 2, rows: 1),
                           colorMode: .direct, symbols: .quadrants)
        #expect(buffer[0, 0] == Cell("\u{2598}", foreground: RGB(255, 0, 0), background: RGB(0, 0, 255)))  // ▘
        #expect(buffer[0, 1].character == " " && buffer[0, 1].background == RGB(0, 200, 0))
    }

    @Test("DECRQM for mode 1016: known and settable turns pixel reports on, with a cell size only")
    func pixelMouseQuery() {
        func replies(_ text: String) -> TerminalReplies { TerminalReplies.parse(Array(text.utf8)) }
        #expect(replies("\u{1B}[?1016;2$y\u{1B}[?62;4c").pixelMouse == true)
        #expect(replies("\u{1B}[?1016;0$y").pixelMouse == false)
        #expect(replies("\u{1B}[?62c").pixelMouse == nil)
        let env = ["TERM": "xterm"]
        var known = replies("\u{1B}[?1016;2$y\u{1B}[6;13;6t\u{1B}[?62;4c")
        #expect(GraphicsDecision.decide(replies: known, environment: env).pixelMouse)
        known.cellPixels = nil
        #expect(!GraphicsDecision.decide(replies: known, environment: env).pixelMouse)
    }
}

/// What a kitty presenter sends, frame by frame: the photo once, the overlay when it changes,
/// placements taken down under a view and put back after it.
@Suite("kitty presenter")
struct KittyPresenterTests {
    /// The keys of each graphics command in a stream (payloads and cursor moves skipped).
    static func commands(_ stream: String) -> [[String: String]] {
        stream.components(separatedBy: "\u{1B}_G").dropFirst().map { command in
            let keys = command.prefix { $0 != ";" && $0 != "\u{1B}" }
            var out: [String: String] = [:]
            for pair in keys.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { out[String(kv[0])] = String(kv[1]) }
            }
            return out
        }
    }

    static let ids = KittyImageIDs(base: 0x12_34_00)
    static let photo = "\(ids.photo(lane: 0))"
    /// Whether `id` names one of lane 0's overlay tiles.
    static func isTile(_ id: String?) -> Bool {
        guard let id, let n = UInt32(id) else { return false }
        return (ids.overlayTile(lane: 0, tile: 0)..<ids.overlayTile(lane: 0, tile: 256)).contains(n)
    }

    static func state() -> WorkbenchState {
        WorkbenchGraphicsTests.state(DisplayGrid(mode: .kitty, cellPixels: PixelSize(width: 10, height: 20), imageIDBase: ids.base))
    }

    static func transmitted(_ commands: [[String: String]]) -> [String] {
        commands.filter { $0["a"] == "t" }.compactMap { $0["i"] }
    }

    @Test("placeholders: photo and virtual placement once; the overlay placed relative to it, cut to its cells; a cursor move re-sends the overlay only; a view over the pane takes the overlay down and brings it back")
    func placeholders() throws {
        var s = Self.state()
        let presenter = KittyPresenter(ids: Self.ids, inTmux: false, placeholders: true)
        let never: (CellRect) -> Bool = { _ in false }
        let first = Self.commands(presenter.present(Workbench.graphics(s), repainted: never))
        let sent = Self.transmitted(first)
        // The photo, then the tile (or the few tiles) the cursor ring is drawn in.
        #expect(sent.first == Self.photo && (1...4).contains(sent.count - 1) && sent.dropFirst().allSatisfy(Self.isTile), "\(sent)")
        let pane = try #require(Workbench.graphics(s).first)
        let virtual = try #require(first.first { $0["U"] == "1" })
        #expect(virtual["i"] == Self.photo && virtual["c"] == "\(pane.cells.columns)" && virtual["r"] == "\(pane.cells.rows)")
        let relative = try #require(first.first { $0["a"] == "p" && Self.isTile($0["i"]) })
        #expect(relative["P"] == Self.photo && relative["z"] == "1")
        // Only the cursor ring is drawn: a few cells around the cursor, not the pane.
        #expect((Int(relative["c"] ?? "") ?? 99) <= 3 && (Int(relative["r"] ?? "") ?? 99) <= 3, "\(relative)")
        #expect(presenter.present(Workbench.graphics(s), repainted: never).isEmpty)
        // Text over the pane does not matter to placeholders.
        #expect(presenter.present(Workbench.graphics(s), repainted: { _ in true }).isEmpty)
        s.cursor.x += 40
        let moved = Self.commands(presenter.present(Workbench.graphics(s), repainted: never))
        // The ring's new tiles are sent; its old ones, now empty, are taken down.
        #expect(!Self.transmitted(moved).isEmpty && Self.transmitted(moved).allSatisfy(Self.isTile)
                && moved.contains { $0["a"] == "d" && Self.isTile($0["i"]) } && !moved.contains { $0["i"] == Self.photo })
        s.overlay = .help
        let hidden = Self.commands(presenter.present(Workbench.graphics(s), repainted: never))
        #expect(!hidden.isEmpty && hidden.allSatisfy { $0["a"] == "d" && $0["d"] == "i" && Self.isTile($0["i"]) })
        s.overlay = .none
        let back = Self.commands(presenter.present(Workbench.graphics(s), repainted: never))
        #expect(Self.transmitted(back).isEmpty && back.contains { $0["a"] == "p" && Self.isTile($0["i"]) && $0["P"] == Self.photo })
        let finish = Self.commands(presenter.finish())
        let freed = Set(finish.filter { $0["d"] == "I" }.compactMap { $0["i"] })
        #expect(freed.contains(Self.photo) && Set(Self.transmitted(first + moved).filter(Self.isTile)).isSubset(of: freed))
    }

    @Test("direct placement: both images placed at their cells, the overlay at the cursor's; a repaint of the pane's cells places them again without pixels; a view over the pane takes both down and back")
    func direct() throws {
        var s = Self.state()
        let presenter = KittyPresenter(ids: Self.ids, inTmux: false, placeholders: false)
        let never: (CellRect) -> Bool = { _ in false }
        let text = presenter.present(Workbench.graphics(s), repainted: never)
        let first = Self.commands(text)
        let pane = try #require(Workbench.graphics(s).first)
        #expect(!first.contains { $0["U"] != nil || $0["P"] != nil })
        let placed = try #require(first.first { $0["a"] == "p" && $0["i"] == Self.photo })
        #expect(placed["c"] == "\(pane.cells.columns)" && placed["r"] == "\(pane.cells.rows)")
        // At the pane's first cell (1-based), the cursor saved and restored around it.
        #expect(text.contains("\u{1B}7\u{1B}[\(pane.cells.row + 1);\(pane.cells.column + 1)H\u{1B}_Ga=p,i=\(Self.photo)"))
        // The cursor ring's cells: the overlay sits where it draws, at its offset from the pane.
        let ring = try #require(first.first { $0["a"] == "p" && Self.isTile($0["i"]) })
        let cursorCell = try #require(WorkbenchLayout(s).cell(for: s.cursor))
        let ringColumns = Int(ring["c"] ?? "") ?? 0, ringRows = Int(ring["r"] ?? "") ?? 0
        let at = try #require(text.range(of: "H\u{1B}_Ga=p,i=\(ring["i"] ?? "")").map { text[..<$0.lowerBound] }?.split(separator: "[").last)
        let position = at.split(separator: ";").compactMap { Int($0) }
        #expect(position.count == 2 && (position[0] - 1...position[0] - 2 + ringRows).contains(cursorCell.row)
                && (position[1] - 1...position[1] - 2 + ringColumns).contains(cursorCell.column), "\(position) for \(cursorCell)")
        let again = Self.commands(presenter.present(Workbench.graphics(s), repainted: { _ in true }))
        #expect(Self.transmitted(again).isEmpty && again.contains { $0["a"] == "p" && $0["i"] == Self.photo }
                && again.contains { $0["a"] == "p" && Self.isTile($0["i"]) })
        s.overlay = .metrics
        let hidden = Self.commands(presenter.present(Workbench.graphics(s), repainted: never))
        let takenDown = hidden.filter { $0["a"] == "d" }.compactMap { $0["i"] }
        #expect(takenDown.contains(Self.photo) && takenDown.filter { $0 != Self.photo }.allSatisfy(Self.isTile) && takenDown.count >= 2)
        s.overlay = .none
        let back = Self.commands(presenter.present(Workbench.graphics(s), repainted: never))
        #expect(Self.transmitted(back).isEmpty && back.contains { $0["a"] == "p" && $0["i"] == Self.photo }
                && back.contains { $0["a"] == "p" && Self.isTile($0["i"]) })
    }

    @Test("inside tmux every command is wrapped for passthrough, chunk by chunk")
    func tmux() {
        let presenter = KittyPresenter(ids: Self.ids, inTmux: true, placeholders: true)
        let out = presenter.present(Workbench.graphics(Self.state()), repainted: { _ in false })
        let pieces = out.components(separatedBy: "\u{1B}Ptmux;").dropFirst()
        #expect(!pieces.isEmpty && pieces.allSatisfy { $0.hasPrefix("\u{1B}\u{1B}_G") && $0.hasSuffix("\u{1B}\\") })
    }

    @Test("XTVERSION picks placeholders for kitty from 0.31, direct placement for older kitty and others; tmux always placeholders")
    func versions() {
        func decide(_ version: String?, tmux: Bool = false) -> Bool {
            var replies = TerminalReplies.parse(Array(("\u{1B}_Gi=31;OK\u{1B}\\" + (version.map { "\u{1B}P>|\($0)\u{1B}\\" } ?? "") + "\u{1B}[?62;c").utf8))
            replies.cellPixels = (10, 20)
            #expect(replies.deviceAttributes == [62] && replies.version == version)
            let env = tmux ? ["TERM": "tmux-256color", "TMUX": "/tmp/x,1,0"] : ["TERM": "xterm-kitty"]
            let decision = GraphicsDecision.decide(replies: replies, environment: env)
            #expect(decision.mode == .kitty)
            return decision.kittyPlaceholders
        }
        #expect(decide("kitty(0.31.0)") && decide("kitty(0.35.2)") && decide("kitty(1.0.0)"))
        #expect(!decide("kitty(0.26.5)") && !decide("kitty(0.30.9)") && !decide("WezTerm 20240203") && !decide("ghostty 1.1.0")
                && !decide(nil))
        #expect(decide(nil, tmux: true))
    }
}
