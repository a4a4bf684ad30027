import Foundation
import Testing

/// Detection over a slow link (#22 item 3): `segterm bench link` holds every byte between tmux
/// and segterm for 300 ms each way, a 600 ms round trip, worse than SSH between continents.
/// segterm must still hear the terminal's answers (it waits for the device attributes, up to
/// 1 s); with the old 100 ms wait it heard nothing and fell back to text symbols silently.
@Suite("Terminal detection over a slow link", .serialized,
       .enabled(if: Binary.path != nil, "the segterm binary was not built"),
       .enabled(if: Tmux.path != nil, "tmux is not installed"))
struct SlowLinkTests {
    /// Runs `doctor ARGS` behind a 300 ms link in a tmux pane of its own and returns its report
    /// (from a file: the link carries only the terminal's side).
    static func doctorOverSlowLink(_ arguments: String, name: String) throws -> String {
        let session = "segterm-e2e-link-\(name)-\(getpid())"
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("\(session).txt")
        defer { _ = try? Tmux.run(["kill-session", "-t", session]); try? FileManager.default.removeItem(at: report) }
        try? FileManager.default.removeItem(at: report)
        let doctor = "'\(Binary.path!)' doctor \(arguments) > '\(report.path)' 2>&1"
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "120", "-y", "30",
                      "'\(Binary.path!)' bench link --delay 300 -- sh -c \"\(doctor)\"; echo EXITED $?; sleep 60"])
        let screen = try Tmux.waitFor(session, seconds: 20) { $0.contains("EXITED") }
        #expect(screen.contains("EXITED 0"), "\(screen)")
        return try String(contentsOf: report, encoding: .utf8)
    }

    static func milliseconds(_ report: String) -> Int {
        report.components(separatedBy: "answered in").last?.split(separator: " ").first.flatMap { Int($0) } ?? -1
    }

    @Test("doctor behind a 600 ms round trip hears tmux's device attributes, after the round trip and before the 1 s bound")
    func slowLinkAnswered() throws {
        let report = try Self.doctorOverSlowLink("", name: "default")
        #expect(report.contains("device attributes 1;2") || report.contains("device attributes"), "\(report)")
        #expect(!report.contains("answered no query"), "\(report)")
        let ms = Self.milliseconds(report)
        #expect(ms >= 590 && ms < 1000, "answered in \(ms) ms: \(report)")
    }

    @Test("the control: with the old 100 ms wait the same link gives no answer at all (what the fix is for)")
    func shortWaitHearsNothing() throws {
        let report = try Self.doctorOverSlowLink("--timeout 100", name: "short")
        #expect(report.contains("the terminal answered no query before the timeout"), "\(report)")
        #expect(report.contains("graphics      text"), "\(report)")
    }
}
