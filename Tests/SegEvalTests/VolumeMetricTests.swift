import Foundation
import Testing
@testable import SegCore
@testable import SegEval

/// Issue #20: nnU-Net's evaluate_predictions and MONAI's surface metrics on the fixture set of
/// scripts/make_volume_metric_fixtures.py (numbers from nnunetv2 and MONAI, never from us).
@Suite("Volume metrics")
struct VolumeMetricTests {
    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/volume")

    /// Python's JSON (bare NaN / Infinity) read through JSONSerialization.
    static func pythonJSON(_ url: URL) throws -> [String: Any] {
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(of: ": NaN", with: ": \"NaN\"").replacingOccurrences(of: ": Infinity", with: ": \"Infinity\"")
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func number(_ any: Any?) -> Double? {
        if let s = any as? String { return s == "NaN" ? .nan : s == "Infinity" ? .infinity : s == "-Infinity" ? -.infinity : nil }
        return (any as? NSNumber)?.doubleValue
    }

    static func same(_ a: Double, _ b: Double, tolerance: Double = 1e-9) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a.isInfinite || b.isInfinite { return a == b }
        return abs(a - b) <= tolerance * max(1, abs(b))
    }

    func evaluation(dataset: VolumeDataset) throws -> VolumeEvaluation {
        var evaluator = VolumeEvaluator()
        evaluator.nsdTolerance = 1.0
        return try evaluator.evaluate(groundTruth: Self.root.appendingPathComponent("labelsTr").path,
                                      predictions: Self.root.appendingPathComponent("predictions").path, dataset: dataset)
    }

    /// Our summary.json against nnU-Net's, number by number (paths aside: nnU-Net's are relative).
    func checkSummary(_ ev: VolumeEvaluation, against file: String) throws {
        let ours = try JSONSerialization.jsonObject(with: Data(ev.summaryJSON().replacingOccurrences(of: ": NaN", with: ": \"NaN\"").utf8)) as? [String: Any]
        let theirs = try Self.pythonJSON(Self.root.appendingPathComponent(file))
        let o = try #require(ours)
        #expect(Set(o.keys) == Set(theirs.keys))
        func compare(_ a: Any?, _ b: Any?, _ path: String) {
            if let x = a as? [String: Any], let y = b as? [String: Any] {
                #expect(Set(x.keys) == Set(y.keys), "\(path): keys \(x.keys.sorted()) vs \(y.keys.sorted())")
                for k in y.keys where !k.hasSuffix("_file") { compare(x[k], y[k], path + "." + k) }
            } else if let x = a as? [Any], let y = b as? [Any] {
                #expect(x.count == y.count, "\(path): \(x.count) vs \(y.count)")
                for (i, (u, v)) in zip(x, y).enumerated() { compare(u, v, path + "[\(i)]") }
            } else {
                let x = Self.number(a), y = Self.number(b)
                #expect(x != nil && y != nil && Self.same(x!, y!), "\(path): \(String(describing: a)) vs \(String(describing: b))")
            }
        }
        compare(o, theirs, "summary")
    }

    @Test("summary.json equals nnU-Net's compute_metrics_on_folder (labels, ignore label, empty structures)")
    func nnUNetLabels() throws {
        let dataset = try VolumeDataset.load(Self.root.appendingPathComponent("dataset.json").path)
        #expect(dataset.structures.map(\.key) == ["1", "2", "3"])
        #expect(dataset.ignoreLabel == 4)
        try checkSummary(try evaluation(dataset: dataset), against: "summary.json")
    }

    @Test("regions keyed as nnU-Net keys tuples")
    func nnUNetRegions() throws {
        var dataset = try VolumeDataset.load(Self.root.appendingPathComponent("dataset.json").path)
        dataset.structures = [VolumeStructure(name: "a", labels: [1, 2]), VolumeStructure(name: "b", labels: [1, 2, 3]),
                              VolumeStructure(name: "c", labels: [3], isRegion: true)]
        var evaluator = VolumeEvaluator()
        evaluator.surfaceMetrics = false
        let ev = try evaluator.evaluate(groundTruth: Self.root.appendingPathComponent("labelsTr").path,
                                        predictions: Self.root.appendingPathComponent("predictions").path, dataset: dataset)
        try checkSummary(ev, against: "summary_regions.json")
    }

    @Test("HD, HD95, ASD, NSD equal MONAI's per case and structure, in 3-D and on 2-D slices")
    func monaiSurfaces() throws {
        let golden = try Self.pythonJSON(Self.root.appendingPathComponent("golden.json"))
        let monai = try #require(golden["monai"] as? [String: [String: [String: Any]]])
        let tolerances = try #require(golden["tolerances"] as? [Double])
        let labels: [UInt16] = [1, 2, 3]
        var checked = 0
        for (name, perLabel) in monai.sorted(by: { $0.key < $1.key }) {
            let ref = try NIfTI.readLabels(Self.root.appendingPathComponent("labelsTr/\(name).nii.gz").path)
            let pred = try NIfTI.readLabels(Self.root.appendingPathComponent("predictions/\(name).nii.gz").path)
            let planar = (golden["planar"] as? [String: [String: Any]])?[name]
            for (k, label) in labels.enumerated() {
                let want = try #require(perLabel[String(label)])
                let box = VoxelBox.boxes(of: ref.voxels, size: ref.geometry.size, workers: 2)[label]
                    .map { $0.union(VoxelBox.boxes(of: pred.voxels, size: ref.geometry.size, workers: 2)[label]) }
                    ?? VoxelBox.boxes(of: pred.voxels, size: ref.geometry.size, workers: 2)[label]
                let d = SurfaceDistances.compute(reference: ref.voxels, prediction: pred.voxels, size: ref.geometry.size,
                                                 spacing: ref.geometry.spacing, labels: [label], box: box, workers: 2)
                check(d, want, tolerance: tolerances[k], "\(name) label \(label)")
                checked += 1
                if let planar, let z = planar["slice"] as? Int, let metrics = planar["metrics"] as? [String: [String: Any]] {
                    let r = try #require(ref.labelMap(.axial, at: z)), p = try #require(pred.labelMap(.axial, at: z))
                    let r16 = r.labels.map { UInt16($0) }, p16 = p.labels.map { UInt16($0) }
                    let size = [r.width, r.height, 1]
                    let box2 = VoxelBox.boxes(of: r16, size: size, workers: 1)[label]?.union(VoxelBox.boxes(of: p16, size: size, workers: 1)[label])
                        ?? VoxelBox.boxes(of: p16, size: size, workers: 1)[label]
                    let d2 = SurfaceDistances.compute(reference: r16, prediction: p16, size: size, spacing: Array(ref.geometry.spacing.prefix(2)) + [1],
                                                      labels: [label], box: box2, workers: 1)
                    check(d2, try #require(metrics[String(label)]), tolerance: tolerances[k], "\(name) slice \(z) label \(label)")
                }
            }
        }
        #expect(checked == 12)
    }

    func check(_ d: SurfaceDistances, _ want: [String: Any], tolerance: Double, _ what: String) {
        let pairs: [(String, Double)] = [("HD", d.hausdorff()), ("HD95", d.hausdorff(percentile: 95)),
                                         ("ASD", d.averageSurfaceDistance(symmetric: true)), ("ASD_directed", d.averageSurfaceDistance(symmetric: false)),
                                         ("NSD", d.surfaceDice(tolerance: tolerance))]
        for (key, ours) in pairs {
            let theirs = Self.number(want[key])
            #expect(theirs != nil && Self.same(ours, theirs!, tolerance: 1e-6), "\(what) \(key): ours \(ours), MONAI \(String(describing: theirs))")
        }
    }

    @Test("the whole pipeline: task inferred from .nii.gz, failures list low-Dice structures and missed lesions, compare pairs cases")
    func pipeline() throws {
        var request = EvalRequest(groundTruth: Self.root.appendingPathComponent("labelsTr").path,
                                  predictions: Self.root.appendingPathComponent("predictions").path)
        request.datasetJSON = Self.root.appendingPathComponent("dataset.json").path
        #expect(try Evaluation.task(of: request) == .volume)
        let result = try Evaluation.run(request)
        guard case .volume(let ev) = result.engine else { Issue.record("not a volume result"); return }
        #expect(ev.cases.count == 4)
        // case_002 misses label 3 entirely: a missed lesion and a low-Dice row.
        #expect(result.failures.rows.contains { $0.image == "case_002" && $0.kind == .missedLesion && $0.className == "vessel" })
        #expect(result.failures.rows.contains { $0.image == "case_002" && $0.kind == .lowDiceStructure })
        let comparison = try Evaluation.compare(result, result, replicates: 50)
        #expect(comparison.headline.delta == 0)
        let json = result.output.json.serialized()
        #expect(json.contains("\"task\": \"volume\""))
        let back = try JSONDecoder().decode(EvalReport.self, from: Data(json.utf8))
        #expect(back == result.report)
    }
}
