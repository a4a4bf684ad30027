import Foundation
import Testing
@testable import SegCore
import SegTUI

/// `segterm noc` as a user runs it, on a tiny set written here: two scenes with an object each.
@Suite("segterm noc", .enabled(if: Binary.path != nil, "the segterm binary was not built"))
struct NocCLITests {
    /// A bright disk (with a notch) on a two-tone background, its mask, and a 128 ignore ring in the
    /// second; past the second, the disks shrink and move.
    static func writeSet(in dir: URL, stems: [String] = ["alpha", "beta"]) throws -> (images: String, masks: String) {
        let images = dir.appendingPathComponent("images"), masks = dir.appendingPathComponent("masks")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        for (k, stem) in stems.enumerated() {
            let w = 64 + 16 * (k % 4), h = 48
            let radius = k < 2 ? 14.0 : 8 + 2 * Double(k % 4), cy = k < 2 ? 24.0 : 18 + Double(k % 3) * 5
            var image = RGBImage(width: w, height: h)
            var labels = LabelMap(width: w, height: h)
            for y in 0..<h {
                for x in 0..<w {
                    let dx = Double(x) - Double(w) * 0.5, dy = Double(y) - cy
                    let r = (dx * dx + dy * dy).squareRoot()
                    let inside = r < radius && !(dx > 6 && abs(dy) < 3)
                    let noise = UInt8((x * 7 + y * 13) % 11)
                    image[x, y] = inside ? (220 &+ noise / 2, 190, 40) : (x < w / 2 ? (30, 80 &+ noise, 140) : (60 &+ noise, 120, 50))
                    labels[x, y] = inside ? 255 : 0
                    if k == 1 && abs(r - 14) < 1 { labels[x, y] = 128 }
                }
            }
            try ImageFile.writePNG(image, to: images.appendingPathComponent("\(stem).png").path)
            try ImageFile.writePNG(labels, to: masks.appendingPathComponent("\(stem).PNG").path)
        }
        return (images.path, masks.path)
    }

    @Test("JSON report: the summary keys, one record per object with every click, the same clicks on a second run")
    func json() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (images, masks) = try Self.writeSet(in: dir)
        let out = dir.appendingPathComponent("report.json").path
        let args = ["noc", "--images", images, "--masks", masks, "--model", "grabcut", "--ignore-value", "128",
                    "--max-clicks", "6", "--format", "json", "--out", out]
        let r = try Binary.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        guard let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            Issue.record("bad JSON: \(r.stdout)"); return
        }
        for key in ["noc85", "noc90", "over_max_90", "miou_at", "spc", "per_image"] { #expect(report[key] != nil, "\(key)") }
        #expect((report["miou_at"] as? [Double])?.count == 6)
        let perImage = report["per_image"] as? [[String: Any]] ?? []
        #expect(perImage.map { $0["name"] as? String } == ["alpha", "beta"])
        for record in perImage {
            #expect((record["ious"] as? [Double])?.count == 6)
            let clicks = record["clicks"] as? [[String: Any]] ?? []
            #expect(clicks.count == 6)
            // The first click is positive, inside the object.
            #expect(clicks.first?["positive"] as? Bool == true)
        }
        // A clear object: 90 % within a few clicks.
        #expect((report["noc90"] as? Double ?? 99) <= 3)
        #expect(FileManager.default.fileExists(atPath: out))
        // The workbench reads the file the command wrote: one type, written and read.
        let curves = try NocCurve.load(out)
        #expect(curves.count == 1 && curves.first?.model == "grabcut" && curves.first?.objects == 2)
        #expect(curves.first?.meanIoU == report["miou_at"] as? [Double])
        // Deterministic: the same clicks and IoUs again (timings aside).
        let again = try Binary.run(args)
        let second = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        // Clicks and IoUs in a canonical form (sorted keys); timings differ from run to run.
        let strip: ([String: Any]?) -> [String] = { r in
            ((r?["per_image"] as? [[String: Any]]) ?? []).map { record in
                let kept: [String: Any] = ["clicks": record["clicks"] ?? [], "ious": record["ious"] ?? []]
                let data = (try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys])) ?? Data()
                return String(decoding: data, as: UTF8.self)
            }
        }
        #expect(strip(report) == strip(second))
    }

    @Test("the table shows NoC and the mIoU chart; no progress bar when stderr is not a terminal")
    func table() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (images, masks) = try Self.writeSet(in: dir)
        let r = try Binary.run(["noc", "--images", images, "--masks", masks, "--max-clicks", "4", "--limit", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("NoC@90") && r.stdout.contains("mean IoU per click") && r.stdout.contains("1 objects"))
        #expect(!r.stderr.contains("["))
    }

    @Test("two models: both reports, and the paired NoC@90 differences that match the two reports")
    func twoModels() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (images, masks) = try Self.writeSet(in: dir)
        let r = try Binary.run(["noc", "--images", images, "--masks", masks, "--model", "grabcut", "--model", "grabcut:click-prior=0",
                                "--ignore-value", "128", "--max-clicks", "5", "--format", "json", "--bootstrap", "50", "--seed", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let models = try #require(report["models"] as? [[String: Any]])
        #expect(models.map { $0["model"] as? String } == ["grabcut", "grabcut:click-prior=0"])
        let paired = try #require(report["paired"] as? [String: Any])
        #expect(paired["bootstrap"] as? Int == 50 && paired["seed"] as? Int == 3 && paired["metric"] as? String == "noc90")
        let perImage = try #require(paired["per_image"] as? [[String: Any]])
        #expect(perImage.map { $0["name"] as? String } == ["alpha", "beta"])
        // Each object's clicks to 90 % in the paired list are those of its record in each report.
        func clicksTo90(_ model: [String: Any], _ name: String) -> Int {
            let ious = ((model["per_image"] as? [[String: Any]]) ?? []).first { $0["name"] as? String == name }?["ious"] as? [Double] ?? []
            return (ious.firstIndex { $0 >= 0.9 }.map { $0 + 1 }) ?? 5
        }
        for entry in perImage {
            let name = entry["name"] as? String ?? ""
            #expect(entry["a"] as? Int == clicksTo90(models[0], name) && entry["b"] as? Int == clicksTo90(models[1], name), "\(name)")
            #expect(entry["delta"] as? Int == (entry["b"] as? Int ?? 0) - (entry["a"] as? Int ?? 0))
        }
        let mean = Double(perImage.reduce(0) { $0 + ($1["delta"] as? Int ?? 0) }) / 2
        #expect(paired["mean_delta"] as? Double == mean)
        let table = try Binary.run(["noc", "--images", images, "--masks", masks, "--model", "grabcut", "--model", "grabcut",
                                    "--max-clicks", "3"])
        #expect(table.stdout.contains("B grabcut against A grabcut") && table.stdout.contains("mean +0.00 clicks"), "\(table.stdout)")
        #expect(try Binary.run(["noc", "--images", images, "--masks", masks, "--model", "a", "--model", "b", "--model", "c"]).status == 2)
    }

    @Test("bad input exits 1 naming the file; usage errors exit 2")
    func errors() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (images, masks) = try Self.writeSet(in: dir)
        // A mask whose size differs from its image.
        try ImageFile.writePNG(Mask(width: 5, height: 5), to: masks + "/alpha.PNG")
        let r = try Binary.run(["noc", "--images", images, "--masks", masks, "--max-clicks", "2"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("alpha.PNG") && r.stderr.hasPrefix("segterm: "))
        let missing = try Binary.run(["noc", "--images", dir.appendingPathComponent("nope").path, "--masks", masks])
        #expect(missing.status == 1 && missing.stderr.contains("nope"))
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(try Binary.run(["noc", "--images", images, "--masks", empty.path]).status == 1)
        #expect(try Binary.run(["noc", "--images", images, "--masks", masks, "--max-clicks", "0"]).status == 2)
        #expect(try Binary.run(["noc", "--images", images]).status == 2)
        let badModel = try Binary.run(["noc", "--images", images, "--masks", masks, "--model", "grabcut:lambda=x"])
        #expect(badModel.status == 1 && badModel.stderr.contains("lambda"))
    }

    /// A report without what depends on timing: every NoC, IoU, click, win and interval stays.
    static func withoutTimings(_ json: String) throws -> NSObject {
        func strip(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                return object.filter { !["spc", "prepare_s", "seconds"].contains($0.key) }.mapValues(strip)
            }
            if let list = value as? [Any] { return list.map(strip) }
            return value
        }
        return try #require(strip(JSONSerialization.jsonObject(with: Data(json.utf8))) as? NSObject)
    }

    @Test("sharded: N = 1, 3, 7 shards of two models merge into the unsharded report; wrong sets of partials are refused")
    func shards() throws {
        let dir = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (images, masks) = try Self.writeSet(in: dir, stems: ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"])
        let run = ["noc", "--images", images, "--masks", masks, "--model", "grabcut", "--model", "grabcut:click-prior=0",
                   "--ignore-value", "128", "--max-clicks", "5"]
        let single = try Binary.run(run + ["--format", "json"])
        try #require(single.status == 0, "\(single.stderr)")
        let whole = try Self.withoutTimings(single.stdout)
        #expect(single.stdout.contains("\"ci95\"") && single.stdout.contains("\"noc90\""))

        for n in [1, 3, 7] {
            var parts: [String] = []
            for i in 0..<n {
                let part = dir.appendingPathComponent("part-\(n)-\(i).json").path
                // One shard through the Kubernetes variables, the others with --shard I/N.
                let r = i == n - 1
                    ? try Binary.run(run + ["--shard", "auto", "--shard-count", "\(n)", "--partial-out", part],
                                     environment: ["JOB_COMPLETION_INDEX": "\(i)"])
                    : try Binary.run(run + ["--shard", "\(i)/\(n)", "--partial-out", part])
                try #require(r.status == 0, "\(r.stderr)")
                #expect(r.stdout.contains("shard \(i)/\(n)"))
                parts.append(part)
            }
            let merged = try Binary.run(["noc", "merge"] + parts.reversed() + ["--format", "json"])
            try #require(merged.status == 0, "\(merged.stderr)")
            #expect(try Self.withoutTimings(merged.stdout) == whole, "N = \(n)")
            if n == 3 {
                let table = try Binary.run(["noc", "merge"] + parts)
                #expect(table.status == 0 && table.stdout.contains("NoC@90") && table.stdout.contains("95% CI"))
                let missing = try Binary.run(["noc", "merge", parts[0], parts[2]])
                #expect(missing.status == 1 && missing.stderr.contains("shard 1/3 is missing"), "\(missing.stderr)")
                let twice = try Binary.run(["noc", "merge", parts[0], parts[1], parts[1], parts[2]])
                #expect(twice.status == 1 && twice.stderr.contains("given twice"), "\(twice.stderr)")
            }
        }

        // A shard run with other settings, or an unreadable partial, is refused naming the file.
        let other = dir.appendingPathComponent("other.json").path
        let r = try Binary.run(run.dropLast() + ["4", "--shard", "1/3", "--partial-out", other])
        try #require(r.status == 0, "\(r.stderr)")
        let mixed = try Binary.run(["noc", "merge", dir.appendingPathComponent("part-3-0.json").path, other,
                                    dir.appendingPathComponent("part-3-2.json").path])
        #expect(mixed.status == 1 && mixed.stderr.contains("other.json") && mixed.stderr.contains("another run"), "\(mixed.stderr)")
        try Data("{\"format\": \"segterm-noc-partial\"".utf8).write(to: URL(fileURLWithPath: other))
        let broken = try Binary.run(["noc", "merge", other])
        #expect(broken.status == 1 && broken.stderr.contains("other.json"), "\(broken.stderr)")
        #expect(try Binary.run(run + ["--shard", "0/2"]).status == 2)
    }
}
