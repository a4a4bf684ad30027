import SegCore

/// Maps what users type after `--model` to a segmenter: a built-in name, or a checkpoint file.
public enum ModelRegistry {
    public static let builtInNames = ["grabcut"]

    /// `grabcut` may carry settings after a colon: `grabcut:lambda=40,iterations=3`
    /// (see `GraphCutSegmenter.Configuration.optionKeys`).
    public static func segmenter(named name: String) throws -> AnySegmenter {
        let (base, options) = name.firstIndex(of: ":").map { (String(name[..<$0]), String(name[name.index(after: $0)...])) } ?? (name, "")
        switch base.lowercased() {
        case "grabcut":
            var configuration = GraphCutSegmenter.Configuration()
            try configuration.apply(options: options)
            return AnySegmenter(GraphCutSegmenter(configuration: configuration))
        default:
            throw SegError(.unsupported, file: name, "unknown model: use \(builtInNames.joined(separator: ", ")) or a SAM / MobileSAM checkpoint")
        }
    }
}
