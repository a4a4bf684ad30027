import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// The workbench in a real sixel terminal: xterm (VT340, 256 colour registers, the `fixed` font's
/// 6×13-pixel cells) on a virtual X screen, driven with the X test extension's mouse and keyboard,
/// seen through screenshots. What tmux cannot show: that the pixels the terminal paints are the
/// photo's and the mask's, at the place the layout says, and that a click lands on the pixel under
/// the pointer, not on a cell's centre.
@Suite("segterm open in xterm under Xvfb: sixel pixels and pixel-precise clicks", .serialized,
       .enabled(if: Binary.path != nil, "the segterm binary was not built"),
       .enabled(if: X11Tools.available, "Xvfb, xterm, xwd or xdotool is missing (scripts/install-deps.sh installs them)"))
struct XtermGraphicsTests {
    static let columns = 160, rows = 45
    /// xterm's `fixed` font (6x13).
    static let cell = PixelSize(width: 6, height: 13)
    /// How far a painted colour may be from the expected one, per channel: sixel colours are
    /// percentages (about 2.5 levels a step) and the palette is cut to 256 registers.
    static let tolerance = 12

    @Test("xterm as it starts (black on white): the light theme with readable panel text; the photo is painted at the layout's place in its own colours; a click segments the disc with a pixel-precise point; the help box takes the image away and brings it back; q exits 0")
    func photoClickAndMask() throws {
        try run(columns: Self.columns, rows: Self.rows, background: nil, theme: try #require(Theme.builtIn("light")),
                backgroundColor: RGB(255, 255, 255))
    }

    /// 200×60 cells of 6×13 pixels: a 1200×780-pixel window, wider than xterm's default
    /// `maxGraphicSize` (1000×1000), which drew nothing of a larger sixel: the pane stayed empty.
    @Test("a large xterm, white on black: the dark theme, and the picture shows in tiles within xterm's default sixel limit")
    func largeDarkXterm() throws {
        try run(columns: 200, rows: 60, background: "black", theme: .dark, backgroundColor: RGB(0, 0, 0))
    }

    func run(columns: Int, rows: Int, background: String?, theme: Theme, backgroundColor: RGB) throws {
        let root = try FlatScene.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let evidence = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-xterm-e2e-\(getpid())-\(columns)x\(rows)")
        try? FileManager.default.removeItem(at: evidence)
        try FileManager.default.createDirectory(at: evidence, withIntermediateDirectories: true)
        var failed = false
        // Screenshots and logs stay for a failed run (the messages name them) and with
        // SEGTERM_E2E_KEEP=1; a passing run cleans up.
        let keep = ProcessInfo.processInfo.environment["SEGTERM_E2E_KEEP"] == "1"
        defer { if !failed && !keep { try? FileManager.default.removeItem(at: evidence) } }
        func report(_ problems: [String], _ screenshot: String, sourceLocation: SourceLocation = #_sourceLocation) {
            for problem in problems {
                failed = true
                Issue.record(Comment(rawValue: "\(problem) (\(evidence.path)/\(screenshot))"), sourceLocation: sourceLocation)
            }
        }

        let x = try X11Workbench(workspace: root, evidence: evidence,
                                 terminal: .xterm(columns: columns, rows: rows, background: background))
        defer { x.stop() }
        let screen = ScreenMapping(display: DisplayGrid(mode: .sixel, cellPixels: Self.cell), columns: columns, rows: rows,
                                   tolerance: Self.tolerance, theme: theme)

        // 1. The photo. Screenshots until it is all there (startup, terminal detection, the
        //    model's preparation; a screenshot may also catch a frame half drawn), then what is
        //    still wrong fails the test.
        var shot = try x.waitForScreen("photo.xwd", seconds: 20) { screen.photoProblems(in: $0).isEmpty }
        report(screen.photoProblems(in: shot), "photo.xwd")
        report(screen.panelTextProblems(in: shot, background: backgroundColor), "photo.xwd")
        if let rc = x.exitCode() {
            report(["segterm exited early with \(rc): \(x.log)"], "photo.xwd")
            return
        }

        // 2. A click on the disc, on the second pixel row of a cell: a click reported in cells
        //    would put the point at the cell's centre, 5½ pixels lower; reported in pixels, the
        //    point goes to the image pixel under the pointer, whose centre is at most half an
        //    image pixel (1.6 screen pixels at this zoom) away.
        let centre = screen.screenPoint(imageX: FlatScene.disc.x + 0.5, imageY: FlatScene.disc.y + 0.5)
        let click = (x: centre.x, y: centre.y / Self.cell.height * Self.cell.height + 1)
        try x.click(x: click.x, y: click.y)

        // 3. The mask over the disc and the point where the pointer was.
        shot = try x.waitForScreen("mask.xwd", seconds: 10) { screen.maskProblems(in: $0, click: click).isEmpty }
        report(screen.maskProblems(in: shot, click: click), "mask.xwd")

        // 4. The help box over the image: `?` takes the sixel pixels away (the screen is cleared
        //    and the help drawn), any key brings the photo and the mask back where they were.
        for (problem, screenshot) in try x.helpRoundTrip(screen, click: click) { report([problem], screenshot) }

        // 5. q quits; the exit code is 0.
        try x.key("q")
        let rc = x.waitForExitCode(seconds: 10)
        report(rc == 0 ? [] : ["segterm exit code \(rc.map(String.init) ?? "none within 10 s"): \(x.log)"], "help-closed.xwd")
    }

    @Test("segterm view in a sixel xterm: the photo and the mask in the terminal's pixels, not text symbols (#22 item 2)")
    func viewInSixel() throws {
        let root = try FlatScene.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let evidence = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-xterm-view-\(getpid())")
        try? FileManager.default.removeItem(at: evidence)
        try FileManager.default.createDirectory(at: evidence, withIntermediateDirectories: true)
        var failed = false
        defer { if !failed && ProcessInfo.processInfo.environment["SEGTERM_E2E_KEEP"] != "1" { try? FileManager.default.removeItem(at: evidence) } }
        let x = try X11Workbench(workspace: root, evidence: evidence, terminal: .xterm(columns: Self.columns, rows: Self.rows, background: "black"),
                                 command: ["view", root.appendingPathComponent("images/scene.png").path,
                                           "--mask", root.appendingPathComponent("truth/scene.png").path])
        defer { x.stop() }
        // Where the viewer puts the image at this size, in the terminal's pixels.
        let state = ViewerState(rows: Self.rows, columns: Self.columns, colorMode: .direct,
                                display: DisplayGrid(mode: .sixel, cellPixels: Self.cell))
        let layout = Viewer.imageLayout(state, imageSize: PixelSize(width: FlatScene.width, height: FlatScene.height))
        let fill = ScreenMapping.over(Theme.dark.maskFill, FlatScene.object, opacity: Theme.dark.maskOpacity)
        func problems(_ shot: XWDScreenshot) -> [String] {
            var total = 0, wrong: [(x: Int, y: Int, expected: RGB, got: RGB)] = []
            for dy in stride(from: 3, to: layout.shownHeight - 3, by: 10) {
                for dx in stride(from: 3, to: layout.shownWidth - 3, by: 10) {
                    let ix = layout.originX + (Double(dx) + 0.5) / layout.scaleX, iy = layout.originY + (Double(dy) + 0.5) / layout.scaleY
                    guard let photo = FlatScene.flatColor(ix, iy) else { continue }
                    let r = FlatScene.discDistance(ix, iy)
                    guard r <= FlatScene.disc.radius - 3 || r >= FlatScene.disc.radius + 3 else { continue }
                    let want = r < FlatScene.disc.radius ? fill : photo
                    let got = shot[layout.offsetX + dx, layout.offsetY + dy]
                    total += 1
                    if max(abs(Int(got.r) - Int(want.r)), abs(Int(got.g) - Int(want.g)), abs(Int(got.b) - Int(want.b))) > Self.tolerance {
                        wrong.append((layout.offsetX + dx, layout.offsetY + dy, want, got))
                    }
                }
            }
            return (total > 2000 ? [] : ["only \(total) sample points"]) + ScreenMapping.summary("are not the photo (or the mask over it)", wrong, of: total)
        }
        let shot = try x.waitForScreen("view.xwd", seconds: 20) { problems($0).isEmpty }
        for problem in problems(shot) {
            failed = true
            Issue.record(Comment(rawValue: "\(problem) (\(evidence.path)/view.xwd)"))
        }
        try x.key("q")
        #expect(x.waitForExitCode(seconds: 10) == 0)
    }

    @Test("doctor in a real xterm, TERM=xterm, black on white, 200×60: the sixel limit, 24-bit colour and a light background (#22 items 1, 4, 5)")
    func doctorInXterm() throws {
        let root = try FlatScene.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let evidence = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-xterm-doctor-\(getpid())")
        try? FileManager.default.removeItem(at: evidence)
        try FileManager.default.createDirectory(at: evidence, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: evidence) }
        let x = try X11Workbench(workspace: root, evidence: evidence, terminal: .xterm(columns: 200, rows: 60), command: ["doctor"],
                                 capture: true)
        defer { x.stop() }
        #expect(x.waitForExitCode(seconds: 20) == 0, "\(x.log)")
        let report = x.output
        #expect(report.contains("graphics      sixel"), "\(report)")
        #expect(report.contains("sixel limit   1000x780"), "\(report)")
        #expect(report.contains("colour        24-bit") && report.contains("kept a 24-bit colour (DECRQSS)"), "\(report)")
        #expect(report.contains("background    light: theme light"), "\(report)")
    }

    @Test("the compare view (c) in a sixel xterm: both sets' panes show the photo in the terminal's pixels (#22 item 2)")
    func compareInSixel() throws {
        let root = try FlatScene.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        // Two prediction sets of binary masks: A the disc, B the disc shifted; both evaluated against the truth.
        for (name, shift) in [("a", 0), ("b", 6)] {
            let folder = root.appendingPathComponent("pred-\(name)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var mask = Mask(width: FlatScene.width, height: FlatScene.height)
            for y in 0..<FlatScene.height { for x in 0..<FlatScene.width { mask[x, y] = FlatScene.inDisc(x - shift, y) } }
            try ImageFile.writePNG(mask, to: folder.appendingPathComponent("scene.png").path)
        }
        let toml = try String(contentsOf: root.appendingPathComponent("segterm.toml"), encoding: .utf8)
        try Data((toml + "\n[predictions]\na = \"pred-a\"\nb = \"pred-b\"\n").utf8).write(to: root.appendingPathComponent("segterm.toml"))
        let evidence = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-xterm-compare-\(getpid())")
        try? FileManager.default.removeItem(at: evidence)
        try FileManager.default.createDirectory(at: evidence, withIntermediateDirectories: true)
        var failed = false
        defer { if !failed && ProcessInfo.processInfo.environment["SEGTERM_E2E_KEEP"] != "1" { try? FileManager.default.removeItem(at: evidence) } }
        let x = try X11Workbench(workspace: root, evidence: evidence, terminal: .xterm(columns: Self.columns, rows: Self.rows, background: "black"))
        defer { x.stop() }
        let screen = ScreenMapping(display: DisplayGrid(mode: .sixel, cellPixels: Self.cell), columns: Self.columns, rows: Self.rows,
                                   tolerance: Self.tolerance)
        _ = try x.waitForScreen("photo.xwd", seconds: 20) { screen.photoProblems(in: $0).isEmpty }
        // Where the compare view puts each set's image, at this size.
        let area = CellRect(column: 0, row: 0, columns: Self.columns, rows: Self.rows - 1)
        let panes = Workbench.comparePanes(area)
        let grid = DisplayGrid(mode: .sixel, cellPixels: Self.cell)
        let layouts = [panes.0, panes.1].map { pane in
            let imageArea = Workbench.compareImageArea(pane)
            return (layout: grid.imageLayout(PixelSize(width: FlatScene.width, height: FlatScene.height), area: imageArea, viewport: .fit),
                    left: imageArea.column * Self.cell.width, top: imageArea.row * Self.cell.height)
        }
        func problems(_ shot: XWDScreenshot) -> [String] {
            var result: [String] = []
            for (k, pane) in layouts.enumerated() {
                var total = 0, wrong: [(x: Int, y: Int, expected: RGB, got: RGB)] = []
                let l = pane.layout
                for dy in stride(from: 3, to: l.shownHeight - 3, by: 8) {
                    for dx in stride(from: 3, to: l.shownWidth - 3, by: 8) {
                        let ix = l.originX + (Double(dx) + 0.5) / l.scaleX, iy = l.originY + (Double(dy) + 0.5) / l.scaleY
                        // Away from both sets' discs and the truth's outline: the photo itself.
                        guard let photo = FlatScene.flatColor(ix, iy), FlatScene.discDistance(ix - 6, iy) > FlatScene.disc.radius + 9,
                              FlatScene.discDistance(ix, iy) > FlatScene.disc.radius + 3 else { continue }
                        let px = pane.left + l.offsetX + dx, py = pane.top + l.offsetY + dy
                        total += 1
                        if !screen.close(shot[px, py], photo) { wrong.append((px, py, photo, shot[px, py])) }
                    }
                }
                result += total > 300 ? [] : ["pane \(k == 0 ? "A" : "B"): only \(total) sample points"]
                result += ScreenMapping.summary("of pane \(k == 0 ? "A" : "B") are not the photo's colour", wrong, of: total)
            }
            return result
        }
        // The sets are evaluated in the background when the workbench starts (a second is plenty
        // for one 240×180 image); then c opens the view.
        Thread.sleep(forTimeInterval: 1)
        try x.key("c")
        let shot = try x.waitForScreen("compare.xwd", seconds: 10) { problems($0).isEmpty }
        for problem in problems(shot) {
            failed = true
            Issue.record(Comment(rawValue: "\(problem) (\(evidence.path)/compare.xwd)"))
        }
    }
}
