import SegCore
import SegEval

/// The engines' -1 for an undefined number (as the reference tools write it) as an optional.
func defined(_ value: Double?) -> Double? {
    guard let value, value > -1 else { return nil }
    return value
}

extension MetricsTable {
    /// The metrics view's table of an evaluated set: the columns of `segterm eval`'s per-class
    /// table, from the same numbers.
    public init(_ result: EvaluationResult) {
        switch result.engine {
        case .instance(let report, _, let tide): self = Self.instance(report, tide: tide)
        case .semantic(let ev): self = Self.semantic(ev)
        case .binary(let ev): self = Self.binary(ev)
        case .panoptic(let ev): self = Self.panoptic(ev)
        case .volume(let ev): self = Self.volume(ev)
        }
    }

    static func instance(_ report: InstanceReport, tide: TIDEResult?) -> MetricsTable {
        let ev = report.evaluation
        // AP by IoU and size, and the recall at the largest maxDets (AR100, or LVIS's AR@300).
        let names = ev.summary.names
        let columns = Array(names.prefix(6)) + [names.first { $0.hasPrefix("AR@") } ?? names[8]]
        let rows = ev.categories.indices.map { k in
            MetricsTable.Row(name: ev.categories[k].name, values: columns.map { defined(ev.perCategory[k][$0]) },
                             precisionCurve: ev.precisionCurve(category: k))
        }
        let rules = ev.params.evaluationProtocol == .lvis ? ", LVIS rules" : ""
        return MetricsTable(title: "instance (\(ev.params.iouType.rawValue)\(rules)), \(ev.images.count) images, \(report.detectionCount) detections",
                            rowLabel: "class", columns: columns, rows: rows,
                            summary: zip(names, ev.stats).map { ($0, $1) },
                            errors: tide.map { tide in TIDEResult.ErrorType.allCases.map { ($0.rawValue, tide.gains[$0] ?? 0) } } ?? [])
    }

    /// Volumes: nnU-Net's mean Dice and IoU per structure, and the surface metrics' means.
    static func volume(_ ev: VolumeEvaluation) -> MetricsTable {
        let rows = ev.dataset.structures.indices.map { s in
            MetricsTable.Row(name: ev.dataset.structures[s].name, values: [
                ev.mean(structure: s, metric: "Dice"), ev.mean(structure: s, metric: "IoU"),
                ev.surfaceMean(structure: s, \.hausdorff95).mean, ev.surfaceMean(structure: s, \.surfaceDice).mean,
            ].map { $0.isFinite ? $0 : nil })
        }
        return MetricsTable(title: "volume, \(ev.cases.count) cases", rowLabel: "structure", columns: ["Dice", "IoU", "HD95", "NSD"], rows: rows,
                            summary: [("Dice", ev.foregroundMean(metric: "Dice"))], errors: [])
    }

    static func semantic(_ ev: SemanticEvaluation) -> MetricsTable {
        let c = ev.cumulative
        let rows = ev.classes.indices.map { k in MetricsTable.Row(name: ev.classes[k], values: [c.iou[k], c.dice[k], c.precision[k], c.recall[k]].map(defined)) }
        return MetricsTable(title: "semantic, \(ev.images.count) images (dataset-cumulative)", rowLabel: "class",
                            columns: ["IoU", "Dice", "precision", "recall"], rows: rows,
                            summary: [("mIoU", c.meanIoU), ("mDice", c.meanDice), ("pixel acc", c.pixelAccuracy), ("fwIoU", c.frequencyWeightedIoU)],
                            errors: [])
    }

    static func binary(_ ev: BinaryEvaluation) -> MetricsTable {
        let rows = ev.images.map { r in
            MetricsTable.Row(name: r.stem, values: [defined(r.iou), r.groundTruthArea + r.predictedArea == 0 ? nil
                                                        : 2 * Double(r.intersection) / Double(r.groundTruthArea + r.predictedArea)])
        }
        return MetricsTable(title: "binary masks, \(ev.images.count) images", rowLabel: "image", columns: ["IoU", "Dice"], rows: rows,
                            summary: [("mean IoU", ev.meanIoU), ("cumulative IoU", ev.cumulativeIoU)], errors: [])
    }

    /// Panoptic: PQ, SQ and RQ per class (as `segterm eval`'s per-class table), and the three for
    /// all classes, then PQ of things and of stuff.
    static func panoptic(_ ev: PanopticEvaluation) -> MetricsTable {
        let rows = ev.categories.indices.map { k in
            let r = ev.perClass(k)
            return MetricsTable.Row(name: ev.categories[k].name, values: [r.pq, r.sq, r.rq])
        }
        return MetricsTable(title: "panoptic, \(ev.images.count) images", rowLabel: "class", columns: ["PQ", "SQ", "RQ"], rows: rows,
                            summary: [("PQ", ev.all.pq), ("SQ", ev.all.sq), ("RQ", ev.all.rq), ("PQ things", ev.things.pq),
                                      ("PQ stuff", ev.stuff.pq)],
                            errors: [])
    }
}
