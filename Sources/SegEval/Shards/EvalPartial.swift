import Foundation
import SegCore

/// What one shard of a sharded evaluation writes (`segterm eval --shard I/N --partial-out PART`)
/// and `segterm eval merge` puts together: the shard, a fingerprint of the parameters and inputs,
/// and the per-image records that accumulation, TIDE and the failure table read. Every shard of a
/// run has the same fingerprint; the merge refuses anything else.
public struct EvalPartial: Codable, Sendable {
    public static let formatName = "segterm-eval-partial"
    /// Bumped whenever a field changes meaning.
    public static let formatVersion = 1

    public var format = EvalPartial.formatName
    public var version = EvalPartial.formatVersion
    public var shardIndex: Int
    public var shardCount: Int
    public var fingerprint: Fingerprint
    public var instance: InstancePartial?
    var semantic: SemanticPartial?
    var panoptic: PanopticPartial?
    var binary: BinaryPartial?

    /// The shard's identity and everything that must agree across shards for the merge to be the
    /// unsharded run: the split, the task, the parameters (a canonical text), and the inputs' digests.
    public struct Fingerprint: Codable, Sendable, Equatable {
        public var splitVersion = Shard.splitVersion
        public var task: String
        public var parameters: String
        public var groundTruth: String
        public var groundTruthSHA256: String
        public var predictions: String
        public var predictionsSHA256: String
    }

    public var shard: Shard {
        get throws { try Shard(index: shardIndex, count: shardCount) }
    }

    public func write(to path: String) throws { try PartialFile.write(self, to: path) }

    public static func read(_ path: String) throws -> EvalPartial {
        let partial = try PartialFile.read(path, as: EvalPartial.self, what: "partial evaluation", format: { ($0.format, $0.version) },
                                           expected: (formatName, formatVersion))
        do { _ = try partial.shard } catch let error as SegError { throw error.about(path) }
        return partial
    }
}

extension COCOEvalParams {
    /// The parameters as one canonical line: every field that changes a number, doubles by their
    /// bit patterns (so 0.1 written two ways is the same parameter only when it is the same double).
    var canonicalText: String {
        func bits(_ values: [Double]) -> String { values.map { String($0.bitPattern, radix: 16) }.joined(separator: ",") }
        let ranges = areaRanges.map { "\($0.label)=\(bits([$0.min, $0.max]))" }.joined(separator: ";")
        return "iouType=\(iouType.rawValue) protocol=\(evaluationProtocol.rawValue) useCats=\(useCategories) "
            + "imgIds=\(imageIds.map { $0.map(String.init).joined(separator: ",") } ?? "all") iouThrs=\(bits(iouThresholds)) "
            + "recThrs=\(bits(recallThresholds)) maxDets=\(maxDets.map(String.init).joined(separator: ",")) areaRng=\(ranges) "
            + "boundaryDilation=\(bits([boundaryDilationRatio]))"
    }
}

/// `COCOEvalParams` in a partial file (doubles by bit pattern).
struct ParamsRecord: Codable, Sendable {
    var iouType: String
    var evaluationProtocol: String
    var useCategories: Bool
    var imageIds: [Int]?
    var iouThresholds: Data
    var recallThresholds: Data
    var maxDets: [Int]
    var areaLabels: [String]
    var areaBounds: Data
    var boundaryDilationRatio: UInt64

    init(_ p: COCOEvalParams) {
        iouType = p.iouType.rawValue
        evaluationProtocol = p.evaluationProtocol.rawValue
        useCategories = p.useCategories
        imageIds = p.imageIds
        iouThresholds = PartialBlob.data(p.iouThresholds)
        recallThresholds = PartialBlob.data(p.recallThresholds)
        maxDets = p.maxDets
        areaLabels = p.areaRanges.map(\.label)
        areaBounds = PartialBlob.data(p.areaRanges.flatMap { [$0.min, $0.max] })
        boundaryDilationRatio = p.boundaryDilationRatio.bitPattern
    }

    func params(file: String) throws -> COCOEvalParams {
        guard let type = COCOIoUType(rawValue: iouType), let rules = EvaluationProtocol(rawValue: evaluationProtocol) else {
            throw SegError(.corrupt, file: file, "unknown IoU type \(iouType) or protocol \(evaluationProtocol)")
        }
        var p = COCOEvalParams(iouType: type)
        p.evaluationProtocol = rules
        p.useCategories = useCategories
        p.imageIds = imageIds
        p.iouThresholds = try PartialBlob.doubles(iouThresholds, field: "iouThresholds", file: file)
        p.recallThresholds = try PartialBlob.doubles(recallThresholds, field: "recallThresholds", file: file)
        p.maxDets = maxDets
        let bounds = try PartialBlob.doubles(areaBounds, count: 2 * areaLabels.count, field: "areaBounds", file: file)
        p.areaRanges = areaLabels.enumerated().map { COCOAreaRange(label: $1, min: bounds[2 * $0], max: bounds[2 * $0 + 1]) }
        p.boundaryDilationRatio = Double(bitPattern: boundaryDilationRatio)
        guard !p.iouThresholds.isEmpty, !p.recallThresholds.isEmpty, !p.maxDets.isEmpty, !p.areaRanges.isEmpty,
              p.maxDets.allSatisfy({ $0 > 0 }) else {
            throw SegError(.corrupt, file: file, "empty or invalid evaluation parameters")
        }
        return p
    }
}
