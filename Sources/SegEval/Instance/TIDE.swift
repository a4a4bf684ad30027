import SegCore

/// The TIDE error breakdown (Bolya et al., ECCV 2020) as the `tidecv` package computes it: its own
/// greedy matching per image (all classes together, at most 100 detections by score), its AP@0.5
/// (101 recall points, mean over classes), each error type's AP gain from fixing every error of
/// that type alone, and (our additions, same machinery) the gain per class and per size bucket.
public struct TIDEResult: Sendable {
    public enum ErrorType: String, Sendable, CaseIterable {
        case classification = "Cls", localization = "Loc", both = "Both", duplicate = "Dupe", background = "Bkg", missed = "Miss"
    }

    public var mode: String
    /// AP at the foreground threshold, 0..1 (tidecv prints it ×100).
    public var ap: Double
    /// AP gain per error type, 0..1.
    public var gains: [ErrorType: Double]
    public var counts: [ErrorType: Int]
    /// Category id → error type → gain in that category's AP.
    public var perClass: [Int: [ErrorType: Double]]
    /// "small", "medium", "large" (box area ≤ 32², ≤ 96², above; tidecv's AREA qualifiers), or
    /// the evaluation's own area ranges → gain from fixing only the errors whose object is in
    /// the bucket.
    public var perSize: [String: [ErrorType: Double]]
    /// The size buckets in order.
    public var sizeNames = ["small", "medium", "large"]

    /// tidecv's special errors: the AP gain from perfect precision (every false positive scored
    /// below every true positive, recall unchanged) and from perfect recall (the unmatched ground
    /// truth no longer counted, precision unchanged). Not clamped at 0, as tidecv.
    public enum SpecialError: String, Sendable, CaseIterable {
        case falsePositive = "FalsePos", falseNegative = "FalseNeg"
    }

    public var special: [SpecialError: Double] = [:]
    /// Category id → special error → gain in that category's AP. (tidecv ignores a size
    /// qualifier for these, so there is no per-size figure.)
    public var perClassSpecial: [Int: [SpecialError: Double]] = [:]
}

public enum TIDE {
    enum Shape { case box(COCOBox), runs(RLE) }

    struct ErrorRecord {
        var type: TIDEResult.ErrorType
        /// Detection index (results); nil for a missed ground truth.
        var detection: Int?
        /// The data point before fixing: (class, score) of an unmatched detection, nil when it was ignored or missed.
        var originalClass: Int?
        var score: Double
        /// After fixing: the class the point joins as a true positive (nil: suppressed).
        var fixedClass: Int?
        var missedClass: Int?
        var area: Double
    }

    struct ImageOutcome {
        var positives: [(cls: Int, count: Int)]
        /// Ground truth (not crowd) left unmatched, per class: tidecv's `false_negatives`.
        var falseNegatives: [(cls: Int, count: Int)] = []
        var points: [(cls: Int, score: Double, correct: Bool)]
        var errors: [ErrorRecord]
    }

    /// The ground truth's and the detections' indices per image, in the ground truth's image order
    /// (the whole run and each shard's pass group them the same way).
    static func annotationsByImage(_ inputs: COCOInputs) -> (gts: [[Int]], dts: [[Int]]) {
        let images = inputs.groundTruth.images
        var imageIndex: [Int: Int] = [:]
        for (i, image) in images.enumerated() { imageIndex[image.id] = i }
        var gts = [[Int]](repeating: [], count: images.count)
        for (i, a) in inputs.groundTruth.annotations.enumerated() { if let k = imageIndex[a.imageId] { gts[k].append(i) } }
        var dts = [[Int]](repeating: [], count: images.count)
        for (i, d) in inputs.results.detections.enumerated() { if let k = imageIndex[d.imageId] { dts[k].append(i) } }
        return (gts, dts)
    }

    /// `areaRanges`: the evaluation's ranges (all but "all" become the size buckets; those equal
    /// to COCO's defaults keep tidecv's own bounds); nil: tidecv's three.
    public static func evaluate(_ inputs: COCOInputs, mask: Bool, foreground: Double = 0.5, background: Double = 0.1,
                                maxDets: Int = 100, workers: Int = Parallel.coreCount,
                                areaRanges: [COCOAreaRange]? = nil) throws(SegError) -> TIDEResult {
        let gt = inputs.groundTruth
        let images = gt.images  // tidecv walks the images in file order
        let (gts, dts) = TIDE.annotationsByImage(inputs)
        let outcomes = try Parallel.map(images.count, workers: workers) { (i) throws(SegError) -> ImageOutcome in
            try evaluateImage(images[i], gt: gts[i], dt: dts[i], inputs: inputs, mask: mask, foreground: foreground,
                              background: background, maxDets: maxDets)
        }
        return summarize(outcomes, mask: mask, sizes: sizeBuckets(areaRanges))
    }

    /// tidecv's AREA qualifiers (small ≤ 32², medium ≤ 96², large above), or, for ranges changed
    /// or added by `--area-range`, the range itself with pycocotools' inclusive ends.
    static func sizeBuckets(_ ranges: [COCOAreaRange]?) -> [(String, @Sendable (Double) -> Bool)] {
        let tidecv: [(String, @Sendable (Double) -> Bool)] = [("small", { $0 <= 1024 }), ("medium", { $0 > 1024 && $0 <= 9216 }),
                                                             ("large", { $0 > 9216 })]
        guard let ranges else { return tidecv }
        let defaults = COCOEvalParams().areaRanges
        return ranges.filter { $0.label != "all" }.map { range in
            if defaults.contains(range), let own = tidecv.first(where: { $0.0 == range.label }) { return own }
            return (range.label, { !range.excludes($0) })
        }
    }

    static func shape(_ ann: COCOAnnotation, index: Int, isResult: Bool, image: COCOImage, inputs: COCOInputs, mask: Bool) throws(SegError) -> Shape {
        let file = isResult ? inputs.results.file : inputs.groundTruth.file
        let entry = isResult ? "results[\(index)]" : "annotations[\(index)] (id \(ann.id))"
        if mask {
            guard let r = try InstanceShapes.runs(of: ann, image: image, entry: entry, file: file) else {
                throw SegError(.invalid, file: file, "\(entry): no \"segmentation\" (needed for the mask error breakdown)")
            }
            return .runs(r)
        }
        guard let b = ann.bbox else { throw SegError(.invalid, file: file, "\(entry): no \"bbox\" (needed for the box error breakdown)") }
        return .box(b)
    }

    static func ious(_ d: [Shape], _ g: [Shape], crowd: Bool) -> [Double] {
        if d.isEmpty || g.isEmpty { return [] }
        if case .box = d[0] {
            let db = d.map { if case .box(let b) = $0 { b } else { COCOBox(x: 0, y: 0, width: 0, height: 0) } }
            let gb = g.map { if case .box(let b) = $0 { b } else { COCOBox(x: 0, y: 0, width: 0, height: 0) } }
            return BoxOverlap().ious(dt: db, gt: gb, crowd: [Bool](repeating: crowd, count: gb.count))
        }
        let dr = d.compactMap { if case .runs(let r) = $0 { r } else { nil } }
        let gr = g.compactMap { if case .runs(let r) = $0 { r } else { nil } }
        return RunIoU.ious(dt: dr, gt: gr, crowd: [Bool](repeating: crowd, count: gr.count))
    }

    /// tidecv's `APDataObject.get_ap` (×1, not ×100): stable sort by score, COCO-style envelope,
    /// 101 recall points at i / 100.
    static func ap(_ points: [(score: Double, correct: Bool)], positives: Int) -> Double {
        if positives == 0 { return 0 }
        var order = Array(points.indices)
        order.sort { points[$0].score != points[$1].score ? points[$0].score > points[$1].score : $0 < $1 }
        var precision: [Double] = [], recall: [Double] = []
        var tp = 0, fp = 0
        for i in order {
            if points[i].correct { tp += 1 } else { fp += 1 }
            precision.append(Double(tp) / Double(tp + fp))
            recall.append(Double(tp) / Double(positives))
        }
        var i = precision.count - 1
        while i > 0 {
            if precision[i] > precision[i - 1] { precision[i - 1] = precision[i] }
            i -= 1
        }
        var sum = 0.0
        var p = 0
        for r in 0...100 {
            let x = Double(r) / 100
            while p < recall.count && recall[p] < x { p += 1 }
            if p < precision.count { sum += precision[p] }
        }
        return sum / 101
    }

    struct APData {
        var classOrder: [Int] = []
        var points: [Int: [(score: Double, correct: Bool)]] = [:]
        var positives: [Int: Int] = [:]

        mutating func touch(_ c: Int) { if points[c] == nil { classOrder.append(c); points[c] = []; positives[c] = 0 } }

        func classAP(_ c: Int) -> Double? {
            let pts = points[c] ?? [], n = positives[c] ?? 0
            if pts.isEmpty && n == 0 { return nil }
            return TIDE.ap(pts, positives: n)
        }

        var mAP: Double {
            let aps = classOrder.compactMap { classAP($0) }
            return aps.isEmpty ? 0 : aps.reduce(0, +) / Double(aps.count)
        }
    }

    static func summarize(_ outcomes: [ImageOutcome], mask: Bool, sizes buckets: [(String, @Sendable (Double) -> Bool)]) -> TIDEResult {
        var base = APData()
        var errors: [ErrorRecord] = []
        var falseNegatives: [Int: Int] = [:]
        for o in outcomes {
            for (c, n) in o.falseNegatives { falseNegatives[c, default: 0] += n }
            for (c, n) in o.positives { base.touch(c); base.positives[c, default: 0] += n }
            for p in o.points { base.touch(p.cls); base.points[p.cls, default: []].append((p.score, p.correct)) }
            for e in o.errors { if let c = e.missedClass { base.touch(c) } }
            errors += o.errors
        }
        let baseAP = base.mAP
        /// tidecv's `fix_errors`: the errors' points first (fixed or not), then the original true positives.
        func fixed(_ condition: (ErrorRecord) -> Bool) -> APData {
            var out = APData()
            var positives = base.positives
            for e in errors {
                var point: (cls: Int, correct: Bool)? = e.originalClass.map { ($0, false) }
                if condition(e) {
                    if let c = e.missedClass { positives[c, default: 0] -= 1; point = nil } else { point = e.fixedClass.map { ($0, true) } }
                }
                if let point { out.touch(point.cls); out.points[point.cls, default: []].append((e.score, point.correct)) }
            }
            for c in base.classOrder {
                out.touch(c)
                for p in base.points[c] ?? [] where p.correct { out.points[c, default: []].append(p) }
            }
            for c in base.classOrder { out.positives[c] = positives[c] ?? 0 }
            return out
        }
        var gains: [TIDEResult.ErrorType: Double] = [:]
        var counts: [TIDEResult.ErrorType: Int] = [:]
        var perClass: [Int: [TIDEResult.ErrorType: Double]] = [:]
        var perSize: [String: [TIDEResult.ErrorType: Double]] = [:]
        for type in TIDEResult.ErrorType.allCases {
            counts[type] = errors.filter { $0.type == type }.count
            let data = fixed { $0.type == type }
            gains[type] = max(data.mAP - baseAP, 0)
            for c in base.classOrder {
                if let before = base.classAP(c) {
                    perClass[c, default: [:]][type] = max((data.classAP(c) ?? 0) - before, 0)
                }
            }
            for (name, test) in buckets {
                perSize[name, default: [:]][type] = max(fixed { $0.type == type && test($0.area) }.mAP - baseAP, 0)
            }
        }
        var result = TIDEResult(mode: mask ? "mask" : "bbox", ap: baseAP, gains: gains, counts: counts, perClass: perClass, perSize: perSize)
        result.sizeNames = buckets.map(\.0)
        let specialData: [(TIDEResult.SpecialError, APData)] = [
            (.falsePositive, perfectPrecision(base, errors: errors)),
            (.falseNegative, perfectRecall(base, errors: errors, falseNegatives: falseNegatives)),
        ]
        for (type, data) in specialData {
            result.special[type] = data.mAP - baseAP
            for c in base.classOrder {
                if let before = base.classAP(c) { result.perClassSpecial[c, default: [:]][type] = (data.classAP(c) ?? 0) - before }
            }
        }
        return result
    }

    /// tidecv's `fix_errors(transform=FalsePositiveError.fix)`: every error's point kept with
    /// score 0, every true positive with score 1, the ground-truth counts unchanged.
    static func perfectPrecision(_ base: APData, errors: [ErrorRecord]) -> APData {
        var out = APData()
        for e in errors {
            guard let c = e.originalClass else { continue }
            out.touch(c)
            out.points[c, default: []].append((0, false))
        }
        for c in base.classOrder {
            out.touch(c)
            for p in base.points[c] ?? [] where p.correct { out.points[c, default: []].append((1, true)) }
        }
        for c in base.classOrder { out.positives[c] = base.positives[c] ?? 0 }
        return out
    }

    /// tidecv's `fix_errors(false_neg_dict=false_negatives)`: the points unchanged, each class's
    /// ground-truth count less its unmatched ground truth.
    static func perfectRecall(_ base: APData, errors: [ErrorRecord], falseNegatives: [Int: Int]) -> APData {
        var out = APData()
        for e in errors {
            guard let c = e.originalClass else { continue }
            out.touch(c)
            out.points[c, default: []].append((e.score, false))
        }
        for c in base.classOrder {
            out.touch(c)
            for p in base.points[c] ?? [] where p.correct { out.points[c, default: []].append(p) }
        }
        for c in base.classOrder { out.positives[c] = (base.positives[c] ?? 0) - (falseNegatives[c] ?? 0) }
        return out
    }
}

extension TIDEResult {
    public var document: TIDEDocument {
        func gains(_ g: [ErrorType: Double]) -> NamedValues<Double> { NamedValues(ErrorType.allCases.map { ($0.rawValue, g[$0] ?? 0) }) }
        func specials(_ g: [SpecialError: Double]) -> NamedValues<Double> { NamedValues(SpecialError.allCases.map { ($0.rawValue, g[$0] ?? 0) }) }
        return TIDEDocument(
            mode: mode, AP50: ap, dAP: gains(self.gains),
            counts: NamedValues(ErrorType.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
            perSize: NamedValues(sizeNames.map { ($0, gains(perSize[$0] ?? [:])) }),
            special: specials(special),
            perClass: perClass.keys.sorted().map { c in
                .init(id: c, dAP: gains(perClass[c] ?? [:]), special: specials(perClassSpecial[c] ?? [:]))
            })
    }

    public func table(names: [Int: String]) -> ReportTable {
        let types = ErrorType.allCases
        var t = ReportTable(title: "TIDE error breakdown (\(mode), AP50 \(formatMetric(ap))): AP gain from fixing each error type",
                            columns: ["", "count"] + types.map(\.rawValue) + SpecialError.allCases.map(\.rawValue))
        let specials = SpecialError.allCases
        t.rows.append(["all", String(types.map { counts[$0] ?? 0 }.reduce(0, +))] + types.map { formatMetric(gains[$0] ?? 0) }
                      + specials.map { formatMetric(special[$0] ?? 0) })
        for size in sizeNames {
            t.rows.append([size, ""] + types.map { formatMetric(perSize[size]?[$0] ?? 0) } + specials.map { _ in "-" })
        }
        for c in perClass.keys.sorted() {
            t.rows.append([names[c] ?? String(c), ""] + types.map { formatMetric(perClass[c]?[$0] ?? 0) }
                          + specials.map { formatMetric(perClassSpecial[c]?[$0] ?? 0) })
        }
        return t
    }
}
