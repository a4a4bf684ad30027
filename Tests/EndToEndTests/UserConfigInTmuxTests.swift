import Foundation
import Testing
@testable import SegCore

/// The user's own configuration (#22 item 11) with the real binary: `$XDG_CONFIG_HOME/segterm/config.toml`
/// rebinds keys, and the help overlay lists the bindings in force.
@Suite("User configuration in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct UserConfigInTmuxTests {
    @Test("config.toml rebinds next_image to n: n moves, ] no longer does, and the help says n")
    func rebound() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-e2e-xdg-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createDirectory(at: home.appendingPathComponent("segterm"), withIntermediateDirectories: true)
        try Data("theme = \"high-contrast\"\n[keys]\nnext_image = \"n\"\n".utf8)
            .write(to: home.appendingPathComponent("segterm/config.toml"))
        let session = "segterm-e2e-config-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(WorkbenchInTmuxTests.columns)", "-y", "50",
                      "XDG_CONFIG_HOME='\(home.path)' '\(Binary.path!)' open '\(root.path)'; echo EXITED $?; sleep 60"])
        _ = try Tmux.waitFor(session) { $0.contains("1/2 scene-1.png") && $0.contains("grabcut: ready") }
        try Tmux.run(["send-keys", "-t", session, "]"])
        Thread.sleep(forTimeInterval: 0.5)
        #expect(WorkbenchInTmuxTests.statusLine(try Tmux.run(["capture-pane", "-p", "-t", session])).contains("1/2 scene-1.png"))
        try Tmux.run(["send-keys", "-t", session, "n"])
        _ = try Tmux.waitFor(session) { WorkbenchInTmuxTests.statusLine($0).contains("2/2 scene-2.png") }
        try Tmux.run(["send-keys", "-t", session, "?"])
        let help = try Tmux.waitFor(session) { $0.contains("next image") }
        let line = help.split(separator: "\n").first { $0.contains("next image") }.map(String.init) ?? ""
        #expect(line.contains("n ") && !line.contains("]"), "\(line)")
        try Tmux.run(["send-keys", "-t", session, "x"])
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
    }

    @Test("a broken config.toml stops open with exit 1 and a message naming the file and the key")
    func broken() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-e2e-xdg-bad-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createDirectory(at: home.appendingPathComponent("segterm"), withIntermediateDirectories: true)
        try Data("[keys]\nnext_imag = \"n\"\n".utf8).write(to: home.appendingPathComponent("segterm/config.toml"))
        let result = try Subprocess.run(Binary.path!, ["open", root.path], environment: ["XDG_CONFIG_HOME": home.path, "PATH": "/usr/bin:/bin"],
                                        timeout: 20)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("config.toml") && result.stderr.contains("next_imag"), "\(result.stderr)")
    }
}
