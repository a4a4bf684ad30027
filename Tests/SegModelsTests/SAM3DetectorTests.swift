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
