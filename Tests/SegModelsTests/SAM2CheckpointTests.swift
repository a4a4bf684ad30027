import Foundation
import Testing
import SegCore
@testable import SegNN
@testable import SegModels

/// SAM 2.1 checkpoints: the official variants told apart by shapes and the (width, depth) table,
/// video-only tensors ignored, and every kind of bad file a typed error naming it.
@Suite("SAM 2.1 checkpoints")
struct SAM2CheckpointTests {
    /// A state dict with the given shapes and no data: every tensor views one element with zero
    /// strides, enough for configuration detection, which reads shapes only.
    static func shapesOnly(_ shapes: [(String, [Int])], path: String) throws -> StateDict {
        var records: [String: TensorRecord] = [:]
        for (k, s) in shapes {
            records[k] = try TensorRecord(dtype: .float32, shape: s, strides: s.map { _ in 0 }, offset: 0, storageByteOffset: 0,
                                          storageCount: 1, crc32: nil, storageName: "0", key: k, file: path)
        }
        return StateDict(file: MappedFile(bytes: [0, 0, 0, 0], name: path), records: records, keys: shapes.map(\.0))
    }

    /// The trunk and neck shapes of an official-layout checkpoint.
    static func hieraShapes(_ h: SAMConfig.Hiera) -> [(String, [Int])] {
        let t = "image_encoder.trunk.", c = h.embedDim
        var out: [(String, [Int])] = [(t + "patch_embed.proj.weight", [c, 3, 7, 7]), (t + "pos_embed", [1, c] + h.posEmbedSize),
                                      (t + "pos_embed_window", [1, c, h.windowSpec[0], h.windowSpec[0]])]
        var dim = c, block = 0
        for (s, n) in h.stages.enumerated() {
            for i in 0..<n {
                let out_ = i == 0 && s > 0 ? dim * 2 : dim
                out.append((t + "blocks.\(block).attn.qkv.weight", [3 * out_, dim]))
                dim = out_
                block += 1
            }
        }
        out.append(("image_encoder.neck.convs.0.conv.weight", [256, dim, 1, 1]))
        return out
    }

    @Test("the four official SAM 2.1 encoders are recognised from their shapes", arguments: SAMConfig.officialHiera.map(\.name))
    func official(name: String) throws {
        guard let h = SAMConfig.officialHiera.first(where: { $0.name == name })?.hiera else { Issue.record("no \(name)"); return }
        let path = "/nonexistent/\(name).pt"
        let c = try SAMConfig.detect(try Self.shapesOnly(Self.hieraShapes(h), path: path), checkpoint: path)
        #expect(c.name == name)
        guard case .hiera(let got) = c.encoder else { Issue.record("not Hiera"); return }
        #expect(got == h)
        #expect(c.grid == 64 && c.imageSize == 1024 && c.decoder.sam2)
    }

    @Test("a width/depth outside the table, or shapes that contradict it, are typed errors naming the file")
    func mismatched() throws {
        guard var h = SAMConfig.officialHiera.first?.hiera else { return }
        let path = "/nonexistent/odd.pt"
        h.stages = [1, 2, 6, 2]  // 11 blocks of width 96: no such model
        #expect { _ = try SAMConfig.detect(try Self.shapesOnly(Self.hieraShapes(h), path: path), checkpoint: path) } throws: { e in
            guard let e = e as? SegError else { return false }
            return e.kind == .unsupported && e.file == path && e.reason.contains("width 96 and 11 blocks")
        }
        h = SAMConfig.officialHiera[0].hiera
        h.stages = [2, 2, 6, 2]  // 12 blocks like tiny, but split differently
        #expect { _ = try SAMConfig.detect(try Self.shapesOnly(Self.hieraShapes(h), path: path), checkpoint: path) } throws: { e in
            (e as? SegError)?.reason.contains("has stages [2, 2, 6, 2]") == true && (e as? SegError)?.file == path
        }
        h = SAMConfig.officialHiera[0].hiera
        h.posEmbedSize = [14, 14]
        #expect { _ = try SAMConfig.detect(try Self.shapesOnly(Self.hieraShapes(h), path: path), checkpoint: path) } throws: { e in
            (e as? SegError)?.reason.contains("position embedding [14, 14]") == true
        }
    }

    static var reduced: String { SAM2ReducedTests.path("sam2_reduced.pt") }

    @Test("video-only tensors are in the checkpoint and ignored")
    func videoTensorsIgnored() throws {
        let dict = try StateDict.load(path: Self.reduced)
        for prefix in ["memory_attention.", "memory_encoder.", "maskmem_tpos_enc", "obj_ptr_proj.", "no_obj_ptr"] {
            #expect(dict.keys.contains { $0.hasPrefix(prefix) }, "\(prefix) not in the fixture")
        }
        _ = try SAMModel(dict: dict, checkpoint: Self.reduced)
    }

    func error(_ path: String) -> SegError? {
        do { _ = try SAMModel.load(checkpoint: path); return nil } catch let e as SegError { return e } catch { return nil }
    }

    @Test("missing or misshapen tensors, truncated files, bad or absent sidecars")
    func badFiles() throws {
        let src = try StateDict.load(path: Self.reduced)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("sam2-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let sidecar = try Data(contentsOf: URL(fileURLWithPath: SAM2ReducedTests.path("sam2_reduced.json")))
        func write(_ name: String, sidecar side: Data?, _ edit: (inout [(String, [Int], String, [UInt8])]) -> Void) throws -> String {
            var tensors: [(String, [Int], String, [UInt8])] = try src.keys.map { k in
                (k, src.shape(k) ?? [], "F32", PromptBytes.floats(try src.floats(k)))
            }
            edit(&tensors)
            let path = tmp.appendingPathComponent(name + ".safetensors").path
            try Data(PromptBytes.safetensors(tensors)).write(to: URL(fileURLWithPath: path))
            if let side { try side.write(to: tmp.appendingPathComponent(name + ".json")) }
            return path
        }
        let key = "sam_mask_decoder.obj_score_token.weight"
        let missing = try write("missing", sidecar: sidecar) { $0.removeAll { $0.0 == key } }
        #expect(error(missing)?.reason == "missing tensor \(key)")
        #expect(error(missing)?.file == missing)
        let shaped = try write("shaped", sidecar: sidecar) { t in
            if let i = t.firstIndex(where: { $0.0 == key }) { t[i].1 = [32, 1] }
        }
        #expect(error(shaped)?.reason == "tensor \(key) has shape [32, 1], expected [1, 32]")
        let trunk = try write("trunk", sidecar: sidecar) { t in
            if let i = t.firstIndex(where: { $0.0 == "image_encoder.trunk.blocks.2.attn.qkv.weight" }) {
                t[i].1 = [36, 6]; t[i].3 = PromptBytes.floats([Float](repeating: 0, count: 36 * 6))
            }
        }
        #expect(error(trunk)?.reason.contains("blocks.2.attn.qkv.weight") == true)
        // No sidecar: a reduced trunk is not guessed at.
        let bare = try write("bare", sidecar: nil) { _ in }
        #expect(error(bare)?.kind == .unsupported)
        #expect(error(bare)?.reason.contains("not an official SAM 2.1 configuration") == true)
        // A sidecar that is not JSON, or contradicts the shapes.
        let garbled = try write("garbled", sidecar: Data("{not json".utf8)) { _ in }
        #expect(error(garbled)?.file == tmp.appendingPathComponent("garbled.json").path)
        var side = try JSONSerialization.jsonObject(with: sidecar) as? [String: Any] ?? [:]
        side["window_spec"] = [5, 4, 6, 3]
        let contra = try write("contra", sidecar: try JSONSerialization.data(withJSONObject: side)) { _ in }
        #expect(error(contra)?.reason.contains("window embedding is 8") == true)
        side["window_spec"] = [8, 4, 6]
        let short = try write("short", sidecar: try JSONSerialization.data(withJSONObject: side)) { _ in }
        #expect(error(short)?.reason.contains("window_spec") == true)
        // Truncated .pt files at several lengths: typed errors, never a crash.
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.reduced))
        for cut in [10, whole.count / 3, whole.count / 2, whole.count - 30] {
            let p = tmp.appendingPathComponent("cut\(cut).pt").path
            try whole.prefix(cut).write(to: URL(fileURLWithPath: p))
            try sidecar.write(to: tmp.appendingPathComponent("cut\(cut).json"))
            #expect(error(p)?.file == p, "cut at \(cut)")
        }
    }
}
