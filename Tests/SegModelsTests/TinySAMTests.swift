import Foundation
import Testing
import SegCore
import SegNN
@testable import SegModels

/// The whole model path on a tiny SAM made with the official code (scripts/make_tiny_sam_fixture.py):
/// checkpoint + JSON sidecar, Pillow resize, ViT encoder with windows and padding, prompt encoder,
/// decoder, post-processing. Runs on a fresh clone (no ../shared needed).
@Suite("Tiny SAM from the official code", .serialized)
struct TinySAMTests {
    struct Case: Decodable {
        let name: String
        let points: [[Double]]?
        let labels: [Int]?
        let box: [Double]?
        let multimask: Bool
        let mask_from: String?
        let mask_index: Int?
    }
    struct Entry: Decodable { let file: String; let width: Int; let height: Int; let cases: [Case] }

    static var dir: URL { Shared.fixtures.appendingPathComponent("tiny_sam") }
    static let tolerance: Float = 1e-4  // relative to the tensor's max magnitude, as the parity suite

    static func entries() throws -> [String: Entry] {
        try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
    }

    @Test("config from the sidecar; .pth and .safetensors give the same model", arguments: ["tiny_sam.pth", "tiny_sam_st.safetensors"])
    func loads(file: String) throws {
        let m = try SAMModel.load(checkpoint: Self.dir.appendingPathComponent(file).path)
        #expect(m.config.name == "vit_custom")
        #expect(m.grid == 8 && m.embedDim == 32 && m.lowResSide == 32)
        guard case .vit(let v) = m.config.encoder else { Issue.record("not a ViT"); return }
        #expect(v.embedDim == 16 && v.depth == 2 && v.globalAttnIndexes == [1] && v.windowSize == 3)
    }

    @Test("every image and prompt case matches the official predictor", arguments: ["tiny_sam.pth", "tiny_sam_st.safetensors"])
    func parity(file: String) throws {
        let model = try SAMModel.load(checkpoint: Self.dir.appendingPathComponent(file).path)
        for (name, entry) in try Self.entries().sorted(by: { $0.key < $1.key }) {
            let img = try loadRGB(Self.dir.appendingPathComponent(entry.file).path)
            let resized = try loadRGB(Self.dir.appendingPathComponent("\(name)_resized.png").path)
            #expect(model.resizedInput(img) == resized, "\(name): resize differs from Pillow")
            let e = try model.prepare(img)
            let refEmb = try NPY(path: Self.dir.appendingPathComponent("\(name)_embedding.npy").path)
            let (ee, es) = maxError(e.features.data, refEmb.floats)
            #expect(ee <= Self.tolerance * es, "\(name): embedding error \(ee) of \(es)")
            var low: [String: SAMPrediction] = [:]
            for c in entry.cases {
                let points = zip(c.points ?? [], c.labels ?? []).map { PromptPoint(x: $0.0[0], y: $0.0[1], positive: $0.1 == 1) }
                let box = c.box.map { PromptBox(x0: $0[0], y0: $0[1], x1: $0[2], y1: $0[3]) }
                var maskInput: [Float]?
                if let from = c.mask_from, let prev = low[from], let idx = c.mask_index {
                    let plane = 32 * 32
                    maskInput = Array(prev.lowResLogits.data[(idx * plane)..<((idx + 1) * plane)])
                    #expect(prev.iou.indices.max { prev.iou[$0] < prev.iou[$1] } == idx)
                }
                let p = try model.predict(e, points: points, box: box, maskInput: maskInput, multimask: c.multimask, returnLogits: true)
                low[c.name] = p
                let base = "\(name)_\(c.name)"
                let rl = try NPY(path: Self.dir.appendingPathComponent("\(base)_lowres.npy").path)
                let ri = try NPY(path: Self.dir.appendingPathComponent("\(base)_iou.npy").path)
                let rf = try NPY(path: Self.dir.appendingPathComponent("\(base)_logits.npy").path)
                #expect(p.lowResLogits.shape == rl.shape && p.iou.count == ri.floats.count && p.logits?.shape == rf.shape, "\(base): shapes")
                let (le, ls) = maxError(p.lowResLogits.data, rl.floats)
                #expect(le <= Self.tolerance * ls, "\(base): low-res error \(le) of \(ls)")
                let (ie, iscale) = maxError(p.iou, ri.floats)
                #expect(ie <= Self.tolerance * iscale, "\(base): IoU error \(ie) of \(iscale)")
                let (fe, fs) = maxError(p.logits?.data ?? [], rf.floats)
                #expect(fe <= Self.tolerance * fs, "\(base): logits error \(fe) of \(fs)")
                let band = Self.tolerance * fs
                var bad = 0
                for (m, mask) in p.masks.enumerated() {
                    for i in 0..<(entry.width * entry.height) {
                        let r = rf.floats[m * entry.width * entry.height + i]
                        if (mask.bits[i] != 0) != (r > 0) && abs(r) > band { bad += 1 }
                    }
                }
                #expect(bad == 0, "\(base): \(bad) mask pixels differ")
            }
        }
    }

    @Test("the protocol path: candidates carry the low-res logits back as the next mask input")
    func segmenterProtocol() throws {
        let model = try SAMModel.load(checkpoint: Self.dir.appendingPathComponent("tiny_sam.pth").path)
        let seg = SAMSegmenter(model: model)
        let img = try loadRGB(Self.dir.appendingPathComponent("landscape.png").path)
        let e = try seg.prepare(img)
        let first = try seg.segment(e, prompts: Prompts(points: [PromptPoint(x: 20, y: 12, positive: true)]), previous: nil, multimask: true)
        #expect(first.count == 3)
        guard let best = first.best else { Issue.record("no candidates"); return }
        let prompts = Prompts(points: [PromptPoint(x: 20, y: 12, positive: true), PromptPoint(x: 8, y: 20, positive: false)])
        let second = try seg.segment(e, prompts: prompts, previous: best, multimask: false)
        guard case .lowResolutionLogits(let logits, 32)? = best.feedback else { Issue.record("no feedback"); return }
        let direct = try model.predict(e, points: prompts.points, maskInput: logits, multimask: false)
        #expect(second.first?.mask == direct.masks.first)
        #expect(second.first?.score == direct.iou.first)
    }

    @Test("bad prompts and misuse are typed errors, never crashes")
    func badInput() throws {
        let model = try SAMModel.load(checkpoint: Self.dir.appendingPathComponent("tiny_sam.pth").path)
        let img = try loadRGB(Self.dir.appendingPathComponent("landscape.png").path)  // 41x30
        let e = try model.prepare(img)
        func kind(_ body: () throws -> Void) -> SegError.Kind? {
            do { try body(); return nil } catch let error as SegError { return error.kind } catch { return nil }
        }
        #expect(kind { _ = try model.predict(e, multimask: true) } == .invalid)  // empty prompt
        #expect(kind { _ = try model.predict(e, points: [PromptPoint(x: 41, y: 3, positive: true)], multimask: true) } == .invalid)
        #expect(kind { _ = try model.predict(e, points: [PromptPoint(x: -1, y: 3, positive: true)], multimask: true) } == .invalid)
        #expect(kind { _ = try model.predict(e, points: [PromptPoint(x: .nan, y: 3, positive: true)], multimask: true) } == .invalid)
        #expect(kind { _ = try model.predict(e, box: PromptBox(x0: 0, y0: 0, x1: 50, y1: 10), multimask: true) } == .invalid)
        #expect(kind { _ = try model.predict(e, points: [PromptPoint(x: 1, y: 1, positive: true)], maskInput: [0, 1], multimask: true) } == .invalid)
        #expect(kind { _ = try model.embedding(features: Tensor(zeros: [3, 8, 8]), originalWidth: 4, originalHeight: 4) } == .invalid)
        let predictor = SAMPredictor(model: model)
        #expect(kind { _ = try predictor.predict(points: [PromptPoint(x: 1, y: 1, positive: true)]) } == .invalid)
        // An embedding from another model is refused.
        let other = SAMEmbedding(features: e.features, originalWidth: 41, originalHeight: 30, inputWidth: 128, inputHeight: 94, modelFingerprint: "x")
        #expect(kind { _ = try model.predict(other, points: [PromptPoint(x: 1, y: 1, positive: true)], multimask: true) } == .invalid)
        // 1×1 and extremely elongated images.
        let dot = try model.prepare(RGBImage(width: 1, height: 1, fill: (9, 9, 9)))
        #expect(try model.predict(dot, points: [PromptPoint(x: 0.5, y: 0.5, positive: true)], multimask: false).masks.first?.size == PixelSize(width: 1, height: 1))
        #expect(kind { _ = try model.prepare(RGBImage(width: 600, height: 1)) } == .invalid)
    }

    @Test("checkpoints that are not SAM, miss a key, or have a wrong shape or dtype")
    func badCheckpoints() throws {
        let src = try StateDict.load(path: Self.dir.appendingPathComponent("tiny_sam.pth").path)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("segmodels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let sidecar = try Data(contentsOf: Self.dir.appendingPathComponent("tiny_sam.json"))
        func write(_ name: String, _ edit: (inout [(String, [Int], String, [UInt8])]) -> Void) throws -> String {
            var tensors: [(String, [Int], String, [UInt8])] = try src.keys.map { k in
                (k, src.shape(k) ?? [], "F32", PromptBytes.floats(try src.floats(k)))
            }
            edit(&tensors)
            let path = tmp.appendingPathComponent(name + ".safetensors").path
            try Data(PromptBytes.safetensors(tensors)).write(to: URL(fileURLWithPath: path))
            try sidecar.write(to: tmp.appendingPathComponent(name + ".json"))
            return path
        }
        func error(_ path: String) -> SegError? {
            do { _ = try SAMModel.load(checkpoint: path); return nil } catch let e as SegError { return e } catch { return nil }
        }
        let missing = try write("missing") { $0.removeAll { $0.0 == "mask_decoder.iou_token.weight" } }
        #expect(error(missing)?.reason == "missing tensor mask_decoder.iou_token.weight")
        let shaped = try write("shaped") { t in
            if let i = t.firstIndex(where: { $0.0 == "mask_decoder.iou_token.weight" }) { t[i].1 = [32, 1] }
        }
        #expect(error(shaped)?.reason == "tensor mask_decoder.iou_token.weight has shape [32, 1], expected [1, 32]")
        let typed = try write("typed") { t in
            if let i = t.firstIndex(where: { $0.0 == "mask_decoder.iou_token.weight" }) { t[i].2 = "I32" }
        }
        #expect(error(typed)?.reason.contains("int32") == true)
        let other = try write("other") { $0 = [("encoder.weight", [2], "F32", PromptBytes.floats([1, 2]))] }
        #expect(error(other)?.reason.contains("not a SAM") == true)
        #expect(error(tmp.appendingPathComponent("missing.json").path)?.kind == .unsupported)  // JSON is not a checkpoint
        #expect(error("/nonexistent.pth")?.kind == .notFound)
    }

    @Test("official ViT-B/L/H are recognised from tensor shapes alone", arguments: [("vit_b", 768, 12), ("vit_l", 1024, 24), ("vit_h", 1280, 32)])
    func officialShapes(name: String, width: Int, depth: Int) throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("vitshape-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: tmp) }
        var tensors: [(String, [Int], String, [UInt8])] = [("image_encoder.patch_embed.proj.weight", [width, 3, 16, 16], "F16",
                                                            [UInt8](repeating: 0, count: width * 3 * 256 * 2))]
        for i in 0..<depth { tensors.append(("image_encoder.blocks.\(i).norm1.weight", [width], "F16", [UInt8](repeating: 0, count: width * 2))) }
        try Data(PromptBytes.safetensors(tensors)).write(to: tmp)
        let c = try SAMConfig.detect(try StateDict.load(path: tmp.path), checkpoint: tmp.path)
        #expect(c.name == name)
        #expect(c.encoder == .vit(SAMConfig.officialViT[name]!))
        // Another depth is not guessed at.
        let odd = Array(tensors.dropLast())
        try Data(PromptBytes.safetensors(odd)).write(to: tmp)
        #expect(throws: SegError.self) { _ = try SAMConfig.detect(try StateDict.load(path: tmp.path), checkpoint: tmp.path) }
    }

    @Test("`--model grabcut` is the built-in classical model; other names are checkpoint paths")
    func registry() throws {
        #expect(ModelRegistry.isBuiltIn("grabcut"))
        #expect(try ModelRegistry.segmenter(named: "grabcut").name.hasPrefix("grabcut"))
        #expect(throws: SegError.self) { _ = try ModelRegistry.segmenter(for: "/nonexistent/model.pth") }
    }
}

/// Byte helpers for hand-made checkpoints.
enum PromptBytes {
    static func floats(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

    static func safetensors(_ tensors: [(String, [Int], String, [UInt8])]) -> [UInt8] {
        var header = "{", blob: [UInt8] = []
        for (i, t) in tensors.enumerated() {
            header += (i > 0 ? "," : "") + "\"\(t.0)\":{\"dtype\":\"\(t.2)\",\"shape\":\(t.1),\"data_offsets\":[\(blob.count),\(blob.count + t.3.count)]}"
            blob += t.3
        }
        header += "}"
        let h = Array(header.utf8)
        var out: [UInt8] = []
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: h.count >> (8 * i))) }
        return out + h + blob
    }
}
