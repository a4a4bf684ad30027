import Foundation
import Testing

@Suite("segterm eval and compare", .enabled(if: Binary.path != nil, "the segterm binary was not built"))
struct EvalCLITests {
    static let sample = Binary.repositoryRoot.appendingPathComponent("sample-data")
    static func path(_ p: String) -> String { sample.appendingPathComponent(p).path }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("instance JSON agrees with the pycocotools figures in sample-data/reference-metrics.json (segm and bbox)")
    func instance() throws {
        let reference = try Self.json(String(decoding: try Data(contentsOf: Self.sample.appendingPathComponent("reference-metrics.json")), as: UTF8.self))
        let names = ["AP": "AP", "AP50": "AP50", "AP75": "AP75", "APs": "AP_small", "APm": "AP_medium", "APl": "AP_large",
                     "AR1": "AR1", "AR10": "AR10", "AR100": "AR100", "ARs": "AR_small", "ARm": "AR_medium", "ARl": "AR_large"]
        for model in ["model-a", "model-b"] {
            for iouType in ["segm", "bbox"] {
                let r = try Binary.run(["eval", "--gt", Self.path("instances.json"), "--pred", Self.path("predictions/\(model).json"),
                                        "--iou-type", iouType, "--format", "json"])
                #expect(r.status == 0, "\(r.stderr)")
                let metrics = try #require(try Self.json(r.stdout)["metrics"] as? [String: Double])
                let ref = try #require(((reference["models"] as? [String: Any])?[model] as? [String: Any])?["coco_\(iouType)"] as? [String: Double])
                for (ours, theirs) in names {
                    // reference-metrics.json is rounded to 6 decimals
                    #expect(abs(metrics[ours]! - ref[theirs]!) <= 5.1e-7, "\(model) \(iouType) \(ours)")
                }
            }
        }
    }

    @Test("semantic confusion and IoU agree with reference-metrics.json; table and CSV print; --out writes the file")
    func semantic() throws {
        let out = Binary.temporaryFolder().appendingPathComponent("semantic.json")
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let r = try Binary.run(["eval", "--gt", Self.path("labels"), "--pred", Self.path("predictions/model-b"),
                                "--classes", Self.path("classes.txt"), "--format", "json", "--out", out.path])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
        let report = try Self.json(String(decoding: try Data(contentsOf: out), as: UTF8.self))
        let reference = try Self.json(String(decoding: try Data(contentsOf: Self.sample.appendingPathComponent("reference-metrics.json")), as: UTF8.self))
        let ref = try #require(((reference["models"] as? [String: Any])?["model-b"] as? [String: Any])?["semantic"] as? [String: Any])
        let confusion = try #require(report["confusion"] as? [[Int]])
        #expect(confusion.map { Array($0.prefix(5)) } == ref["confusion_rows_gt_cols_pred"] as? [[Int]])
        let cumulative = try #require(report["cumulative"] as? [String: Any])
        #expect(abs((cumulative["mIoU"] as? Double ?? -9) - (ref["mIoU"] as? Double ?? 9)) <= 5.1e-7)
        for format in ["table", "csv"] {
            let t = try Binary.run(["eval", "--gt", Self.path("labels"), "--pred", Self.path("predictions/model-b"),
                                    "--classes", Self.path("classes.txt"), "--format", format])
            #expect(t.status == 0 && t.stdout.contains("stone"), "\(format)")
        }
    }

    @Test("compare prints deltas and a reproducible interval")
    func compare() throws {
        let args = ["compare", "--gt", Self.path("instances.json"), "--pred", Self.path("predictions/model-a.json"),
                    "--pred", Self.path("predictions/model-b.json"), "--format", "json", "--bootstrap", "50", "--seed", "3"]
        let a = try Binary.run(args), b = try Binary.run(args)
        #expect(a.status == 0, "\(a.stderr)")
        let headline = try #require(try Self.json(a.stdout)["headline"] as? [String: Any])
        #expect(abs((headline["delta"] as? Double ?? 0) - (0.740322 - 0.36797)) < 2e-6)
        #expect(a.stdout == b.stdout)
    }

    @Test("bad input exits 1 naming the file and the entry; usage errors exit 2")
    func errors() throws {
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = folder.appendingPathComponent("bad.json").path
        try Data(#"[{"image_id": 1, "category_id": 77, "score": 0.5, "bbox": [0, 0, 1, 1]}]"#.utf8).write(to: URL(fileURLWithPath: bad))
        let r = try Binary.run(["eval", "--gt", Self.path("instances.json"), "--pred", bad])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("segterm: \(bad): results[0]: category id 77"), "\(r.stderr)")
        let nan = folder.appendingPathComponent("nan.json").path
        try Data(#"[{"image_id": 1, "category_id": 1, "score": NaN, "bbox": [0, 0, 1, 1]}]"#.utf8).write(to: URL(fileURLWithPath: nan))
        let n = try Binary.run(["eval", "--gt", Self.path("instances.json"), "--pred", nan])
        #expect(n.status == 1 && n.stderr.contains("results[0]: score is nan"), "\(n.stderr)")
        #expect(try Binary.run(["compare", "--gt", Self.path("instances.json"), "--pred", bad]).status == 2)
        #expect(try Binary.run(["eval", "--gt", Self.path("instances.json")]).status == 2)
        #expect(try Binary.run(["eval", "--gt", "a", "--pred", "b", "--iou-type", "keypoints"]).status == 2)
    }
}
