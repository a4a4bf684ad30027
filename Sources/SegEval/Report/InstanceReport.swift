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
    /// What reading another format into COCO changed (parts joined, shapes left out), one line each.
    public let notes: [String]

    public init(evaluation: COCOEvaluation, inputs: COCOInputs, notes: [String] = []) {
        let counts = Self.counts(categories: evaluation.categories, inputs: inputs)
        self.init(evaluation: evaluation, groundTruthFile: inputs.groundTruth.file, predictionsFile: inputs.results.file,
                  detectionCount: inputs.results.detections.count, groundTruthPerCategory: counts.groundTruth,
                  detectionsPerCategory: counts.detections, notes: notes)
    }

    /// The report of a merged sharded run, whose counts come from the shards.
    init(evaluation: COCOEvaluation, groundTruthFile: String, predictionsFile: String, detectionCount: Int,
         groundTruthPerCategory: [Int], detectionsPerCategory: [Int], notes: [String]) {
        self.evaluation = evaluation
        self.groundTruthFile = groundTruthFile
        self.predictionsFile = predictionsFile
        self.detectionCount = detectionCount
        self.groundTruthPerCategory = groundTruthPerCategory
        self.detectionsPerCategory = detectionsPerCategory
        self.notes = notes
    }

    /// The report with TIDE (when it ran) and the failure table.
    public func document(tide: TIDEResult?, failures: FailureTable) -> InstanceReportDocument {
        let ev = evaluation
        return InstanceReportDocument(
            iouType: ev.params.iouType.rawValue, groundTruth: groundTruthFile, predictions: predictionsFile,
            images: ev.images.count, categories: ev.categories.count, detections: detectionCount,
            evaluationProtocol: ev.params.evaluationProtocol.rawValue,
            metrics: NamedValues(zip(ev.summary.names, ev.stats).map { ($0, $1) }), stats: ev.stats,
            perClass: ev.categories.enumerated().map { k, c in
                .init(id: c.id, name: c.name, groundTruth: groundTruthPerCategory[k], detections: detectionsPerCategory[k],
                      metrics: NamedValues(zip(ev.perCategory[k].names, ev.perCategory[k].stats).map { ($0, $1) }))
            },
            tide: tide?.document, failures: failures.document)
    }

    public var summaryTable: ReportTable {
        let ev = evaluation
        let rules = ev.params.evaluationProtocol == .lvis ? "LVIS \(ev.params.iouType.rawValue) (lvis protocol, federated)"
            : "COCO \(ev.params.iouType.rawValue) (pycocotools protocol)"
        var table = ReportTable(title: "\(rules), \(ev.images.count) images, \(detectionCount) detections", columns: ["metric", "value"])
        for (name, value) in zip(ev.summary.names, ev.stats) {
            table.rows.append(["\(name.padding(7)) \(Self.label(name))", formatMetric(value)])
        }
        return table
    }

    /// What a summary name means, as pycocotools' and LVISEval's printouts say it.
    static func label(_ name: String) -> String {
        let areas = ["s": "small", "m": "medium", "l": "large"]
        let groups = ["r": "rare", "c": "common", "f": "frequent"]
        let kind = String(name.prefix(2))
        var rest = String(name.dropFirst(2))
        var maxDets = ""
        if let at = rest.firstIndex(of: "@") {
            maxDets = " maxDets=" + rest[rest.index(after: at)...]
            rest = String(rest[..<at])
        }
        switch rest {
        case "": return (kind == "AP" ? "AP @[.50:.95]" : "AR") + maxDets
        case "50", "75": return "AP @.\(rest)"
        case _ where rest.hasPrefix("_"): return "\(kind) area \(rest.dropFirst())" + maxDets
        case _ where areas[rest] != nil: return "\(kind) \(areas[rest]!)" + maxDets
        case _ where groups[rest] != nil: return "AP \(groups[rest]!)"
        default: return "AR maxDets=\(rest)"
        }
    }

    /// AP by IoU and size and the recall at the largest maxDets, per class.
    var perClassNames: [String] {
        let names = evaluation.summary.names
        return Array(names.prefix(6)) + [names.first { $0.hasPrefix("AR@") } ?? names[8]]
    }

    public var perClassTable: ReportTable {
        let names = perClassNames
        var table = ReportTable(title: "Per class", columns: ["class", "id", "gt", "dets"] + names,
                                ranked: Dictionary(uniqueKeysWithValues: names.map { ($0, true) }))
        for (k, c) in evaluation.categories.enumerated() {
            let s = evaluation.perCategory[k]
            table.rows.append([c.name, String(c.id), String(groundTruthPerCategory[k]), String(detectionsPerCategory[k])]
                              + names.map { formatMetric(s[$0] ?? -1) })
        }
        return table
    }

    /// CSV: one row per class plus an "all" row, every summary number in full precision.
    public var csvTable: ReportTable {
        var table = ReportTable(title: "", columns: ["class", "id", "groundTruth", "detections"] + evaluation.summary.names)
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
