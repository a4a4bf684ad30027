import SegCore

extension VolumeEvaluation {
    /// nnU-Net's summary.json, byte for byte as `save_summary_json` writes it (json.dump with
    /// sort_keys and indent 4; NaN as NaN): per case the metrics per structure key and the two
    /// file paths, the nanmean per structure, and the foreground mean.
    public func summaryJSON() -> String {
        func number(_ d: Double, integer: Bool) -> PythonJSON {
            integer && d.isFinite && d == d.rounded() ? .int(Int(d)) : .float(d)
        }
        let metrics = Self.nnUNetMetrics
        let integerMetric = Set(["FP", "TP", "FN", "TN", "n_pred", "n_ref"])
        let perCase: [PythonJSON] = cases.map { c in
            .object([
                ("metrics", .object(dataset.structures.indices.map { s in
                    (dataset.structures[s].key, .object(metrics.map { m in
                        (m, number(Self.value(c.overlaps[s], m), integer: integerMetric.contains(m)))
                    }))
                })),
                ("prediction_file", .string(c.predictionFile)),
                ("reference_file", .string(c.referenceFile)),
            ])
        }
        let mean: PythonJSON = .object(dataset.structures.indices.map { s in
            (dataset.structures[s].key, .object(metrics.map { m in (m, .float(self.mean(structure: s, metric: m))) }))
        })
        let foreground: PythonJSON = .object(metrics.map { m in (m, .float(foregroundMean(metric: m))) })
        return PythonJSON.object([("foreground_mean", foreground), ("mean", mean), ("metric_per_case", .array(perCase))]).text(sortKeys: true)
    }

    /// Table rows per structure: nnU-Net's means and, when computed, the surface metrics' means.
    public var tables: [ReportTable] {
        var columns = ["structure", "key", "Dice", "IoU", "n_ref", "n_pred"]
        let surface = cases.first?.surfaces != nil
        if surface { columns += ["HD", "HD95", "ASD", "NSD@\(JSONValue.format(nsdTolerance))mm", "undefined", "missed lesions"] }
        var rows: [[String]] = dataset.structures.indices.map { s in
            var row = [dataset.structures[s].name, dataset.structures[s].key,
                       Self.cell(mean(structure: s, metric: "Dice")), Self.cell(mean(structure: s, metric: "IoU")),
                       Self.cell(mean(structure: s, metric: "n_ref")), Self.cell(mean(structure: s, metric: "n_pred"))]
            if surface {
                let hd = surfaceMean(structure: s, \.hausdorff), hd95 = surfaceMean(structure: s, \.hausdorff95)
                let asd = surfaceMean(structure: s, \.averageSurfaceDistance), nsd = surfaceMean(structure: s, \.surfaceDice)
                row += [Self.cell(hd.mean), Self.cell(hd95.mean), Self.cell(asd.mean), Self.cell(nsd.mean), String(hd.undefined),
                        String(cases.reduce(0) { $0 + $1.missedLesions[s].count })]
            }
            return row
        }
        rows.append(["foreground mean", "", Self.cell(foregroundMean(metric: "Dice")), Self.cell(foregroundMean(metric: "IoU")),
                     Self.cell(foregroundMean(metric: "n_ref")), Self.cell(foregroundMean(metric: "n_pred"))]
                    + (surface ? ["", "", "", "", "", ""] : []))
        let summary = ReportTable(title: "Volumes: \(cases.count) cases (nnU-Net's means; surface metrics in mm, averaged over the cases where both sides have the structure)",
                                  columns: columns, rows: rows, ranked: ["Dice": true, "IoU": true, "HD95": false, "NSD@\(JSONValue.format(nsdTolerance))mm": true])
        return [summary]
    }

    /// One CSV row per case and structure.
    public var csvTable: ReportTable {
        var rows: [[String]] = []
        for c in cases {
            for (s, st) in dataset.structures.enumerated() {
                let o = c.overlaps[s]
                var row = [c.name, st.name, st.key, Self.cell(o.dice), Self.cell(o.iou), String(o.tp), String(o.fp), String(o.fn), String(o.tn),
                           String(o.nPred), String(o.nRef)]
                if let sf = c.surfaces?[s] {
                    row += [Self.cell(sf.hausdorff), Self.cell(sf.hausdorff95), Self.cell(sf.averageSurfaceDistance), Self.cell(sf.surfaceDice)]
                } else {
                    row += ["", "", "", ""]
                }
                row.append(String(c.missedLesions[s].count))
                rows.append(row)
            }
        }
        return ReportTable(title: "", columns: ["case", "structure", "key", "Dice", "IoU", "TP", "FP", "FN", "TN", "n_pred", "n_ref",
                                                "HD", "HD95", "ASD", "NSD", "missed_lesions"], rows: rows)
    }

    static func cell(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return String(format4: d)
    }

    /// segterm's JSON report (`VolumeReportDocument`).
    public func document(groundTruth: String, predictions: String, failures: FailureTable) -> VolumeReportDocument {
        func num(_ d: Double) -> Double? { d.isFinite ? d : nil }
        let surface = cases.first?.surfaces != nil
        let structures = dataset.structures.indices.map { s in
            VolumeReportDocument.Structure(
                name: dataset.structures[s].name, key: dataset.structures[s].key, labels: dataset.structures[s].labels.map(Int.init),
                dice: num(mean(structure: s, metric: "Dice")), iou: num(mean(structure: s, metric: "IoU")),
                nRef: num(mean(structure: s, metric: "n_ref")), nPred: num(mean(structure: s, metric: "n_pred")),
                hd: surface ? num(surfaceMean(structure: s, \.hausdorff).mean) : nil,
                hd95: surface ? num(surfaceMean(structure: s, \.hausdorff95).mean) : nil,
                asd: surface ? num(surfaceMean(structure: s, \.averageSurfaceDistance).mean) : nil,
                nsd: surface ? num(surfaceMean(structure: s, \.surfaceDice).mean) : nil,
                surfaceUndefinedCases: surface ? surfaceMean(structure: s, \.hausdorff).undefined : nil,
                missedLesions: cases.reduce(0) { $0 + $1.missedLesions[s].count })
        }
        let perCase = cases.map { c in
            VolumeReportDocument.Case(
                name: c.name, referenceFile: c.referenceFile, predictionFile: c.predictionFile, spacing: c.geometry.spacing,
                orientation: c.geometry.orientation,
                structures: dataset.structures.indices.map { s in
                    let o = c.overlaps[s], sf = c.surfaces?[s]
                    return VolumeReportDocument.CaseStructure(
                        key: dataset.structures[s].key, dice: num(o.dice), iou: num(o.iou), tp: o.tp, fp: o.fp, fn: o.fn, tn: o.tn,
                        hd: sf.flatMap { num($0.hausdorff) }, hd95: sf.flatMap { num($0.hausdorff95) },
                        asd: sf.flatMap { num($0.averageSurfaceDistance) }, nsd: sf.flatMap { num($0.surfaceDice) },
                        missedLesionsMm3: c.missedLesions[s])
                })
        }
        return VolumeReportDocument(groundTruth: groundTruth, predictions: predictions, nsdToleranceMm: nsdTolerance,
                                    ignoreLabel: dataset.ignoreLabel.map(Int.init), foregroundDice: num(foregroundMean(metric: "Dice")),
                                    foregroundIoU: num(foregroundMean(metric: "IoU")), structures: structures, cases: perCase,
                                    notes: notes, failures: failures.document)
    }
}

/// The JSON of `eval --task volume`: means per structure, then every case. Undefined numbers
/// (nnU-Net's NaN, an infinite distance when one side is empty) are null; summary.json keeps
/// nnU-Net's NaN.
public struct VolumeReportDocument: Codable, Sendable, Equatable {
    public struct Structure: Codable, Sendable, Equatable {
        public var name: String, key: String, labels: [Int]
        public var dice: Double?, iou: Double?, nRef: Double?, nPred: Double?
        public var hd: Double?, hd95: Double?, asd: Double?, nsd: Double?
        public var surfaceUndefinedCases: Int?
        public var missedLesions: Int
        enum CodingKeys: String, CodingKey {
            case name, key, labels, dice = "Dice", iou = "IoU", nRef = "n_ref", nPred = "n_pred", hd = "HD", hd95 = "HD95", asd = "ASD", nsd = "NSD"
            case surfaceUndefinedCases = "surface_undefined_cases", missedLesions = "missed_lesions"
        }
    }
    public struct CaseStructure: Codable, Sendable, Equatable {
        public var key: String
        public var dice: Double?, iou: Double?
        public var tp: Int, fp: Int, fn: Int, tn: Int
        public var hd: Double?, hd95: Double?, asd: Double?, nsd: Double?
        public var missedLesionsMm3: [Double]
        enum CodingKeys: String, CodingKey {
            case key, dice = "Dice", iou = "IoU", tp = "TP", fp = "FP", fn = "FN", tn = "TN", hd = "HD", hd95 = "HD95", asd = "ASD", nsd = "NSD"
            case missedLesionsMm3 = "missed_lesions_mm3"
        }
    }
    public struct Case: Codable, Sendable, Equatable {
        public var name: String, referenceFile: String, predictionFile: String
        public var spacing: [Double], orientation: String
        public var structures: [CaseStructure]
        enum CodingKeys: String, CodingKey {
            case name = "case", referenceFile = "reference_file", predictionFile = "prediction_file", spacing, orientation, structures
        }
    }
    public var task = "volume"
    public var groundTruth: String, predictions: String
    public var nsdToleranceMm: Double
    public var ignoreLabel: Int?
    public var foregroundDice: Double?, foregroundIoU: Double?
    public var structures: [Structure]
    public var cases: [Case]
    public var notes: [String]
    public var failures: FailureDocument
    enum CodingKeys: String, CodingKey {
        case task, groundTruth = "ground_truth", predictions, nsdToleranceMm = "nsd_tolerance_mm", ignoreLabel = "ignore_label"
        case foregroundDice = "foreground_mean_Dice", foregroundIoU = "foreground_mean_IoU", structures, cases, notes, failures
    }
}

extension String {
    /// Four decimals, as the tables print metrics.
    init(format4 d: Double) {
        let scaled = (d * 10000).rounded()
        let negative = scaled < 0
        let whole = Int(abs(scaled)) / 10000, fraction = Int(abs(scaled)) % 10000
        let digits = String(fraction)
        self = (negative ? "-" : "") + "\(whole)." + String(repeating: "0", count: 4 - digits.count) + digits
    }
}

extension FailureTable {
    /// Volume failures: structures of a case with Dice below 0.5 (worst first) and missed lesions
    /// (largest first, the "area" column in mm³).
    public static func volume(_ ev: VolumeEvaluation, query: FailureQuery, file: String = "") throws(SegError) -> FailureTable {
        try query.checkClass(in: ev.dataset.structures.map { (id: nil, name: $0.name) }, file: file)
        var rows: [FailureRow] = []
        for c in ev.cases {
            for (s, st) in ev.dataset.structures.enumerated() {
                let dice = c.overlaps[s].dice
                if dice < 0.5 {
                    rows.append(FailureRow(image: c.name, imageId: nil, classId: nil, className: st.name, sizeBucket: nil,
                                           area: Double(c.overlaps[s].nRef) * c.geometry.voxelVolume, iou: dice, score: nil,
                                           kind: .lowDiceStructure, box: nil, reference: c.referenceFile))
                }
                for volume in c.missedLesions[s] {
                    rows.append(FailureRow(image: c.name, imageId: nil, classId: nil, className: st.name, sizeBucket: nil,
                                           area: volume, iou: 0, score: nil, kind: .missedLesion, box: nil, reference: c.referenceFile))
                }
            }
        }
        return selecting(rows, query: query)
    }
}

/// JSON as Python's json.dump writes it (indent 4, ", " / ": " separators, NaN and Infinity
/// bare, floats in repr form), for summary.json files that diff cleanly against nnU-Net's.
indirect enum PythonJSON {
    case int(Int)
    case float(Double)
    case string(String)
    case array([PythonJSON])
    case object([(String, PythonJSON)])

    func text(sortKeys: Bool, level: Int = 0) -> String {
        let pad = String(repeating: " ", count: 4 * (level + 1)), end = String(repeating: " ", count: 4 * level)
        switch self {
        case .int(let i): return String(i)
        case .float(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            return Self.repr(d)
        case .string(let s):
            var out = ""
            JSONValue.quote(s, into: &out)
            return out
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.text(sortKeys: sortKeys, level: level + 1) }.joined(separator: ",\n") + "\n" + end + "]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            let ordered = sortKeys ? pairs.sorted { $0.0 < $1.0 } : pairs
            return "{\n" + ordered.map { key, value in
                var k = ""
                JSONValue.quote(key, into: &k)
                return pad + k + ": " + value.text(sortKeys: sortKeys, level: level + 1)
            }.joined(separator: ",\n") + "\n" + end + "}"
        }
    }

    /// Python's float repr: the shortest round-trip digits (Swift's description gives them),
    /// exponent from 1e16 up and below 1e-4 as Python writes it.
    static func repr(_ d: Double) -> String {
        var s = "\(d)"
        if s.contains("e") {
            // Swift writes 1e-05 / 1e+16 as Python does, and 1.5e-05 likewise.
            return s
        }
        if !s.contains(".") { s += ".0" }
        return s
    }
}
