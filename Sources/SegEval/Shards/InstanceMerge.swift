import Foundation
import SegCore

/// The instance partials of one run decoded, checked and put back together (`Evaluation.merge`).
struct InstanceMerge {
    let paths: [String]
    let partials: [EvalPartial]
    let query: FailureQuery
    let workers: Int

    func result() throws -> EvaluationResult {
        let head = partials[0], file = paths[0]
        guard let meta = head.instance else { throw SegError(.unsupported, file: file, "not an instance partial") }
        let params = try meta.params.params(file: file)
        let n = meta.imageIds.count, K = meta.categoryIds.count
        guard meta.imageWidths.count == n, meta.imageHeights.count == n, meta.imageFileNames.count == n,
              meta.imageIdTexts.map({ $0.count == n }) ?? true, meta.categoryNames.count == K, meta.categoryFrequencies.count == K,
              meta.groundTruthPerCategory.count == K, meta.detectionsPerCategory.count == K,
              meta.groundTruthCount >= 0, meta.detectionCount >= 0 else {
            throw SegError(.corrupt, file: file, "the image or category lists differ in length")
        }
        let images = (0..<n).map { COCOImage(id: meta.imageIds[$0], width: meta.imageWidths[$0], height: meta.imageHeights[$0],
                                             fileName: meta.imageFileNames[$0]) }
        let categories = (0..<K).map { COCOCategory(id: meta.categoryIds[$0], name: meta.categoryNames[$0],
                                                    frequency: meta.categoryFrequencies[$0]) }
        // Placeholders for what no cell refers to; the cells' indices keep pointing where they did.
        let placeholder = COCOAnnotation(id: -1, imageId: -1, categoryId: -1)
        var annotations = [COCOAnnotation](repeating: placeholder, count: meta.groundTruthCount)
        var detections = [COCOAnnotation](repeating: placeholder, count: meta.detectionCount)
        var cellsByImage = [[COCOImageCategoryEval]](repeating: [], count: n)
        var owner = [Int](repeating: -1, count: n)
        var outcomes = [TIDE.ImageOutcome?](repeating: nil, count: n)
        let wantTIDE = meta.tide != nil
        for (p, (path, partial)) in zip(paths, partials).enumerated() {
            guard let part = partial.instance, part.imageIds == meta.imageIds, part.categoryIds == meta.categoryIds,
                  part.groundTruthCount == meta.groundTruthCount, part.detectionCount == meta.detectionCount,
                  (part.tide != nil) == wantTIDE else {
                throw SegError(.invalid, file: path, "its images, categories or counts differ from \(file)'s though the inputs are the same")
            }
            for i in try PartialBlob.integers(part.ownedImages, as: Int32.self, field: "ownedImages", file: path).map(Int.init) {
                guard i >= 0, i < n else { throw SegError(.corrupt, file: path, "image index \(i) out of range") }
                guard owner[i] < 0 else {
                    throw SegError(.invalid, file: path, "image \(meta.imageIds[i]) is also in \(paths[owner[i]]): the shards overlap")
                }
                owner[i] = p
            }
            try decodeCells(part, path: path, images: images, categoryIds: meta.categoryIds, params: params,
                            annotations: &annotations, detections: &detections, cellsByImage: &cellsByImage, owns: { owner[$0] == p })
            if let tide = part.tide {
                guard tide.positions.count == tide.outcomes.count else { throw SegError(.corrupt, file: path, "TIDE lists differ in length") }
                for (position, record) in zip(tide.positions, tide.outcomes) {
                    guard position >= 0, position < n, outcomes[position] == nil else {
                        throw SegError(.corrupt, file: path, "TIDE image position \(position) out of range or given twice")
                    }
                    outcomes[position] = try record.outcome(file: path)
                }
            }
        }
        if let lost = owner.firstIndex(of: -1) {
            throw SegError(.invalid, file: file, "image \(meta.imageIds[lost]) is in no shard: the partials do not cover the run")
        }
        var gt = COCOGroundTruth(file: head.fingerprint.groundTruth, images: images, categories: categories, annotations: annotations)
        if let texts = meta.imageIdTexts { for (i, id) in meta.imageIds.enumerated() { gt.imageIdNames[id] = texts[i] } }
        let inputs = COCOInputs(groundTruth: gt, results: COCOResults(file: head.fingerprint.predictions, detections: detections,
                                                                      areaFromBox: false),
                                evaluationProtocol: params.evaluationProtocol)
        let evaluation = COCOEvaluation(params: params, inputs: inputs, images: images, categories: categories,
                                        cells: cellsByImage.flatMap { $0 }, workers: workers)
        let report = InstanceReport(evaluation: evaluation, groundTruthFile: head.fingerprint.groundTruth,
                                    predictionsFile: head.fingerprint.predictions, detectionCount: meta.detectionCount,
                                    groundTruthPerCategory: meta.groundTruthPerCategory, detectionsPerCategory: meta.detectionsPerCategory,
                                    notes: meta.notes)
        try query.checkClass(in: categories.map { (id: $0.id, name: $0.name) }, file: head.fingerprint.groundTruth)
        let failures = FailureTable.instanceFailures(evaluation, inputs: inputs, query: query)
        var tide: TIDEResult?
        if let mask = meta.tide?.mask {
            let ordered = outcomes.compactMap { $0 }
            guard ordered.count == n else { throw SegError(.invalid, file: file, "TIDE records do not cover every image") }
            tide = TIDE.summarize(ordered, mask: mask, sizes: TIDE.sizeBuckets(params.areaRanges))
        }
        var result = EvaluationResult(groundTruth: head.fingerprint.groundTruth, predictions: head.fingerprint.predictions,
                                      engine: .instance(report, inputs, tide: tide), failures: failures)
        let zero = inputs.groundTruth.annotations.first { $0.id == 0 }
        result.warnings = meta.notes + Evaluation.instanceWarnings(params, zeroIdImage: zero?.imageId, groundTruth: head.fingerprint.groundTruth)
        return result
    }

    /// One partial's cells, each length and index checked, into `cellsByImage`; the annotations and
    /// detections they refer to get the ids, classes and boxes the failure table prints.
    private func decodeCells(_ part: InstancePartial, path: String, images: [COCOImage], categoryIds: [Int], params: COCOEvalParams,
                             annotations: inout [COCOAnnotation], detections: inout [COCOAnnotation],
                             cellsByImage: inout [[COCOImageCategoryEval]], owns: (Int) -> Bool) throws {
        func ints(_ d: Data, _ field: String, _ count: Int? = nil) throws -> [Int32] {
            try PartialBlob.integers(d, as: Int32.self, count: count, field: field, file: path)
        }
        func doubles(_ d: Data, _ field: String, _ count: Int) throws -> [Double] {
            try PartialBlob.doubles(d, count: count, field: field, file: path)
        }
        func bools(_ d: Data, _ field: String, _ count: Int) throws -> [Bool] { try PartialBlob.bools(d, count: count, field: field, file: path) }
        let K = categoryIds.count
        let cellImage = try ints(part.cellImage, "cellImage")
        let C = cellImage.count
        let cellCategory = try ints(part.cellCategory, "cellCategory", C)
        let cellD = try ints(part.cellD, "cellD", C).map(Int.init), cellG = try ints(part.cellG, "cellG", C).map(Int.init)
        guard cellD.allSatisfy({ $0 >= 0 && $0 <= params.maxDetLimit }), cellG.allSatisfy({ $0 >= 0 && $0 <= annotations.count }) else {
            throw SegError(.corrupt, file: path, "a cell's detection or ground-truth count is out of range")
        }
        let T = params.iouThresholds.count, A = params.areaRanges.count
        let sumD = cellD.reduce(0, +), sumG = cellG.reduce(0, +)
        let sumDG = zip(cellD, cellG).reduce(0) { $0 + ($1.0 > 0 && $1.1 > 0 ? $1.0 * $1.1 : 0) }
        let dets = try ints(part.detections, "detections", sumD), gts = try ints(part.groundTruths, "groundTruths", sumG)
        let ious = try doubles(part.ious, "ious", sumDG), scores = try doubles(part.scores, "scores", sumD)
        let gtAreas = try doubles(part.gtAreas, "gtAreas", sumG), dtAreas = try doubles(part.dtAreas, "dtAreas", sumD)
        let cross = try doubles(part.crossClassIoU, "crossClassIoU", sumD)
        let crowd = try bools(part.gtCrowd, "gtCrowd", sumG)
        let nonIgnored = try ints(part.nonIgnoredCount, "nonIgnoredCount", A * C)
        let flags = try PartialBlob.integers(part.flags, as: UInt8.self, count: A * T * sumD, field: "flags", file: path)
        let matches = try ints(part.matches, "matches", T * sumD)
        let gtMatched = try bools(part.gtMatched, "gtMatched", T * sumG), gtIgnored = try bools(part.gtIgnored, "gtIgnored", A * sumG)
        let gtIds = try PartialBlob.integers(part.gtAnnotationIds, as: Int64.self, count: sumG, field: "gtAnnotationIds", file: path)
        let gtBoxes = try doubles(part.gtBoxes, "gtBoxes", 4 * sumG), gtHasBox = try bools(part.gtHasBox, "gtHasBox", sumG)
        let dtBoxes = try doubles(part.dtBoxes, "dtBoxes", 4 * sumD), dtHasBox = try bools(part.dtHasBox, "dtHasBox", sumD)
        let dtPositions = try ints(part.dtPositions, "dtPositions", sumD)
        func box(_ flat: [Double], _ at: Int, _ present: Bool) -> COCOBox? {
            present ? COCOBox(x: flat[4 * at], y: flat[4 * at + 1], width: flat[4 * at + 2], height: flat[4 * at + 3]) : nil
        }
        var d0 = 0, g0 = 0, dg0 = 0
        for c in 0..<C {
            let i = Int(cellImage[c]), k = Int(cellCategory[c]), D = cellD[c], G = cellG[c]
            guard i >= 0, i < images.count, k >= 0, k < K, owns(i) else {
                throw SegError(.corrupt, file: path, "cell \(c): image or category index out of range, or an image the shard does not own")
            }
            let dRange = d0..<(d0 + D), gRange = g0..<(g0 + G), DG = D > 0 && G > 0 ? D * G : 0
            let cellDets = Array(dets[dRange]), cellGts = Array(gts[gRange])
            guard cellDets.allSatisfy({ $0 >= 0 && Int($0) < detections.count }), cellGts.allSatisfy({ $0 >= 0 && Int($0) < annotations.count }) else {
                throw SegError(.corrupt, file: path, "cell \(c): a detection or annotation index out of range")
            }
            // Each cell's tables lie one after another, in the cell's own layout.
            let cellMatches = Array(matches[(T * d0)..<(T * (d0 + D))])
            guard cellMatches.allSatisfy({ $0 >= -1 && Int($0) < G }) else { throw SegError(.corrupt, file: path, "cell \(c): a match out of range") }
            let category = categoryIds[k]
            for (j, g) in gRange.enumerated() {
                annotations[Int(cellGts[j])] = COCOAnnotation(id: Int(gtIds[g]), imageId: images[i].id, categoryId: category,
                                                              bbox: box(gtBoxes, g, gtHasBox[g]), isCrowd: crowd[g])
            }
            for (j, d) in dRange.enumerated() {
                var detection = COCOAnnotation(id: 0, imageId: images[i].id, categoryId: category, bbox: box(dtBoxes, d, dtHasBox[d]),
                                               score: scores[d])
                detection.filePosition = dtPositions[d]
                detections[Int(cellDets[j])] = detection
            }
            let tables = COCOImageCategoryEval.Tables(
                detections: cellDets, groundTruths: cellGts, ious: Array(ious[dg0..<(dg0 + DG)]), scores: Array(scores[dRange]),
                gtAreas: Array(gtAreas[gRange]), dtAreas: Array(dtAreas[dRange]), gtCrowd: Array(crowd[gRange]),
                nonIgnoredCount: Array(nonIgnored[(A * c)..<(A * c + A)]),
                flags: Array(flags[(A * T * d0)..<(A * T * (d0 + D))]), matches: cellMatches,
                gtMatched: Array(gtMatched[(T * g0)..<(T * (g0 + G))]), gtIgnored: Array(gtIgnored[(A * g0)..<(A * (g0 + G))]),
                crossClassIoU: Array(cross[dRange]))
            cellsByImage[i].append(COCOImageCategoryEval(imageIndex: i, categoryIndex: k, tables: tables))
            d0 += D; g0 += G; dg0 += DG
        }
    }
}
