import SegCore

/// One prediction set evaluated: the engine's own result (for comparisons and drawing), the
/// failure table of the request's query, and the report in every form the CLI writes.
public struct EvaluationResult: Sendable {
    public enum Engine: Sendable {
        /// The report, the files as read (to draw a detection's mask) and, when asked, TIDE.
        case instance(InstanceReport, COCOInputs, tide: TIDEResult?)
        case semantic(SemanticEvaluation)
        case binary(BinaryEvaluation)
        case panoptic(PanopticEvaluation)
    }

    public var groundTruth: String
    public var predictions: String
    public var engine: Engine
    public var failures: FailureTable

    public var task: EvalRequest.Task {
        switch engine {
        case .instance: .instance
        case .semantic: .semantic
        case .binary: .binary
        case .panoptic: .panoptic
        }
    }

    /// One number per image, for lists that rank or flag images.
    public var imageScores: ImageScores {
        switch engine {
        case .instance(let report, _, _): ImageScores(instance: report.evaluation)
        case .semantic(let ev): ImageScores(semantic: ev)
        case .binary(let ev): ImageScores(binary: ev)
        case .panoptic(let ev): ImageScores(panoptic: ev)
        }
    }

    /// The report as JSON, terminal tables and CSV; the failure table is part of each.
    public var output: EvalOutput {
        switch engine {
        case .instance(let report, let inputs, let tide):
            var tables = [report.summaryTable, report.perClassTable]
            var extra: [(String, JSONValue)] = []
            if let tide {
                extra.append(("tide", tide.json))
                tables.append(tide.table(names: Dictionary(inputs.groundTruth.categories.map { ($0.id, $0.name) },
                                                           uniquingKeysWith: { a, _ in a })))
            }
            extra.append(("failures", failures.json))
            return EvalOutput(json: report.json.appending(extra), tables: tables + [failures.table], csv: report.csvTable)
        case .semantic(let ev):
            return EvalOutput(json: ev.json(groundTruth: groundTruth, predictions: predictions, failures: failures),
                              tables: ev.tables + [failures.table], csv: ev.csvTable)
        case .binary(let ev):
            return EvalOutput(json: ev.json(groundTruth: groundTruth, predictions: predictions, failures: failures),
                              tables: ev.tables + [failures.table], csv: ev.csvTable)
        case .panoptic(let ev):
            return EvalOutput(json: ev.json(groundTruth: groundTruth, predictions: predictions).appending([("failures", failures.json)]),
                              tables: ev.tables + [failures.table], csv: ev.csvTable)
        }
    }
}

extension JSONValue {
    /// An object with `pairs` added at its end (other values unchanged).
    func appending(_ pairs: [(String, JSONValue)]) -> JSONValue {
        guard case .object(let existing) = self else { return self }
        return .object(existing + pairs)
    }
}
