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
    }

    public var image: String
    public var imageId: Int?
    public var classId: Int?
    public var className: String
    public var sizeBucket: String
    public var area: Double
    /// The IoU that decided the kind (-1 when there is none).
    public var iou: Double
    /// The detection's score (-1 for ground-truth rows).
    public var score: Double
    public var kind: Kind
    /// `[x, y, width, height]` in pixels, to zoom on; nil when unknown.
    public var box: COCOBox?
    /// Ground-truth annotation id or detection index (results[i]) the row is about.
    public var reference: String

    public static func sizeBucket(_ area: Double) -> String {
        area < 32 * 32 ? "small" : area < 96 * 96 ? "medium" : "large"
    }
}

/// All the rows, sortable and filterable.
public struct FailureTable: Sendable {
    public var rows: [FailureRow]
    /// Rows written in JSON/CSV and printed (the counts cover every row).
    public var limit: Int

    public init(rows: [FailureRow], limit: Int = .max) {
        self.rows = rows
        self.limit = limit
    }

    public enum SortKey: String, Sendable, CaseIterable { case iou, score, area, image, kind }

    /// Worst first: lowest IoU, then highest score (a confident mistake matters more), then image.
    public func sorted(by key: SortKey = .iou) -> FailureTable {
        var copy = self
        copy.rows.sort { a, b in
            switch key {
            case .iou: if a.iou != b.iou { return a.iou < b.iou }
            case .score: if a.score != b.score { return a.score > b.score }
            case .area: if a.area != b.area { return a.area > b.area }
            case .image: if a.image != b.image { return a.image < b.image }
            case .kind: if a.kind != b.kind { return a.kind.rawValue < b.kind.rawValue }
            }
            if a.score != b.score { return a.score > b.score }
            if a.image != b.image { return a.image < b.image }
            return a.reference < b.reference
        }
        return copy
    }

    public func filtered(classId: Int? = nil, sizeBucket: String? = nil, kind: FailureRow.Kind? = nil) -> FailureTable {
        FailureTable(rows: rows.filter { r in
            (classId == nil || r.classId == classId) && (sizeBucket == nil || r.sizeBucket == sizeBucket) && (kind == nil || r.kind == kind)
        }, limit: limit)
    }

    public var counts: [(FailureRow.Kind, Int)] {
        FailureRow.Kind.allCases.compactMap { kind in
            let n = rows.filter { $0.kind == kind }.count
            return n > 0 ? (kind, n) : nil
        }
    }

    public var json: JSONValue {
        .object([
            ("counts", .object(counts.map { ($0.0.rawValue, .integer($0.1)) })),
            ("total", .integer(rows.count)),
            ("rows", .array(rows.prefix(limit).map { r in
                .object([("image", .string(r.image)), ("imageId", r.imageId.map { .integer($0) } ?? .null),
                         ("classId", r.classId.map { .integer($0) } ?? .null), ("class", .string(r.className)),
                         ("size", .string(r.sizeBucket)), ("area", .number(r.area)), ("IoU", .number(r.iou)),
                         ("score", .number(r.score)), ("error", .string(r.kind.rawValue)),
                         ("bbox", r.box.map { .array([.number($0.x), .number($0.y), .number($0.width), .number($0.height)]) } ?? .null),
                         ("ref", .string(r.reference))])
            })),
        ])
    }

    public var table: ReportTable {
        let summary = counts.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ")
        var t = ReportTable(title: "Failures (\(rows.count): \(summary.isEmpty ? "none" : summary)), worst first",
                            columns: ["image", "class", "size", "area", "IoU", "score", "error", "bbox"])
        for r in rows.prefix(limit) {
            let box = r.box.map { "\(JSONValue.format($0.x)),\(JSONValue.format($0.y)),\(JSONValue.format($0.width)),\(JSONValue.format($0.height))" } ?? "-"
            t.rows.append([r.image, r.className, r.sizeBucket, JSONValue.format(r.area), formatMetric(r.iou),
                           r.score < 0 ? "-" : formatMetric(r.score), r.kind.rawValue, box])
        }
        return t
    }

    public var csvTable: ReportTable {
        var t = ReportTable(title: "", columns: ["image", "imageId", "classId", "class", "size", "area", "IoU", "score", "error",
                                                 "x", "y", "width", "height", "ref"])
        for r in rows.prefix(limit) {
            let b = r.box
            t.rows.append([r.image, r.imageId.map(String.init) ?? "", r.classId.map(String.init) ?? "", r.className, r.sizeBucket,
                           JSONValue.format(r.area), JSONValue.format(r.iou), JSONValue.format(r.score), r.kind.rawValue,
                           b.map { JSONValue.format($0.x) } ?? "", b.map { JSONValue.format($0.y) } ?? "",
                           b.map { JSONValue.format($0.width) } ?? "", b.map { JSONValue.format($0.height) } ?? "", r.reference])
        }
        return t
    }
}

extension FailureTable {
    /// Instance failures at IoU 0.5 over all sizes, classified as TIDE does (foreground IoU 0.5,
    /// background 0.1), from the evaluation's own matching.
    public static func instance(_ ev: COCOEvaluation, inputs: COCOInputs, limit: Int = .max) -> FailureTable {
        let annotations = inputs.groundTruth.annotations
        let detections = inputs.results.detections
        var rows: [FailureRow] = []
        let T = ev.params.iouThresholds.count
        /// Results without a box (loadRes' segmentation branch) get their mask's.
        func maskBox(_ index: Int, _ image: COCOImage) -> COCOBox? {
            guard let runs = try? InstanceShapes.detectionRuns(index, image: image, data: inputs) else { return nil }
            return InstanceShapes.box(of: runs)
        }
        let t0 = ev.params.iouThresholds.firstIndex { $0 == 0.5 } ?? 0
        for cell in ev.cells {
            let image = ev.images[cell.imageIndex]
            let category = ev.categories[cell.categoryIndex]
            let D = cell.detectionCount, G = cell.groundTruthCount
            for g in 0..<G where !cell.gtCrowd[g] && !cell.gtMatched[t0 * G + g] {
                let ann = annotations[Int(cell.groundTruths[g])]
                var best = 0.0
                for d in 0..<D { best = max(best, cell.ious[d * G + g]) }
                rows.append(FailureRow(image: image.fileName.isEmpty ? String(image.id) : image.fileName, imageId: image.id,
                                       classId: category.id, className: category.name, sizeBucket: FailureRow.sizeBucket(cell.gtAreas[g]),
                                       area: cell.gtAreas[g], iou: best, score: -1, kind: .missed, box: ann.bbox,
                                       reference: "annotation \(ann.id)"))
            }
            for d in 0..<D {
                let f = cell.flags[t0 * D + d]  // area range "all" is a = 0
                if f & 1 != 0 || f & 2 != 0 { continue }
                var bestSame = 0.0
                var bestMatched = 0.0
                for g in 0..<G where !cell.gtCrowd[g] {
                    let v = cell.ious[d * G + g]
                    bestSame = max(bestSame, v)
                    if cell.gtMatched[t0 * G + g] { bestMatched = max(bestMatched, v) }
                }
                let cross = cell.crossClassIoU[d]
                let kind: FailureRow.Kind
                var iou = bestSame
                if bestMatched >= 0.5 { kind = .duplicate; iou = bestMatched }
                else if cross >= 0.5 && cross > bestSame { kind = .misclassified; iou = cross }
                else if bestSame >= 0.1 { kind = .mislocalized }
                else if cross >= 0.1 { kind = .both; iou = cross }
                else { kind = .background; iou = max(bestSame, cross) }
                let index = Int(cell.detections[d])
                rows.append(FailureRow(image: image.fileName.isEmpty ? String(image.id) : image.fileName, imageId: image.id,
                                       classId: category.id, className: category.name, sizeBucket: FailureRow.sizeBucket(cell.dtAreas[d]),
                                       area: cell.dtAreas[d], iou: iou, score: cell.scores[d], kind: kind,
                                       box: detections[index].bbox ?? maskBox(index, image),
                                       reference: "results[\(index)]"))
            }
            _ = T
        }
        // Only the rows that are written need the order; the counts cover all.
        return limit == 0 ? FailureTable(rows: rows, limit: 0) : FailureTable(rows: rows, limit: limit).sorted()
    }

    public static func semantic(_ ev: SemanticEvaluation, threshold: Double = 0.5, limit: Int = .max) -> FailureTable {
        var rows: [FailureRow] = []
        for image in ev.images {
            for s in image.segments where s.iou < threshold {
                rows.append(FailureRow(image: image.stem, imageId: nil, classId: s.classId, className: ev.classes[s.classId],
                                       sizeBucket: FailureRow.sizeBucket(Double(s.area)), area: Double(s.area), iou: s.iou, score: -1,
                                       kind: .lowIoUSegment,
                                       box: COCOBox(x: Double(s.box.minX), y: Double(s.box.minY), width: Double(s.box.width), height: Double(s.box.height)),
                                       reference: image.groundTruthFile))
            }
            if image.scores.meanIoU > -1 && image.scores.meanIoU < threshold {
                rows.append(FailureRow(image: image.stem, imageId: nil, classId: nil, className: "", sizeBucket: "",
                                       area: Double(image.width * image.height), iou: image.scores.meanIoU, score: -1,
                                       kind: .lowIoUImage, box: COCOBox(x: 0, y: 0, width: Double(image.width), height: Double(image.height)),
                                       reference: image.groundTruthFile))
            }
        }
        return FailureTable(rows: rows, limit: limit).sorted()
    }

    public static func binary(_ ev: BinaryEvaluation, threshold: Double = 0.5, limit: Int = .max) -> FailureTable {
        let rows = ev.images.filter { $0.iou < threshold }.map { r in
            FailureRow(image: r.stem, imageId: nil, classId: nil, className: "object", sizeBucket: FailureRow.sizeBucket(Double(r.groundTruthArea)),
                       area: Double(r.groundTruthArea), iou: r.iou, score: -1, kind: .lowIoUImage,
                       box: r.box.map { COCOBox(x: Double($0.minX), y: Double($0.minY), width: Double($0.width), height: Double($0.height)) },
                       reference: r.groundTruthFile)
        }
        return FailureTable(rows: rows, limit: limit).sorted()
    }
}
