import SegCore
import Synchronization

/// SAM 3's concept prompts behind a runtime's model: the text encoder and detector heads are
/// loaded on the first phrase (seconds for the full model; a session that never asks pays
/// nothing), then kept. The image side is the prepared image the point path already has.
public final class PhraseFinder: Sendable {
    let model: SAMModel
    let vocabulary: String?
    /// Instances scored at or below it are left out (the official default, 0.5).
    let threshold: Float
    private let loaded = Mutex<SAM3ConceptDetector?>(nil)

    /// Nil when the checkpoint has no detector (SAM, SAM 2.1, or a SAM 3 file with the point path only).
    public init?(model: SAMModel, vocabulary: String?, threshold: Float = SAM3ConceptDetector.defaultThreshold) {
        guard model.sam3DetectorCount > 0 else { return nil }
        self.model = model
        self.vocabulary = vocabulary
        self.threshold = threshold
    }

    /// Every instance of `phrase` on the prepared image scored above the threshold, best first.
    public func find(_ phrase: String, in prepared: SAMEmbedding) throws -> [ConceptDetection] {
        try detector().detect(prepared: prepared, phrase: phrase, threshold: threshold)
    }

    private func detector() throws -> SAM3ConceptDetector {
        try loaded.withLock { slot in
            if let slot { return slot }
            let made = try SAM3ConceptDetector(model: model, vocabulary: vocabulary)
            slot = made
            return made
        }
    }
}
