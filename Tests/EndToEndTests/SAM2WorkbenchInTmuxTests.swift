import Foundation
import Testing
@testable import SegCore
@testable import SegTUI

/// The workbench with a SAM 2.1 checkpoint (the repository's reduced one, official layout plus its
/// sidecar): the real binary in tmux, one model and A/B against grabcut.
@Suite("segterm open with SAM 2.1 in tmux", .serialized,
       .enabled(if: Binary.path != nil && Tmux.path != nil, "tmux or the segterm binary is missing"))
struct SAM2WorkbenchInTmuxTests {
    static var checkpoint: String {
        Binary.repositoryRoot.appendingPathComponent("Tests/SegModelsTests/Fixtures/sam2_reduced/sam2_reduced.pt").path
    }
    static let name = "sam2.1_custom"

    @Test("one model: a click gets a SAM 2.1 mask, a second click refines it, Enter keeps it with the model recorded")
    func oneModel() throws {
        try PromptableWorkbenchScenarios.oneModel(checkpoint: Self.checkpoint, name: Self.name, tag: "sam2")
    }

    @Test("A/B: grabcut and SAM 2.1 answer the same click; Tab chooses B and Enter keeps SAM 2.1's mask")
    func twoModels() throws {
        try PromptableWorkbenchScenarios.twoModels(checkpoint: Self.checkpoint, name: Self.name, tag: "sam2")
    }
}
