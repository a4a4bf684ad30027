import Foundation
import Testing
@testable import SegCore

/// `segterm open`'s options that used to need a segterm.toml (#22 item 10), in tmux.
@Suite("segterm open options", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct OpenOptionsTests {
    /// A ground-truth mask with two values, 1 (an object) and 7 (a region to ignore).
    static func workspace() throws -> URL {
        let root = Binary.temporaryFolder()
        for folder in ["images", "truth"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try ImageFile.writePNG(RGBImage(width: 40, height: 30, fill: (90, 90, 90)), to: root.appendingPathComponent("images/a.png").path)
        var truth = LabelMap(width: 40, height: 30)
        for y in 5..<20 { for x in 3..<15 { truth.labels[y * 40 + x] = 1 } }
        for y in 5..<20 { for x in 25..<35 { truth.labels[y * 40 + x] = 7 } }
        try ImageFile.writePNG(truth, to: root.appendingPathComponent("truth/a.png").path)
        try Data("images = \"images\"\nground_truth = \"truth\"\noutput = \"out\"\n".utf8)
            .write(to: root.appendingPathComponent("segterm.toml"))
        return root
    }

    func groundTruthCount(_ arguments: String, _ root: URL, _ name: String) throws -> String {
        let session = "segterm-e2e-ignore-\(name)-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                      "'\(Binary.path!)' open '\(root.path)' \(arguments); echo EXITED $?; sleep 60"])
        let screen = try Tmux.waitFor(session) { $0.contains("grabcut: ready") && $0.contains(" obj") }
        try Tmux.run(["send-keys", "-t", session, "q"])
        _ = try Tmux.waitFor(session) { $0.contains("EXITED") }
        return WorkbenchInTmuxTests.statusLine(screen)
    }

    @Test("--ignore-value N: mask value N is ignored in the ground truth, as segterm.toml's ignore_value")
    func ignoreValue() throws {
        let root = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let plain = try groundTruthCount("", root, "plain")
        #expect(plain.contains("GT 2 obj"), "\(plain)")
        let ignoring = try groundTruthCount("--ignore-value 7", root, "seven")
        #expect(ignoring.contains("GT 1 obj"), "\(ignoring)")
    }
}
