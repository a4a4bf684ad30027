import SegCore

/// Maps what users type after `--model` to a segmenter: a built-in name, or a checkpoint file.
public enum ModelRegistry {
    public static let builtInNames = ["grabcut"]

    public static func segmenter(named name: String) throws -> AnySegmenter {
        switch name.lowercased() {
        case "grabcut":
            throw SegError(.unsupported, file: name, "the classical model is not part of this build yet")
        default:
            throw SegError(.unsupported, file: name, "unknown model: use \(builtInNames.joined(separator: ", ")) or a SAM / MobileSAM checkpoint")
        }
    }
}
