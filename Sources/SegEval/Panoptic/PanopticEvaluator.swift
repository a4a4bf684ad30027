import SegCore

/// A COCO panoptic JSON file: per image, the PNG's file name and its segments.
public struct PanopticFile: Sendable {
    public struct Segment: Sendable, Equatable {
        public var id: UInt32
        public var categoryId: Int
        /// The JSON's `area` (panopticapi uses the ground truth's as given; a prediction's comes from its PNG).
        public var area: Int?
        public var isCrowd: Bool
    }

    public struct Annotation: Sendable {
        public var imageId: Int
        public var fileName: String
        public var segments: [Segment]
    }

    public var file: String
    public var annotations: [Annotation]
    public var categories: [COCOCategory]

    public static func read(_ path: String) throws -> PanopticFile {
        let bytes = try FileIO.read(path)
        do {
            return try parse(bytes, file: path)
        } catch {
            throw error.about(path)
        }
    }

    static func parse(_ bytes: [UInt8], file: String) throws(SegError) -> PanopticFile {
        var annotations: [Annotation] = []
        var categories: [COCOCategory] = []
        try bytes.withUnsafeBufferPointer { (buffer) throws(SegError) in
            var json = JSONCursor(buffer)
            var object = try json.beginObject()
            while let key = try json.nextKey(&object) {
                if json.key(key, is: "annotations") {
                    var array = try json.beginArray()
                    while try json.nextElement(&array) {
                        let index = annotations.count
                        var imageId: Int?
                        var fileName: String?
                        var segments: [Segment] = []
                        var ann = try json.beginObject()
                        while let k = try json.nextKey(&ann) {
                            if json.key(k, is: "image_id") { imageId = try json.integer() }
                            else if json.key(k, is: "file_name") { fileName = try json.string() }
                            else if json.key(k, is: "segments_info") {
                                var list = try json.beginArray()
                                while try json.nextElement(&list) {
                                    var id: Int?, category: Int?, area: Int?
                                    var crowd = false
                                    var seg = try json.beginObject()
                                    while let s = try json.nextKey(&seg) {
                                        if json.key(s, is: "id") { id = try json.integer() }
                                        else if json.key(s, is: "category_id") { category = try json.integer() }
                                        else if json.key(s, is: "area") { area = try json.integer() }
                                        else if json.key(s, is: "iscrowd") { crowd = try COCOReader.readFlag(&json) }
                                        else { try json.skipValue() }
                                    }
                                    let entry = "annotations[\(index)].segments_info[\(segments.count)]"
                                    guard let id, id >= 0, id < 1 << 24 else { throw SegError(.invalid, file: "", "\(entry): no \"id\" or one outside 0..<2^24") }
                                    guard let category else { throw SegError(.invalid, file: "", "\(entry) (id \(id)): no \"category_id\"") }
                                    segments.append(Segment(id: UInt32(id), categoryId: category, area: area, isCrowd: crowd))
                                }
                            } else { try json.skipValue() }
                        }
                        guard let imageId else { throw SegError(.invalid, file: "", "annotations[\(index)]: no \"image_id\"") }
                        guard let fileName else { throw SegError(.invalid, file: "", "annotations[\(index)] (image \(imageId)): no \"file_name\"") }
                        annotations.append(Annotation(imageId: imageId, fileName: fileName, segments: segments))
                    }
                } else if json.key(key, is: "categories") {
                    var array = try json.beginArray()
                    while try json.nextElement(&array) { categories.append(try COCOReader.readCategory(&json, index: categories.count)) }
                } else {
                    try json.skipValue()
                }
            }
            try json.expectEnd()
        }
        return PanopticFile(file: file, annotations: annotations, categories: categories)
    }
}

/// PQ statistics of one category: panopticapi's `PQStatCat`.
public struct PQCounts: Sendable, Equatable {
    public var iou = 0.0
    public var tp = 0
    public var fp = 0
    public var fn = 0

    mutating func add(_ o: PQCounts) { iou += o.iou; tp += o.tp; fp += o.fp; fn += o.fn }
}

public struct PanopticEvaluation: Sendable {
    public struct Average: Sendable, Equatable { public var pq, sq, rq: Double; public var n: Int }

    public var categories: [COCOCategory]
    /// Index as `categories`.
    public var counts: [PQCounts]
    public var all: Average
    public var things: Average
    public var stuff: Average
    /// Per image id: the image's own PQ over the categories it holds (for comparisons and failures).
    public var images: [(imageId: Int, fileName: String, counts: [Int: PQCounts])]
    /// Segments the failure table lists, image by image.
    public var segmentFailures: [PanopticSegmentFailure] = []
    /// The prediction PNG of each image (index as `images`), to draw its segments.
    public var predictionFiles: [String] = []

    /// panopticapi's `pq_average`: categories with no tp, fp or fn are left out of the mean
    /// (their per-class numbers are 0); -1 when no category counts.
    static func average(_ categories: [COCOCategory], _ counts: [PQCounts], isThing: Bool?) -> Average {
        var pq = 0.0, sq = 0.0, rq = 0.0, n = 0
        for (k, c) in categories.enumerated() {
            if let isThing, (c.isThing ?? false) != isThing { continue }
            let s = counts[k]
            if s.tp + s.fp + s.fn == 0 { continue }
            n += 1
            let denominator = Double(s.tp) + 0.5 * Double(s.fp) + 0.5 * Double(s.fn)
            pq += s.iou / denominator
            sq += s.tp != 0 ? s.iou / Double(s.tp) : 0
            rq += Double(s.tp) / denominator
        }
        guard n > 0 else { return Average(pq: -1, sq: -1, rq: -1, n: 0) }
        return Average(pq: pq / Double(n), sq: sq / Double(n), rq: rq / Double(n), n: n)
    }

    /// The PQ of image `i` alone, over the categories it holds (-1 when none counts).
    public func imagePQ(_ i: Int) -> Double {
        var counts = [PQCounts](repeating: PQCounts(), count: categories.count)
        for (k, c) in images[i].counts { counts[k].add(c) }
        return Self.average(categories, counts, isThing: nil).pq
    }

    public func perClass(_ k: Int) -> (pq: Double, sq: Double, rq: Double) {
        let s = counts[k]
        if s.tp + s.fp + s.fn == 0 { return (0, 0, 0) }
        let denominator = Double(s.tp) + 0.5 * Double(s.fp) + 0.5 * Double(s.fn)
        return (s.iou / denominator, s.tp != 0 ? s.iou / Double(s.tp) : 0, Double(s.tp) / denominator)
    }
}

/// Panoptic quality as panopticapi's `pq_compute` computes it: a segment pair matches at IoU > 0.5
/// with the same category, the union leaving out the prediction's overlap with void; crowd ground
/// truth is neither matched nor missed; an unmatched prediction more than half over void or over
/// a crowd region of its category is not a false positive.
public struct PanopticEvaluator: Sendable {
    public var limits: ImageFile.Limits
    public init(limits: ImageFile.Limits = .standard) { self.limits = limits }

    /// PNG folders default to the JSON paths without ".json", as panopticapi does.
    public func evaluate(groundTruth gtPath: String, predictions predPath: String, gtFolder: String? = nil, predFolder: String? = nil,
                         workers: Int = Parallel.coreCount, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> PanopticEvaluation {
        let run = try pairs(groundTruth: gtPath, predictions: predPath, gtFolder: gtFolder, predFolder: predFolder)
        let perImage = try results(run, owned: Array(run.pairs.indices), workers: workers, progress: progress)
        return run.combine(perImage)
    }

    /// The files read and paired by image id: what every shard of a run reads alike.
    struct Run: Sendable {
        var categories: [COCOCategory]
        var categoryIndex: [Int: Int]
        var pairs: [(PanopticFile.Annotation, PanopticFile.Annotation)]
        var gtDir: String
        var predDir: String

        /// The per-image results of every pair, in pair order, summed and averaged.
        func combine(_ perImage: [PanopticImageResult]) -> PanopticEvaluation {
            Self.combine(perImage, images: pairs.map { ($0.0.imageId, $0.0.fileName) }, predictionFiles: pairs.map { predDir + "/" + $0.1.fileName },
                    categories: categories)
        }

        static func combine(_ perImage: [PanopticImageResult], images: [(Int, String)], predictionFiles: [String],
                            categories: [COCOCategory]) -> PanopticEvaluation {
            var counts = [PQCounts](repeating: PQCounts(), count: categories.count)
            // Per category, images are added in pair order (a dictionary's order within one image
            // does not matter: each category is its own sum).
            for image in perImage { for (k, c) in image.counts { counts[k].add(c) } }
            var ev = PanopticEvaluation(categories: categories, counts: counts,
                                        all: PanopticEvaluation.average(categories, counts, isThing: nil),
                                        things: PanopticEvaluation.average(categories, counts, isThing: true),
                                        stuff: PanopticEvaluation.average(categories, counts, isThing: false),
                                        images: zip(images, perImage).map { ($0.0.0, $0.0.1, $0.1.counts) })
            ev.segmentFailures = perImage.flatMap(\.failures)
            ev.predictionFiles = predictionFiles
            return ev
        }
    }

    func pairs(groundTruth gtPath: String, predictions predPath: String, gtFolder: String?, predFolder: String?) throws -> Run {
        let gt = try PanopticFile.read(gtPath)
        let pred = try PanopticFile.read(predPath)
        let gtDir = gtFolder ?? Self.folder(of: gtPath)
        let predDir = predFolder ?? Self.folder(of: predPath)
        let categories = gt.categories
        var categoryIndex: [Int: Int] = [:]
        for (k, c) in categories.enumerated() { categoryIndex[c.id] = k }
        var predByImage: [Int: PanopticFile.Annotation] = [:]
        for a in pred.annotations { predByImage[a.imageId] = a }
        var pairs: [(PanopticFile.Annotation, PanopticFile.Annotation)] = []
        for a in gt.annotations {
            guard let p = predByImage[a.imageId] else {
                throw SegError(.invalid, file: predPath, "no prediction for image id \(a.imageId) (\(a.fileName))")
            }
            pairs.append((a, p))
        }
        return Run(categories: categories, categoryIndex: categoryIndex, pairs: pairs, gtDir: gtDir, predDir: predDir)
    }

    /// The results of the pairs at `owned`, in that order.
    func results(_ run: Run, owned: [Int], workers: Int, progress: (@Sendable (Int, Int) -> Void)?) throws -> [PanopticImageResult] {
        let limits = self.limits
        let lookup = run.categoryIndex
        let pairList = run.pairs
        let gtDir = run.gtDir, predDir = run.predDir
        let counter = ProgressCounter(total: owned.count, report: progress)
        return try Parallel.map(owned.count, workers: workers, block: 1) { (j) throws(SegError) -> PanopticImageResult in
            defer { counter.advance() }
            let (g, p) = pairList[owned[j]]
            do {
                let gtIds = try ImageFile.read(gtDir + "/" + g.fileName, limits: limits).labelMap(reducing: .packedRGB)
                let predIds = try ImageFile.read(predDir + "/" + p.fileName, limits: limits).labelMap(reducing: .packedRGB)
                return try Self.evaluateImage(gt: g, pred: p, gtIds: gtIds, predIds: predIds, categories: lookup,
                                              gtFile: gtDir + "/" + g.fileName, predFile: predDir + "/" + p.fileName)
            } catch let error as SegError {
                throw error
            } catch {
                throw SegError(.invalid, file: gtDir + "/" + g.fileName, "\(error)")
            }
        }
    }

    static func folder(of json: String) -> String {
        json.lowercased().hasSuffix(".json") ? String(json.dropLast(5)) : json
    }

    /// Matched pairs below this IoU are listed as failures: they count fully in RQ but pull SQ down.
    public static let lowIoUMatch = 0.75

    /// One image: counts keyed by category index, and the segments for the failure table.
    static func evaluateImage(gt: PanopticFile.Annotation, pred: PanopticFile.Annotation, gtIds: LabelMap, predIds: LabelMap,
                              categories: [Int: Int], gtFile: String, predFile: String) throws(SegError) -> PanopticImageResult {
        guard gtIds.width == predIds.width, gtIds.height == predIds.height else {
            throw SegError(.invalid, file: predFile, "PNG is \(predIds.width)x\(predIds.height) but the ground truth \(gtFile) is \(gtIds.width)x\(gtIds.height)")
        }
        var gtSegments: [UInt32: PanopticFile.Segment] = [:]
        for s in gt.segments { gtSegments[s.id] = s }
        var predSegments: [UInt32: PanopticFile.Segment] = [:]
        for s in pred.segments {
            guard categories[s.categoryId] != nil else {
                throw SegError(.invalid, file: predFile, "segment \(s.id) has unknown category id \(s.categoryId)")
            }
            predSegments[s.id] = s
        }
        // Pixel counts of every (ground truth id, prediction id) pair; runs of equal pairs are common.
        var pairCounts: [UInt64: Int] = [:]
        gtIds.labels.withUnsafeBufferPointer { g in
            predIds.labels.withUnsafeBufferPointer { p in
                var i = 0
                let n = g.count
                while i < n {
                    let a = g[i], b = p[i]
                    var j = i + 1
                    while j < n && g[j] == a && p[j] == b { j += 1 }
                    pairCounts[UInt64(a) << 24 | UInt64(b), default: 0] += j - i
                    i = j
                }
            }
        }
        var predArea: [UInt32: Int] = [:]
        var gtPixels: [UInt32: Int] = [:]
        for (key, count) in pairCounts {
            let g = UInt32(key >> 24), p = UInt32(key & 0xFF_FFFF)
            predArea[p, default: 0] += count
            gtPixels[g, default: 0] += count
            if g != 0 && gtSegments[g] == nil {
                throw SegError(.invalid, file: gtFile, "segment id \(g) is in the PNG but not in the JSON's segments_info")
            }
        }
        for (id, _) in predArea where id != 0 && predSegments[id] == nil {
            throw SegError(.invalid, file: predFile, "segment id \(id) is in the PNG but not in the JSON's segments_info")
        }
        for (id, _) in predSegments where predArea[id] == nil {
            throw SegError(.invalid, file: predFile, "segment id \(id) is in segments_info but not in the PNG")
        }
        var out: [Int: PQCounts] = [:]
        var gtMatched = Set<UInt32>(), predMatched = Set<UInt32>()
        // For the failure table: each segment's best IoU with one of its category, the matched IoU.
        var bestGt: [UInt32: Double] = [:], bestPred: [UInt32: Double] = [:], matchedIoU: [UInt32: Double] = [:]
        for (key, intersection) in pairCounts {
            let g = UInt32(key >> 24), p = UInt32(key & 0xFF_FFFF)
            guard let gs = gtSegments[g], let ps = predSegments[p], !gs.isCrowd, gs.categoryId == ps.categoryId else { continue }
            guard let k = categories[gs.categoryId] else { continue }
            // panopticapi takes the ground truth's area from the JSON; a file without one gets the PNG's.
            let gtArea = gs.area ?? gtPixels[g] ?? 0
            let union = (predArea[p] ?? 0) + gtArea - intersection - (pairCounts[UInt64(p)] ?? 0)
            let iou = Double(intersection) / Double(union)
            bestGt[g] = max(bestGt[g] ?? 0, iou)
            bestPred[p] = max(bestPred[p] ?? 0, iou)
            if iou > 0.5 {
                out[k, default: PQCounts()].tp += 1
                out[k, default: PQCounts()].iou += iou
                gtMatched.insert(g); predMatched.insert(p)
                matchedIoU[g] = iou
            }
        }
        var failures: [PanopticSegmentFailure] = []
        func failure(_ kind: FailureRow.Kind, _ s: PanopticFile.Segment, area: Int, iou: Double) {
            failures.append(PanopticSegmentFailure(imageId: gt.imageId, fileName: gt.fileName, categoryId: s.categoryId,
                                                   segmentId: s.id, kind: kind, area: area, iou: iou, box: nil))
        }
        for s in gt.segments where !s.isCrowd {
            if let iou = matchedIoU[s.id] {
                if iou < lowIoUMatch { failure(.lowIoUMatch, s, area: s.area ?? gtPixels[s.id] ?? 0, iou: iou) }
            } else {
                failure(.missedSegment, s, area: s.area ?? gtPixels[s.id] ?? 0, iou: bestGt[s.id] ?? 0)
            }
        }
        var crowdByCategory: [Int: UInt32] = [:]
        for s in gt.segments where !gtMatched.contains(s.id) {
            if s.isCrowd { crowdByCategory[s.categoryId] = s.id; continue }
            guard let k = categories[s.categoryId] else {
                throw SegError(.invalid, file: gtFile, "segment \(s.id) has unknown category id \(s.categoryId)")
            }
            out[k, default: PQCounts()].fn += 1
        }
        for s in pred.segments where !predMatched.contains(s.id) {
            var ignored = pairCounts[UInt64(s.id)] ?? 0  // over void (ground truth id 0)
            if let crowd = crowdByCategory[s.categoryId] { ignored += pairCounts[UInt64(crowd) << 24 | UInt64(s.id)] ?? 0 }
            let area = predArea[s.id] ?? 0
            if area > 0 && Double(ignored) / Double(area) > 0.5 { continue }
            guard let k = categories[s.categoryId] else { continue }
            out[k, default: PQCounts()].fp += 1
            failure(.falsePositiveSegment, s, area: area, iou: bestPred[s.id] ?? 0)
        }
        if !failures.isEmpty {
            // Boxes only for the segments listed: one pass over each PNG's id map.
            let gtBoxes = segmentBoxes(gtIds), predBoxes = segmentBoxes(predIds)
            for i in failures.indices {
                failures[i].box = (failures[i].kind == .falsePositiveSegment ? predBoxes : gtBoxes)[failures[i].segmentId]
            }
        }
        return PanopticImageResult(counts: out, failures: failures)
    }

    /// The box of every id in a panoptic id map, from runs of equal ids along the rows.
    static func segmentBoxes(_ ids: LabelMap) -> [UInt32: COCOBox] {
        var extent: [UInt32: (x0: Int, y0: Int, x1: Int, y1: Int)] = [:]
        ids.labels.withUnsafeBufferPointer { l in
            for y in 0..<ids.height {
                var x = 0
                let row = y * ids.width
                while x < ids.width {
                    let id = l[row + x]
                    var end = x + 1
                    while end < ids.width && l[row + end] == id { end += 1 }
                    if let e = extent[id] {
                        extent[id] = (min(e.x0, x), min(e.y0, y), max(e.x1, end - 1), max(e.y1, y))
                    } else {
                        extent[id] = (x, y, end - 1, y)
                    }
                    x = end
                }
            }
        }
        return extent.mapValues { COCOBox(x: Double($0.x0), y: Double($0.y0), width: Double($0.x1 - $0.x0 + 1), height: Double($0.y1 - $0.y0 + 1)) }
    }
}

/// One image's panoptic result.
struct PanopticImageResult: Sendable {
    var counts: [Int: PQCounts]
    var failures: [PanopticSegmentFailure]
}

/// A segment the failure table lists: a ground-truth segment no prediction matched, a
/// prediction counted as a false positive, or a matched pair with IoU below
/// `PanopticEvaluator.lowIoUMatch` (then the ground-truth segment).
public struct PanopticSegmentFailure: Sendable, Equatable {
    public var imageId: Int
    public var fileName: String
    public var categoryId: Int
    public var segmentId: UInt32
    public var kind: FailureRow.Kind
    /// Pixels (a ground-truth segment's JSON `area` when it has one, as PQ uses it).
    public var area: Int
    /// The matched IoU, or the best IoU with a segment of the same category (0 when none).
    public var iou: Double
    /// In the PNG of the segment (the ground truth's, the prediction's for a false positive).
    public var box: COCOBox?
}

extension PanopticEvaluation {
    public func document(groundTruth: String, predictions: String, failures: FailureTable) -> PanopticReportDocument {
        func average(_ a: Average) -> PanopticReportDocument.Average { .init(PQ: defined(a.pq), SQ: defined(a.sq), RQ: defined(a.rq), N: a.n) }
        return PanopticReportDocument(
            groundTruth: groundTruth, predictions: predictions, images: images.count,
            All: average(all), Things: average(things), Stuff: average(stuff),
            perClass: categories.indices.map { k in
                let c = categories[k], r = perClass(k), s = counts[k]
                return .init(id: c.id, name: c.name, isthing: c.isThing ?? false, PQ: defined(r.pq), SQ: defined(r.sq), RQ: defined(r.rq),
                             tp: s.tp, fp: s.fp, fn: s.fn)
            },
            failures: failures.document)
    }

    public var tables: [ReportTable] {
        var head = ReportTable(title: "Panoptic quality (panopticapi protocol), \(images.count) images", columns: ["", "PQ", "SQ", "RQ", "N"])
        for (name, a) in [("All", all), ("Things", things), ("Stuff", stuff)] {
            head.rows.append([name, formatMetric(a.pq), formatMetric(a.sq), formatMetric(a.rq), String(a.n)])
        }
        var perClassTable = ReportTable(title: "Per class", columns: ["class", "id", "kind", "PQ", "SQ", "RQ", "tp", "fp", "fn"],
                                        ranked: ["PQ": true, "SQ": true, "RQ": true])
        for k in categories.indices {
            let c = categories[k], r = perClass(k), s = counts[k]
            perClassTable.rows.append([c.name, String(c.id), (c.isThing ?? false) ? "thing" : "stuff", formatMetric(r.pq),
                                       formatMetric(r.sq), formatMetric(r.rq), String(s.tp), String(s.fp), String(s.fn)])
        }
        return [head, perClassTable]
    }

    public var csvTable: ReportTable {
        var t = ReportTable(title: "", columns: ["class", "id", "isthing", "PQ", "SQ", "RQ", "tp", "fp", "fn"])
        for (name, a) in [("All", all), ("Things", things), ("Stuff", stuff)] {
            t.rows.append([name, "", "", JSONValue.format(a.pq), JSONValue.format(a.sq), JSONValue.format(a.rq), "", "", ""])
        }
        for k in categories.indices {
            let c = categories[k], r = perClass(k), s = counts[k]
            t.rows.append([c.name, String(c.id), (c.isThing ?? false) ? "1" : "0", JSONValue.format(r.pq), JSONValue.format(r.sq),
                           JSONValue.format(r.rq), String(s.tp), String(s.fp), String(s.fn)])
        }
        return t
    }
}
