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
        try PromptableWorkbenchScenarios.oneModel(checkpoint: Self.checkpoint, name: Self.name, tag: "sam3")
    }

    @Test("A/B: grabcut and SAM 3 answer the same click; Tab chooses B and Enter keeps SAM 3's mask")
    func twoModels() throws {
        try PromptableWorkbenchScenarios.twoModels(checkpoint: Self.checkpoint, name: Self.name, tag: "sam3")
    }

    static var vocabulary: String {
        Binary.repositoryRoot.appendingPathComponent("Tests/SegModelsTests/Fixtures/sam3_reduced/bpe_reduced_vocab.txt.gz").path
    }

    @Test("t: a phrase finds its instances as proposals of that class; y accepts one, x rejects one; kill -9; reopen: all back; the export holds the accepted one")
    func phrase() throws {
        let root = try WorkbenchInTmuxTests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let session = "segterm-e2e-sam3-phrase-\(getpid())"
        defer { _ = try? Tmux.run(["kill-session", "-t", session]) }
        func start() throws {
            try Tmux.run(["kill-session", "-t", session])
            // Random weights score low: threshold 0 proposes every query of the reduced detector.
            try Tmux.run(["new-session", "-d", "-s", session, "-x", "150", "-y", "36",
                          "SEGTERM_CACHE_DIR='\(root.path)/cache' '\(Binary.path!)' open '\(root.path)' --model '\(Self.checkpoint)' "
                          + "--vocab '\(Self.vocabulary)' --text-threshold 0; echo EXITED $?; sleep 60"])
        }
        try start()
        _ = try Tmux.waitFor(session) { $0.contains("\(Self.name): ready") }
        try Tmux.run(["send-keys", "-t", session, "t"])
        try Tmux.run(["send-keys", "-t", session, "-l", "cel"])
        try Tmux.run(["send-keys", "-t", session, "BSpace"])
        try Tmux.run(["send-keys", "-t", session, "-l", "ll"])
        let typing = try Tmux.waitFor(session) { $0.contains("find: cell") }
        #expect(WorkbenchInTmuxTests.statusLine(typing).contains("Enter finds every instance"))
        try Tmux.run(["send-keys", "-t", session, "Enter"])
        let found = try Tmux.waitFor(session, seconds: 60) { $0.contains("text:cell") }
        let status = WorkbenchInTmuxTests.statusLine(found)
        // The reduced detector's queries, all above threshold 0, as proposals of class "cell".
        let total = try #require(status.range(of: #"proposal 1/(\d+) cell"#, options: .regularExpression)
            .map { Int(status[$0].split(separator: "/")[1].split(separator: " ")[0]) ?? 0 })
        #expect(total > 1, "\(status)")
        try Tmux.run(["send-keys", "-t", session, "y"])
        _ = try Tmux.waitFor(session) { $0.contains("image 1/0/0/\(total - 1)") }
        try Tmux.run(["send-keys", "-t", session, "x"])
        _ = try Tmux.waitFor(session) { $0.contains("image 1/1/0/\(total - 2)") }

        // Killed without warning: the found instances and the decisions are in the journal.
        let pid = try Tmux.run(["display-message", "-p", "-t", session, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try Subprocess.run("/usr/bin/pkill", ["-KILL", "-P", pid, "-f", "segterm"], timeout: 10)
        // Wrapped lines joined: bash's "Killed" line repeats the whole command, and with long
        // paths it can push "EXITED 137" across a line break.
        var exited = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, !exited.contains("EXITED") {
            exited = try Tmux.run(["capture-pane", "-p", "-J", "-t", session])
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(exited.contains("EXITED 137"), "\(exited.suffix(300))")
        try start()
        let back = try Tmux.waitFor(session) { $0.contains("\(Self.name): ready") && $0.contains("image 1/1/0/") }
        #expect(back.contains("image 1/1/0/\(total - 2)") && back.contains("objects 1"), "\(WorkbenchInTmuxTests.statusLine(back))")
        try Tmux.run(["send-keys", "-t", session, "q"])
        #expect(try Tmux.waitFor(session) { $0.contains("EXITED") }.contains("EXITED 0"))
        let coco = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("out/instances.json"))) as? [String: Any]
        let annotations = coco?["annotations"] as? [[String: Any]] ?? []
        let categories = coco?["categories"] as? [[String: Any]] ?? []
        let cell = categories.first { $0["name"] as? String == "cell" }?["id"] as? Int
        #expect(annotations.count == 1 && cell != nil && annotations.first?["category_id"] as? Int == cell, "\(annotations.count) objects, categories \(categories)")
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
