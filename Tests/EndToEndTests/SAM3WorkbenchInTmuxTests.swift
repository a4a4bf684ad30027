import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// The workbench with a SAM 3 checkpoint (the repository's reduced one, official sam3.pt layout
/// plus its sidecar): the real binary in tmux, one model and A/B against grabcut. With the full-size
/// checkpoint (`SEGTERM_SAM3_FULL_DIR`, by hand) a third test sees the heavy encoder's preparation
/// counted in seconds on the state line while a click waits for it.
@Suite("segterm open with SAM 3 in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct SAM3WorkbenchInTmuxTests {
    static var checkpoint: String {
        Binary.repositoryRoot.appendingPathComponent("Tests/SegModelsTests/Fixtures/sam3_reduced/sam3_reduced.pt").path
    }
    static let name = "sam3_custom"

    @Test("one model: a click gets a SAM 3 mask, a second click refines it, Enter keeps it with the model recorded")
    func oneModel() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-sam3-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(WorkbenchInTmuxTests.columns)", "-y", "\(WorkbenchInTmuxTests.rows)",
                      "SEGTERM_CACHE_DIR='\(root.path)/cache' '\(Binary.path!)' open '\(root.path)' --model '\(Self.checkpoint)'; echo EXITED $?; sleep 60"])
        let ready = try Tmux.waitFor(session, seconds: 60) { $0.contains("\(Self.name): ready") }
        #expect(ready.contains("1/2 scene-1.png  120x90  \(Self.name): ready"), "\(ready)")

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
        #expect(annotations?.count == 1 && annotations?.first?["segterm_model"] as? String == Self.name, "\(String(describing: annotations))")
        // The embedding went through the cache, keyed by the model.
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: root.path + "/cache")) ?? []
        #expect(cached.contains { $0.hasSuffix(".emb") }, "\(cached)")
    }

    @Test("A/B: grabcut and SAM 3 answer the same click; Tab chooses B and Enter keeps SAM 3's mask")
    func twoModels() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-sam3-ab-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        let (columns, rows) = (140, 30)
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(columns)", "-y", "\(rows)",
                      "SEGTERM_CACHE_DIR='\(root.path)/cache' '\(Binary.path!)' open '\(root.path)' --model grabcut --model '\(Self.checkpoint)'; echo EXITED $?; sleep 60"])
        let ready = try Tmux.waitFor(session, seconds: 60) {
            $0.contains("A grabcut  ready") && $0.contains("B \(Self.name)  ready") && !$0.contains("preparing") && !$0.contains("loading")
        }
        #expect(ready.contains("B \(Self.name)"), "\(ready)")
        var s = WorkbenchState(rows: rows, columns: columns, colorMode: .direct, images: [ImageEntry(path: "/x.png")],
                               classes: [], modelNames: ["grabcut", Self.name])
        s.image = RGBImage(width: 120, height: 90)
        s.display = .textDefault
        let cell = WorkbenchLayout(s).pane(0).cell(for: PixelPoint(x: 70, y: 45))!
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(cell.column + 1);\(cell.row + 1)M"])
        try Tmux.run(["send-keys", "-t", session, "-l", "\u{1B}[<0;\(cell.column + 1);\(cell.row + 1)m"])
        let done = try Tmux.waitFor(session, seconds: 60) { $0.components(separatedBy: "done in").count == 4 }
        let header = done.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        #expect(header.contains("A grabcut  done in") && header.contains("B \(Self.name)  done in"), "\(header)")
        #expect(header.components(separatedBy: " px").count == 3, "\(header)")

        try Tmux.run(["send-keys", "-t", session, "Tab"])
        _ = try Tmux.waitFor(session) { WorkbenchInTmuxTests.statusLine($0).contains("Enter takes B") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        _ = try Tmux.waitFor(session) { $0.contains("accept as") }
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let accepted = try Tmux.waitFor(session) { $0.contains("accepted blob #1 from \(Self.name)") }
        #expect(accepted.contains("objects 1"), "\(WorkbenchInTmuxTests.statusLine(accepted))")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        let journal = try String(contentsOf: root.appendingPathComponent("out/journal.jsonl"), encoding: .utf8)
        #expect(journal.contains("\"model\":\"\(Self.name)\""), "\(journal)")
    }

    static var fullCheckpoint: String? {
        guard let d = ProcessInfo.processInfo.environment["SEGTERM_SAM3_FULL_DIR"],
              FileManager.default.fileExists(atPath: d + "/sam3_random.pt") else { return nil }
        return d + "/sam3_random.pt"
    }

    @Test("full size (by hand): the state line counts the seconds of preparation, a click meanwhile queues and is answered after",
          .enabled(if: fullCheckpoint != nil, "SEGTERM_SAM3_FULL_DIR is unset or has no sam3_random.pt (scripts/make_sam3_fixture.py --full DIR)"))
    func heavyEncoder() throws {
        guard let checkpoint = Self.fullCheckpoint else { return }
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-sam3-full-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        try Tmux.run(["kill-session", "-t", session])
        try Tmux.run(["new-session", "-d", "-s", session, "-x", "\(WorkbenchInTmuxTests.columns)", "-y", "\(WorkbenchInTmuxTests.rows)",
                      "SEGTERM_CACHE_DIR='\(root.path)/cache' '\(Binary.path!)' open '\(root.path)' --model '\(checkpoint)'; echo EXITED $?; sleep 60"])
        // The encoder takes most of a minute on 2 cores: the count must go up while it runs.
        let counting = try Tmux.waitFor(session, seconds: 120) { $0.contains("sam3: preparing image\u{2026} 2 s") }
        #expect(WorkbenchInTmuxTests.statusLine(counting).contains("preparing image"))
        try WorkbenchInTmuxTests.click(session, PixelPoint(x: 70, y: 45))
        let queued = try Tmux.waitFor(session, seconds: 30) { $0.contains("1 pt") }
        #expect(WorkbenchInTmuxTests.statusLine(queued).contains("preparing image"), "\(WorkbenchInTmuxTests.statusLine(queued))")
        let answered = try Tmux.waitFor(session, seconds: 600) { $0.contains("done in") && $0.contains("1 pt") }
        #expect(WorkbenchInTmuxTests.statusLine(answered).contains(" px"), "\(WorkbenchInTmuxTests.statusLine(answered))")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
    }
}
