import Foundation
import Testing
@testable import SegCore

/// `segterm view` in a real terminal: tmux runs the binary, send-keys types, capture-pane reads the screen.
enum Tmux {
    static let path: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A private tmux server for this test process: the default one is shared with whatever else
    /// runs on the machine, and its global environment (NO_COLOR, COLORTERM, …) would leak into
    /// every pane.
    static let socket = "segterm-tests-\(getpid())"

    /// The environment the private server starts with: the caller's, minus what changes rendering.
    static let environment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        for key in ["NO_COLOR", "COLORTERM", "TMUX", "TMUX_PANE"] { env[key] = nil }
        env["TERM"] = "xterm-256color"
        return env
    }()

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        try Subprocess.run(path ?? "/usr/bin/tmux", ["-L", socket] + arguments, environment: environment, timeout: 20).stdout
    }

    /// Polls the pane until `predicate` holds or `seconds` pass; returns the last capture.
    static func waitFor(_ session: String, seconds: Double = 15, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var screen = ""
        while Date() < deadline {
            screen = try run(["capture-pane", "-p", "-t", session])
            if predicate(screen) { return screen }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return screen
    }
}

@Suite("segterm view in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct ViewInTmuxTests {
    /// An image with a bright square object and its mask, written with our PNG writer.
    static func writeScene(in folder: URL) throws -> (image: String, mask: String) {
        var image = RGBImage(width: 60, height: 40, fill: (30, 60, 30))
        var mask = Mask(width: 60, height: 40)
        for y in 10..<30 { for x in 20..<45 { image[x, y] = (220, 80, 40); mask[x, y] = true } }
        let imagePath = folder.appendingPathComponent("scene.png").path
        let maskPath = folder.appendingPathComponent("scene-mask.png").path
        try ImageFile.writePNG(image, to: imagePath)
        try ImageFile.writePNG(mask, to: maskPath)
        return (imagePath, maskPath)
    }

    func start(_ session: String, command: String, columns: Int = 80, rows: Int = 24) throws {
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(columns)", "-y", "\(rows)", command])
    }

    @Test("shows the image with its mask and status line, quits on q and restores the terminal")
    func viewAndQuit() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (image, mask) = try Self.writeScene(in: folder)
        let session = "segterm-e2e-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, command: "'\(Binary.path!)' view '\(image)' --mask '\(mask)' --symbols half; echo EXITED $?; sleep 30")

        let screen = try Tmux.waitFor(session) { $0.contains("scene.png") }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(screen.contains("scene.png  60x40  zoom"), "\(screen)")
        #expect(screen.contains("mask scene-mask.png 500 px"))
        // The image fills the rows above the status line with half blocks (asked for: quadrants, the
        // default, draw flat cells as coloured spaces).
        #expect(lines.filter { $0.contains("\u{2580}") }.count >= 20)

        // Colours reach the terminal: the mask boundary colour (yellow) appears in the escape codes.
        let colored = try Tmux.run(["capture-pane", "-p", "-e", "-t", session])
        #expect(colored.contains("\u{1B}["))

        try Tmux.run(["send-keys", "-t", session, "q"])
        let after = try Tmux.waitFor(session) { $0.contains("EXITED") }
        #expect(after.contains("EXITED 0"), "\(after)")
        #expect(!after.contains("\u{2580}"), "the alternate screen was left")
    }

    @Test("resizing redraws at the new size")
    func resize() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (image, mask) = try Self.writeScene(in: folder)
        let session = "segterm-e2e-resize-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, command: "'\(Binary.path!)' view '\(image)' --mask '\(mask)'; echo EXITED $?; sleep 30")
        _ = try Tmux.waitFor(session) { $0.contains("scene.png") }
        try Tmux.run(["resize-window", "-t", session, "-x", "40", "-y", "12"])
        let small = try Tmux.waitFor(session) { screen in
            screen.split(separator: "\n").last { !$0.isEmpty }?.hasPrefix(" scene.png  60x40  zoom 55%") == true
        }
        // 40 columns × 22 display pixels for 60×40 image pixels: scale min(40/60, 22/40) = 0.55.
        #expect(small.contains("zoom 55%"), "\(small)")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
    }

    @Test("SIGTERM restores the terminal")
    func terminate() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (image, _) = try Self.writeScene(in: folder)
        let session = "segterm-e2e-term-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        // `exec` keeps the shell's pid, so the timer kills segterm itself while it owns the terminal.
        try start(session, command: "sh -c '(sleep 1.5; kill -TERM $$) & exec \"\(Binary.path!)\" view \"\(image)\"'; echo EXITED $?; stty -a | grep -o -- '-\\?echo ' | head -1; sleep 30")
        // stty prints after the exit status: wait for both, or the capture may fall between them.
        let after = try Tmux.waitFor(session) { $0.contains("EXITED") && $0.contains("echo ") }
        #expect(after.contains("EXITED 143"), "\(after)")
        // Echo is back on: the terminal left curses mode.
        #expect(after.contains("echo") && !after.contains("-echo"), "\(after)")
    }

    @Test("closing the terminal ends the process (no orphan left spinning)")
    func hangup() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (image, _) = try Self.writeScene(in: folder)
        let session = "segterm-e2e-hup-\(getpid())"
        try start(session, command: "'\(Binary.path!)' view '\(image)'")
        _ = try Tmux.waitFor(session) { $0.contains("scene.png") }
        try Tmux.run(["kill-session", "-t", session])
        func running() throws -> Bool {
            try Subprocess.run("/usr/bin/pgrep", ["-f", image], timeout: 10).status == 0
        }
        let deadline = Date().addingTimeInterval(5)
        while try running(), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try !running(), "segterm view still runs after its terminal closed")
    }

    @Test("NO_COLOR: no colour escapes, the image drawn with characters")
    func noColor() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (image, mask) = try Self.writeScene(in: folder)
        let session = "segterm-e2e-nocolor-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try start(session, command: "NO_COLOR=1 '\(Binary.path!)' view '\(image)' --mask '\(mask)'; sleep 30")
        let screen = try Tmux.waitFor(session) { $0.contains("scene.png") }
        #expect(!screen.contains("\u{2580}"))
        #expect(screen.contains("@"))
        let colored = try Tmux.run(["capture-pane", "-p", "-e", "-t", session])
        #expect(!colored.contains("38;5;") && !colored.contains("38;2;"))
        try Tmux.run(["send-keys", "-t", session, "q"])
    }
}
