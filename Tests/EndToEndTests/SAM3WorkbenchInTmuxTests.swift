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
