import ArgumentParser
import Foundation
import SegCore
import SegModels
import SegNN

struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment an object in an image from point and box prompts with SAM or MobileSAM.",
        discussion: """
            --model takes a checkpoint: the official SAM releases (sam_vit_b_01ec64.pth, sam_vit_l_0b3195.pth, \
            sam_vit_h_4b8939.pth), MobileSAM's mobile_sam.pt, a .safetensors copy of either, or another ViT \
            configuration described by a JSON sidecar next to the checkpoint. Image embeddings are cached \
            (see --cache-dir), so a second run on the same image skips the encoder.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Checkpoint file (.pth, .pt, .safetensors) or a built-in model name (grabcut).")
    var model: String

    @Option(help: "Image to segment (PNG, JPEG, BMP).")
    var image: String

    @Option(name: .customLong("point"), help: "A click X,Y in image pixels; :1 (default) is object, :0 is background. Repeatable.")
    var points: [String] = []

    @Option(help: "A box X0,Y0,X1,Y1 in image pixels. With --text (SAM 3): exemplar boxes, repeatable, :1 (default) positive, :0 negative; alone they are the concept prompt.")
    var box: [String] = []

    @Option(help: "SAM 3: find every instance of this phrase; --out gets a COCO results list (JSON).")
    var text: String?

    @Flag(name: .customLong("exemplars"), help: "SAM 3: treat the --box values as exemplar boxes without a phrase (the concept prompt is the boxes alone).")
    var exemplarsOnly = false

    @Option(help: "SAM 3 concept prompts: keep detections scoring above this (default 0.5, the official processor's; 0 keeps every query).")
    var threshold: Float = 0.5

    @Option(name: .customLong("category-id"), help: "SAM 3 concept prompts: category_id written in the results (default 1).")
    var categoryId: Int = 1

    @Option(help: "SAM 3 concept prompts: CLIP's BPE vocabulary bpe_simple_vocab_16e6.txt.gz (default: beside the checkpoint).")
    var vocab: String?

    @Option(name: .customLong("mask-input"), help: "Low-resolution logits from an earlier run with the same model (raw little-endian float32 or a float32 .npy, e.g. --lowres-out): 4 x the embedding grid per side, 256x256 for SAM, MobileSAM and SAM 2.1, 288x288 for SAM 3.")
    var maskInput: String?

    @Flag(help: "Ask for three masks; --out gets the one with the highest score (SAM: predicted IoU), and -0/-1/-2 files get all three.")
    var multimask = false

    @Option(help: "Output mask PNG (8-bit gray, 255 = object).")
    var out: String

    @Option(name: .customLong("logits-out"), help: "Write the full-resolution logits of every mask as raw little-endian float32, C×H×W.")
    var logitsOut: String?

    @Option(name: .customLong("lowres-out"), help: "Write the chosen mask's low-resolution logits (raw float32; 256x256, or 288x288 for SAM 3) to refine it later with --mask-input.")
    var lowresOut: String?

    @Option(help: "Output format of the report on stdout: text or json.")
    var format: Format = .text

    @Option(name: .customLong("cache-dir"), help: "Embedding cache folder (default: $SEGTERM_CACHE_DIR or ~/.cache/segterm/embeddings).")
    var cacheDir: String?

    @Flag(name: .customLong("no-cache"), help: "Neither read nor write the embedding cache.")
    var noCache = false

    @Option(help: "Threads for the model (default: all cores).")
    var threads: Int?

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        for p in points { _ = try PromptParsing.point(p) }
        if text != nil || exemplarsOnly {
            for b in box { _ = try PromptParsing.exemplar(b) }
            if !(0...1).contains(threshold) { throw ValidationError("--threshold must be within 0...1") }
        } else {
            if box.count > 1 { throw ValidationError("one --box for point and box prompts (several only as SAM 3 exemplars with --text or --exemplars)") }
            for b in box { _ = try PromptParsing.box(b) }
        }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        if text != nil || exemplarsOnly { return try runConcept() }
        if points.isEmpty && box.isEmpty {
            throw SegError(.invalid, file: image, "empty prompt: give at least one --point or a --box")
        }
        Threads.configure(threads)
        let prompts = Prompts(points: try points.map(PromptParsing.point), box: try box.first.map(PromptParsing.box))
        let cache = noCache ? nil : EmbeddingCache(directory: cacheDir ?? EmbeddingCache.defaultDirectory)
        let segmenter = try ModelRegistry.segmenter(for: model, cache: cache)
        let rgb = try ImageFile.read(image, limits: imageOptions.limits).rgbImage()
        if let sam = segmenter as? SAMSegmenter {
            try runSAM(sam, rgb, prompts)
        } else {
            try runGeneric(segmenter, rgb, prompts)
        }
    }

    private func runSAM(_ sam: SAMSegmenter, _ rgb: RGBImage, _ prompts: Prompts) throws {
        var maskLogits: [Float]?
        if let maskInput { maskLogits = try PromptParsing.lowResLogits(maskInput, side: sam.model.lowResSide) }
        let e = try sam.prepare(rgb)
        let p: SAMPrediction
        do {
            p = try sam.model.predict(e, points: prompts.points, box: prompts.box, maskInput: maskLogits,
                                      multimask: multimask, returnLogits: logitsOut != nil)
        } catch let error as SegError where error.file.isEmpty {
            throw error.about(image)
        }
        let best = p.iou.indices.max { p.iou[$0] < p.iou[$1] } ?? 0
        var files: [String] = []
        if p.masks.count > 1 {
            for (i, m) in p.masks.enumerated() {
                let f = PromptParsing.suffixed(out, "-\(i)")
                try ImageFile.writePNG(m, to: f)
                files.append(f)
            }
        }
        try ImageFile.writePNG(p.masks[best], to: out)
        if let logitsOut, let l = p.logits { try FileIO.writeAtomically(PromptParsing.floatBytes(l.data), to: logitsOut) }
        if let lowresOut {
            let plane = sam.model.lowResSide * sam.model.lowResSide
            try FileIO.writeAtomically(PromptParsing.floatBytes(Array(p.lowResLogits.data[(best * plane)..<((best + 1) * plane)])), to: lowresOut)
        }
        report(model: sam.name, scoreName: sam.scoreName, scores: p.iou, areas: p.masks.map(\.area), selected: best, files: files)
    }

    private func runGeneric<S: PromptableSegmenter>(_ s: S, _ rgb: RGBImage, _ prompts: Prompts) throws {
        if maskInput != nil || logitsOut != nil || lowresOut != nil {
            throw SegError(.unsupported, file: model, "--mask-input, --logits-out and --lowres-out need a SAM checkpoint")
        }
        let prepared = try s.prepare(rgb)
        let candidates: [Candidate]
        do { candidates = try s.segment(prepared, prompts: prompts, previous: nil, multimask: multimask) } catch let error as SegError where error.file.isEmpty {
            throw error.about(image)
        }
        guard let best = candidates.indices.max(by: { candidates[$0].score < candidates[$1].score }) else {
            throw SegError(.invalid, file: model, "the model returned no mask")
        }
        var files: [String] = []
        if candidates.count > 1 {
            for (i, c) in candidates.enumerated() {
                let f = PromptParsing.suffixed(out, "-\(i)")
                try ImageFile.writePNG(c.mask, to: f)
                files.append(f)
            }
        }
        try ImageFile.writePNG(candidates[best].mask, to: out)
        report(model: s.name, scoreName: s.scoreName, scores: candidates.map(\.score), areas: candidates.map(\.mask.area), selected: best,
               files: files)
    }

    /// The masks and their scores. JSON keeps SAM's key `iou` for a predicted IoU; another
    /// model's score is `score`, and `score_name` says which it is.
    private func report(model name: String, scoreName: String, scores: [Float], areas: [Int], selected: Int, files: [String]) {
        switch format {
        case .json:
            struct Report: Encodable {
                let model: String, image: String, out: String
                let iou: [Float]?, score: [Float]?, scoreName: String, area: [Int], selected: Int, masks: [String]
                enum CodingKeys: String, CodingKey {
                    case model, image, out, iou, score, scoreName = "score_name", area, selected, masks
                }
            }
            let isIoU = scoreName == "predicted IoU"
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            if let d = try? enc.encode(Report(model: name, image: image, out: out, iou: isIoU ? scores : nil, score: isIoU ? nil : scores,
                                              scoreName: scoreName, area: areas, selected: selected, masks: files)) {
                print(String(decoding: d, as: UTF8.self))
            }
        case .text:
            for (i, v) in scores.enumerated() {
                let file = files.isEmpty ? out : files[i]
                print("mask \(i): \(scoreName) \(String(format: "%.4f", v)), \(areas[i]) px, \(file)\(i == selected ? " (chosen → \(out))" : "")")
            }
        }
    }
}

/// Parsing of prompt arguments and small output helpers.
enum PromptParsing {
    static func point(_ s: String) throws -> PromptPoint {
        var text = Substring(s)
        var positive = true
        if let colon = text.lastIndex(of: ":") {
            switch text[text.index(after: colon)...] {
            case "1": positive = true
            case "0": positive = false
            default: throw ValidationError("--point \(s): the label after ':' must be 1 (object) or 0 (background)")
            }
            text = text[..<colon]
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let x = parts[0], let y = parts[1], x.isFinite, y.isFinite else {
            throw ValidationError("--point \(s): expected X,Y or X,Y:1 or X,Y:0")
        }
        return PromptPoint(x: x, y: y, positive: positive)
    }

    static func box(_ s: String) throws -> PromptBox {
        let parts = s.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, let x0 = parts[0], let y0 = parts[1], let x1 = parts[2], let y1 = parts[3],
              [x0, y0, x1, y1].allSatisfy(\.isFinite) else {
            throw ValidationError("--box \(s): expected X0,Y0,X1,Y1")
        }
        return PromptBox(x0: x0, y0: y0, x1: x1, y1: y1)
    }

    /// side×side float32 logits (side = 4 × the embedding grid: 256 for SAM / SAM 2.1, 288 for SAM 3), raw
    /// little-endian (4·side² bytes) or a float32 `.npy` of that size.
    static func lowResLogits(_ path: String, side: Int) throws -> [Float] {
        let b = try FileIO.read(path, maxBytes: 64 << 20)
        let n = side * side
        var start = 0
        if b.count > 10, b[0] == 0x93, b[1...5].elementsEqual("NUMPY".utf8) {
            let hlen = b[6] == 1 ? Int(b[8]) | Int(b[9]) << 8 : (b.count > 12 ? Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 : -1)
            start = (b[6] == 1 ? 10 : 12) + hlen
            let header = hlen > 0 && start <= b.count ? String(decoding: b[(b[6] == 1 ? 10 : 12)..<start], as: UTF8.self) : ""
            guard header.contains("'<f4'"), header.contains("False") else {
                throw SegError(.unsupported, file: path, "mask input .npy must be little-endian float32 in C order")
            }
        }
        guard b.count - start == 4 * n else {
            throw SegError(.invalid, file: path, "mask input must hold \(side)x\(side) float32 logits (\(4 * n) bytes), it has \(b.count - start)")
        }
        let values = b.withUnsafeBytes { raw in (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * $0, as: UInt32.self))) } }
        guard values.allSatisfy(\.isFinite) else { throw SegError(.invalid, file: path, "mask input holds non-finite values") }
        return values
    }

    static func floatBytes(_ v: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: v.count * 4)
        out.withUnsafeMutableBytes { o in
            for (i, f) in v.enumerated() { o.storeBytes(of: f.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        }
        return out
    }

    /// "mask.png" + "-1" → "mask-1.png".
    static func suffixed(_ path: String, _ suffix: String) -> String {
        let slash = path.lastIndex(of: "/")
        if let dot = path.lastIndex(of: "."), slash.map({ dot > $0 }) ?? true, dot != path.startIndex {
            return String(path[..<dot]) + suffix + String(path[dot...])
        }
        return path + suffix
    }
}
