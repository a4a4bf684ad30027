import SegConcurrency
import SegCore

/// The surface metrics of one structure of one case (millimetres; NSD a fraction).
public struct SurfaceScores: Sendable, Equatable {
    public var hausdorff: Double
    public var hausdorff95: Double
    /// Symmetric average surface distance (MONAI's `SurfaceDistanceMetric(symmetric=True)`).
    public var averageSurfaceDistance: Double
    public var surfaceDice: Double

    public init(_ d: SurfaceDistances, tolerance: Double) {
        hausdorff = d.hausdorff()
        hausdorff95 = d.hausdorff(percentile: 95)
        averageSurfaceDistance = d.averageSurfaceDistance(symmetric: true)
        surfaceDice = d.surfaceDice(tolerance: tolerance)
    }
}

/// One case: nnU-Net's counts per structure, and the surface metrics when asked.
public struct VolumeCase: Sendable {
    public var name: String
    public var referenceFile: String
    public var predictionFile: String
    public var geometry: VolumeGeometry
    public var overlaps: [VolumeOverlap]
    /// nil when surface metrics were not computed.
    public var surfaces: [SurfaceScores]?
    /// Per structure: the reference's connected components (6-connected) that the prediction
    /// does not touch at all, as their volumes in mm³, largest first.
    public var missedLesions: [[Double]]
}

/// Every case of a folder evaluated: what `eval --task volume` reports.
public struct VolumeEvaluation: Sendable {
    public var dataset: VolumeDataset
    public var cases: [VolumeCase]
    public var nsdTolerance: Double
    public var notes: [String] = []

    /// nnU-Net's metric names in its per-structure order.
    public static let nnUNetMetrics = ["Dice", "IoU", "FP", "TP", "FN", "TN", "n_pred", "n_ref"]

    static func value(_ o: VolumeOverlap, _ metric: String) -> Double {
        switch metric {
        case "Dice": o.dice
        case "IoU": o.iou
        case "FP": Double(o.fp)
        case "TP": Double(o.tp)
        case "FN": Double(o.fn)
        case "TN": Double(o.tn)
        case "n_pred": Double(o.nPred)
        default: Double(o.nRef)
        }
    }

    /// numpy's `nanmean` over the cases (NaN when every case is NaN).
    static func nanMean(_ values: [Double]) -> Double {
        let kept = values.filter { !$0.isNaN }
        return kept.isEmpty ? .nan : kept.reduce(0, +) / Double(kept.count)
    }

    /// summary.json's "mean": per structure and metric, the nanmean over cases.
    public func mean(structure s: Int, metric: String) -> Double {
        Self.nanMean(cases.map { Self.value($0.overlaps[s], metric) })
    }

    /// summary.json's "foreground_mean": the plain mean over structures (label 0 left out) of the means.
    public func foregroundMean(metric: String) -> Double {
        let indices = dataset.structures.indices.filter { dataset.structures[$0].key != "0" }
        guard !indices.isEmpty else { return .nan }
        return indices.map { mean(structure: $0, metric: metric) }.reduce(0, +) / Double(indices.count)
    }

    /// Mean of a surface metric over the cases where it is finite, and how many were not.
    public func surfaceMean(structure s: Int, _ pick: (SurfaceScores) -> Double) -> (mean: Double, undefined: Int) {
        let values = cases.compactMap { $0.surfaces.map { pick($0[s]) } }
        let finite = values.filter(\.isFinite)
        return (finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count), values.count - finite.count)
    }
}

/// Evaluates folders of label volumes as nnU-Net's `compute_metrics_on_folder` does, plus the
/// surface metrics and missed lesions.
public struct VolumeEvaluator: Sendable {
    public var surfaceMetrics = true
    /// NSD tolerance in millimetres, the same for every structure.
    public var nsdTolerance = 1.0
    public var limits = NIfTI.Limits.standard
    public var workers = Parallel.coreCount

    public init() {}

    /// Pairs files as nnU-Net does: every prediction with the reference of the same file name;
    /// a reference without a prediction is left out with a note (nnU-Net's `chill`).
    public func evaluate(groundTruth: String, predictions: String, dataset: VolumeDataset,
                         progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> VolumeEvaluation {
        let ending = dataset.fileEnding
        let refs = try Self.files(groundTruth, ending: ending), preds = try Self.files(predictions, ending: ending)
        guard !preds.isEmpty else { throw SegError(.invalid, file: predictions, "no \(ending) files") }
        var notes: [String] = []
        for name in preds where !refs.contains(name) {
            throw SegError(.notFound, file: groundTruth + "/" + name, "the prediction \(predictions)/\(name) has no reference of the same name")
        }
        let missing = refs.filter { !preds.contains($0) }
        if !missing.isEmpty { notes.append("\(missing.count) reference case(s) without a prediction left out (as nnU-Net does): \(missing.prefix(5).joined(separator: ", "))") }
        var cases: [VolumeCase] = []
        for (i, name) in preds.enumerated() {
            let refPath = groundTruth + "/" + name, predPath = predictions + "/" + name
            cases.append(try evaluateCase(referenceFile: refPath, predictionFile: predPath, dataset: dataset))
            progress?(i + 1, preds.count)
        }
        var result = VolumeEvaluation(dataset: dataset, cases: cases, nsdTolerance: nsdTolerance)
        result.notes = notes
        return result
    }

    static func files(_ folder: String, ending: String) throws -> [String] {
        guard FileIO.isDirectory(folder) else { throw SegError(.notFound, file: folder, "not a folder of \(ending) files") }
        // walk gives paths relative to the folder; nnU-Net's subfiles looks at the folder itself only.
        return FormatFiles.walk(folder, where: { $0.hasSuffix(ending) }).filter { !$0.contains("/") }.sorted()
    }

    public func evaluateCase(referenceFile: String, predictionFile: String, dataset: VolumeDataset) throws -> VolumeCase {
        let refImage = try NIfTI.read(referenceFile, limits: limits)
        let ref = try refImage.labels(file: referenceFile)
        let pred = try NIfTI.readLabels(predictionFile, limits: limits)
        guard ref.geometry.size == pred.geometry.size else {
            throw SegError(.invalid, file: predictionFile, "\(pred.geometry.size.map(String.init).joined(separator: "×")) voxels, the reference \(ref.geometry.size.map(String.init).joined(separator: "×"))")
        }
        var c = evaluate(reference: ref, prediction: pred, dataset: dataset)
        c.name = NIfTI.caseName(referenceFile)
        c.referenceFile = referenceFile
        c.predictionFile = predictionFile
        return c
    }

    /// One pair of volumes on the same grid (the reference's spacing is used).
    public func evaluate(reference ref: LabelVolume, prediction pred: LabelVolume, dataset: VolumeDataset) -> VolumeCase {
        let structures = dataset.structures
        let overlaps = VolumeOverlap.compute(reference: ref.voxels, prediction: pred.voxels, structures: structures,
                                             ignoreLabel: dataset.ignoreLabel, workers: workers)
        var surfaces: [SurfaceScores]?
        var missed: [[Double]] = Array(repeating: [], count: structures.count)
        if surfaceMetrics {
            let size = ref.geometry.size
            let refBoxes = VoxelBox.boxes(of: ref.voxels, size: size, workers: workers)
            let predBoxes = VoxelBox.boxes(of: pred.voxels, size: size, workers: workers)
            surfaces = structures.map { s in
                var box: VoxelBox?
                for l in s.labels {
                    if let b = refBoxes[l] { box = b.union(box) }
                    if let b = predBoxes[l] { box = b.union(box) }
                }
                let d = SurfaceDistances.compute(reference: ref.voxels, prediction: pred.voxels, size: size, spacing: ref.geometry.spacing,
                                                 labels: s.labels, box: box, workers: workers)
                return SurfaceScores(d, tolerance: nsdTolerance)
            }
            missed = structures.map { s in
                var box: VoxelBox?
                for l in s.labels { if let b = refBoxes[l] { box = b.union(box) } }
                return MissedLesions.volumes(reference: ref, prediction: pred, labels: s.labels, box: box)
            }
        }
        return VolumeCase(name: "", referenceFile: "", predictionFile: "", geometry: ref.geometry, overlaps: overlaps,
                          surfaces: surfaces, missedLesions: missed)
    }
}

extension Comparison {
    /// Volumes: per-structure deltas of nnU-Net's mean Dice and IoU and of the surface means,
    /// per-case foreground Dice, and a paired bootstrap of the foreground Dice over cases.
    public static func volume(_ a: VolumeEvaluation, _ b: VolumeEvaluation, replicates: Int, seed: UInt64) throws -> Comparison {
        guard a.cases.map(\.name) == b.cases.map(\.name), a.dataset.structures == b.dataset.structures else {
            throw SegError(.invalid, file: "", "the two prediction sets do not cover the same cases and structures")
        }
        let perClass = a.dataset.structures.indices.map { s in
            var metrics = [("Dice", pairDelta(a.mean(structure: s, metric: "Dice"), b.mean(structure: s, metric: "Dice"))),
                           ("IoU", pairDelta(a.mean(structure: s, metric: "IoU"), b.mean(structure: s, metric: "IoU")))]
            if a.cases.first?.surfaces != nil, b.cases.first?.surfaces != nil {
                metrics += [("HD95", pairDelta(a.surfaceMean(structure: s, \.hausdorff95).mean, b.surfaceMean(structure: s, \.hausdorff95).mean)),
                            ("NSD", pairDelta(a.surfaceMean(structure: s, \.surfaceDice).mean, b.surfaceMean(structure: s, \.surfaceDice).mean))]
            }
            return (id: s + 1, name: a.dataset.structures[s].name, metrics: metrics)
        }
        // Per case and structure the Dice pair; a replicate's foreground Dice is the mean over
        // structures of the nanmean over the drawn cases, as summary.json's foreground_mean.
        let k = a.dataset.structures.count
        let da = a.cases.map { c in c.overlaps.map(\.dice) }, db = b.cases.map { c in c.overlaps.map(\.dice) }
        func foreground(_ d: [[Double]], _ counts: [Int]) -> Double {
            var total = 0.0
            for s in 0..<k {
                var sum = 0.0, n = 0
                for (i, c) in counts.enumerated() where c > 0 && !d[i][s].isNaN { sum += Double(c) * d[i][s]; n += c }
                total += n > 0 ? sum / Double(n) : .nan
            }
            return total / Double(k)
        }
        let interval = bootstrap(images: a.cases.count, replicates: replicates, seed: seed) { counts in
            foreground(db, counts) - foreground(da, counts)
        }
        func caseDice(_ d: [Double]) -> Double {
            let kept = d.filter { !$0.isNaN }
            return kept.isEmpty ? .nan : kept.reduce(0, +) / Double(kept.count)
        }
        var images = a.cases.indices.map { i in (image: a.cases[i].name, delta: pairDelta(caseDice(da[i]), caseDice(db[i]))) }
        images.sort { ($0.delta.delta.isNaN ? .infinity : $0.delta.delta) < ($1.delta.delta.isNaN ? .infinity : $1.delta.delta) }
        return Comparison(task: "volume", headlineName: "foreground Dice",
                          headline: pairDelta(a.foregroundMean(metric: "Dice"), b.foregroundMean(metric: "Dice")), interval: interval,
                          replicates: replicates, seed: seed, perClass: perClass, perImage: images, perImageMetric: "Dice")
    }
}

extension Evaluation {
    /// The volume evaluation of a request: structures from `--classes` (names for labels 1, 2, …)
    /// or the dataset.json beside the ground truth.
    static func volume(_ request: EvalRequest, classes: [String]?) throws -> VolumeEvaluation {
        var dataset: VolumeDataset
        if let path = request.datasetJSON ?? VolumeDataset.find(near: request.groundTruth) {
            dataset = try VolumeDataset.load(path)
        } else if let classes, classes.count > 1 {
            dataset = VolumeDataset(structures: classes.indices.dropFirst().map { VolumeStructure(name: classes[$0], labels: [UInt16($0)]) })
        } else {
            throw SegError(.invalid, file: request.groundTruth, "volumes need a dataset.json (beside the labels or --dataset-json) or --classes naming the labels")
        }
        if FileIO.isDirectory(request.predictions), !FormatFiles.walk(request.predictions, where: { $0.hasSuffix(".nii") && !$0.hasSuffix(".nii.gz") }).isEmpty,
           dataset.fileEnding == ".nii.gz", FormatFiles.walk(request.predictions, where: { $0.hasSuffix(".nii.gz") }).isEmpty {
            dataset.fileEnding = ".nii"
        }
        var evaluator = VolumeEvaluator()
        evaluator.surfaceMetrics = request.surfaceMetrics
        evaluator.nsdTolerance = request.nsdTolerance
        evaluator.workers = request.workers
        return try evaluator.evaluate(groundTruth: request.groundTruth, predictions: request.predictions, dataset: dataset,
                                      progress: request.progress)
    }
}
