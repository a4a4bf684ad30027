import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// What the workbench must do with any promptable checkpoint, run by each model's tmux suite
/// (SAM 2.1, SAM 3): the real binary in tmux, one model, and A/B against grabcut.
enum PromptableWorkbenchScenarios {
    /// A click gets the model's mask, a second click refines it, Enter keeps it with the model
    /// recorded; the embedding goes through the cache.
    static func oneModel(checkpoint: String, name: String, tag: String) throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-\(tag)-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(WorkbenchInTmuxTests.columns)", "-y", "\(WorkbenchInTmuxTests.rows)",
                      "SEGTERM_CACHE_DIR='\(root.path)/cache' '\(Binary.path!)' open '\(root.path)' --model '\(checkpoint)'; echo EXITED $?; sleep 60"])
        let ready = try Tmux.waitFor(session, seconds: 60) { $0.contains("\(name): ready") }
        #expect(ready.contains("1/2 scene-1.png  120x90  \(name): ready"), "\(ready)")

        try WorkbenchInTmuxTests.click(session, PixelPoint(x: 70, y: 45))
        let first = try Tmux.waitFor(session, seconds: 60) { $0.contains("done in") && $0.contains("1 pt") }
        #expect(WorkbenchInTmuxTests.statusLine(first).contains(" px"), "\(WorkbenchInTmuxTests.statusLine(first))")
        // A second click refines the mask (the previous low-res logits go back in as the mask input).
        try WorkbenchInTmuxTests.click(session, PixelPoint(x: 20, y: 20))
        let second = try Tmux.waitFor(session, seconds: 60) { $0.contains("done in") && $0.contains("2 pt") }
        #expect(second.contains(String(Character(Workbench.positiveGlyph))))

        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let accepted = try Tmux.waitFor(session) { $0.contains("accepted blob #1") }
        #expect(accepted.contains("objects 1"), "\(WorkbenchInTmuxTests.statusLine(accepted))")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        let coco = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("out/instances.json"))) as? [String: Any]
        let annotations = coco?["annotations"] as? [[String: Any]]
        #expect(annotations?.count == 1 && annotations?.first?["segterm_model"] as? String == name, "\(String(describing: annotations))")
        // The embedding went through the cache, keyed by the model.
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: root.path + "/cache")) ?? []
        #expect(cached.contains { $0.hasSuffix(".emb") }, "\(cached)")
    }

    /// grabcut and the model answer the same click; Tab chooses B and Enter keeps the model's mask.
    static func twoModels(checkpoint: String, name: String, tag: String) throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-\(tag)-ab-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        let (columns, rows) = (140, 30)
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(columns)", "-y", "\(rows)",
                      "SEGTERM_CACHE_DIR='\(root.path)/cache' '\(Binary.path!)' open '\(root.path)' --model grabcut --model '\(checkpoint)'; echo EXITED $?; sleep 60"])
        let ready = try Tmux.waitFor(session, seconds: 60) {
            $0.contains("A grabcut  ready") && $0.contains("B \(name)  ready") && !$0.contains("preparing") && !$0.contains("loading")
        }
        #expect(ready.contains("B \(name)"), "\(ready)")
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/x.png")],
                               classes: [], modelNames: ["grabcut", name])
        s.image = RGBImage(width: 120, height: 90)
        s.display = .textDefault
        let cell = WorkbenchLayout(s).pane(0).cell(for: PixelPoint(x: 70, y: 45))!
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(cell.column + 1);\(cell.row + 1)M"])
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(cell.column + 1);\(cell.row + 1)m"])
        let done = try Tmux.waitFor(session, seconds: 60) { $0.components(separatedBy: "done in").count == 4 }
        let header = done.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        #expect(header.contains("A grabcut  done in") && header.contains("B \(name)  done in"), "\(header)")
        #expect(header.components(separatedBy: " px").count == 3, "\(header)")

        try Tmux.run(["send-keys", "-t", session, "Tab"])
        _ = try Tmux.waitFor(session) { WorkbenchInTmuxTests.statusLine($0).contains("Enter takes B") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let accepted = try Tmux.waitFor(session) { $0.contains("accepted blob #1 from \(name)") }
        #expect(accepted.contains("objects 1"), "\(WorkbenchInTmuxTests.statusLine(accepted))")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        let journal = try String(contentsOf: root.appendingPathComponent("out/journal.jsonl"), encoding: .utf8)
        #expect(journal.contains("\"model\":\"\(name)\""), "\(journal)")
    }
}
