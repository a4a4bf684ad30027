import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

/// MedSAM's inference (bowang-lab/MedSAM `MedSAM_Inference.py`) against our `medsam:` path, on a
/// reduced random-weight SAM in MedSAM's layout (scripts/make_medsam_fixture.py: skimage 0.26,
/// SciPy 1.17, torch, MedSAM's segment_anything): the stretched cubic-spline image before and
/// after the uint8 cast, the embedding, the low-resolution logits, the probability map and the mask.
@Suite("MedSAM's pre- and postprocessing against MedSAM's inference", .serialized)
struct MedSAMParityTests {
    static var dir: URL { Shared.fixtures.appendingPathComponent("medsam") }
    static var checkpoint: String { dir.appendingPathComponent("medsam_reduced.pth").path }

    struct Case: Decodable { var file: String; var width: Int; var height: Int; var box: [Double]; var iou: Double }

    static func cases() throws -> [String: Case] {
        let data = try Data(contentsOf: dir.appendingPathComponent("cases.json"))
        let all = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        var out: [String: Case] = [:]
        for (name, value) in all where !name.hasPrefix("_") {
            out[name] = try JSONDecoder().decode(Case.self, from: JSONSerialization.data(withJSONObject: value))
        }
        return out
    }

    static func maskBits(_ path: String) throws -> [Bool] { try loadRGB(path).pixels.enumerated().filter { $0.offset % 3 == 0 }.map { $0.element > 127 } }

    static func iou(_ a: [Bool], _ b: [Bool]) -> Double {
        var inter = 0, union = 0
        for (x, y) in zip(a, b) { if x && y { inter += 1 }; if x || y { union += 1 } }
        return union == 0 ? 1 : Double(inter) / Double(union)
    }

    @Test("the stretched image: skimage's float64 spline resize, and the uint8 image the encoder sees, at 96² and at MedSAM's 1024²",
          arguments: ["ct", "phantom", "colour"])
    func resize(name: String) throws {
        let image = try loadRGB(Self.dir.appendingPathComponent("\(name).png").path)
        let values = MedSAMPreprocess.resizedValues(image, size: 96)
        let reference = try NPY(path: Self.dir.appendingPathComponent("\(name)_resized.npy").path)
        #expect(reference.shape == [96, 96, 3])
        // The reference is float64 stored as float32: within its rounding (255 · 2⁻²⁴ ≈ 1.5e-5).
        let err = zip(values, reference.floats).map { abs(Float($0) - $1) }.max() ?? .infinity
        #expect(err <= 2e-5, "\(name): max |Δ| \(err)")
        let bytes = MedSAMPreprocess.resized(image, size: 96)
        let expected = try loadRGB(Self.dir.appendingPathComponent("\(name)_resized.png").path).pixels
        let differing = zip(bytes, expected).filter { $0 != $1 }.count
        #expect(differing == 0, "\(name): \(differing) of \(bytes.count) uint8 values differ")
        print("MedSAM resize \(name): float64 max |Δ| \(err) (reference stored as float32), uint8 values differing \(differing)")
    }

    @Test("MedSAM's own 1024 × 1024 input of the CT slice, byte for byte")
    func resize1024() throws {
        let image = try loadRGB(Self.dir.appendingPathComponent("ct.png").path)
        let bytes = MedSAMPreprocess.resized(image, size: 1024)
        let expected = try loadRGB(Self.dir.appendingPathComponent("ct_resized_1024.png").path)
        #expect(expected.width == 1024 && expected.height == 1024)
        let differing = zip(bytes, expected.pixels).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(bytes.count) values differ")
    }

    @Test("embedding, low-resolution logits, probabilities and mask of a box prompt", arguments: ["ct", "phantom", "colour"])
    func model(name: String) throws {
        let c = try #require(try Self.cases()[name])
        let segmenter = try #require(try ModelRegistry.segmenter(for: "medsam:" + Self.checkpoint) as? MedSAMSegmenter)
        #expect(segmenter.name == "medsam_vit_custom")
        let image = try loadRGB(Self.dir.appendingPathComponent(c.file).path)
        let e = try segmenter.prepare(image)
        let emb = try NPY(path: Self.dir.appendingPathComponent("\(name)_embedding.npy").path)
        let (ee, es) = maxError(e.features.data, emb.floats)
        #expect(ee <= 1e-4 * max(es, 1), "\(name) embedding: max |Δ| \(ee) of \(es)")

        let box = PromptBox(x0: c.box[0], y0: c.box[1], x1: c.box[2], y1: c.box[3])
        let (low, iou) = try segmenter.model.predictMedSAM(e, points: [], box: box)
        let lowRef = try NPY(path: Self.dir.appendingPathComponent("\(name)_lowres.npy").path)
        let (le, ls) = maxError(low, lowRef.floats)
        #expect(le <= 1e-3 * max(ls, 1), "\(name) low-res logits: max |Δ| \(le) of \(ls)")
        #expect(abs(Double(iou) - c.iou) <= 1e-4, "\(name) IoU \(iou) vs \(c.iou)")

        let prob = segmenter.model.medSAMProbabilities(low, width: c.width, height: c.height)
        let probRef = try NPY(path: Self.dir.appendingPathComponent("\(name)_prob.npy").path)
        #expect(probRef.shape == [c.height, c.width])
        let (pe, _) = maxError(prob, probRef.floats)
        #expect(pe <= 1e-3, "\(name) probabilities: max |Δ| \(pe)")
        print("MedSAM parity \(name): embedding \(ee), logits \(le), probabilities \(pe)")

        let candidates = try segmenter.segment(e, prompts: Prompts(box: box), previous: nil, multimask: true)
        #expect(candidates.count == 1)  // MedSAM asks its decoder for one mask
        let mask = try #require(candidates.first?.mask)
        let reference = try Self.maskBits(Self.dir.appendingPathComponent("\(name)_mask.png").path)
        let overlap = Self.iou(mask.bits.map { $0 != 0 }, reference)
        #expect(overlap >= 0.98, "\(name) mask IoU \(overlap)")
        print("MedSAM parity \(name): mask IoU \(overlap)")
        #expect(reference.contains(true) && reference.contains(false))
    }

    /// A MedSAM entry is the whole input square whatever the image's shape: the cache once took a
    /// non-square image's entry for a damaged SAM entry and deleted it at every load.
    @Test("MedSAM embeddings in the cache: a non-square image's entry is kept, loaded and decodes as a fresh one; SAM's stays apart")
    func cache() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-medsam-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = EmbeddingCache(directory: folder.path)
        let image = try loadRGB(Self.dir.appendingPathComponent("phantom.png").path)
        let model = try SAMModel.load(checkpoint: Self.checkpoint)
        let box = PromptBox(x0: 30, y0: 25, x1: 110, y1: 100)
        let fresh = try MedSAMSegmenter(model: model)
        let expected = try fresh.segment(try fresh.prepare(image), prompts: Prompts(box: box), previous: nil, multimask: false)

        let summary = EmbeddingPrecompute.run(images: [Self.dir.appendingPathComponent("phantom.png").path], model: model,
                                              pipeline: .medSAM, cache: cache)
        #expect(summary.embedded == 1 && summary.failed.isEmpty)
        let again = EmbeddingPrecompute.run(images: [Self.dir.appendingPathComponent("phantom.png").path], model: model,
                                            pipeline: .medSAM, cache: cache)
        #expect(again.alreadyCached == 1 && again.embedded == 0)
        let key = EmbeddingCache.key(image: image, model: MedSAMSegmenter.cacheTag(of: model))
        let hit = try #require(cache.load(key: key, model: model, stretched: true))
        #expect(hit.inputWidth == model.imageSize && hit.inputHeight == model.imageSize)
        let cached = try MedSAMSegmenter(model: model, cache: cache)
        let fromCache = try cached.segment(try cached.prepare(image), prompts: Prompts(box: box), previous: nil, multimask: false)
        #expect(fromCache.first?.mask == expected.first?.mask && fromCache.first?.score == expected.first?.score)
        // SAM's own entry of the same image is another key; MedSAM's is no SAM entry.
        #expect(!cache.contains(key: EmbeddingCache.key(image: image, model: model.fingerprint), model: model))
        #expect(cache.load(key: key, model: model, stretched: true) != nil)
    }

    @Test("medsam: selects the pipeline; bad specs and non-ViT checkpoints are typed errors")
    func registry() throws {
        #expect(ModelRegistry.medSAMCheckpoint("MedSAM:/a/b.pth") == "/a/b.pth")
        #expect(ModelRegistry.medSAMCheckpoint("/a/medsam_vit_b.pth") == nil)
        #expect(ModelRegistry.checkpointFile("medsam:/a/b.pth") == "/a/b.pth")
        #expect(ModelRegistry.checkpointFile("grabcut:lambda=3") == nil)
        #expect(!ModelRegistry.isBuiltIn("medsam:/a/b.pth"))
        #expect(throws: SegError.self) { try ModelRegistry.segmenter(for: "medsam:") }
        #expect(throws: SegError.self) { try ModelRegistry.segmenter(for: "medsam:/nonexistent/medsam.pth") }
        // The same weights without the prefix are plain SAM (longest side, padding, SAM's normalisation).
        #expect(try ModelRegistry.segmenter(for: Self.checkpoint) is SAMSegmenter)
        let segmenter = try #require(try ModelRegistry.segmenter(for: "medsam:" + Self.checkpoint) as? MedSAMSegmenter)
        let e = try segmenter.prepare(RGBImage(width: 5, height: 3, pixels: [UInt8](repeating: 9, count: 45)))  // uniform: 0/1e-8 = 0
        #expect(throws: SegError.self) { try segmenter.segment(e, prompts: Prompts(), previous: nil, multimask: false) }
        #expect(throws: SegError.self) { try segmenter.segment(e, prompts: Prompts(box: PromptBox(x0: 0, y0: 0, x1: 9, y1: 2)), previous: nil, multimask: false) }
        let one = try segmenter.segment(e, prompts: Prompts(points: [PromptPoint(x: 2, y: 1, positive: true)]), previous: nil, multimask: false)
        #expect(one.count == 1 && one[0].mask.width == 5 && one[0].mask.height == 3)
    }
}
