import SegCore

extension SemanticEvaluation {
    static func scoresJSON(_ s: SemanticScores, classes: [String]) -> JSONValue {
        .object([
            ("mIoU", .number(s.meanIoU)), ("mDice", .number(s.meanDice)),
            ("pixelAccuracy", .number(s.pixelAccuracy)), ("fwIoU", .number(s.frequencyWeightedIoU)),
            ("perClass", .array(classes.indices.map { c in
                .object([("id", .integer(c)), ("name", .string(classes[c])), ("IoU", .number(s.iou[c])), ("Dice", .number(s.dice[c])),
                         ("precision", .number(s.precision[c])), ("recall", .number(s.recall[c])),
                         ("groundTruthPixels", .integer(s.groundTruthPixels[c])), ("predictedPixels", .integer(s.predictedPixels[c]))])
            })),
        ])
    }

    public func json(groundTruth: String, predictions: String, failures: FailureTable) -> JSONValue {
        let K = classes.count
        let buckets = Self.sizeBuckets
        return .object([
            ("task", .string("semantic")),
            ("groundTruth", .string(groundTruth)),
            ("predictions", .string(predictions)),
            ("images", .integer(images.count)),
            ("ignoreIndex", .integer(Int(ignoreIndex))),
            ("classes", .array(classes.map { .string($0) })),
            ("cumulative", Self.scoresJSON(cumulative, classes: classes)),
            ("perImageMean", Self.scoresJSON(perImageMean, classes: classes)),
            ("confusion", .array((0..<K).map { g in .array((0...K).map { .integer(confusion[g * (K + 1) + $0]) }) })),
            ("segmentRecall", .array((0..<K).map { c in
                .object([("id", .integer(c)), ("name", .string(classes[c]))]
                        + buckets.indices.map { b in (buckets[b].label, .number(segmentRecall[c][b])) }
                        + buckets.indices.map { b in (buckets[b].label + "Segments", .integer(segmentCounts[c][b])) })
            })),
            ("boundaryIoU", .array((0..<K).map { c in .object([("id", .integer(c)), ("name", .string(classes[c])), ("boundaryIoU", .number(boundaryIoU[c]))]) })),
            ("perImage", .array(images.map { r in
                .object([("image", .string(r.stem)), ("mIoU", .number(r.scores.meanIoU)),
                         ("pixelAccuracy", .number(r.scores.pixelAccuracy)), ("mDice", .number(r.scores.meanDice))])
            })),
            ("unpairedPredictions", .array(unpairedPredictions.map { .string($0) })),
            ("failures", failures.json),
        ])
    }

    public var tables: [ReportTable] {
        var summary = ReportTable(title: "Semantic segmentation, \(images.count) images, \(classes.count) classes (ignore index \(ignoreIndex))",
                                  columns: ["metric", "cumulative", "per-image mean"])
        summary.rows = [
            ["mIoU", formatMetric(cumulative.meanIoU), formatMetric(perImageMean.meanIoU)],
            ["mDice", formatMetric(cumulative.meanDice), formatMetric(perImageMean.meanDice)],
            ["pixel accuracy", formatMetric(cumulative.pixelAccuracy), formatMetric(perImageMean.pixelAccuracy)],
            ["fwIoU", formatMetric(cumulative.frequencyWeightedIoU), formatMetric(perImageMean.frequencyWeightedIoU)],
        ]
        let ranked = ["IoU", "Dice", "precision", "recall", "IoU/img", "bIoU", "seg small", "seg medium", "seg large"]
        var perClass = ReportTable(title: "Per class (cumulative; IoU/img = per-image mean; bIoU = boundary IoU; seg = recall of ground-truth segments at IoU 0.5 by size)",
                                   columns: ["class", "id", "gt px", "pred px", "IoU", "Dice", "precision", "recall", "IoU/img", "bIoU",
                                             "seg small", "seg medium", "seg large"],
                                   ranked: Dictionary(uniqueKeysWithValues: ranked.map { ($0, true) }))
        for c in classes.indices {
            perClass.rows.append([classes[c], String(c), String(cumulative.groundTruthPixels[c]), String(cumulative.predictedPixels[c]),
                                  formatMetric(cumulative.iou[c]), formatMetric(cumulative.dice[c]), formatMetric(cumulative.precision[c]),
                                  formatMetric(cumulative.recall[c]), formatMetric(perImageMean.iou[c]), formatMetric(boundaryIoU[c]),
                                  formatMetric(segmentRecall[c][1]), formatMetric(segmentRecall[c][2]), formatMetric(segmentRecall[c][3])])
        }
        let K = classes.count
        var matrix = ReportTable(title: "Confusion (rows ground truth, columns prediction; 'other' = predicted value that is no class)",
                                 columns: ["gt \\ pred"] + classes + ["other"])
        for g in 0..<K { matrix.rows.append([classes[g]] + (0...K).map { String(confusion[g * (K + 1) + $0]) }) }
        return [summary, perClass, matrix]
    }

    public var csvTable: ReportTable {
        var table = ReportTable(title: "", columns: ["class", "id", "groundTruthPixels", "predictedPixels", "IoU", "Dice", "precision",
                                                     "recall", "IoU_perImageMean", "segmentRecall_all", "segmentRecall_small",
                                                     "segmentRecall_medium", "segmentRecall_large"])
        table.rows.append(["mean", "", "", "", JSONValue.format(cumulative.meanIoU), JSONValue.format(cumulative.meanDice), "", "",
                           JSONValue.format(perImageMean.meanIoU), "", "", "", ""])
        for c in classes.indices {
            table.rows.append([classes[c], String(c), String(cumulative.groundTruthPixels[c]), String(cumulative.predictedPixels[c]),
                               JSONValue.format(cumulative.iou[c]), JSONValue.format(cumulative.dice[c]),
                               JSONValue.format(cumulative.precision[c]), JSONValue.format(cumulative.recall[c]),
                               JSONValue.format(perImageMean.iou[c])] + segmentRecall[c].map { JSONValue.format($0) })
        }
        return table
    }
}

extension BinaryEvaluation {
    public func json(groundTruth: String, predictions: String, failures: FailureTable) -> JSONValue {
        .object([
            ("task", .string("binary")),
            ("groundTruth", .string(groundTruth)),
            ("predictions", .string(predictions)),
            ("images", .integer(images.count)),
            ("mIoU", .number(meanIoU)),
            ("cumulativeIoU", .number(cumulativeIoU)),
            ("perImage", .array(images.map { r in
                .object([("image", .string(r.stem)), ("IoU", .number(r.iou)), ("intersection", .integer(r.intersection)),
                         ("union", .integer(r.union)), ("groundTruthArea", .integer(r.groundTruthArea)),
                         ("predictedArea", .integer(r.predictedArea))])
            })),
            ("unpairedPredictions", .array(unpairedPredictions.map { .string($0) })),
            ("failures", failures.json),
        ])
    }

    public var tables: [ReportTable] {
        var summary = ReportTable(title: "Binary masks, \(images.count) images", columns: ["metric", "value"])
        summary.rows = [["mIoU (per-image mean)", formatMetric(meanIoU)], ["cumulative IoU", formatMetric(cumulativeIoU)]]
        var worst = ReportTable(title: "Worst images", columns: ["image", "IoU", "gt area", "pred area"], ranked: ["IoU": true])
        for r in images.sorted(by: { $0.iou < $1.iou }).prefix(10) {
            worst.rows.append([r.stem, formatMetric(r.iou), String(r.groundTruthArea), String(r.predictedArea)])
        }
        return [summary, worst]
    }

    public var csvTable: ReportTable {
        var table = ReportTable(title: "", columns: ["image", "IoU", "intersection", "union", "groundTruthArea", "predictedArea"])
        for r in images {
            table.rows.append([r.stem, JSONValue.format(r.iou), String(r.intersection), String(r.union), String(r.groundTruthArea),
                               String(r.predictedArea)])
        }
        return table
    }
}
