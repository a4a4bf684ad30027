import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// The workbench in a real kitty-protocol terminal: kitty (Debian's 0.26, OpenGL through Mesa's
/// software renderer) on a virtual X screen, driven with the X test extension's mouse and
/// keyboard, seen through screenshots. kitty before 0.31 has no Unicode placeholders, so segterm
/// must tell it from XTVERSION and place the photo and its overlay directly at their cells
/// (`KittyPresenter` with `placeholders: false`): what KittyInTmuxTests, reading the bytes,
/// cannot show is that kitty then paints the photo's pixels where the layout says, the overlay's
/// mask blends over them, a click lands on the pixel under the pointer, and the images go when
/// segterm does.
@Suite("segterm open in kitty under Xvfb: images placed at their cells, pixel-precise clicks", .serialized,
       .enabled(if: Binary.path != nil, "the segterm binary was not built"),
       .enabled(if: X11Tools.kittyAvailable, "Xvfb, kitty, xwd or xdotool is missing (scripts/install-deps.sh installs them)"))
struct KittyTerminalTests {
    /// kitty's window in pixels (its cell depends on the font: measured, not assumed).
    static let window = (width: 1000, height: 620)
    /// How far a painted colour may be from the expected one, per channel: kitty shows the PNG's
    /// pixels exactly and blends the overlay in 8-bit sRGB as segterm's compositing does
    /// (measured: within 1 level), so only rounding is allowed for.
    static let tolerance = 4

    @Test("segterm detects kitty; the photo is placed at the layout's cells in its own colours; a click segments the disc with a pixel-precise point; the help box takes the images down and they come back; q exits 0 and takes the images away")
    func photoClickAndMask() throws {
        let root = try FlatScene.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let evidence = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-kitty-e2e-\(getpid())")
        try? FileManager.default.removeItem(at: evidence)
        try FileManager.default.createDirectory(at: evidence, withIntermediateDirectories: true)
        var failed = false
        // Screenshots and logs stay for a failed or skipped run (the messages name them) and
        // with SEGTERM_E2E_KEEP=1; a passing run cleans up.
        var skipped = false
        let keep = ProcessInfo.processInfo.environment["SEGTERM_E2E_KEEP"] == "1"
        defer { if !failed && !skipped && !keep { try? FileManager.default.removeItem(at: evidence) } }
        func report(_ problems: [String], _ screenshot: String, sourceLocation: SourceLocation = #_sourceLocation) {
            for problem in problems {
                failed = true
                Issue.record(Comment(rawValue: "\(problem) (\(evidence.path)/\(screenshot))"), sourceLocation: sourceLocation)
            }
        }

        let k = try X11Workbench(workspace: root, evidence: evidence, terminal: .kitty(width: Self.window.width, height: Self.window.height))
        defer { k.stop() }

        // 0. kitty is up, and what segterm sees in it: the size in cells (`stty size`), the cell
        //    in pixels and the graphics mode (`segterm doctor`, whose terminal queries also wait
        //    out kitty's start). A kitty that cannot start (no OpenGL 3.3, even in software)
        //    skips the test: that is the machine, not segterm.
        let probe: X11Workbench.KittyProbe
        do {
            probe = try k.kittyProbe(seconds: 30)
        } catch let failure as X11Workbench.StartFailure {
            switch failure {
            case .exited(let log):
                skipped = true
                try Test.cancel(Comment(rawValue: "kitty did not start under Xvfb (it needs OpenGL 3.3; here Mesa's software renderer "
                    + "through GLX, LIBGL_ALWAYS_SOFTWARE=1): it exited before running anything. \(log) (\(evidence.path))"))
            case .noWindow(let log):
                skipped = true
                try Test.cancel(Comment(rawValue: "kitty opened no window under Xvfb within 30 s (no OpenGL?). \(log) (\(evidence.path))"))
            case .stalled(let log):
                report(["kitty's window opened but the shell in it did not get through `stty size` and `segterm doctor`: \(log)"], "")
                return
            }
        }
        if probe.graphics != GraphicsMode.kitty.rawValue {
            report(["segterm doctor in kitty chose graphics \(probe.graphics ?? "(none)"), not kitty:\n\(probe.doctor)"], "doctor.txt")
        }
        guard let cell = probe.cell else {
            report(["segterm doctor in kitty reported no cell size:\n\(probe.doctor)"], "doctor.txt")
            return
        }
        // No window manager: the window is where kitty put it, which should be the screen's
        // top-left; the mapping takes it from the server either way.
        let geometry = k.windowGeometry()
        let origin: (x: Int, y: Int) = geometry.map { ($0.x, $0.y) } ?? (0, 0)
        let display = DisplayGrid(mode: .kitty, cellPixels: cell, placeholders: false)
        let screen = ScreenMapping(display: display, columns: probe.columns, rows: probe.rows, origin: origin,
                                   tolerance: Self.tolerance)
        let setting = "kitty \(probe.columns)×\(probe.rows) cells of \(cell.width)×\(cell.height) px, window at "
            + (geometry.map { "(\($0.x), \($0.y)) \($0.width)×\($0.height)" } ?? "(not found; assumed (0, 0))")

        // 1. The photo. Screenshots until it is all there (segterm's start, terminal detection, the
        //    model's preparation; kitty renders in software on a busy machine), then what is
        //    still wrong fails the test.
        var shot = try k.waitForScreen("photo.xwd", seconds: 25) { screen.photoProblems(in: $0).isEmpty }
        report(screen.photoProblems(in: shot).map { "\($0) [\(setting)]" }, "photo.xwd")
        if let rc = k.exitCode() {
            report(["segterm exited early with \(rc): \(k.log)"], "photo.xwd")
            return
        }

        // 2. A click on the disc, on the second pixel row of a cell: a click reported in cells
        //    would put the point at the cell's centre, several pixels lower; reported in pixels
        //    (kitty has mode 1016), the point goes to the image pixel under the pointer, whose
        //    centre is at most half an image pixel away.
        let centre = screen.screenPoint(imageX: FlatScene.disc.x + 0.5, imageY: FlatScene.disc.y + 0.5)
        let click = (x: centre.x, y: (centre.y - origin.y) / cell.height * cell.height + 1 + origin.y)
        try k.click(x: click.x, y: click.y)

        // 3. The mask over the disc (kitty blends the overlay image over the photo) and the
        //    point where the pointer was.
        shot = try k.waitForScreen("mask.xwd", seconds: 10) { screen.maskProblems(in: $0, click: click).isEmpty }
        report(screen.maskProblems(in: shot, click: click).map { "\($0) [\(setting)]" }, "mask.xwd")

        // 4. The help box over the image: `?` deletes the placements (kitty draws images above
        //    text), any key places the photo and the overlay again where they were.
        for (problem, screenshot) in try k.helpRoundTrip(screen, click: click) { report(["\(problem) [\(setting)]"], screenshot) }

        // 5. q quits; the exit code is 0.
        try k.key("q")
        let rc = k.waitForExitCode(seconds: 10)
        report(rc == 0 ? [] : ["segterm exit code \(rc.map(String.init) ?? "none within 10 s"): \(k.log)"], "help-closed.xwd")
        guard rc != nil else { return }

        // 6. The window stays open after segterm: neither the photo nor the overlay is left on it.
        shot = try k.waitForScreen("after-quit.xwd", seconds: 5, afterExit: true) { screen.leftoverProblems(in: $0).isEmpty }
        report(screen.leftoverProblems(in: shot), "after-quit.xwd")
    }
}
