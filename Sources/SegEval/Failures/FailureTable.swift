import SegConcurrency
import SegCore

/// One problem the evaluation found: what the terminal's failure browser lists and zooms on.
public struct FailureRow: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A ground-truth object no detection matched at IoU 0.5.
        case missed
        /// A detection overlapping no object (IoU < 0.1 with every ground truth).
        case background
        /// Right class, IoU in [0.1, 0.5).
        case mislocalized
        /// IoU >= 0.5 with an object of another class.
        case misclassified
        /// Another class and IoU in [0.1, 0.5).
        case both
        /// IoU >= 0.5 with an object already matched by a higher-scored detection.
        case duplicate
        /// A ground-truth segment of a semantic class found with IoU < 0.5.
        case lowIoUSegment = "low-iou-segment"
        /// An image whose (mean) IoU is below 0.5.
        case lowIoUImage = "low-iou-image"
        /// Panoptic: a ground-truth segment no prediction of its category matched (IoU > 0.5).
        case missedSegment = "missed-segment"
        /// Panoptic: a predicted segment counted as a false positive.
        case falsePositiveSegment = "false-positive-segment"
        /// Panoptic: a matched pair whose IoU is below 0.75.
        case lowIoUMatch = "low-iou-match"
        /// Volumes: a structure of a case whose Dice is below 0.5 (the "iou" column holds the Dice).
        case lowDiceStructure = "low-dice-structure"
        /// Volumes: a connected component of the reference the prediction does not touch.
        case missedLesion = "missed-lesion"
    }

    public var image: String
    public var imageId: Int?
    public var classId: Int?
    public var className: String
    /// nil for a row about a whole image.
    public var sizeBucket: SizeBucket?
    public var area: Double
    /// The IoU that decided the kind (-1 when there is none).
    public var iou: Double
    /// The detection's score; nil for rows about ground truth, which have none.
    public var score: Double?
    public var kind: Kind
    /// `[x, y, width, height]` in pixels, to zoom on; nil when unknown.
    public var box: COCOBox?
    /// Ground-truth annotation id or detection index (results[i]) the row is about.
    public var reference: String

    public static func sizeBucket(_ area: Double) -> SizeBucket {
        area < 32 * 32 ? .small : area < 96 * 96 ? .medium : .large
    }

    /// The bucket under an evaluation's own area ranges (`--area-range small=…` moves its bounds):
    /// the first of small, medium, large from whose low end the area is below the high end (the
    /// last one's included), so that the default ranges give `sizeBucket(_:)`'s buckets.
    public static func sizeBucket(_ area: Double, ranges: [COCOAreaRange]) -> SizeBucket? {
        for bucket in SizeBucket.allCases {
            guard let range = ranges.first(where: { $0.label == bucket.rawValue }) else { continue }
            if area >= range.min && (area < range.max || (bucket == .large && area <= range.max)) { return bucket }
        }
        return nil
    }
}

/// COCO's area buckets, as the failure filters name them: below 32², below 96², larger.
public enum SizeBucket: String, Sendable, CaseIterable, Equatable {
    case small, medium, large
}

/// Which failures to keep and in what order: what the CLI's `--failure-*` options and
/// `--failures N` ask for.
public struct FailureQuery: Sendable, Equatable {
    public var sort: FailureTable.SortKey
    /// A class name, or a class id written as a number.
    public var className: String?
    public var sizeBucket: SizeBucket?
    public var kind: FailureRow.Kind?
    /// Rows kept after sorting (the counts cover every failure that passes the filters).
    public var limit: Int

    public init(sort: FailureTable.SortKey = .iou, className: String? = nil, sizeBucket: SizeBucket? = nil,
                kind: FailureRow.Kind? = nil, limit: Int = .max) {
        self.sort = sort; self.className = className; self.sizeBucket = sizeBucket; self.kind = kind; self.limit = limit
    }

    /// Whether a class passes the class filter.
    func admits(classId: Int?, className name: String) -> Bool {
        guard let wanted = className else { return true }
        return wanted == name || (classId != nil && Int(wanted) == classId)
    }

    func admits(kind k: FailureRow.Kind, sizeBucket bucket: SizeBucket?) -> Bool {
        (kind == nil || kind == k) && (sizeBucket == nil || sizeBucket == bucket)
    }

    /// A class filter that names no class of the data set is a mistake worth stopping for (an
    /// empty table would look like a perfect model).
    func checkClass(in classes: [(id: Int?, name: String)], file: String) throws(SegError) {
        guard let wanted = className else { return }
        if classes.contains(where: { admits(classId: $0.id, className: $0.name) }) { return }
        let known = classes.prefix(12).map(\.name).joined(separator: ", ")
        throw SegError(.invalid, file: file, "--failure-class \"\(wanted)\": no class of that name or id (classes: \(known)\(classes.count > 12 ? ", …" : ""))")
    }
}

/// Failure rows with their counts per error type. Built from a query (`selecting`, and the
/// task functions taking `query:`), it holds the first `limit` failures that pass the filters, in
/// the query's order, and counts all of those; built from rows (`init(rows:limit:)`), it keeps
/// them as given and `sorted`/`filtered` work on them.
public struct FailureTable: Sendable {
    /// The rows, in order; JSON, CSV and the table write the first `limit`.
    public var rows: [FailureRow]
    /// Failures counted (those passing the query's filters; all the rows for `init(rows:)`).
    public var total: Int
    /// Per error type, over `total`; types with no failure left out.
    public var counts: [(FailureRow.Kind, Int)]
    public var query: FailureQuery
    /// Rows written in JSON/CSV and printed.
    public var limit: Int { query.limit }

    public enum SortKey: String, Sendable, CaseIterable { case iou, score, area, image, kind }

    /// The rows as given, in their order; `limit` of them are written, the counts cover all.
    public init(rows: [FailureRow], limit: Int = .max) {
        var tally = [Int](repeating: 0, count: FailureRow.Kind.allCases.count)
        for r in rows { tally[r.kind.index] += 1 }
        self.init(tally: tally, query: FailureQuery(limit: limit))
        self.rows = rows
    }

    /// The rows that pass the query's filters, in its order, cut to its limit.
    public static func selecting(_ all: [FailureRow], query: FailureQuery) -> FailureTable {
        let kept = all.filter { query.admits(classId: $0.classId, className: $0.className) && query.admits(kind: $0.kind, sizeBucket: $0.sizeBucket) }
        let rank = nameRanks(kept.map(\.image))
        let keys = kept.enumerated().map { i, r in
            FailureSortKey(kind: r.kind, iou: r.iou, score: r.score ?? FailureSortKey.noScore, area: r.area, image: rank[i], handle: i)
        }
        return FailureTable(keys: keys, query: query, reference: { kept[$0].reference }) { kept[$0] }
    }

    /// The general path: compact sort keys for every failure that passed the filters, and the
    /// rows built only for the ones kept (an instance evaluation can have tens of thousands).
    /// `reference` gives a key's row reference, the last tie-break (asked for only on full ties).
    init(keys: [FailureSortKey], query: FailureQuery, reference: (Int) -> String, row: (Int) -> FailureRow) {
        var tally = [Int](repeating: 0, count: FailureRow.Kind.allCases.count)
        for k in keys { tally[k.kind.index] += 1 }
        self.init(tally: tally, query: query)
        let limit = max(0, query.limit)
        if limit == 0 { return }
        let sort = query.sort
        func precedes(_ a: FailureSortKey, _ b: FailureSortKey) -> Bool {
            FailureSortKey.precedes(a, b, by: sort) { reference($0) < reference($1) }
        }
        rows = Self.first(limit, of: keys, by: precedes).map { row($0.handle) }
    }

    /// The first `n` keys in order. A few rows of tens of thousands (the CLI's default 20) are
    /// picked in one pass, keeping the best `n` so far in order; a sort only when most are kept.
    static func first(_ n: Int, of keys: [FailureSortKey], by precedes: (FailureSortKey, FailureSortKey) -> Bool) -> [FailureSortKey] {
        if n >= keys.count / 8 { return Array(keys.sorted(by: precedes).prefix(n)) }
        var best: [FailureSortKey] = []
        best.reserveCapacity(n + 1)
        for k in keys {
            if best.count == n, let worst = best.last, !precedes(k, worst) { continue }
            // After the keys that precede or tie with k, as a stable sort would place it.
            var lo = 0, hi = best.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if precedes(k, best[mid]) { hi = mid } else { lo = mid + 1 }
            }
            best.insert(k, at: lo)
            if best.count > n { best.removeLast() }
        }
        return best
    }

    /// Counts alone (indexed as `FailureRow.Kind.allCases`), no rows.
    init(tally: [Int], query: FailureQuery) {
        counts = FailureRow.Kind.allCases.enumerated().compactMap { i, kind in tally[i] > 0 ? (kind, tally[i]) : nil }
        total = tally.reduce(0, +)
        self.query = query
        rows = []
    }

    /// Worst first by `key`; ties go to the higher score, then the image name, then the reference.
    public func sorted(by key: SortKey = .iou) -> FailureTable {
        var copy = self
        copy.rows = order(by: key).map { rows[$0] }
        return copy
    }

    /// The permutation `sorted(by:)` applies, as row indices (for views that keep one per order).
    public func order(by key: SortKey = .iou) -> [Int] {
        let rank = Self.nameRanks(rows.map(\.image))
        let keys = rows.enumerated().map { i, r in
            FailureSortKey(kind: r.kind, iou: r.iou, score: r.score ?? FailureSortKey.noScore, area: r.area, image: rank[i], handle: i)
        }
        return keys.sorted { FailureSortKey.precedes($0, $1, by: key) { rows[$0].reference < rows[$1].reference } }.map(\.handle)
    }

    public func filtered(classId: Int? = nil, sizeBucket: SizeBucket? = nil, kind: FailureRow.Kind? = nil) -> FailureTable {
        FailureTable(rows: rows.filter { r in
            (classId == nil || r.classId == classId) && (sizeBucket == nil || r.sizeBucket == sizeBucket) && (kind == nil || r.kind == kind)
        }, limit: limit)
    }

    /// Each name's rank in sorted order (equal names, equal ranks): image order without comparing
    /// strings in the sort.
    static func nameRanks(_ names: [String]) -> [Int] {
        let sortedNames = Array(Set(names)).sorted()
        var rank: [String: Int] = [:]
        for (i, n) in sortedNames.enumerated() { rank[n] = i }
        return names.map { rank[$0] ?? 0 }
    }

    public var document: FailureDocument {
        FailureDocument(
            counts: NamedValues(counts.map { ($0.0.rawValue, $0.1) }), total: total, sort: query.sort.rawValue,
            rows: rows.prefix(max(0, limit)).map { r in
                .init(image: r.image, imageId: r.imageId, classId: r.classId, class: r.className, size: r.sizeBucket?.rawValue ?? "",
                      area: r.area, IoU: r.iou, score: r.score ?? FailureSortKey.noScore, error: r.kind.rawValue,
                      bbox: r.box.map { [$0.x, $0.y, $0.width, $0.height] }, ref: r.reference)
            })
    }

    public var table: ReportTable {
        let summary = counts.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ")
        var filters: [String] = []
        if let c = query.className { filters.append("class \(c)") }
        if let s = query.sizeBucket { filters.append(s.rawValue) }
        if let k = query.kind { filters.append(k.rawValue) }
        let scope = filters.isEmpty ? "" : " [\(filters.joined(separator: ", "))]"
        var t = ReportTable(title: "Failures\(scope) (\(total): \(summary.isEmpty ? "none" : summary)), by \(query.sort.rawValue), worst first",
                            columns: ["image", "class", "size", "area", "IoU", "score", "error", "bbox"])
        for r in rows.prefix(max(0, limit)) {
            let box = r.box.map { "\(JSONValue.format($0.x)),\(JSONValue.format($0.y)),\(JSONValue.format($0.width)),\(JSONValue.format($0.height))" } ?? "-"
            t.rows.append([r.image, r.className, r.sizeBucket?.rawValue ?? "", JSONValue.format(r.area), formatMetric(r.iou),
                           r.score.map { formatMetric($0) } ?? "-", r.kind.rawValue, box])
        }
        return t
    }

    public var csvTable: ReportTable {
        var t = ReportTable(title: "", columns: ["image", "imageId", "classId", "class", "size", "area", "IoU", "score", "error",
                                                 "x", "y", "width", "height", "ref"])
        for r in rows.prefix(max(0, limit)) {
            let b = r.box
            t.rows.append([r.image, r.imageId.map(String.init) ?? "", r.classId.map(String.init) ?? "", r.className, r.sizeBucket?.rawValue ?? "",
                           JSONValue.format(r.area), JSONValue.format(r.iou), JSONValue.format(r.score ?? FailureSortKey.noScore), r.kind.rawValue,
                           b.map { JSONValue.format($0.x) } ?? "", b.map { JSONValue.format($0.y) } ?? "",
                           b.map { JSONValue.format($0.width) } ?? "", b.map { JSONValue.format($0.height) } ?? "", r.reference])
        }
        return t
    }
}

/// What the order of failures depends on, without the strings: `image` is the rank of the image's
/// name; `handle` says which row the key stands for (and which reference breaks a full tie).
struct FailureSortKey {
    var kind: FailureRow.Kind
    var iou: Double
    var score: Double
    var area: Double
    var image: Int
    var handle: Int

    /// A ground-truth row's place among scores: -1, as the JSON writes it, below every score
    /// COCO results hold (0…1).
    static let noScore = -1.0

    /// The key first (lowest IoU, highest score, largest area, image name, error type), then the
    /// most confident failure, then the image, then the reference (`referenceLess` on handles).
    static func precedes(_ a: Self, _ b: Self, by key: FailureTable.SortKey, referenceLess: (Int, Int) -> Bool) -> Bool {
        switch key {
        case .iou: if a.iou != b.iou { return a.iou < b.iou }
        case .score: if a.score != b.score { return a.score > b.score }
        case .area: if a.area != b.area { return a.area > b.area }
        case .image: if a.image != b.image { return a.image < b.image }
        case .kind: if a.kind != b.kind { return a.kind.rawValue < b.kind.rawValue }
        }
        if a.score != b.score { return a.score > b.score }
        if a.image != b.image { return a.image < b.image }
        return referenceLess(a.handle, b.handle)
    }
}

extension FailureRow.Kind {
    /// Position in `allCases`, for tallies.
    public var index: Int {
        switch self {
        case .missed: 0
        case .background: 1
        case .mislocalized: 2
        case .misclassified: 3
        case .both: 4
        case .duplicate: 5
        case .lowIoUSegment: 6
        case .lowIoUImage: 7
        case .missedSegment: 8
        case .falsePositiveSegment: 9
        case .lowIoUMatch: 10
        case .lowDiceStructure: 11
        case .missedLesion: 12
        }
    }
}

extension FailureTable {
    /// Instance failures at IoU 0.5 over all sizes, classified as TIDE does (foreground IoU 0.5,
    /// background 0.1), from the evaluation's own matching. Sort keys are gathered for every
    /// failure; rows (strings, boxes) only for the ones kept.
    public static func instance(_ ev: COCOEvaluation, inputs: COCOInputs, query: FailureQuery,
                                workers: Int = 1) throws(SegError) -> FailureTable {
        try query.checkClass(in: ev.categories.map { (id: $0.id, name: $0.name) }, file: inputs.groundTruth.file)
        return instanceFailures(ev, inputs: inputs, query: query, workers: workers)
    }

    /// Every instance failure, worst first (lowest IoU); `limit` rows written.
    public static func instance(_ ev: COCOEvaluation, inputs: COCOInputs, limit: Int = .max) -> FailureTable {
        var table = instanceFailures(ev, inputs: inputs, query: FailureQuery())
        table.query.limit = limit
        return table
    }

    /// The query's class filter is already checked.
    static func instanceFailures(_ ev: COCOEvaluation, inputs: COCOInputs, query: FailureQuery, workers: Int = 1) -> FailureTable {
        if query.limit <= 0 {
            // The tally alone: the cells counted in parts at once, and no name ranks (they only
            // order rows). This ran on one core while the other waited.
            let cells = ev.cells, parts = max(1, min(4 * workers, cells.count / 4096))
            let tallies = ParallelFor.map(parts, workers: workers, block: 1) { p in
                let range = (p * cells.count / parts)..<((p + 1) * cells.count / parts)
                return InstanceFailureKeys(params: ev.params, images: ev.images, categories: ev.categories, cells: Array(cells[range]),
                                           inputs: inputs, query: query, imageRank: []).tally
            }
            var tally = [Int](repeating: 0, count: FailureRow.Kind.allCases.count)
            for t in tallies { for (i, n) in t.enumerated() { tally[i] += n } }
            return FailureTable(tally: tally, query: query)
        }
        let found = InstanceFailureKeys(params: ev.params, images: ev.images, categories: ev.categories, cells: ev.cells,
                                        inputs: inputs, query: query,
                                        imageRank: nameRanks(ev.images.map { $0.fileName.isEmpty ? String($0.id) : $0.fileName }))
        if query.limit <= 0 { return FailureTable(tally: found.tally, query: query) }
        return FailureTable(keys: found.keys, query: query, reference: found.reference, row: found.row)
    }

    /// An unmatched detection's error type and the IoU that decided it, TIDE's way.
    static func detectionError(_ cell: COCOImageCategoryEval, d: Int, t0: Int) -> (kind: FailureRow.Kind, iou: Double) {
        let G = cell.groundTruthCount
        var bestSame = 0.0, bestMatched = 0.0
        for g in 0..<G where !cell.gtIgnored[g] {
            let v = cell.ious[d * G + g]
            bestSame = max(bestSame, v)
            if cell.gtMatched[t0 * G + g] { bestMatched = max(bestMatched, v) }
        }
        let cross = cell.crossClassIoU[d]
        if bestMatched >= 0.5 { return (.duplicate, bestMatched) }
        if cross >= 0.5 && cross > bestSame { return (.misclassified, cross) }
        if bestSame >= 0.1 { return (.mislocalized, bestSame) }
        if cross >= 0.1 { return (.both, cross) }
        return (.background, max(bestSame, cross))
    }

    /// Results without a box (loadRes' segmentation branch) get their mask's.
    static func maskBox(_ index: Int, _ image: COCOImage, _ inputs: COCOInputs) -> COCOBox? {
        guard let runs = try? InstanceShapes.detectionRuns(index, image: image, data: inputs) else { return nil }
        return InstanceShapes.box(of: runs)
    }

    /// Semantic failures that pass the query (`file` names the ground truth in a class error).
    public static func semantic(_ ev: SemanticEvaluation, threshold: Double = 0.5, query: FailureQuery,
                                file: String = "") throws(SegError) -> FailureTable {
        try query.checkClass(in: ev.classes.enumerated().map { (id: $0.offset, name: $0.element) }, file: file)
        return selecting(semanticRows(ev, threshold: threshold), query: query)
    }

    /// Every semantic failure, worst first; `limit` rows written.
    public static func semantic(_ ev: SemanticEvaluation, threshold: Double = 0.5, limit: Int = .max) -> FailureTable {
        FailureTable(rows: semanticRows(ev, threshold: threshold), limit: limit).sorted()
    }

    static func semanticRows(_ ev: SemanticEvaluation, threshold: Double) -> [FailureRow] {
        var rows: [FailureRow] = []
        for image in ev.images {
            for s in image.segments where s.iou < threshold {
                rows.append(FailureRow(image: image.stem, imageId: nil, classId: s.classId, className: ev.classes[s.classId],
                                       sizeBucket: FailureRow.sizeBucket(Double(s.area)), area: Double(s.area), iou: s.iou, score: nil,
                                       kind: .lowIoUSegment,
                                       box: COCOBox(x: Double(s.box.minX), y: Double(s.box.minY), width: Double(s.box.width), height: Double(s.box.height)),
                                       reference: image.groundTruthFile))
            }
            if image.scores.meanIoU > -1 && image.scores.meanIoU < threshold {
                rows.append(FailureRow(image: image.stem, imageId: nil, classId: nil, className: "", sizeBucket: nil,
                                       area: Double(image.width * image.height), iou: image.scores.meanIoU, score: nil,
                                       kind: .lowIoUImage, box: COCOBox(x: 0, y: 0, width: Double(image.width), height: Double(image.height)),
                                       reference: image.groundTruthFile))
            }
        }
        return rows
    }

    /// Panoptic segment failures (see `PanopticSegmentFailure`), size buckets from the area.
    public static func panoptic(_ ev: PanopticEvaluation, query: FailureQuery, file: String = "") throws(SegError) -> FailureTable {
        try query.checkClass(in: ev.categories.map { (id: $0.id, name: $0.name) }, file: file)
        var names: [Int: String] = [:]
        for c in ev.categories { names[c.id] = c.name }
        let rows = ev.segmentFailures.map { f in
            FailureRow(image: f.fileName, imageId: f.imageId, classId: f.categoryId, className: names[f.categoryId] ?? String(f.categoryId),
                       sizeBucket: FailureRow.sizeBucket(Double(f.area)), area: Double(f.area), iou: f.iou, score: nil, kind: f.kind,
                       box: f.box, reference: "segment \(f.segmentId)")
        }
        return selecting(rows, query: query)
    }

    /// Binary-mask failures that pass the query (the one class is "object").
    public static func binary(_ ev: BinaryEvaluation, threshold: Double = 0.5, query: FailureQuery,
                              file: String = "") throws(SegError) -> FailureTable {
        try query.checkClass(in: [(id: nil, name: "object")], file: file)
        return selecting(binaryRows(ev, threshold: threshold), query: query)
    }

    /// Every binary-mask failure, worst first; `limit` rows written.
    public static func binary(_ ev: BinaryEvaluation, threshold: Double = 0.5, limit: Int = .max) -> FailureTable {
        FailureTable(rows: binaryRows(ev, threshold: threshold), limit: limit).sorted()
    }

    static func binaryRows(_ ev: BinaryEvaluation, threshold: Double) -> [FailureRow] {
        ev.images.filter { $0.iou < threshold }.map { r in
            FailureRow(image: r.stem, imageId: nil, classId: nil, className: "object", sizeBucket: FailureRow.sizeBucket(Double(r.groundTruthArea)),
                       area: Double(r.groundTruthArea), iou: r.iou, score: nil, kind: .lowIoUImage,
                       box: r.box.map { COCOBox(x: Double($0.minX), y: Double($0.minY), width: Double($0.width), height: Double($0.height)) },
                       reference: r.groundTruthFile)
        }
    }
}
