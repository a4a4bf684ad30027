import Foundation
import Synchronization
import SegCore
import SegNN

/// The features of one phrase as SAM 3's detector takes them: the 32 tokens' features [32, d]
/// (row-major) and which tokens are real (not padding). The rows after the last real token are 0
/// (not computed: nothing downstream reads them, see `SAM3TextEncoder.encode`).
public struct SAM3TextFeatures: Sendable {
    public let phrase: String
    public let tokens: [Int32]
    public let features: [Float]
    public let valid: [Bool]
    public let dim: Int
    /// The phrase had more tokens than the context: cut as the official tokenizer cuts (the first 30
    /// BPE tokens kept, the end token in the last slot).
    public let truncated: Bool
    /// Its token count before the cut (start and end included).
    public let untruncatedCount: Int
}

/// SAM 3's text side: the CLIP BPE tokenizer and the text encoder from a `sam3.pt`, with the
/// features of each phrase computed once and kept (a labeling session asks for the same few
/// phrases on every image).
public final class SAM3TextModel: Sendable {
    public let tokenizer: CLIPTokenizer
    let encoder: SAM3TextEncoder
    let store: ParamStore
    private let cache = Mutex<[String: SAM3TextFeatures]>([:])

    /// `vocabulary`: the merges file (nil: `bpe_simple_vocab_16e6.txt.gz` beside the checkpoint).
    public convenience init(checkpoint: String, vocabulary: String?) throws {
        let dict: StateDict
        do { dict = try StateDict.load(path: checkpoint) } catch { throw SegError(error) }
        try self.init(dict: dict, checkpoint: checkpoint, vocabulary: vocabulary)
    }

    init(dict: StateDict, checkpoint: String, vocabulary: String?) throws {
        guard dict.has(SAM3TextEncoder.prefix + "encoder.token_embedding.weight") else {
            throw SegError(.unsupported, file: checkpoint, "no SAM 3 text encoder (detector.backbone.language_backbone): text prompts need the full sam3.pt")
        }
        let settings = try SAM3DetectorSettings.read(checkpoint: checkpoint)
        store = ParamStore()
        encoder = try SAM3TextEncoder(WeightLoader(dict: dict, store: store), heads: settings.textHeads)
        let path = try CLIPTokenizer.locate(explicit: vocabulary, checkpoint: checkpoint)
        tokenizer = try CLIPTokenizer(vocabulary: path)
        // A vocabulary with more tokens than the embedding has rows belongs to another model.
        guard tokenizer.vocabularySize <= encoder.vocabulary else {
            throw SegError(.invalid, file: path, "the vocabulary has \(tokenizer.vocabularySize) tokens but the checkpoint's text encoder embeds \(encoder.vocabulary): not this model's vocabulary")
        }
    }

    public var dim: Int { encoder.outputDim }
    public var context: Int { encoder.context }

    /// Drops the cached phrase features (`segterm bench text` times the text encoder on every run).
    public func forgetPhrases() { cache.withLock { $0.removeAll() } }

    /// The phrase's features (cached). An empty phrase (nothing left after cleaning) is an error.
    public func features(_ phrase: String) throws -> SAM3TextFeatures {
        if let hit = cache.withLock({ $0[phrase] }) { return hit }
        let body = tokenizer.encode(phrase)
        guard !body.isEmpty else {
            throw SegError(.invalid, file: "--text", "the phrase \"\(phrase)\" is empty: give a few words naming what to find")
        }
        let (ids, truncated) = tokenizer.tokenize(phrase, context: encoder.context)
        let out = encoder.encode(ids)
        let f = SAM3TextFeatures(phrase: phrase, tokens: ids, features: out.features, valid: out.valid, dim: encoder.outputDim,
                                 truncated: truncated, untruncatedCount: body.count + 2)
        cache.withLock { $0[phrase] = f }
        return f
    }
}

/// What a SAM 3 checkpoint's shapes do not say about the detector: head counts (the official 16 for
/// the text encoder, 8 elsewhere), or a reduced configuration's JSON sidecar.
struct SAM3DetectorSettings: Sendable {
    var textHeads = 16
    var detectorHeads = 8

    static func read(checkpoint: String) throws -> SAM3DetectorSettings {
        var s = SAM3DetectorSettings()
        guard let path = SAMConfig.sidecarPaths(for: checkpoint).first(where: { FileManager.default.fileExists(atPath: $0) }) else { return s }
        struct Side: Decodable { var text_heads: Int?, detector_heads: Int? }
        let side: Side
        do { side = try JSONDecoder().decode(Side.self, from: Data(try FileIO.read(path, maxBytes: 1 << 20))) } catch let e as SegError {
            throw e
        } catch {
            throw SegError(.invalid, file: path, "not a configuration sidecar: \(error)")
        }
        s.textHeads = side.text_heads ?? s.textHeads
        s.detectorHeads = side.detector_heads ?? s.detectorHeads
        guard s.textHeads > 0, s.textHeads <= 256, s.detectorHeads > 0, s.detectorHeads <= 256 else {
            throw SegError(.invalid, file: path, "bad head counts \(s.textHeads), \(s.detectorHeads)")
        }
        return s
    }
}
