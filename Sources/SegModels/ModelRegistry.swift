import SegCore

/// Maps a `--model` value to a segmenter: a checkpoint path (SAM ViT-B/L/H, MobileSAM, SAM 2.1
/// Hiera tiny/small/base_plus/large, or a ViT or Hiera with a JSON sidecar; told apart by the
/// tensors in the file, see `SAMConfig.detect`) or the name of a built-in model. A SAM ViT
/// checkpoint after `medsam:` runs MedSAM's own pre- and postprocessing (`MedSAMSegmenter`): a
/// MedSAM checkpoint has SAM ViT-B's layout, so only the user can say it is MedSAM.
public enum ModelRegistry {
    /// Names that select a built-in model instead of a checkpoint file.
    public static let builtInNames = ["grabcut"]

    /// Is `spec` a built-in model (possibly with settings after a colon) rather than a file?
    public static func isBuiltIn(_ spec: String) -> Bool { builtInNames.contains(builtInBase(spec).lowercased()) }

    /// The name before the colon of `grabcut:key=value,…`.
    static func builtInBase(_ spec: String) -> String {
        spec.firstIndex(of: ":").map { String(spec[..<$0]) } ?? spec
    }

    /// The prefix that selects MedSAM's pipeline for the checkpoint after it: `medsam:medsam_vit_b.pth`.
    public static let medSAMPrefix = "medsam:"

    /// The checkpoint after `medsam:`, or nil when `spec` does not ask for MedSAM.
    public static func medSAMCheckpoint(_ spec: String) -> String? {
        spec.lowercased().hasPrefix(medSAMPrefix) ? String(spec.dropFirst(medSAMPrefix.count)) : nil
    }

    /// The weights file `spec` names (for provenance: its SHA-256 goes with every object), nil for a built-in model.
    public static func checkpointFile(_ spec: String) -> String? {
        if isBuiltIn(spec) { return nil }
        return medSAMCheckpoint(spec) ?? spec
    }

    /// The segmenter for `spec`; `cache` (when given) keeps SAM embeddings between runs.
    /// `grabcut` may carry settings after a colon, `grabcut:lambda=40,iterations=3`
    /// (see `GraphCutSegmenter.Configuration.optionKeys`).
    public static func segmenter(for spec: String, cache: EmbeddingCache? = nil) throws -> any PromptableSegmenter {
        if let checkpoint = medSAMCheckpoint(spec) {
            guard !checkpoint.isEmpty else { throw SegError(.invalid, file: spec, "medsam: needs a checkpoint path after the colon (medsam:medsam_vit_b.pth)") }
            return try MedSAMSegmenter(checkpoint: checkpoint, cache: cache)
        }
        let base = builtInBase(spec)
        switch base.lowercased() {
        case "grabcut":
            var configuration = GraphCutSegmenter.Configuration()
            try configuration.apply(options: String(spec.dropFirst(base.count + 1)))
            return GraphCutSegmenter(configuration: configuration)
        default:
            return try SAMSegmenter(checkpoint: spec, cache: cache)
        }
    }
}

extension ModelRegistry {
    /// The same model behind one type, for runtimes that hold whichever model the user chose.
    /// A SAM 3 checkpoint with its detector also finds phrases (`vocabulary`: CLIP's BPE file,
    /// else the one beside the checkpoint; `phraseThreshold`: the score an instance must pass).
    public static func segmenter(named spec: String, cache: EmbeddingCache? = nil, vocabulary: String? = nil,
                                 phraseThreshold: Float = SAM3ConceptDetector.defaultThreshold) throws -> AnySegmenter {
        let model = try segmenter(for: spec, cache: cache)
        if let sam = model as? SAMSegmenter { return AnySegmenter(sam, vocabulary: vocabulary, phraseThreshold: phraseThreshold) }
        return AnySegmenter(model)
    }
}
