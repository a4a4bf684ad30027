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
        case volume(VolumeEvaluation)
    }

    public var groundTruth: String
    public var predictions: String
    public var engine: Engine
    public var failures: FailureTable
    /// Things in the inputs that make the numbers surprising though they are the reference tool's
    /// (printed by the CLI on stderr).
    public var warnings: [String] = []

    public var task: EvalRequest.Task {
        switch engine {
        case .instance: .instance
        case .semantic: .semantic
        case .binary: .binary
        case .panoptic: .panoptic
        case .volume: .volume
        }
    }

    /// One number per image, for lists that rank or flag images.
    public var imageScores: ImageScores {
        switch engine {
        case .instance(let report, _, _): ImageScores(instance: report.evaluation)
        case .semantic(let ev): ImageScores(semantic: ev)
        case .binary(let ev): ImageScores(binary: ev)
        case .panoptic(let ev): ImageScores(panoptic: ev)
        case .volume(let ev): ImageScores(volume: ev)
        }
    }

    /// The report as a Codable type: what the JSON output holds.
    public var report: EvalReport {
        switch engine {
        case .instance(let report, _, let tide):
            .instance(report.document(tide: tide, failures: failures))
        case .semantic(let ev):
            .semantic(ev.document(groundTruth: groundTruth, predictions: predictions, failures: failures))
        case .binary(let ev):
            .binary(ev.document(groundTruth: groundTruth, predictions: predictions, failures: failures))
        case .panoptic(let ev):
            .panoptic(ev.document(groundTruth: groundTruth, predictions: predictions, failures: failures))
        case .volume(let ev):
            .volume(ev.document(groundTruth: groundTruth, predictions: predictions, failures: failures))
        }
    }

    /// The report as JSON, terminal tables and CSV; the failure table is part of each.
    public var output: EvalOutput {
        switch engine {
        case .instance(let report, let inputs, let tide):
            var tables = [report.summaryTable, report.perClassTable]
            if let tide {
                tables.append(tide.table(names: Dictionary(inputs.groundTruth.categories.map { ($0.id, $0.name) },
                                                           uniquingKeysWith: { a, _ in a })))
            }
            return EvalOutput(report: self.report, tables: tables + [failures.table], csv: report.csvTable)
        case .semantic(let ev):
            return EvalOutput(report: report, tables: ev.tables + [failures.table], csv: ev.csvTable)
        case .binary(let ev):
            return EvalOutput(report: report, tables: ev.tables + [failures.table], csv: ev.csvTable)
        case .panoptic(let ev):
            return EvalOutput(report: report, tables: ev.tables + [failures.table], csv: ev.csvTable)
        case .volume(let ev):
            return EvalOutput(report: report, tables: ev.tables + [failures.table], csv: ev.csvTable)
        }
    }
}

/// The report of one evaluation, whichever the task: encoded as the task's document, and decoded
/// from a report file by its "task" key.
public enum EvalReport: Codable, Sendable, Equatable {
    case instance(InstanceReportDocument)
    case semantic(SemanticReportDocument)
    case binary(BinaryReportDocument)
    case panoptic(PanopticReportDocument)
    case volume(VolumeReportDocument)

    private enum TaskKey: String, CodingKey { case task }

    public init(from decoder: any Decoder) throws {
        let task = try decoder.container(keyedBy: TaskKey.self).decode(String.self, forKey: .task)
        switch task {
        case "instance": self = .instance(try InstanceReportDocument(from: decoder))
        case "semantic": self = .semantic(try SemanticReportDocument(from: decoder))
        case "binary": self = .binary(try BinaryReportDocument(from: decoder))
        case "panoptic": self = .panoptic(try PanopticReportDocument(from: decoder))
        case "volume": self = .volume(try VolumeReportDocument(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .task, in: try decoder.container(keyedBy: TaskKey.self),
                                                   debugDescription: "unknown task '\(task)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .instance(let d): try d.encode(to: encoder)
        case .semantic(let d): try d.encode(to: encoder)
        case .binary(let d): try d.encode(to: encoder)
        case .panoptic(let d): try d.encode(to: encoder)
        case .volume(let d): try d.encode(to: encoder)
        }
    }
}
