import Foundation
import Testing
@testable import SegCore

/// `segterm segment` and `segterm bench model` as a user runs them, on the tiny official-format
/// SAM fixture (Tests/SegModelsTests/Fixtures/tiny_sam) so a fresh clone runs them too.
@Suite("segterm segment", .enabled(if: Binary.path != nil, "the segterm binary was not built"))
struct SegmentCLITests {
    static let tiny = Binary.repositoryRoot.appendingPathComponent("Tests/SegModelsTests/Fixtures/tiny_sam")
    static var model: String { tiny.appendingPathComponent("tiny_sam.pth").path }
    static var image: String { tiny.appendingPathComponent("landscape.png").path }  // 41x30

    func run(_ args: [String], cache: URL) throws -> Binary.Result {
        var env = ProcessInfo.processInfo.environment
        env["SEGTERM_CACHE_DIR"] = cache.path
        return try Binary.run(args, environment: env)
    }

    @Test("a point prompt writes the mask, the three multimask files, logits and JSON")
    func segment() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("mask.png").path
        let r = try run(["segment", "--model", Self.model, "--image", Self.image, "--point", "20,12", "--point", "5,25:0",
                         "--multimask", "--out", out, "--logits-out", dir.appendingPathComponent("logits.f32").path,
                         "--lowres-out", dir.appendingPathComponent("low.f32").path, "--format", "json"], cache: dir.appendingPathComponent("cache"))
        #expect(r.status == 0, "\(r.stderr)")
        guard let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let iou = json["iou"] as? [Double], let selected = json["selected"] as? Int else {
            Issue.record("bad JSON: \(r.stdout)"); return
        }
        #expect(iou.count == 3 && selected == iou.indices.max { iou[$0] < iou[$1] })
        let mask = try ImageFile.read(out)
        #expect(mask.width == 41 && mask.height == 30)
        for i in 0..<3 { #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("mask-\(i).png").path)) }
        let best = try ImageFile.read(dir.appendingPathComponent("mask-\(selected).png").path)
        #expect(best.samples == mask.samples)
        let logits = try Data(contentsOf: dir.appendingPathComponent("logits.f32"))
        #expect(logits.count == 3 * 41 * 30 * 4)
        // Refine with the low-res logits as mask input.
        let r2 = try run(["segment", "--model", Self.model, "--image", Self.image, "--point", "20,12", "--box", "2,2,38,27",
                          "--mask-input", dir.appendingPathComponent("low.f32").path, "--out", out], cache: dir.appendingPathComponent("cache"))
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(r2.stdout.contains("predicted IoU"))
    }

    @Test("grabcut's score is called what it is, colour agreement, not a predicted IoU (#22 item 12)")
    func grabcutScoreName() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("mask.png").path
        let text = try run(["segment", "--model", "grabcut", "--image", Self.image, "--point", "20,12", "--out", out],
                           cache: dir.appendingPathComponent("cache"))
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("colour agreement") && !text.stdout.contains("IoU"), "\(text.stdout)")
        let json = try run(["segment", "--model", "grabcut", "--image", Self.image, "--point", "20,12", "--out", out, "--format", "json"],
                           cache: dir.appendingPathComponent("cache"))
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["iou"] == nil && (report?["score"] as? [Double])?.count == 1, "\(json.stdout)")
        #expect(report?["score_name"] as? String == "colour agreement", "\(json.stdout)")
    }

    @Test("bad input exits 1 with `segterm: <file>: <reason>`; usage errors exit 2")
    func badInput() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m.png").path
        let cache = dir.appendingPathComponent("cache")
        let notCheckpoint = dir.appendingPathComponent("x.pth")
        try Data("hello".utf8).write(to: notCheckpoint)
        // A PNG header that claims 20000x20000: refused from the header, no pixel memory.
        let huge = dir.appendingPathComponent("huge.png")
        try Data(Self.pngHeader(width: 20000, height: 20000)).write(to: huge)
        let cases: [([String], String)] = [
            (["--model", notCheckpoint.path, "--image", Self.image, "--point", "1,1"], "not a checkpoint"),
            (["--model", "/nonexistent.pth", "--image", Self.image, "--point", "1,1"], "no such file"),
            (["--model", "grabcut", "--image", Self.image, "--point", "41,3"], "outside"),
            (["--model", Self.model, "--image", Self.image, "--point", "41,3"], "outside"),
            (["--model", Self.model, "--image", Self.image, "--box", "0,0,99,10"], "outside"),
            (["--model", Self.model, "--image", huge.path, "--point", "1,1"], "limit"),
            (["--model", Self.model, "--image", Self.image, "--point", "1,1", "--mask-input", notCheckpoint.path], "float32"),
            (["--model", Self.model, "--image", Self.image], "empty prompt"),
        ]
        for (args, words) in cases {
            let r = try run(["segment"] + args + ["--out", out], cache: cache)
            #expect(r.status == 1, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("segterm: ") && r.stderr.contains(words), "\(args): \(r.stderr)")
        }
        for args in [["--point", "1"], ["--point", "1,2:7"], ["--box", "1,2,3"], ["--point", "1,nan"]] {
            let r = try run(["segment", "--model", Self.model, "--image", Self.image, "--out", out] + args, cache: cache)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
        }
    }

    @Test("a 1x1 image segments")
    func onePixel() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("m.png").path
        let r = try run(["segment", "--model", Self.model, "--image", Self.tiny.appendingPathComponent("pixel.png").path,
                         "--point", "0,0", "--out", out, "--no-cache"], cache: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let m = try ImageFile.read(out)
        #expect(m.width == 1 && m.height == 1)
    }

    @Test("bench model reports encoder and per-click times with the thread count")
    func bench() throws {
        let r = try Binary.run(["bench", "model", "--model", Self.model, "--encoder-runs", "1", "--clicks", "2", "--warmup", "0", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect((json?["encoderMs"] as? Double ?? -1) > 0)
        #expect((json?["decoderClickMs"] as? Double ?? -1) > 0)
        #expect((json?["threads"] as? Int ?? 0) >= 1)
    }

    /// Signature, IHDR (with its CRC) and IEND: enough for a reader to see the size.
    static func pngHeader(width: Int, height: Int) -> [UInt8] {
        func be(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            var c: UInt32 = 0xFFFF_FFFF
            for b in body {
                c ^= UInt32(b)
                for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            }
            return be(data.count) + body + be(Int(c ^ 0xFFFF_FFFF))
        }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be(width) + be(height) + [8, 2, 0, 0, 0]) + chunk("IEND", [])
    }
}
