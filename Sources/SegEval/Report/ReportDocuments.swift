import SegCore

// The reports `segterm eval` and `segterm compare` write, as Codable types: their declarations
// are the JSON keys in the printed order (see `JSONValue(encoding:)`), and a program reading a
// report decodes it with the same types. Undefined numbers are written as null (JSON has no
// NaN): fields that can be undefined are optional. COCO and LVIS numbers keep the tools' -1.

/// A metric value that may be undefined (NaN or infinite in the engine).
func defined(_ x: Double) -> Double? { x.isFinite ? x : nil }

/// `segterm eval` on instance masks or boxes.
public struct InstanceReportDocument: Codable, Sendable, Equatable {
    public struct PerClass: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var groundTruth: Int
        public var detections: Int
        /// The summary numbers of this class alone, under the names of `metrics`.
        public var metrics: NamedValues<Double>

        // The metrics sit beside id and name, not under a key of their own.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(groundTruth, forKey: .groundTruth)
            try c.encode(detections, forKey: .detections)
            try metrics.encode(to: encoder)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int.self, forKey: .id)
            name = try c.decode(String.self, forKey: .name)
            groundTruth = try c.decode(Int.self, forKey: .groundTruth)
            detections = try c.decode(Int.self, forKey: .detections)
            metrics = try NamedValues(from: decoder, excluding: ["id", "name", "groundTruth", "detections"])
        }

        init(id: Int, name: String, groundTruth: Int, detections: Int, metrics: NamedValues<Double>) {
            self.id = id; self.name = name; self.groundTruth = groundTruth; self.detections = detections; self.metrics = metrics
        }

        enum CodingKeys: String, CodingKey { case id, name, groundTruth, detections }
    }

    public var task = "instance"
    public var iouType: String
    public var groundTruth: String
    public var predictions: String
    public var images: Int
    public var categories: Int
    public var detections: Int
    /// "coco" (pycocotools' rules) or "lvis" (LVISEval's federated rules).
    public var evaluationProtocol: String
    /// pycocotools' 12 numbers (AR named by the maxDets given) or LVISEval's 13 results, then AP and
    /// AR of any extra area range.
    public var metrics: NamedValues<Double>
    /// The values of `metrics` in order (pycocotools' `stats` for the COCO protocol).
    public var stats: [Double]
    public var perClass: [PerClass]
    /// With `--tide`; the key is left out otherwise.
    public var tide: TIDEDocument?
    public var failures: FailureDocument

    enum CodingKeys: String, CodingKey {
        case task, iouType, groundTruth, predictions, images, categories, detections, metrics, stats, perClass, tide, failures
        case evaluationProtocol = "protocol"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task)
        try c.encode(iouType, forKey: .iouType)
        try c.encode(groundTruth, forKey: .groundTruth)
        try c.encode(predictions, forKey: .predictions)
        try c.encode(images, forKey: .images)
        try c.encode(categories, forKey: .categories)
        try c.encode(detections, forKey: .detections)
        try c.encode(evaluationProtocol, forKey: .evaluationProtocol)
        try c.encode(metrics, forKey: .metrics)
        try c.encode(stats, forKey: .stats)
        try c.encode(perClass, forKey: .perClass)
        if let tide { try c.encode(tide, forKey: .tide) }
        try c.encode(failures, forKey: .failures)
    }
}

/// TIDE's error breakdown: the AP50 gained by fixing each error type, overall, per size and per class.
public struct TIDEDocument: Codable, Sendable, Equatable {
    public struct PerClass: Codable, Sendable, Equatable {
        public var id: Int
        public var dAP: NamedValues<Double>
        public var special: NamedValues<Double>
    }

    public var mode: String
    public var AP50: Double
    public var dAP: NamedValues<Double>
    public var counts: NamedValues<Int>
    public var perSize: NamedValues<NamedValues<Double>>
    public var special: NamedValues<Double>
    public var perClass: [PerClass]
}

/// The failure table: the worst rows of the query's sort, and the count of each kind.
public struct FailureDocument: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var image: String
        public var imageId: Int?
        public var classId: Int?
        public var `class`: String
        /// small / medium / large, or "" when the row has no area bucket.
        public var size: String
        public var area: Double
        public var IoU: Double
        public var score: Double
        public var error: String
        /// [x, y, width, height], or null.
        public var bbox: [Double]?
        public var ref: String
    }

    public var counts: NamedValues<Int>
    public var total: Int
    public var sort: String
    public var rows: [Row]
}

/// `segterm eval` on semantic label maps.
public struct SemanticReportDocument: Codable, Sendable, Equatable {
    public struct Scores: Codable, Sendable, Equatable {
        public struct PerClass: Codable, Sendable, Equatable {
            public var id: Int
            public var name: String
            public var IoU, Dice, precision, recall: Double?
            public var groundTruthPixels, predictedPixels: Int
        }

        public var mIoU, mDice, pixelAccuracy, fwIoU: Double?
        public var perClass: [PerClass]
    }

    public struct BoundaryIoU: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var boundaryIoU: Double?
    }

    public struct PerImage: Codable, Sendable, Equatable {
        public var image: String
        public var mIoU, pixelAccuracy, mDice: Double?
    }

    public var task = "semantic"
    public var groundTruth: String
    public var predictions: String
    public var images: Int
    public var ignoreIndex: Int
    public var classes: [String]
    public var cumulative: Scores
    public var perImageMean: Scores
    /// Whether class 0 counts in the means (`--include-background`).
    public var includeBackground: Bool
    /// torchmetrics' MeanIoU: the mean over every (image, class) pair with a non-empty union.
    public var mIoUImageClassPairs: Double?
    /// Rows: ground-truth class; columns: predicted class, then the ignore value.
    public var confusion: [[Int]]
    /// Per class and size bucket: the recall ("small") and the segments counted ("smallSegments").
    public var segmentRecall: [ClassValues<Double?>]
    public var boundaryIoU: [BoundaryIoU]
    public var perImage: [PerImage]
    public var unpairedPredictions: [String]
    public var failures: FailureDocument
}

/// `segterm eval` on binary masks.
public struct BinaryReportDocument: Codable, Sendable, Equatable {
    public struct PerImage: Codable, Sendable, Equatable {
        public var image: String
        public var IoU: Double?
        public var intersection, union, groundTruthArea, predictedArea: Int
    }

    public var task = "binary"
    public var groundTruth: String
    public var predictions: String
    public var images: Int
    public var mIoU: Double?
    public var cumulativeIoU: Double?
    public var perImage: [PerImage]
    public var unpairedPredictions: [String]
    public var failures: FailureDocument
}

/// `segterm eval` on COCO panoptic PNGs and JSON.
public struct PanopticReportDocument: Codable, Sendable, Equatable {
    public struct Average: Codable, Sendable, Equatable {
        public var PQ, SQ, RQ: Double?
        public var N: Int
    }

    public struct PerClass: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var isthing: Bool
        public var PQ, SQ, RQ: Double?
        public var tp, fp, fn: Int
    }

    public var task = "panoptic"
    public var groundTruth: String
    public var predictions: String
    public var images: Int
    public var All: Average
    public var Things: Average
    public var Stuff: Average
    public var perClass: [PerClass]
    public var failures: FailureDocument
}

/// `segterm compare`: B − A with the paired bootstrap interval of the headline metric.
public struct ComparisonDocument: Codable, Sendable, Equatable {
    public struct Delta: Codable, Sendable, Equatable {
        public var a, b, delta: Double?
    }

    public struct Headline: Codable, Sendable, Equatable {
        public var metric: String
        public var a, b, delta: Double?
        public var ci95: [Double?]
        public var bootstrap: Int
        public var seed: Int
    }

    public struct PerImage: Codable, Sendable, Equatable {
        public var image: String
        public var a, b, delta: Double?
    }

    public var task: String
    public var groundTruth: String
    /// The two predictions files.
    public var a: String
    public var b: String
    public var headline: Headline
    /// Per class: metric name → A, B and B − A, in the metrics' order.
    public var perClass: [ClassValues<Delta>]
    public var perImageMetric: String
    public var perImage: [PerImage]
}

/// A class's id and name with values under names known only at run time, all in one object.
public struct ClassValues<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var values: NamedValues<Value>

    public init(id: Int, name: String, values: NamedValues<Value>) {
        self.id = id; self.name = name; self.values = values
    }

    enum CodingKeys: String, CodingKey { case id, name }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try values.encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        values = try NamedValues(from: decoder, excluding: ["id", "name"])
    }
}

/// Values under names known only at run time (a metric per name, a size bucket's label), kept in
/// the given order.
public struct NamedValues<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var pairs: [(name: String, value: Value)]

    public init(_ pairs: [(name: String, value: Value)]) { self.pairs = pairs }

    public subscript(name: String) -> Value? { pairs.first { $0.name == name }?.value }

    /// The same names with the same values, in any order (a decoded report's names come back sorted).
    public static func == (a: NamedValues, b: NamedValues) -> Bool {
        let x = a.pairs.sorted { $0.name < $1.name }, y = b.pairs.sorted { $0.name < $1.name }
        return x.count == y.count && zip(x, y).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Name.self)
        for (name, value) in pairs { try c.encode(value, forKey: Name(stringValue: name)) }
    }

    /// A decoder need not keep the file's key order; names come back sorted.
    public init(from decoder: any Decoder) throws { try self.init(from: decoder, excluding: []) }

    /// The values of an object that also holds fixed keys (`excluding`) beside the named ones.
    init(from decoder: any Decoder, excluding: Set<String>) throws {
        let c = try decoder.container(keyedBy: Name.self)
        pairs = try c.allKeys.filter { !excluding.contains($0.stringValue) }
            .map { ($0.stringValue, try c.decode(Value.self, forKey: $0)) }.sorted { $0.name < $1.name }
    }
}
