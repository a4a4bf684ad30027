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

    @Test("the photo is painted at the layout's place in its own colours; a click segments the disc with a pixel-precise point; q exits 0")
    func photoClickAndMask() throws {
        let root = try FlatScene.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let evidence = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-xterm-e2e-\(getpid())")
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

        let x = try XtermWorkbench(workspace: root, evidence: evidence, columns: Self.columns, rows: Self.rows)
        defer { x.stop() }
        let screen = ScreenMapping(cell: Self.cell, columns: Self.columns, rows: Self.rows)

        // 1. The photo. Screenshots until it is all there (startup, terminal detection, the
        //    model's preparation; a screenshot may also catch a frame half drawn), then what is
        //    still wrong fails the test.
        var shot = try x.waitForScreen("photo.xwd", seconds: 20) { screen.photoProblems(in: $0).isEmpty }
        report(screen.photoProblems(in: shot), "photo.xwd")
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

        // 4. q quits; the exit code is 0.
        try x.key("q")
        let rc = x.waitForExitCode(seconds: 10)
        report(rc == 0 ? [] : ["segterm exit code \(rc.map(String.init) ?? "none within 10 s"): \(x.log)"], "mask.xwd")
    }
}

// MARK: - The scene

/// A 240×180 photo of flat, very different colours, so every pixel away from an edge has one
/// known colour: a dark green ground, a purple band along the top, a light grey square at the
/// bottom left (so a shifted or mirrored image cannot pass) and the object, an orange disc of
/// radius 40 around (140, 100), which is also the ground truth.
enum FlatScene {
    static let width = 240, height = 180
    static let disc = (x: 140.0, y: 100.0, radius: 40.0)
    static let ground = RGB(40, 70, 60), band = RGB(110, 40, 120), square = RGB(200, 200, 200), object = RGB(230, 150, 40)

    static func inDisc(_ x: Int, _ y: Int) -> Bool {
        let dx = Double(x) - disc.x, dy = Double(y) - disc.y
        return dx * dx + dy * dy <= disc.radius * disc.radius
    }

    static let bandHeight = 30
    /// The square covers x0..<x1, y0..<y1.
    static let squareBox = (x0: 20, y0: 120, x1: 60, y1: 160)

    static func color(_ x: Int, _ y: Int) -> RGB {
        if inDisc(x, y) { return object }
        if y < bandHeight { return band }
        if (squareBox.x0..<squareBox.x1).contains(x) && (squareBox.y0..<squareBox.y1).contains(y) { return square }
        return ground
    }

    /// The colour at image coordinates (x, y) when every pixel within `margin` has it (away from
    /// edges, where the display's box filter mixes neighbours), else nil.
    static func flatColor(_ x: Double, _ y: Double, margin: Int = 2) -> RGB? {
        let cx = Int(x.rounded(.down)), cy = Int(y.rounded(.down))
        guard cx - margin >= 0, cy - margin >= 0, cx + margin < width, cy + margin < height else { return nil }
        let c = color(cx, cy)
        for v in (cy - margin)...(cy + margin) {
            for u in (cx - margin)...(cx + margin) where color(u, v) != c { return nil }
        }
        return c
    }

    /// Distance from the disc's centre in image coordinates (pixel (x, y) covers [x, x+1)).
    static func discDistance(_ x: Double, _ y: Double) -> Double {
        let dx = x - (disc.x + 0.5), dy = y - (disc.y + 0.5)
        return (dx * dx + dy * dy).squareRoot()
    }

    /// A workspace with the scene, its ground truth and grabcut, as the tmux tests build one.
    static func workspace() throws -> URL {
        let root = Binary.temporaryFolder()
        let images = root.appendingPathComponent("images"), truth = root.appendingPathComponent("truth")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: truth, withIntermediateDirectories: true)
        var image = RGBImage(width: width, height: height)
        var mask = Mask(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let c = color(x, y)
                image[x, y] = (c.r, c.g, c.b)
                mask[x, y] = inDisc(x, y)
            }
        }
        try ImageFile.writePNG(image, to: images.appendingPathComponent("scene.png").path)
        try ImageFile.writePNG(mask, to: truth.appendingPathComponent("scene.png").path)
        let toml = """
            images = "images"
            classes = ["background", "disc"]
            output = "out"
            ground_truth = "truth"
            model = "grabcut"
            """
        try Data(toml.utf8).write(to: root.appendingPathComponent("segterm.toml"))
        return root
    }
}

// MARK: - Where the image lands, and what the screen should show

/// Screen pixels ↔ image coordinates, from the layout code the binary runs for the same state
/// (the xterm window sits at the screen's top-left with no border, so screen pixels are the
/// terminal's), and what the screen should show there. In sixel mode one display pixel is one
/// terminal pixel.
struct ScreenMapping {
    let image: ImageLayout
    /// The screen pixel of the image's top-left corner.
    let left: Int, top: Int
    /// A grid of screen pixels over the shown image: every 10th display pixel each way.
    let samples: [Sample]

    /// A screen pixel and the image coordinates of its centre.
    struct Sample { let x: Int, y: Int, imageX: Double, imageY: Double }

    init(cell: PixelSize, columns: Int, rows: Int) {
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/scene.png")],
                               classes: ["background", "disc"], modelName: "grabcut")
        s.image = RGBImage(width: FlatScene.width, height: FlatScene.height)
        s.display = DisplayGrid(mode: .sixel, cellPixels: cell)
        let layout = WorkbenchLayout(s).pane(0)
        let image = layout.image
        self.image = image
        left = layout.imageArea.column * cell.width + image.offsetX
        top = layout.imageArea.row * cell.height + image.offsetY
        var samples: [Sample] = []
        for dy in stride(from: 3, to: image.shownHeight - 3, by: 10) {
            for dx in stride(from: 3, to: image.shownWidth - 3, by: 10) {
                samples.append(Sample(x: left + dx, y: top + dy, imageX: image.originX + (Double(dx) + 0.5) / image.scale,
                                      imageY: image.originY + (Double(dy) + 0.5) / image.scale))
            }
        }
        self.samples = samples
    }

    /// The screen pixel showing image coordinates (x, y).
    func screenPoint(imageX x: Double, imageY y: Double) -> (x: Int, y: Int) {
        (left + Int(((x - image.originX) * image.scale).rounded(.down)), top + Int(((y - image.originY) * image.scale).rounded(.down)))
    }

    static func close(_ a: RGB, _ b: RGB, _ tolerance: Int = XtermGraphicsTests.tolerance) -> Bool {
        max(abs(Int(a.r) - Int(b.r)), abs(Int(a.g) - Int(b.g)), abs(Int(a.b) - Int(b.b))) <= tolerance
    }

    /// "n of m points …, e.g. (x, y) #got for #expected; …".
    static func summary(_ what: String, _ wrong: [(x: Int, y: Int, expected: RGB, got: RGB)], of total: Int) -> [String] {
        wrong.isEmpty ? [] : ["\(wrong.count) of \(total) points \(what), e.g. "
            + wrong.prefix(5).map { "(\($0.x), \($0.y)) \($0.got) for \($0.expected)" }.joined(separator: "; ")]
    }

    /// Before the click: every sample on a flat region shows the photo's colour, and the photo's
    /// edges are where the layout puts them (which a shift by a cell or a wrong zoom breaks).
    func photoProblems(in shot: XWDScreenshot) -> [String] {
        var total = 0
        var wrong: [(x: Int, y: Int, expected: RGB, got: RGB)] = []
        for p in samples {
            guard let want = FlatScene.flatColor(p.imageX, p.imageY) else { continue }
            total += 1
            let got = shot[p.x, p.y]
            if !Self.close(got, want) { wrong.append((p.x, p.y, want, got)) }
        }
        var problems = total > 2000 ? [] : ["only \(total) sample points on flat regions"]
        problems += Self.summary("are not the photo's colour", wrong, of: total)
        return problems + edgeProblems(in: shot)
    }

    /// The grey square's four edges and the band's lower edge, found by scanning across them:
    /// each within 2 screen pixels of where the layout puts it.
    func edgeProblems(in shot: XWDScreenshot) -> [String] {
        let square = FlatScene.squareBox
        let midY = screenPoint(imageX: 0, imageY: Double(square.y0 + square.y1) / 2).y
        let midX = screenPoint(imageX: Double(square.x0 + square.x1) / 2, imageY: 0).x
        func first(_ along: [Int], _ color: RGB, _ pixel: (Int) -> RGB) -> Int? { along.first { Self.close(pixel($0), color) } }
        let x0 = screenPoint(imageX: Double(square.x0), imageY: 0).x, x1 = screenPoint(imageX: Double(square.x1), imageY: 0).x
        let y0 = screenPoint(imageX: 0, imageY: Double(square.y0)).y, y1 = screenPoint(imageX: 0, imageY: Double(square.y1)).y
        let bandX = screenPoint(imageX: 200, imageY: 0).x, bandY = screenPoint(imageX: 0, imageY: Double(FlatScene.bandHeight)).y
        let edges: [(name: String, expected: Int, found: Int?)] = [
            ("the square's left edge", x0, first(Array(x0 - 20...x0 + 20), FlatScene.square) { shot[$0, midY] }),
            ("the square's right edge", x1, first(Array((x1 - 20...x1 + 20).reversed()), FlatScene.square) { shot[$0, midY] }.map { $0 + 1 }),
            ("the square's top edge", y0, first(Array(y0 - 20...y0 + 20), FlatScene.square) { shot[midX, $0] }),
            ("the square's bottom edge", y1, first(Array((y1 - 20...y1 + 20).reversed()), FlatScene.square) { shot[midX, $0] }.map { $0 + 1 }),
            ("the band's lower edge", bandY, first(Array(bandY - 20...bandY + 20), FlatScene.ground) { shot[bandX, $0] }),
        ]
        return edges.compactMap { edge in
            guard let found = edge.found else { return "\(edge.name) not found within 20 pixels of \(edge.expected)" }
            return abs(found - edge.expected) <= 2 ? nil : "\(edge.name) is at \(found), the layout puts it at \(edge.expected)"
        }
    }

    /// The workbench's mask as the sixel presenter composites it: the colour at `opacity` over
    /// the photo, as an 8-bit alpha (`overlayPixels`, then `RGBAImage.composited`).
    static func over(_ top: RGB, _ photo: RGB, opacity: Double) -> RGB {
        let a = Int((min(max(opacity, 0), 1) * 255).rounded())
        func mix(_ t: UInt8, _ b: UInt8) -> UInt8 { UInt8((Int(t) * a + Int(b) * (255 - a) + 127) / 255) }
        return RGB(mix(top.r, photo.r), mix(top.g, photo.g), mix(top.b, photo.b))
    }

    /// The fill opacity `Workbench.overlays` gives the mask being made (the default step).
    static var fillOpacity: Double {
        let s = WorkbenchState(rows: 1, columns: 1, colorMode: .direct, images: [], classes: [], modelName: "grabcut")
        return WorkbenchState.opacitySteps[s.opacityStep]
    }

    /// After the click: samples well inside the true disc (3 image pixels in from its edge, and
    /// away from the point marker and the keyboard cursor at the click) show the fill over the
    /// photo, samples well outside (3 pixels out) the photo; the boundary colour is on the
    /// disc's edge; the point marker is centred within 3 screen pixels of the click.
    func maskProblems(in shot: XWDScreenshot, click: (x: Int, y: Int)) -> [String] {
        let fill = Self.over(Theme.dark.maskFill, FlatScene.object, opacity: Self.fillOpacity)
        var inside = 0, outside = 0
        var wrongInside: [(x: Int, y: Int, expected: RGB, got: RGB)] = [], wrongOutside = wrongInside
        for p in samples {
            guard let photo = FlatScene.flatColor(p.imageX, p.imageY) else { continue }
            let r = FlatScene.discDistance(p.imageX, p.imageY), got = shot[p.x, p.y]
            if r <= FlatScene.disc.radius - 3 {
                if abs(p.x - click.x) <= 14 && abs(p.y - click.y) <= 14 { continue }
                inside += 1
                if !Self.close(got, fill) { wrongInside.append((p.x, p.y, fill, got)) }
            } else if r >= FlatScene.disc.radius + 3 {
                outside += 1
                if !Self.close(got, photo) { wrongOutside.append((p.x, p.y, photo, got)) }
            }
        }
        var problems = inside > 300 && outside > 2000 ? [] : ["too few sample points: \(inside) inside the disc, \(outside) outside"]
        problems += Self.summary("inside the disc do not show the mask fill over the photo", wrongInside, of: inside)
        problems += Self.summary("outside the disc do not show the photo", wrongOutside, of: outside)
        let missed = boundaryMisses(in: shot)
        if !missed.isEmpty {
            problems.append("no mask boundary colour near the disc's edge along \(missed.count) of 24 rays from its centre, at "
                            + missed.map { "\($0)°" }.joined(separator: ", "))
        }
        if let cross = cross(in: shot, near: click) {
            let (dx, dy) = (cross.x - Double(click.x), cross.y - Double(click.y))
            if abs(dx) > 3 || abs(dy) > 3 {
                problems.append("the point marker is centred at (\(cross.x), \(cross.y)), (\(dx), \(dy)) from the click at "
                                + "(\(click.x), \(click.y)): not the pixel under the pointer")
            }
        } else {
            problems.append("no point marker (\(Theme.dark.positivePoint)) within 20 pixels of the click at (\(click.x), \(click.y))")
        }
        return problems
    }

    /// The angles (degrees) of the rays from the disc's centre along which no pixel within 8
    /// screen pixels of the true edge shows the boundary colour over the photo (the photo under
    /// a boundary pixel may be the disc, the ground or, at the box-filtered edge, a mix).
    func boundaryMisses(in shot: XWDScreenshot, rays: Int = 24) -> [Int] {
        let theme = Theme.dark
        let expected = stride(from: 0.0, through: 1.0, by: 0.1).map { t in
            Self.over(theme.maskBoundary, FlatScene.object.blended(with: FlatScene.ground, amount: t), opacity: theme.boundaryOpacity)
        }
        let centreX = Double(left) + (FlatScene.disc.x + 0.5 - image.originX) * image.scale
        let centreY = Double(top) + (FlatScene.disc.y + 0.5 - image.originY) * image.scale
        let radius = FlatScene.disc.radius * image.scale
        return (0..<rays).compactMap { k in
            let angle = Double(k) * 2 * Double.pi / Double(rays)
            let found = stride(from: radius - 8, through: radius + 8, by: 0.5).contains { t in
                let got = shot[Int((centreX + t * cos(angle)).rounded(.down)), Int((centreY + t * sin(angle)).rounded(.down))]
                return expected.contains { Self.close(got, $0) }
            }
            return found ? nil : k * 360 / rays
        }
    }

    /// The centre of the positive point's cross (the mean position of its colour's pixels within
    /// 20 pixels of `near`), or nil when fewer than 10 such pixels are there (a full cross has 33).
    func cross(in shot: XWDScreenshot, near: (x: Int, y: Int)) -> (x: Double, y: Double)? {
        var sx = 0, sy = 0, n = 0
        for y in (near.y - 20)...(near.y + 20) {
            for x in (near.x - 20)...(near.x + 20) where Self.close(shot[x, y], Theme.dark.positivePoint) {
                sx += x; sy += y; n += 1
            }
        }
        return n >= 10 ? (Double(sx) / Double(n), Double(sy) / Double(n)) : nil
    }
}

// MARK: - X11: the virtual screen, the terminal, screenshots

/// The X11 programs the test drives: a virtual screen, a sixel terminal, a screenshot tool and a
/// mouse and keyboard (the X test extension).
enum X11Tools {
    static func find(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (path + ["/usr/bin", "/usr/local/bin"]).map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let xvfb = find("Xvfb"), xterm = find("xterm"), xwd = find("xwd"), xdotool = find("xdotool")
    static var available: Bool { xvfb != nil && xterm != nil && xwd != nil && xdotool != nil }
}

/// A program left running while the test works; `stop` ends it: SIGTERM, so Xvfb removes its
/// lock file and socket, then SIGKILL if it has not gone within 3 s. Spawned with an empty
/// signal mask and default handlers (as `Subprocess` does): started with Foundation's `Process`,
/// Xvfb outlived SIGTERM (a child inherits the spawning thread's mask), was killed, and left
/// /tmp/.X<n>-lock and its socket behind on every run.
final class BackgroundProcess {
    let pid: pid_t
    private var reaped = false

    init(_ executable: String, _ arguments: [String], environment: [String: String], log: URL) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SegError(.unreadable, file: executable, "cannot start: \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Whether it has exited (reaping it if so).
    var hasExited: Bool {
        if !reaped {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            reaped = r == pid || (r == -1 && errno == ECHILD)
        }
        return reaped
    }

    func stop() {
        guard !hasExited else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while !hasExited && Date() < deadline { usleep(10_000) }
        guard !hasExited else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        reaped = true
    }

    deinit { stop() }
}

/// Xvfb on a display of its own with one xterm, the size of the test's terminal, running
/// `segterm open` on the workspace; the exit code goes to a file.
final class XtermWorkbench {
    let display: String
    let evidence: URL
    let environment: [String: String]
    private var xvfb: BackgroundProcess?
    private var xterm: BackgroundProcess?
    private var exitFile: URL { evidence.appendingPathComponent("open.rc") }

    init(workspace: URL, evidence: URL, columns: Int, rows: Int) throws {
        self.evidence = evidence
        display = ":\(Self.freeDisplay())"
        var env = ProcessInfo.processInfo.environment
        // Nothing from the terminal the tests run in may reach the one they start.
        for key in ["TMUX", "TMUX_PANE", "NO_COLOR", "COLORTERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "KITTY_WINDOW_ID",
                    "WINDOWID", "XAUTHORITY"] { env[key] = nil }
        env["DISPLAY"] = display
        environment = env
        xvfb = try BackgroundProcess(X11Tools.xvfb!, [display, "-screen", "0", "1024x640x24", "-nolisten", "tcp"],
                                     environment: env, log: evidence.appendingPathComponent("xvfb.log"))
        do {
            try startXterm(workspace: workspace, columns: columns, rows: rows)
        } catch {
            stop()  // the caller's defer is not in place yet
            throw error
        }
    }

    private func startXterm(workspace: URL, columns: Int, rows: Int) throws {
        // The server is up once a client can ask it its size.
        let deadline = Date().addingTimeInterval(10)
        while (try? Subprocess.run(X11Tools.xdotool!, ["getdisplaygeometry"], environment: environment, timeout: 5))?.status != 0 {
            guard Date() < deadline else { throw SegError(.unreadable, file: display, "Xvfb did not start: \(log)") }
            usleep(50_000)
        }
        func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = "cd \(quoted(workspace.path)) && \(quoted(Binary.path!)) open \(quoted(workspace.path)) "
            + "2> \(quoted(evidence.appendingPathComponent("segterm.stderr").path)); echo $? > \(quoted(exitFile.path))"
        xterm = try BackgroundProcess(
            X11Tools.xterm!,
            ["-geometry", "\(columns)x\(rows)+0+0", "-bw", "0", "-b", "0", "-fa", "", "-fn", "fixed",
             "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256", "-xrm", "XTerm*sixelScrolling: true",
             "-e", "sh", "-c", command],
            environment: environment, log: evidence.appendingPathComponent("xterm.log"))
    }

    /// A display number from the process id, past any in use.
    static func freeDisplay() -> Int {
        var n = 100 + Int(getpid() % 800)
        while FileManager.default.fileExists(atPath: "/tmp/.X\(n)-lock") || FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(n)") {
            n += 1
        }
        return n
    }

    /// The last lines of the logs, for failure messages.
    var log: String {
        ["segterm.stderr", "xterm.log", "xvfb.log"].map { name in
            let text = (try? String(contentsOf: evidence.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return "\(name): " + text.split(separator: "\n").suffix(5).joined(separator: " | ")
        }.joined(separator: "; ")
    }

    /// A screenshot of the whole screen, kept in the evidence folder as `name`.
    func screenshot(_ name: String) throws -> XWDScreenshot {
        let file = evidence.appendingPathComponent(name)
        let result = try Subprocess.run(X11Tools.xwd!, ["-root", "-silent", "-out", file.path], environment: environment, timeout: 10)
        guard result.status == 0 else { throw SegError(.unreadable, file: file.path, "xwd failed: \(result.stderr)") }
        return try XWDScreenshot(contentsOf: file)
    }

    /// Screenshots until `ready` holds or `seconds` pass (or segterm exits); the last one.
    func waitForScreen(_ name: String, seconds: Double, _ ready: (XWDScreenshot) -> Bool) throws -> XWDScreenshot {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let shot = try screenshot(name)
            if ready(shot) || Date() >= deadline || exitCode() != nil { return shot }
            usleep(150_000)
        }
    }

    func click(x: Int, y: Int) throws {
        let result = try Subprocess.run(X11Tools.xdotool!, ["mousemove", "\(x)", "\(y)", "click", "1"], environment: environment, timeout: 10)
        guard result.status == 0 else { throw SegError(.unreadable, file: "xdotool", result.stderr) }
    }

    /// A key to the window under the pointer (no window manager: X's focus follows the pointer).
    func key(_ name: String) throws {
        let result = try Subprocess.run(X11Tools.xdotool!, ["key", name], environment: environment, timeout: 10)
        guard result.status == 0 else { throw SegError(.unreadable, file: "xdotool", result.stderr) }
    }

    func exitCode() -> Int? {
        (try? String(contentsOf: exitFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func waitForExitCode(seconds: Double) -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let code = exitCode() { return code }
            usleep(50_000)
        }
        return exitCode()
    }

    func stop() {
        xterm?.stop()
        xvfb?.stop()
        xterm = nil
        xvfb = nil
    }
}

/// An X window dump (xwd): a header of big-endian 32-bit fields (its size first), a colour map
/// of 12-byte entries, then rows of 32-bit pixels in the dump's byte order, 0x00RRGGBB on a
/// 24-bit TrueColor screen (as scripts/sixel-compare.py reads it).
struct XWDScreenshot {
    let width: Int, height: Int
    private let bytes: [UInt8]
    private let start: Int, bytesPerLine: Int, littleEndian: Bool

    init(contentsOf url: URL) throws {
        let data = [UInt8](try Data(contentsOf: url))
        bytes = data
        guard data.count >= 100 else { throw SegError(.truncated, file: url.path, "shorter than an XWD header") }
        func field(_ k: Int) -> Int { data[(k * 4)..<(k * 4 + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let headerSize = field(0), bitsPerPixel = field(11), colors = field(19)
        width = field(4)
        height = field(5)
        littleEndian = field(7) == 0
        bytesPerLine = field(12)
        start = headerSize + colors * 12
        guard bitsPerPixel == 32 else { throw SegError(.unsupported, file: url.path, "\(bitsPerPixel) bits per pixel, not 32") }
        guard data.count >= start + bytesPerLine * height else { throw SegError(.truncated, file: url.path, "pixels cut short") }
    }

    /// The pixel at (x, y); black outside the screen.
    subscript(x: Int, y: Int) -> RGB {
        guard x >= 0, y >= 0, x < width, y < height else { return RGB(0, 0, 0) }
        let o = start + y * bytesPerLine + x * 4
        let (r, g, b) = littleEndian ? (bytes[o + 2], bytes[o + 1], bytes[o]) : (bytes[o + 1], bytes[o + 2], bytes[o + 3])
        return RGB(r, g, b)
    }
}
