import SegCore

extension SemanticEvaluation {
    static func scoresDocument(_ s: SemanticScores, classes: [String]) -> SemanticReportDocument.Scores {
        .init(mIoU: defined(s.meanIoU), mDice: defined(s.meanDice), pixelAccuracy: defined(s.pixelAccuracy),
              fwIoU: defined(s.frequencyWeightedIoU),
              perClass: classes.indices.map { c in
                  .init(id: c, name: classes[c], IoU: defined(s.iou[c]), Dice: defined(s.dice[c]), precision: defined(s.precision[c]),
                        recall: defined(s.recall[c]), groundTruthPixels: s.groundTruthPixels[c], predictedPixels: s.predictedPixels[c])
              })
    }

    public func document(groundTruth: String, predictions: String, failures: FailureTable) -> SemanticReportDocument {
        let K = classes.count
        let buckets = Self.sizeBuckets
        return SemanticReportDocument(
            groundTruth: groundTruth, predictions: predictions, images: images.count, ignoreIndex: Int(ignoreIndex),
            classes: classes,
            cumulative: Self.scoresDocument(cumulative, classes: classes),
            perImageMean: Self.scoresDocument(perImageMean, classes: classes),
            includeBackground: includeBackground, mIoUImageClassPairs: defined(meanIoUOverImageClassPairs),
            confusion: (0..<K).map { g in (0...K).map { confusion[g * (K + 1) + $0] } },
            segmentRecall: (0..<K).map { c in
                .init(id: c, name: classes[c], values: NamedValues(
                    buckets.indices.map { b in (buckets[b].label, defined(segmentRecall[c][b])) }
                    + buckets.indices.map { b in (buckets[b].label + "Segments", Double(segmentCounts[c][b])) }))
            },
            boundaryIoU: (0..<K).map { c in .init(id: c, name: classes[c], boundaryIoU: defined(boundaryIoU[c])) },
            perImage: images.map { r in
                .init(image: r.stem, mIoU: defined(r.scores.meanIoU), pixelAccuracy: defined(r.scores.pixelAccuracy),
                      mDice: defined(r.scores.meanDice))
            },
            unpairedPredictions: unpairedPredictions, failures: failures.document)
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
    public func document(groundTruth: String, predictions: String, failures: FailureTable) -> BinaryReportDocument {
        BinaryReportDocument(
            groundTruth: groundTruth, predictions: predictions, images: images.count, mIoU: defined(meanIoU),
            cumulativeIoU: defined(cumulativeIoU),
            perImage: images.map { r in
                .init(image: r.stem, IoU: defined(r.iou), intersection: r.intersection, union: r.union,
                      groundTruthArea: r.groundTruthArea, predictedArea: r.predictedArea)
            },
            unpairedPredictions: unpairedPredictions, failures: failures.document)
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
