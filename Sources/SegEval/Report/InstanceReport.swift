import SegCore

/// The instance evaluation as report data: JSON (pycocotools names, -1 where undefined), and
/// tables for the terminal and CSV.
public struct InstanceReport: Sendable {
    public let evaluation: COCOEvaluation
    public let groundTruthFile: String
    public let predictionsFile: String
    public let detectionCount: Int
    /// Non-crowd ground truth per category index, and detections per category index.
    public let groundTruthPerCategory: [Int]
    public let detectionsPerCategory: [Int]

    public init(evaluation: COCOEvaluation, inputs: COCOInputs) {
        self.evaluation = evaluation
        groundTruthFile = inputs.groundTruth.file
        predictionsFile = inputs.results.file
        detectionCount = inputs.results.detections.count
        var index: [Int: Int] = [:]
        for (k, c) in evaluation.categories.enumerated() { index[c.id] = k }
        var gt = [Int](repeating: 0, count: evaluation.categories.count)
        for a in inputs.groundTruth.annotations where !a.isCrowd { if let k = index[a.categoryId] { gt[k] += 1 } }
        var dt = [Int](repeating: 0, count: evaluation.categories.count)
        for d in inputs.results.detections { if let k = index[d.categoryId] { dt[k] += 1 } }
        groundTruthPerCategory = gt
        detectionsPerCategory = dt
    }

    /// The report with TIDE (when it ran) and the failure table.
    public func document(tide: TIDEResult?, failures: FailureTable) -> InstanceReportDocument {
        let ev = evaluation
        return InstanceReportDocument(
            iouType: ev.params.iouType.rawValue, groundTruth: groundTruthFile, predictions: predictionsFile,
            images: ev.images.count, categories: ev.categories.count, detections: detectionCount,
            metrics: COCOMetricsDocument(ev.summary), stats: ev.stats,
            perClass: ev.categories.enumerated().map { k, c in
                .init(id: c.id, name: c.name, groundTruth: groundTruthPerCategory[k], detections: detectionsPerCategory[k],
                      metrics: COCOMetricsDocument(ev.perCategory[k]))
            },
            tide: tide?.document, failures: failures.document)
    }

    public var summaryTable: ReportTable {
        var table = ReportTable(title: "COCO \(evaluation.params.iouType.rawValue) (pycocotools protocol), \(evaluation.images.count) images, \(detectionCount) detections",
                                columns: ["metric", "value"])
        let labels = ["AP @[.50:.95]", "AP @.50", "AP @.75", "AP small", "AP medium", "AP large",
                      "AR maxDets=1", "AR maxDets=10", "AR maxDets=100", "AR small", "AR medium", "AR large"]
        for (i, name) in COCOSummary.names.enumerated() {
            table.rows.append(["\(name.padding(5)) \(labels[i])", formatMetric(evaluation.stats[i])])
        }
        return table
    }

    public var perClassTable: ReportTable {
        let names = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"]
        var table = ReportTable(title: "Per class", columns: ["class", "id", "gt", "dets"] + names,
                                ranked: Dictionary(uniqueKeysWithValues: names.map { ($0, true) }))
        for (k, c) in evaluation.categories.enumerated() {
            let s = evaluation.perCategory[k]
            table.rows.append([c.name, String(c.id), String(groundTruthPerCategory[k]), String(detectionsPerCategory[k])]
                              + names.map { formatMetric(s[$0] ?? -1) })
        }
        return table
    }

    /// CSV: one row per class plus an "all" row, every COCO number in full precision.
    public var csvTable: ReportTable {
        var table = ReportTable(title: "", columns: ["class", "id", "groundTruth", "detections"] + COCOSummary.names)
        table.rows.append(["all", "", String(groundTruthPerCategory.reduce(0, +)), String(detectionCount)]
                          + evaluation.stats.map { JSONValue.format($0) })
        for (k, c) in evaluation.categories.enumerated() {
            table.rows.append([c.name, String(c.id), String(groundTruthPerCategory[k]), String(detectionsPerCategory[k])]
                              + evaluation.perCategory[k].stats.map { JSONValue.format($0) })
        }
        return table
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
