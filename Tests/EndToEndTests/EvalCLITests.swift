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

    static func failures(_ args: [String]) throws -> (table: [String: Any], rows: [[String: Any]]) {
        let r = try Binary.run(args + ["--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let table = try #require(try Self.json(r.stdout)["failures"] as? [String: Any])
        return (table, try #require(table["rows"] as? [[String: Any]]))
    }

    @Test("failure table: --failure-sort orders, --failure-type/--failure-class/--failure-size filter, counts cover the filtered set")
    func failureTable() throws {
        let base = ["eval", "--gt", Self.path("instances.json"), "--pred", Self.path("predictions/model-a.json")]
        let all = try Self.failures(base + ["--failures", "1000"])
        let counts = try #require(all.table["counts"] as? [String: Int])
        #expect(all.rows.count == all.table["total"] as? Int && all.rows.count == counts.values.reduce(0, +) && all.rows.count > 10)
        #expect(zip(all.rows, all.rows.dropFirst()).allSatisfy { ($0["IoU"] as! Double) <= ($1["IoU"] as! Double) }, "default: lowest IoU first")

        let none = try Self.failures(base + ["--failures", "0"])
        #expect(none.rows.isEmpty && none.table["counts"] as? [String: Int] == counts && none.table["total"] as? Int == all.rows.count)

        let byScore = try Self.failures(base + ["--failures", "5", "--failure-sort", "score"])
        #expect(byScore.rows.count == 5 && byScore.table["sort"] as? String == "score" && byScore.table["total"] as? Int == all.rows.count)
        let scores = byScore.rows.map { $0["score"] as! Double }
        #expect(scores == scores.sorted(by: >) && scores[0] == all.rows.map { $0["score"] as! Double }.max())

        let byArea = try Self.failures(base + ["--failures", "1000", "--failure-sort", "area"])
        let areas = byArea.rows.map { $0["area"] as! Double }
        #expect(areas == areas.sorted(by: >) && areas.count == all.rows.count)

        // A few rows are picked without sorting them all: the same as the head of the full order.
        for key in ["iou", "score", "area", "image", "kind"] {
            let head = try Self.failures(base + ["--failures", "2", "--failure-sort", key]).rows.map { $0["ref"] as? String }
            let full = try Self.failures(base + ["--failures", "1000", "--failure-sort", key]).rows.map { $0["ref"] as? String }
            #expect(head == Array(full.prefix(2)), "\(key)")
        }

        let missed = try Self.failures(base + ["--failures", "1000", "--failure-type", "missed"])
        #expect(missed.rows.count == counts["missed"] && missed.rows.allSatisfy { $0["error"] as? String == "missed" && $0["score"] as? Double == -1 })
        #expect(missed.table["counts"] as? [String: Int] == ["missed": counts["missed"]!])

        let stone = try Self.failures(base + ["--failures", "1000", "--failure-class", "stone", "--failure-size", "medium"])
        let expected = all.rows.filter { $0["class"] as? String == "stone" && $0["size"] as? String == "medium" }.count
        #expect(stone.rows.count == expected && expected > 0)
        #expect(stone.rows.allSatisfy { $0["class"] as? String == "stone" && $0["size"] as? String == "medium" })
        // A class id works as well as its name.
        let byId = try Self.failures(base + ["--failures", "1000", "--failure-class", "3", "--failure-size", "medium"])
        #expect(byId.rows.count == expected)

        let unknown = try Binary.run(base + ["--failure-class", "zebra"])
        #expect(unknown.status == 1 && unknown.stderr.contains("instances.json: --failure-class \"zebra\""), "\(unknown.stderr)")
        #expect(try Binary.run(base + ["--failure-type", "nonsense"]).status == 2)
        #expect(try Binary.run(base + ["--failure-sort", "nonsense"]).status == 2)
        #expect(try Binary.run(base + ["--failure-size", "huge"]).status == 2)
    }

    @Test("panoptic eval lists segment failures, filterable by type")
    func panopticFailures() throws {
        let folder = Binary.repositoryRoot.appendingPathComponent("Tests/SegEvalTests/Fixtures/panoptic")
        let base = ["eval", "--gt", folder.appendingPathComponent("gt.json").path, "--pred", folder.appendingPathComponent("pred.json").path]
        let all = try Self.failures(base + ["--failures", "100"])
        let counts = try #require(all.table["counts"] as? [String: Int])
        #expect(Set(counts.keys) == ["missed-segment", "false-positive-segment", "low-iou-match"] && all.rows.count == counts.values.reduce(0, +))
        let low = try Self.failures(base + ["--failure-type", "low-iou-match", "--failure-sort", "area"])
        #expect(low.rows.count == counts["low-iou-match"] && low.rows.allSatisfy { ($0["IoU"] as! Double) > 0.5 && ($0["IoU"] as! Double) < 0.75 })
        #expect(low.rows.allSatisfy { ($0["bbox"] as? [Double])?.count == 4 })
    }

    @Test("--classes on an instance task is matched to the categories by name; a class that is no category exits 1 naming both files")
    func instanceClasses() throws {
        let base = ["eval", "--gt", Self.path("instances.json"), "--pred", Self.path("predictions/model-a.json"), "--format", "json"]
        let plain = try Binary.run(base)
        let named = try Binary.run(base + ["--classes", Self.path("classes.txt")])
        #expect(plain.status == 0 && named.status == 0, "\(named.stderr)")
        #expect(named.stdout == plain.stdout)
        let folder = Binary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let other = folder.appendingPathComponent("classes.txt").path
        try Data("background\ncell\nroad\n".utf8).write(to: URL(fileURLWithPath: other))
        let r = try Binary.run(base + ["--classes", other])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("segterm: \(other): class \"road\" is no category of \(Self.path("instances.json"))"), "\(r.stderr)")
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
