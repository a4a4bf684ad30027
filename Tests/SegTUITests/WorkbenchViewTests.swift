import Testing
@testable import SegCore
@testable import SegModels
@testable import SegTUI

@Suite("Workbench views")
struct WorkbenchViewTests {
    static func state(rows: Int = 30, columns: Int = 100) -> WorkbenchState {
        var s = WorkbenchReducerTests.ready(rows: rows, columns: columns)
        s.imageGeneration = 0  // no cache between tests
        return s
    }

    @Test("below 40x12 the workbench says so instead of drawing garbage", arguments: [(39, 12), (40, 11), (1, 1), (0, 0)])
    func tooSmall(_ size: (Int, Int)) {
        let buffer = Workbench.render(Self.state(rows: size.1, columns: size.0))
        #expect(buffer.rows == size.1 && buffer.columns == size.0)
        if size.0 >= 10 && size.1 >= 1 { #expect(buffer.text(row: 0).hasPrefix("segterm needs")) }
    }

    @Test("the list shows the images with the current one marked; the status line shows the model state")
    func listAndStatus() {
        var s = Self.state()
        s.accepted["/data/b.png"] = [AcceptedObject(id: 1, className: "cat", mask: Mask(width: 1, height: 1), prompts: Prompts())]
        let buffer = Workbench.render(s)
        #expect(buffer.text(row: 0).hasPrefix(" Images 1/3"))
        #expect(buffer.text(row: 1).hasPrefix("\u{25B6}a.png"))
        #expect(buffer.text(row: 2).hasPrefix(" b.png") && buffer.text(row: 2).contains("1\u{2713}"))
        #expect(buffer.text(row: 29).hasPrefix(" 1/3 a.png  100x80  test: ready (prepared in 5 ms)"))
        // Narrow terminals give the image the whole width.
        let narrow = Workbench.render(Self.state(rows: 20, columns: 60))
        #expect(!narrow.text(row: 0).contains("Images"))
    }

    @Test("points, the box and the cursor are drawn as distinct glyphs where they are")
    func prompts() {
        var s = Self.state()
        s.editor.prompts = Prompts(points: [PromptPoint(x: 10, y: 10, positive: true), PromptPoint(x: 80, y: 60, positive: false)],
                                   box: PromptBox(x0: 20, y0: 20, x1: 60, y1: 50))
        s.cursor = PixelPoint(x: 90, y: 10)
        let buffer = Workbench.render(s)
        let layout = WorkbenchLayout(s)
        func at(_ p: PixelPoint) -> Unicode.Scalar { let c = layout.cell(for: p)!; return buffer[c.row, c.column].character }
        #expect(at(PixelPoint(x: 10, y: 10)) == Workbench.positiveGlyph)
        #expect(at(PixelPoint(x: 80, y: 60)) == Workbench.negativeGlyph)
        #expect(at(PixelPoint(x: 90, y: 10)) == Workbench.cursorGlyph)
        #expect(at(PixelPoint(x: 20, y: 20)) == "\u{250C}")
        #expect(at(PixelPoint(x: 60, y: 50)) == "\u{2518}")
        let p = layout.cell(for: PixelPoint(x: 10, y: 10))!
        #expect(buffer[p.row, p.column].foreground == Theme.dark.positivePoint)
    }

    @Test("help and the class picker draw over the image")
    func overlays() {
        var s = Self.state()
        s.overlay = .help
        let help = Workbench.render(s)
        #expect((0..<help.rows).contains { help.text(row: $0).contains("positive point") })
        s.overlay = .classPicker(filter: "car", highlighted: 1)
        let picker = Workbench.render(s)
        let lines = (0..<picker.rows).map { picker.text(row: $0) }
        #expect(lines.contains { $0.contains("class: car") })
        #expect(!lines.contains { $0.contains("cat") })
        let rowOfCar = lines.firstIndex { $0.contains("car ") && !$0.contains("cart") }
        let rowOfCart = lines.firstIndex { $0.contains("cart") }
        #expect(rowOfCar != nil && rowOfCart != nil)
        if let rowOfCart, let column = lines[rowOfCart].unicodeScalars.firstIndex(of: "c").map({ lines[rowOfCart].unicodeScalars.distance(from: lines[rowOfCart].unicodeScalars.startIndex, to: $0) }) {
            #expect(picker[rowOfCart, column].bold)  // the highlighted choice
        }
    }

    @Test("the class picker stands beside the image where the list was: the image and its mask stay in view, in text and in graphics (#22 item 10)")
    func pickerBesideImage() throws {
        var s = Self.state(rows: 30, columns: 100)
        s.lane.candidates = [Candidate(mask: WorkbenchReducerTests.square(10, 10, 30), score: 0.9)]
        let plain = Workbench.render(s)
        s.overlay = .classPicker(filter: "", highlighted: 0)
        let picking = Workbench.render(s)
        let layout = WorkbenchLayout(s)
        #expect(layout.pickerBeside)
        let list = try #require(layout.list)
        #expect((list.row..<(list.row + list.rows)).contains { picking.text(row: $0).contains("accept as") })
        // Every cell of the image area is drawn as without the picker.
        let area = layout.imageArea
        for row in area.row..<(area.row + area.rows) {
            for column in area.column..<(area.column + area.columns) { #expect(picking[row, column] == plain[row, column]) }
        }
        // With the list hidden (\), the picker still takes its place; the image moves over.
        s.showList = false
        #expect(WorkbenchLayout(s).pickerBeside)
        // Graphics terminals keep the picture up while the picker is open.
        s.showList = true
        s.display = DisplayGrid(mode: .sixel, cellPixels: PixelSize(width: 6, height: 13))
        #expect(!Workbench.graphics(s).isEmpty)
        // Too narrow for a side column: the picker is a box over the image, which graphics leave to it.
        s.columns = 70
        #expect(!WorkbenchLayout(s).pickerBeside && Workbench.graphics(s).isEmpty)
        #expect((0..<s.rows).contains { Workbench.render(s).text(row: $0).contains("accept as") })
    }

    @Test("a status line too long for the terminal keeps the counts and the latency, dropping size, help and zoom first (#22 item 10)")
    func statusKeepsWhatMatters() {
        var s = Self.state(rows: 30, columns: 70)
        s.message = "a long message about something that happened a moment ago"
        s.editor.prompts = Prompts(points: [PromptPoint(x: 1, y: 1, positive: true)])
        let status = Workbench.statusText(s, layout: WorkbenchLayout(s))
        #expect(status.count <= 70, "\(status)")
        #expect(status.contains("1 pt") && status.contains("objects 0") && status.contains("test: ready (prepared in 5 ms)"), "\(status)")
        #expect(!status.contains("? help") && !status.contains("100x80"), "\(status)")
        // Wide enough, everything shows.
        s.columns = 300
        let wide = Workbench.statusText(s, layout: WorkbenchLayout(s))
        #expect(wide.contains("? help") && wide.contains("100x80") && wide.contains("a long message"), "\(wide)")
        #expect(Workbench.fitted([("a", 1), ("bbbb", 2), ("c", 1)], width: 4) == ["bbbb"])
    }
}
