import SegCore

/// An instance matching's failures before the cut: a compact sort key for every failure that
/// passes the query's filters (none when no row is wanted, `query.limit <= 0`), their tally per
/// error type, and how to make a key's row and its reference (only for the rows kept).
///
/// Built from all cells at once (`FailureTable.instanceFailures`) or from one batch of images at a
/// time (`FailureCollector`, the streamed evaluation): `imageRank` is then the whole run's name
/// ranks of the batch's images, so that keys of different batches compare as in one run.
struct InstanceFailureKeys {
    var keys: [FailureSortKey] = []
    var tally = [Int](repeating: 0, count: FailureRow.Kind.allCases.count)
    let reference: (Int) -> String
    let row: (Int) -> FailureRow

    init(params: COCOEvalParams, images: [COCOImage], categories: [COCOCategory], cells: [COCOImageCategoryEval],
         inputs: COCOInputs, query: FailureQuery, imageRank: [Int]) {
        let annotations = inputs.groundTruth.annotations
        let detections = inputs.results.detections
        let t0 = params.iouThresholds.firstIndex { $0 == 0.5 } ?? 0
        let ranges = params.areaRanges
        func bucket(_ area: Double) -> SizeBucket? { FailureRow.sizeBucket(area, ranges: ranges) }
        let classOK = categories.map { query.admits(classId: $0.id, className: $0.name) }
        // What each kept key refers to: (cell, item), item >= 0 a detection slot, < 0 a ground truth.
        var refs: [(cell: Int32, item: Int32, iou: Double)] = []
        var keys: [FailureSortKey] = []
        var tally = [Int](repeating: 0, count: FailureRow.Kind.allCases.count)
        // When no row is wanted, counting is all there is to do.
        let countOnly = query.limit <= 0
        func add(_ kind: FailureRow.Kind, iou: Double, score: Double, area: Double, cell c: Int, item: Int) {
            guard query.admits(kind: kind, sizeBucket: bucket(area)) else { return }
            tally[kind.index] += 1
            if countOnly { return }
            keys.append(FailureSortKey(kind: kind, iou: iou, score: score, area: area, image: imageRank[cells[c].imageIndex],
                                       handle: refs.count))
            refs.append((Int32(c), Int32(item), iou))
        }
        for (c, cell) in cells.enumerated() where classOK[cell.categoryIndex] {
            let D = cell.detectionCount, G = cell.groundTruthCount
            // Ignored ground truth (crowd; LVIS's `ignore`) is never missed; area range "all" is a = 0.
            for g in 0..<G where !cell.gtIgnored[g] && !cell.gtMatched[t0 * G + g] {
                var best = 0.0
                for d in 0..<D { best = max(best, cell.ious[d * G + g]) }
                add(.missed, iou: best, score: FailureSortKey.noScore, area: cell.gtAreas[g], cell: c, item: -(g + 1))
            }
            for d in 0..<D {
                let f = cell.flags[t0 * D + d]  // area range "all" is a = 0
                // Matched to a ground truth with id 0: pycocotools counts it as unmatched (the
                // number is kept), but it is no failure.
                if f & 3 != 0 || cell.matches[t0 * D + d] >= 0 { continue }
                let (kind, iou) = FailureTable.detectionError(cell, d: d, t0: t0)
                add(kind, iou: iou, score: cell.scores[d], area: cell.dtAreas[d], cell: c, item: d)
            }
        }
        self.keys = keys
        self.tally = tally
        let kept = refs
        // A row's `ref`, made only for the rows written and for full ties in the sort.
        func reference(_ handle: Int) -> String {
            let r = kept[handle], cell = cells[Int(r.cell)]
            if r.item < 0 { return "annotation \(annotations[Int(cell.groundTruths[Int(-r.item - 1)])].id)" }
            return inputs.detectionEntry(Int(cell.detections[Int(r.item)]))
        }
        self.reference = reference
        row = { handle in
            let r = kept[handle]
            let cell = cells[Int(r.cell)]
            let image = images[cell.imageIndex], category = categories[cell.categoryIndex]
            let gt = inputs.groundTruth
            let name = image.fileName.isEmpty ? gt.idText(image) : image.fileName
            // A string id has no number to report; the row names the image by file (or its id text).
            let imageId: Int? = gt.imageIdNames.isEmpty ? image.id : nil
            if r.item < 0 {
                let g = Int(-r.item - 1), ann = annotations[Int(cell.groundTruths[g])]
                return FailureRow(image: name, imageId: imageId, classId: category.id, className: category.name,
                                  sizeBucket: bucket(cell.gtAreas[g]), area: cell.gtAreas[g], iou: r.iou, score: nil,
                                  kind: .missed, box: ann.bbox, reference: reference(handle))
            }
            let d = Int(r.item), index = Int(cell.detections[d])
            return FailureRow(image: name, imageId: imageId, classId: category.id, className: category.name,
                              sizeBucket: bucket(cell.dtAreas[d]), area: cell.dtAreas[d], iou: r.iou,
                              score: cell.scores[d], kind: FailureTable.detectionError(cell, d: d, t0: t0).kind,
                              box: detections[index].bbox ?? FailureTable.maskBox(index, image, inputs), reference: reference(handle))
        }
    }
}

/// The failure table of a run seen one batch of images at a time: the tallies added up, and the
/// first `limit` rows of everything so far kept with their keys. A row of the whole run's first
/// `limit` is among its batch's first `limit`, and the keys order rows of different batches as
/// one run does (the last tie-break, the reference, is unique), so the table is the one-run table.
struct FailureCollector {
    let query: FailureQuery
    private var tally = [Int](repeating: 0, count: FailureRow.Kind.allCases.count)
    private var best: [(key: FailureSortKey, reference: String, row: FailureRow)] = []

    init(query: FailureQuery) { self.query = query }

    mutating func add(_ batch: InstanceFailureKeys) {
        for i in tally.indices { tally[i] += batch.tally[i] }
        let limit = max(0, query.limit)
        guard limit > 0, !batch.keys.isEmpty else { return }
        let sort = query.sort
        let top = FailureTable.first(limit, of: batch.keys) { a, b in
            FailureSortKey.precedes(a, b, by: sort) { batch.reference($0) < batch.reference($1) }
        }
        let candidates = best + top.map { (key: $0, reference: batch.reference($0.handle), row: batch.row($0.handle)) }
        var keys = candidates.map(\.key)
        for i in keys.indices { keys[i].handle = i }
        best = FailureTable.first(limit, of: keys) { a, b in
            FailureSortKey.precedes(a, b, by: sort) { candidates[$0].reference < candidates[$1].reference }
        }.map { candidates[$0.handle] }
    }

    var table: FailureTable {
        var table = FailureTable(tally: tally, query: query)
        table.rows = best.map(\.row)
        return table
    }
}
