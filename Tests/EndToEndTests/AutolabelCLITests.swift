import Foundation
import Testing
@testable import SegCore

/// `segterm autolabel` with the models' sources, on the repository's small fixtures: the automatic
/// mask generator (tiny SAM), SAM 3 phrases (the reduced SAM 3 and its cut vocabulary), shards and
/// their merge, and bad input.
@Suite("segterm autolabel", .enabled(if: Binary.path != nil, "the segterm binary was not built"))
struct AutolabelCLITests {
    static let fixtures = Binary.repositoryRoot.appendingPathComponent("Tests/SegModelsTests/Fixtures")
    static let tinySAM = fixtures.appendingPathComponent("tiny_sam/tiny_sam.pth").path
    static let sam3 = fixtures.appendingPathComponent("sam3_reduced/sam3_reduced.pt").path
    static let vocab = fixtures.appendingPathComponent("sam3_reduced/bpe_reduced_vocab.txt.gz").path

    /// Two sample images in a folder of their own, and a private embedding cache.
    static func folder() throws -> (root: URL, environment: [String: String]) {
        let root = Binary.temporaryFolder()
        let images = root.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for name in ["cells-01.png", "forest-01.png"] {
            try FileManager.default.copyItem(at: Binary.repositoryRoot.appendingPathComponent("sample-data/images/" + name),
                                             to: images.appendingPathComponent(name))
        }
        var environment = ProcessInfo.processInfo.environment
        environment["SEGTERM_CACHE_DIR"] = root.appendingPathComponent("cache").path
        return (root, environment)
    }

    static func proposals(_ path: URL) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [[String: Any]] ?? []
    }

    @Test("--everything: the generator's masks on every image; sharded in two and merged, the same file byte for byte")
    func everythingAndShards() throws {
        let (root, environment) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let images = root.appendingPathComponent("images").path
        let options = ["--model", Self.tinySAM, "--everything", "--points-per-side", "4", "--pred-iou-thresh", "0",
                       "--stability-score-thresh", "0"]
        let whole = try Binary.run(["autolabel", images] + options + ["--out", root.path + "/all.json"], environment: environment)
        #expect(whole.status == 0, "\(whole.stderr)")
        let all = try Self.proposals(root.appendingPathComponent("all.json"))
        #expect(Set(all.compactMap { $0["file_name"] as? String }) == ["cells-01.png", "forest-01.png"])
        #expect(all.allSatisfy { ($0["source"] as? [String: String])?["prompt"] == "everything" && $0["category_name"] as? String == "object" })
        for i in 0..<2 {
            let part = try Binary.run(["autolabel", images] + options + ["--out", root.path + "/part.json", "--shard", "\(i)/2"],
                                      environment: environment)
            #expect(part.status == 0, "\(part.stderr)")
        }
        let parts = (0..<2).map { root.path + "/part.shard-\($0)-of-2.json" }
        let merged = try Binary.run(["autolabel", "merge", "--out", root.path + "/merged.json"] + parts)
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(try Data(contentsOf: root.appendingPathComponent("merged.json")) == Data(contentsOf: root.appendingPathComponent("all.json")))
        let missing = try Binary.run(["autolabel", "merge", "--out", root.path + "/m.json", parts[0]])
        #expect(missing.status == 1 && missing.stderr.contains("shard 1/2 is missing"))
        // The generator's options go with --everything only; a bad one is a usage error.
        #expect(try Binary.run(["autolabel", images, "--model", Self.tinySAM, "--everything", "--points-per-side", "0",
                                "--out", root.path + "/x.json"], environment: environment).status == 2)
    }

    @Test("--text: each phrase's instances from SAM 3 are proposals of that class, scored above the threshold")
    func text() throws {
        let (root, environment) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let images = root.appendingPathComponent("images").path
        let run = try Binary.run(["autolabel", images, "--model", Self.sam3, "--text", "cell", "--text", "tree", "--threshold", "0",
                                  "--vocab", Self.vocab, "--out", root.path + "/text.json"], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let proposals = try Self.proposals(root.appendingPathComponent("text.json"))
        #expect(Set(proposals.compactMap { $0["category_name"] as? String }) == ["cell", "tree"])
        #expect(proposals.allSatisfy { (($0["source"] as? [String: String])?["prompt"] ?? "").hasPrefix("text:") })
        #expect(proposals.allSatisfy { ($0["score"] as? Double ?? -1) > 0 })
        let empty = try Binary.run(["autolabel", images, "--model", Self.sam3, "--text", " ", "--out", root.path + "/e.json"],
                                   environment: environment)
        #expect(empty.status == 2 && empty.stderr.contains("empty"))
        let grabcut = try Binary.run(["autolabel", images, "--model", "grabcut", "--text", "cell", "--out", root.path + "/g.json"],
                                     environment: environment)
        #expect(grabcut.status == 2 && grabcut.stderr.contains("SAM 3"), "\(grabcut.stderr)")
    }

    @Test("bad input: a broken detections file, no source, two sources")
    func badInput() throws {
        let (root, environment) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let images = root.appendingPathComponent("images").path
        try Data("[{\"image_id\": 1, \"bbox\": [1, 2]}".utf8).write(to: root.appendingPathComponent("cut.json"))
        let cut = try Binary.run(["autolabel", images, "--model", "grabcut", "--boxes", root.path + "/cut.json", "--out", root.path + "/p.json"],
                                 environment: environment)
        #expect(cut.status == 1 && cut.stderr.contains("cut.json"), "\(cut.stderr)")
        #expect(try Binary.run(["autolabel", images, "--out", root.path + "/p.json"], environment: environment).status == 2)
        #expect(try Binary.run(["autolabel", images, "--everything", "--boxes", root.path + "/cut.json", "--out", root.path + "/p.json"],
                               environment: environment).status == 2)
    }
}
