import SegCore

/// Maps a `--model` value to a segmenter: a checkpoint path (SAM ViT-B/L/H, MobileSAM, or a ViT
/// with a JSON sidecar) or the name of a built-in model.
public enum ModelRegistry {
    /// Names that select a built-in model instead of a checkpoint file.
    public static let builtInNames = ["grabcut"]

    public static func isBuiltIn(_ spec: String) -> Bool { builtInNames.contains(spec.lowercased()) }

    /// The segmenter for `spec`; `cache` (when given) keeps SAM embeddings between runs.
    public static func segmenter(for spec: String, cache: EmbeddingCache? = nil) throws -> any PromptableSegmenter {
        switch spec.lowercased() {
        case "grabcut":
            // The classical graph-cut model is written separately; until it lands this build has none.
            throw SegError(.unsupported, file: spec, "the classical GrabCut model is not part of this build yet; pass a SAM or MobileSAM checkpoint")
        default:
            return try SAMSegmenter(checkpoint: spec, cache: cache)
        }
    }
}

extension ModelRegistry {
    /// The same model behind one type, for runtimes that hold whichever model the user chose.
    public static func segmenter(named spec: String, cache: EmbeddingCache? = nil) throws -> AnySegmenter {
        AnySegmenter(try segmenter(for: spec, cache: cache))
    }
}
