import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

/// SAM 3's detector (geometry encoder, fusion encoder, decoder, scoring, segmentation head) stage
/// by stage against the official `sam3` 0.1.4 run on the reduced checkpoint
/// (scripts/make_sam3_fixture.py): from the official backbone levels and text features of the
/// "landscape" image, each stage's output is compared with the official one.
@Suite("SAM 3 detector stages against the official code")
struct SAM3DetectorTests {
    struct Manifest: Decodable {
        struct TextCase: Decodable {
            let name: String; let text: String?; let boxes: [Box]; let presence_logit: Float; let prompt_valid: [Bool]?
        }
        /// ([x0, y0, x1, y1], positive) as the script writes it.
        struct Box: Decodable {
            let rect: [Float], positive: Bool
            init(from decoder: Decoder) throws {
                var c = try decoder.unkeyedContainer()
                rect = try c.decode([Float].self)
                positive = try c.decode(Bool.self)
            }
        }
        let text_cases: [TextCase]
    }

    static func detector() throws -> SAM3Detector {
        let dict = try StateDict.load(path: SAM3ReducedTests.checkpoint)
        let s = try SAM3DetectorSettings.read(checkpoint: SAM3ReducedTests.checkpoint)
        return try SAM3Detector(WeightLoader(dict: dict, store: ParamStore()), dim: 32, heads: s.detectorHeads)
    }

    @Test("prompt, fusion memory, queries, boxes, scores, presence and masks match for text, box and text+boxes prompts")
    func stages() throws {
        let det = try Self.detector()
        let all = try JSONDecoder().decode([String: Manifest].self, from: Data(FileIO.read(SAM3ReducedTests.path("cases.json"))))
        let cases = try #require(all["landscape"]).text_cases
        let levels = try (0..<3).map { i -> (data: [Float], side: Int) in
            let a = try NPY(path: SAM3ReducedTests.path("landscape_det_fpn\(i).npy"))
            return (a.floats, a.shape[2])
        }
        var report: [String] = []
        for c in cases {
            let base = "landscape_text_\(c.name)"
            let language = try NPY(path: SAM3ReducedTests.path(base + "_language.npy"))
            let valid = try #require(c.prompt_valid)
            let textValid = Array(valid.prefix(language.shape[0]))
            let boxes = c.boxes.map { SAM3Exemplar(x0: $0.rect[0], y0: $0.rect[1], x1: $0.rect[2], y1: $0.rect[3], positive: $0.positive) }
            let raw = det.run(levels: levels, text: language.floats, textValid: textValid, boxes: boxes, ws: Workspace())
            #expect(raw.promptValid == valid, "\(c.name)")
            func check(_ name: String, _ ours: [Float], _ file: String, tol: Float = 1e-4) throws {
                let g = try NPY(path: SAM3ReducedTests.path(base + "_" + file + ".npy"))
                let (err, scale) = maxError(ours, g.floats)
                report.append("\(c.name) \(name) \(err)/\(scale)")
                #expect(err <= tol * max(scale, 1), "\(c.name) \(name): \(err) of \(scale)")
            }
            try check("prompt", raw.prompt, "prompt")
            try check("memory", raw.memory, "memory")
            try check("queries", raw.decoded.queries, "queries")
            try check("reference", raw.decoded.lastReference, "reference_boxes")
            var xyxy: [Float] = []
            for q in 0..<det.decoder.count {
                let b = Array(raw.decoded.boxes[(q * 4)..<(q * 4 + 4)])
                xyxy += [b[0] - 0.5 * b[2], b[1] - 0.5 * b[3], b[0] + 0.5 * b[2], b[1] + 0.5 * b[3]]
            }
            try check("boxes", xyxy, "boxes")
            try check("logits", raw.logits, "logits")
            #expect(abs(raw.decoded.presenceLogit - c.presence_logit) <= 1e-4, "\(c.name) presence \(raw.decoded.presenceLogit) vs \(c.presence_logit)")
            try check("masks", raw.masks, "masks_lowres")
        }
        print("sam3 detector stages: " + report.joined(separator: "; "))
    }
}

/// The whole concept path from images: `SAMModel.prepare` (the processor's uint8 resize, the
/// encoder, the detector's levels), the text encoder and the detector, against the official `Sam3Processor`'s
/// every-query outputs and its kept detections (threshold 0.3 in the fixture), for the 3 images × 4 prompts.
@Suite("SAM 3 concept prompts end to end against the official processor")
struct SAM3ConceptTests {
    struct Manifest: Decodable {
        struct TextCase: Decodable {
            let name: String; let text: String?; let boxes: [SAM3DetectorTests.Manifest.Box]
            let kept_scores: [Float]; let kept_boxes: [[Float]]; let presence_logit: Float
        }
        let text_cases: [TextCase]
    }

    @Test("scores within 1e-3, boxes within 1 px, kept masks IoU ≥ 0.98")
    func endToEnd() throws {
        let model = try SAMModel.load(checkpoint: SAM3ReducedTests.checkpoint)
        let concept = try SAM3ConceptDetector(model: model, vocabulary: SAM3TextTests.reducedVocabulary)
        let r = try Self.check(model: model, concept: concept, dir: SAM3ReducedTests.dir)
        print("sam3 concept end to end: \(r)")
        #expect(r.kept >= 10)
        r.expectWithinTolerances()
    }

    struct Summary: CustomStringConvertible {
        var worstScore: Float = 0, worstBox: Float = 0, worstIoU: Double = 1, kept = 0, setsDiffer = 0, cases = 0
        var description: String {
            "\(cases) cases: worst score diff \(worstScore) (every query), worst box diff \(worstBox) px, worst kept-mask IoU \(worstIoU), \(kept) kept detections, \(setsDiffer) kept sets differ"
        }
        /// The tolerances: scores within 1e-3 absolute, boxes within 1 px, masks IoU ≥ 0.98.
        func expectWithinTolerances() {
            #expect(worstBox <= 1)
            #expect(worstScore <= 1e-3)
            #expect(worstIoU >= 0.98)
            #expect(setsDiffer == 0)
        }
    }

    /// Every image and text case of `dir`'s cases.json (scripts/make_sam3_fixture.py, the reduced
    /// fixture or a `--full` run) from the image file to the kept detections.
    static func check(model: SAMModel, concept: SAM3ConceptDetector, dir: URL) throws -> Summary {
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let all = try JSONDecoder().decode([String: Manifest].self, from: Data(FileIO.read(path("cases.json"))))
        var r = Summary()
        for (image, entry) in all.sorted(by: { $0.key < $1.key }) {
            let rgb = try loadRGB(path(image + ".png"))
            let e = try model.prepare(rgb)
            for c in entry.text_cases {
                r.cases += 1
                let boxes = c.boxes.map { SAM3Exemplar(x0: $0.rect[0], y0: $0.rect[1], x1: $0.rect[2], y1: $0.rect[3], positive: $0.positive) }
                let dets = try concept.detect(prepared: e, phrase: c.text, exemplars: boxes, threshold: 0.3)
                let golden = try NPY(path: path("\(image)_text_\(c.name)_logits.npy")).floats
                let raw = concept.run(e, text: try concept.text.features(c.text ?? "visual"), exemplars: boxes)
                let presence = 1 / (1 + expf(-c.presence_logit))
                for q in golden.indices {
                    let ours = 1 / (1 + expf(-raw.logits[q])) * (1 / (1 + expf(-raw.decoded.presenceLogit)))
                    r.worstScore = max(r.worstScore, abs(ours - 1 / (1 + expf(-golden[q])) * presence))
                }
                // Kept detections, matched by query (the processor keeps them in query order).
                let keptQueries = golden.indices.filter { 1 / (1 + expf(-golden[$0])) * presence > 0.3 }
                #expect(keptQueries.count == c.kept_scores.count)
                if Set(dets.map(\.query)) != Set(keptQueries) { r.setsDiffer += 1 }
                // The kept masks stacked: at full size tens of 1500×1200 masks, above the default pixel limit.
                let masks = c.kept_scores.isEmpty ? nil : try ImageFile.read(path("\(image)_text_\(c.name)_kept_masks.png"),
                                                                            limits: .init(maxPixels: 1 << 31))
                for (i, q) in keptQueries.enumerated() {
                    guard let d = dets.first(where: { $0.query == q }) else { continue }
                    let b = c.kept_boxes[i]
                    r.worstScore = max(r.worstScore, abs(d.score - c.kept_scores[i]))
                    r.worstBox = max(r.worstBox, abs(d.box.x0 - b[0]), abs(d.box.y0 - b[1]), abs(d.box.x1 - b[2]), abs(d.box.y1 - b[3]))
                    if let masks {
                        let w = rgb.width, h = rgb.height
                        var inter = 0, union = 0
                        for p in 0..<(w * h) {
                            let a = d.mask.bits[p] != 0, o = masks.sample(i * w * h + p, 0) > 127
                            if a && o { inter += 1 }
                            if a || o { union += 1 }
                        }
                        r.worstIoU = min(r.worstIoU, union == 0 ? 1 : Double(inter) / Double(union))
                    }
                    r.kept += 1
                }
            }
        }
        return r
    }
}

extension SAM3ConceptTests {
    @Test("the processor's uint8 resize, bit for bit: upscaled (41×30, 9×23) and downscaled (300×170) to 126")
    func processorResize() throws {
        for name in ["landscape", "portrait", "wide"] {
            let rgb = try loadRGB(SAM3ReducedTests.path(name + ".png"))
            let golden = try loadRGB(SAM3ReducedTests.path(name + "_processor_input.png"))
            let ours = SAM3Preprocess.resized(rgb, size: 126)
            let differing = zip(ours, golden.pixels).filter { $0 != $1 }.count
            #expect(golden.width == 126 && golden.height == 126 && ours.count == golden.pixels.count)
            #expect(differing == 0, "\(name): \(differing) of \(ours.count) bytes differ from torchvision's uint8 resize")
        }
    }

    @Test("the detector's backbone levels from our prepare match the official processor's")
    func levels() throws {
        let model = try SAMModel.load(checkpoint: SAM3ReducedTests.checkpoint)
        let e = try model.prepare(try loadRGB(SAM3ReducedTests.path("landscape.png")))
        let c = model.sam2MapCounts
        var at = c.embed + c.s1 + c.s0
        var report: [String] = []
        for i in 0..<3 {
            let g = try NPY(path: SAM3ReducedTests.path("landscape_det_fpn\(i).npy"))
            let ours = Array(e.features.data[at..<(at + g.floats.count)])
            at += g.floats.count
            let (err, scale) = maxError(ours, g.floats)
            report.append("level \(i): \(err) of \(scale)")
            #expect(err <= 1e-4 * max(scale, 1), "level \(i): \(err) of \(scale)")
        }
        print("sam3 detector levels vs the official processor: " + report.joined(separator: "; "))
    }
}
