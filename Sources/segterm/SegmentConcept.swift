import ArgumentParser
import Foundation
import SegCore
import SegModels
import SegNN

/// `segment --text` / `--exemplars`: SAM 3's concept prompts, written as a COCO results list.
extension Segment {
    func runConcept() throws {
        if exemplarsOnly && box.isEmpty { throw SegError(.invalid, file: image, "--exemplars needs at least one --box") }
        if exemplarsOnly && text != nil { throw ValidationError("--exemplars is for boxes without a phrase; with --text the boxes are exemplars already") }
        if !points.isEmpty { throw ValidationError("--point is not a concept prompt: use --text and/or exemplar --box values") }
        Threads.configure(threads)
        let cache = noCache ? nil : EmbeddingCache(directory: cacheDir ?? EmbeddingCache.defaultDirectory)
        guard let sam = try ModelRegistry.segmenter(for: model, cache: cache) as? SAMSegmenter else {
            throw SegError(.unsupported, file: model, "text and exemplar prompts need a SAM 3 checkpoint (sam3.pt)")
        }
        let concept = try SAM3ConceptDetector(model: sam.model, vocabulary: vocab)
        if let text {
            let f = try concept.text.features(text)
            if f.truncated {
                FileHandle.standardError.write(Data("segterm: --text: the phrase is \(f.untruncatedCount) tokens; cut to \(concept.text.context) as the official tokenizer does (its first \(concept.text.context - 2) tokens, then the end token)\n".utf8))
            }
        }
        let rgb = try ImageFile.read(image, limits: imageOptions.limits).rgbImage()
        let W = Double(rgb.width), H = Double(rgb.height)
        let exemplars = try box.map { b -> SAM3Exemplar in
            let (r, positive) = try PromptParsing.exemplar(b)
            return SAM3Exemplar(x0: Float(r.x0 / W), y0: Float(r.y0 / H), x1: Float(r.x1 / W), y1: Float(r.y1 / H), positive: positive)
        }
        let e = try sam.prepare(rgb)
        // ">" as the official processor: --threshold 0 keeps every query whose score is above 0.
        let dets = try concept.detect(prepared: e, phrase: text, exemplars: exemplars, threshold: threshold)
        var results: [[String: Any]] = []
        for d in dets {
            let rle = try RLE(mask: d.mask)
            let x0 = Double(d.box.x0), y0 = Double(d.box.y0)
            results.append(["image_id": 1, "category_id": categoryId,
                            "bbox": [x0, y0, Double(d.box.x1) - x0, Double(d.box.y1) - y0],
                            "score": Double(d.score),
                            "segmentation": ["size": [rgb.height, rgb.width], "counts": rle.compressedString]])
        }
        let data = try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys])
        try FileIO.writeAtomically(Array(data), to: out)
        let what = text.map { "\"\($0)\"" } ?? "\(exemplars.count) exemplar box(es)"
        if format == .json {
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(sam.name): \(what): \(dets.count) detection(s) above \(threshold) -> \(out)")
            for d in dets.prefix(10) {
                print(String(format: "  score %.4f  box %.1f,%.1f,%.1f,%.1f  area %d", d.score, d.box.x0, d.box.y0, d.box.x1, d.box.y1, d.mask.area))
            }
        }
    }
}

extension PromptParsing {
    /// X0,Y0,X1,Y1[:0|1] in image pixels; :1 (default) positive.
    static func exemplar(_ s: String) throws -> (PromptBox, Bool) {
        var body = Substring(s), positive = true
        if let colon = s.lastIndex(of: ":") {
            switch s[s.index(after: colon)...] {
            case "1": positive = true
            case "0": positive = false
            default: throw ValidationError("--box \(s): the label after ':' is 1 (positive) or 0 (negative)")
            }
            body = s[..<colon]
        }
        let b = try box(String(body))
        guard b.x1 > b.x0, b.y1 > b.y0 else { throw ValidationError("--box \(s): X1 must exceed X0 and Y1 exceed Y0") }
        return (b, positive)
    }
}
