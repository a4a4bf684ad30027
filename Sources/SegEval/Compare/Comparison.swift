import SegCore

/// Two prediction sets on the same ground truth: paired per-class and per-image deltas (B − A)
/// and a paired bootstrap interval for the headline delta.
public struct Comparison: Sendable {
    public struct Delta: Sendable { public var a: Double; public var b: Double; public var delta: Double }

    public var task: String
    public var headlineName: String
    public var headline: Delta
    /// 2.5th and 97.5th percentiles of the bootstrap deltas.
    public var interval: (low: Double, high: Double)
    public var replicates: Int
    public var seed: UInt64
    /// Per class: metric name → delta, in the metrics' order.
    public var perClass: [(id: Int, name: String, metrics: [(String, Delta)])]
    /// Per image, sorted with the images where B is worst relative to A first.
    public var perImage: [(image: String, delta: Delta)]
    public var perImageMetric: String

    /// Bootstrap resamples when none are asked for: fewer for instances, where each resample
    /// re-accumulates AP over every category and image.
    public static func defaultReplicates(_ task: EvalRequest.Task) -> Int { task == .instance ? 200 : 1000 }
    public static let defaultSeed: UInt64 = 0

    /// What `segterm compare` writes: the comparison with the files it compared.
    public func output(groundTruth: String, a: String, b: String, worst: Int) -> EvalOutput {
        EvalOutput(report: document(groundTruth: groundTruth, a: a, b: b), tables: tables(worst: worst), csv: csvTable)
    }

    /// Resamples image indices with replacement `replicates` times and calls `statistic` with the
    /// multiplicity of each image; returns the 95% percentile interval (numpy's default linear
    /// interpolation between order statistics).
    public static func bootstrap(images: Int, replicates: Int, seed: UInt64,
                                 _ statistic: ([Int]) -> Double) -> (low: Double, high: Double) {
        guard images > 0, replicates > 0 else { return (-1, -1) }
        var rng = SeededGenerator(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(replicates)
        var counts = [Int](repeating: 0, count: images)
        for _ in 0..<replicates {
            for i in 0..<images { counts[i] = 0 }
            for _ in 0..<images { counts[Int(rng.next() % UInt64(images))] += 1 }
            let v = statistic(counts)
            if v.isFinite { values.append(v) }
        }
        guard !values.isEmpty else { return (-1, -1) }
        values.sort()
        return (percentile(values, 2.5), percentile(values, 97.5))
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let position = p / 100 * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// The report of B (`b`, a predictions file) against A (`a`) on the same ground truth.
    public func document(groundTruth: String, a: String, b: String) -> ComparisonDocument {
        func delta(_ x: Delta) -> ComparisonDocument.Delta { .init(a: defined(x.a), b: defined(x.b), delta: defined(x.delta)) }
        return ComparisonDocument(
            task: task, groundTruth: groundTruth, a: a, b: b,
            headline: .init(metric: headlineName, a: defined(headline.a), b: defined(headline.b), delta: defined(headline.delta),
                            ci95: [defined(interval.low), defined(interval.high)], bootstrap: replicates,
                            seed: Int(truncatingIfNeeded: seed)),
            perClass: perClass.map { c in .init(id: c.id, name: c.name, values: NamedValues(c.metrics.map { ($0.0, delta($0.1)) })) },
            perImageMetric: perImageMetric,
            perImage: perImage.map { .init(image: $0.image, a: defined($0.delta.a), b: defined($0.delta.b), delta: defined($0.delta.delta)) })
    }

    public func tables(worst: Int) -> [ReportTable] {
        var head = ReportTable(title: "Comparison (B − A), \(task); paired bootstrap over images, \(replicates) resamples, seed \(seed)",
                               columns: ["metric", "A", "B", "B − A", "95% CI"])
        head.rows = [[headlineName, formatMetric(headline.a), formatMetric(headline.b), formatDelta(headline.delta),
                      "[\(formatDelta(interval.low)), \(formatDelta(interval.high))]"]]
        // The terminal shows the main numbers; JSON and CSV hold every metric.
        let shown: Set<String> = ["AP", "AP50", "AP75", "AR100", "IoU", "Dice", "IoU (cumulative)", "PQ", "SQ", "RQ"]
        let names = (perClass.first?.metrics.map(\.0) ?? []).filter { shown.contains($0) }
        var classes = ReportTable(title: "Per class (B − A)", columns: ["class", "id"] + names.flatMap { ["\($0) A", "\($0) B", "Δ\($0)"] },
                                  ranked: Dictionary(uniqueKeysWithValues: names.map { ("Δ\($0)", true) }))
        for c in perClass {
            classes.rows.append([c.name, String(c.id)] + c.metrics.filter { shown.contains($0.0) }
                .flatMap { [formatMetric($0.1.a), formatMetric($0.1.b), formatDelta($0.1.delta)] })
        }
        var images = ReportTable(title: "Images where B is worst relative to A (\(perImageMetric))", columns: ["image", "A", "B", "B − A"])
        for p in perImage.prefix(worst) {
            images.rows.append([p.image, formatMetric(p.delta.a), formatMetric(p.delta.b), formatDelta(p.delta.delta)])
        }
        return [head, classes, images]
    }

    public var csvTable: ReportTable {
        var t = ReportTable(title: "", columns: ["kind", "name", "metric", "a", "b", "delta"])
        t.rows.append(["headline", "", headlineName, JSONValue.format(headline.a), JSONValue.format(headline.b), JSONValue.format(headline.delta)])
        for c in perClass {
            for (name, x) in c.metrics { t.rows.append(["class", c.name, name, JSONValue.format(x.a), JSONValue.format(x.b), JSONValue.format(x.delta)]) }
        }
        for p in perImage {
            t.rows.append(["image", p.image, perImageMetric, JSONValue.format(p.delta.a), JSONValue.format(p.delta.b), JSONValue.format(p.delta.delta)])
        }
        return t
    }
}

func formatDelta(_ v: Double) -> String {
    guard v.isFinite else { return "-" }
    return (v >= 0 ? "+" : "") + formatMetric(v)
}

/// A delta where either side is undefined (-1) is undefined too.
func pairDelta(_ a: Double, _ b: Double) -> Comparison.Delta {
    Comparison.Delta(a: a, b: b, delta: (a <= -1 || b <= -1) ? .nan : b - a)
}

extension Comparison {
    /// Instance: per-class deltas of the 12 COCO numbers, per-image F1 at IoU 0.5 (matched,
    /// unmatched detections and missed objects counted as COCOeval counts them: crowd and
    /// ignored excluded), and a bootstrap of ΔAP over images.
    public static func instance(_ a: COCOEvaluation, _ b: COCOEvaluation, replicates: Int, seed: UInt64) -> Comparison {
        let perClass = a.categories.indices.map { k in
            (id: a.categories[k].id, name: a.categories[k].name,
             metrics: a.summary.names.indices.map { (a.summary.names[$0], pairDelta(a.perCategory[k].stats[$0], b.perCategory[k].stats[$0])) })
        }
        let fa = imageF1(a), fb = imageF1(b)
        var images = a.images.indices.map { i in
            (image: a.images[i].fileName.isEmpty ? a.inputs.groundTruth.idText(a.images[i]) : a.images[i].fileName,
             delta: pairDelta(fa[i], fb[i]))
        }
        images.sort { ($0.delta.delta.isNaN ? .infinity : $0.delta.delta) < ($1.delta.delta.isNaN ? .infinity : $1.delta.delta) }
        let cellsA = cellsByImage(a), cellsB = cellsByImage(b)
        let interval = bootstrap(images: a.images.count, replicates: replicates, seed: seed) { counts in
            let apA = resampledAP(a, cellsA, counts), apB = resampledAP(b, cellsB, counts)
            return (apA <= -1 || apB <= -1) ? .nan : apB - apA
        }
        return Comparison(task: "instance (\(a.params.iouType.rawValue))", headlineName: "AP", headline: pairDelta(a.stats[0], b.stats[0]),
                          interval: interval, replicates: replicates, seed: seed, perClass: perClass, perImage: images,
                          perImageMetric: "F1 at IoU 0.5")
    }

    static func cellsByImage(_ ev: COCOEvaluation) -> [[Int]] {
        var out = [[Int]](repeating: [], count: ev.images.count)
        for (i, c) in ev.cells.enumerated() { out[c.imageIndex].append(i) }
        return out
    }

    /// AP of the evaluation with each image taken `counts[i]` times (COCOeval on the resampled set).
    static func resampledAP(_ ev: COCOEvaluation, _ byImage: [[Int]], _ counts: [Int]) -> Double {
        var cells: [COCOImageCategoryEval] = []
        for (i, n) in counts.enumerated() where n > 0 {
            for _ in 0..<n { for c in byImage[i] { cells.append(ev.cells[c]) } }
        }
        let (precision, recall) = COCOEvaluation.accumulate(params: ev.params, categoryCount: ev.categories.count, cells: cells, workers: 1)
        return COCOEvaluation.summarize(params: ev.params, precision: precision, recall: recall, categories: ev.categories, only: nil).ap
    }

    static func imageF1(_ ev: COCOEvaluation) -> [Double] {
        let T = ev.params.iouThresholds.count
        _ = T
        var tp = [Int](repeating: 0, count: ev.images.count), fp = tp, fn = tp
        for cell in ev.cells {
            let D = cell.detectionCount
            for d in 0..<D {
                let f = cell.flags[d]  // a = 0 (all), t = 0 (IoU 0.5)
                if f & 2 != 0 { continue }
                if f & 1 != 0 { tp[cell.imageIndex] += 1 } else { fp[cell.imageIndex] += 1 }
            }
            fn[cell.imageIndex] += Int(cell.nonIgnoredCount[0])
        }
        return ev.images.indices.map { i in
            let missed = fn[i] - tp[i]
            let denominator = 2 * tp[i] + fp[i] + missed
            return denominator == 0 ? -1 : Double(2 * tp[i]) / Double(denominator)
        }
    }

    /// Semantic: per-class deltas of IoU, Dice, precision and recall (cumulative), per-image mIoU,
    /// and a bootstrap of ΔmIoU over images (confusion matrices summed with multiplicity).
    public static func semantic(_ a: SemanticEvaluation, _ b: SemanticEvaluation, replicates: Int, seed: UInt64) throws -> Comparison {
        guard a.images.map(\.stem) == b.images.map(\.stem), a.classes.count == b.classes.count else {
            throw SegError(.invalid, file: "", "the two prediction sets do not cover the same images and classes")
        }
        let K = a.classes.count
        let perClass = (0..<K).map { c in
            (id: c, name: a.classes[c], metrics: [("IoU", pairDelta(a.cumulative.iou[c], b.cumulative.iou[c])),
                                                  ("Dice", pairDelta(a.cumulative.dice[c], b.cumulative.dice[c])),
                                                  ("precision", pairDelta(a.cumulative.precision[c], b.cumulative.precision[c])),
                                                  ("recall", pairDelta(a.cumulative.recall[c], b.cumulative.recall[c]))])
        }
        var images = a.images.indices.map { i in (image: a.images[i].stem, delta: pairDelta(a.images[i].scores.meanIoU, b.images[i].scores.meanIoU)) }
        images.sort { ($0.delta.delta.isNaN ? .infinity : $0.delta.delta) < ($1.delta.delta.isNaN ? .infinity : $1.delta.delta) }
        let interval = bootstrap(images: a.images.count, replicates: replicates, seed: seed) { counts in
            func mIoU(_ ev: SemanticEvaluation) -> Double {
                var confusion = [Int](repeating: 0, count: K * (K + 1))
                for (i, n) in counts.enumerated() where n > 0 {
                    for cell in ev.images[i].confusion { confusion[cell.index] += n * cell.count }
                }
                return SemanticScores(confusion: confusion, classes: K, firstClass: ev.includeBackground ? 0 : 1).meanIoU
            }
            let x = mIoU(a), y = mIoU(b)
            return (x <= -1 || y <= -1) ? .nan : y - x
        }
        return Comparison(task: "semantic", headlineName: "mIoU", headline: pairDelta(a.cumulative.meanIoU, b.cumulative.meanIoU),
                          interval: interval, replicates: replicates, seed: seed, perClass: perClass, perImage: images,
                          perImageMetric: "image mIoU")
    }

    /// Binary: per-image IoU deltas and a bootstrap of the mean IoU delta.
    public static func binary(_ a: BinaryEvaluation, _ b: BinaryEvaluation, replicates: Int, seed: UInt64) throws -> Comparison {
        guard a.images.map(\.stem) == b.images.map(\.stem) else {
            throw SegError(.invalid, file: "", "the two prediction sets do not cover the same images")
        }
        var images = a.images.indices.map { i in (image: a.images[i].stem, delta: pairDelta(a.images[i].iou, b.images[i].iou)) }
        let diffs = images.map(\.delta.delta)
        images.sort { $0.delta.delta < $1.delta.delta }
        let interval = bootstrap(images: diffs.count, replicates: replicates, seed: seed) { counts in
            var sum = 0.0, n = 0
            for (i, c) in counts.enumerated() where c > 0 { sum += Double(c) * diffs[i]; n += c }
            return n > 0 ? sum / Double(n) : .nan
        }
        return Comparison(task: "binary", headlineName: "mIoU", headline: pairDelta(a.meanIoU, b.meanIoU), interval: interval,
                          replicates: replicates, seed: seed,
                          perClass: [(id: 1, name: "object", metrics: [("IoU (cumulative)", pairDelta(a.cumulativeIoU, b.cumulativeIoU))])],
                          perImage: images, perImageMetric: "IoU")
    }

    /// Panoptic: per-class deltas of PQ, SQ and RQ, per-image PQ, and a bootstrap of ΔPQ over
    /// images (per-image tp/fp/fn/IoU sums taken with multiplicity).
    public static func panoptic(_ a: PanopticEvaluation, _ b: PanopticEvaluation, replicates: Int, seed: UInt64) throws -> Comparison {
        guard a.images.map(\.imageId) == b.images.map(\.imageId), a.categories.map(\.id) == b.categories.map(\.id) else {
            throw SegError(.invalid, file: "", "the two prediction sets do not cover the same images and categories")
        }
        let perClass = a.categories.indices.map { k in
            let x = a.perClass(k), y = b.perClass(k)
            return (id: a.categories[k].id, name: a.categories[k].name,
                    metrics: [("PQ", pairDelta(x.pq, y.pq)), ("SQ", pairDelta(x.sq, y.sq)), ("RQ", pairDelta(x.rq, y.rq))])
        }
        var images = a.images.indices.map { i in (image: a.images[i].fileName, delta: pairDelta(a.imagePQ(i), b.imagePQ(i))) }
        images.sort { ($0.delta.delta.isNaN ? .infinity : $0.delta.delta) < ($1.delta.delta.isNaN ? .infinity : $1.delta.delta) }
        let interval = bootstrap(images: a.images.count, replicates: replicates, seed: seed) { multiplicity in
            func pq(_ ev: PanopticEvaluation) -> Double {
                var counts = [PQCounts](repeating: PQCounts(), count: ev.categories.count)
                for (i, n) in multiplicity.enumerated() where n > 0 {
                    for (k, c) in ev.images[i].counts {
                        counts[k].iou += Double(n) * c.iou; counts[k].tp += n * c.tp; counts[k].fp += n * c.fp; counts[k].fn += n * c.fn
                    }
                }
                return PanopticEvaluation.average(ev.categories, counts, isThing: nil).pq
            }
            let x = pq(a), y = pq(b)
            return (x <= -1 || y <= -1) ? .nan : y - x
        }
        return Comparison(task: "panoptic", headlineName: "PQ", headline: pairDelta(a.all.pq, b.all.pq), interval: interval,
                          replicates: replicates, seed: seed, perClass: perClass, perImage: images, perImageMetric: "image PQ")
    }
}
