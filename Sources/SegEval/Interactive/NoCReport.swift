import SegCore

/// The report of one model's interactive benchmark: what `segterm noc` writes as JSON and the
/// workbench's metrics view reads back. Keys are snake_case as the interactive-segmentation
/// literature's tools write them. Reports written by hand or by older versions may lack the
/// fields marked optional; the others are required.
public struct NoCReport: Codable, Sendable, Equatable {
    public struct Click: Codable, Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var positive: Bool
    }

    /// One object's run.
    public struct PerImage: Codable, Sendable, Equatable {
        public var name: String
        public var clicks: [Click]
        public var ious: [Double]
        public var seconds: [Double]
        public var prepareSeconds: Double

        enum CodingKeys: String, CodingKey {
            case name, clicks, ious, seconds
            case prepareSeconds = "prepare_s"
        }
    }

    public var model: String
    public var imagesFolder: String?
    public var masksFolder: String?
    public var ignoreValue: UInt32?
    public var maxClicks: Int?
    /// Objects (one per image).
    public var objects: Int
    public var noc85: Double
    public var noc90: Double
    /// Objects that never reach 90 % IoU.
    public var overMax90: Int
    /// Objects whose NoC@90 equals the limit (RITM's count).
    public var nocAtMax90: Int?
    /// Mean IoU after click 1, 2, …
    public var meanIoU: [Double]
    public var secondsPerClick: Double?
    /// Mean seconds to prepare an image.
    public var prepareSeconds: Double?
    public var perImage: [PerImage]?

    enum CodingKeys: String, CodingKey {
        case model
        case imagesFolder = "images_dir"
        case masksFolder = "masks_dir"
        case ignoreValue = "ignore_value"
        case maxClicks = "max_clicks"
        case objects = "images"
        case noc85, noc90
        case overMax90 = "over_max_90"
        case nocAtMax90 = "noc90_at_max"
        case meanIoU = "miou_at"
        case secondsPerClick = "spc"
        case prepareSeconds = "prepare_s"
        case perImage = "per_image"
    }

    /// A run's report; `perImage` adds every object's clicks, IoUs and timings.
    public init(model: String, images: String, masks: String, ignoreValue: UInt32?, maxClicks: Int, run: NoCBatch.Output,
                perImage: Bool) {
        let summary = NoC.Summary(records: run.records, maxClicks: maxClicks)
        self.model = model
        imagesFolder = images
        masksFolder = masks
        self.ignoreValue = ignoreValue
        self.maxClicks = maxClicks
        objects = summary.images
        noc85 = summary.noc85
        noc90 = summary.noc90
        overMax90 = summary.overMax90
        nocAtMax90 = summary.nocAtMax90
        meanIoU = summary.miouAt
        secondsPerClick = summary.secondsPerClick
        prepareSeconds = run.prepareSeconds.isEmpty ? 0 : run.prepareSeconds.reduce(0, +) / Double(run.prepareSeconds.count)
        self.perImage = perImage ? zip(run.records, run.prepareSeconds).map { r, p in
            PerImage(name: r.name, clicks: r.clicks.map { Click(x: $0.x, y: $0.y, positive: $0.positive) }, ious: r.ious,
                     seconds: r.seconds, prepareSeconds: p)
        } : nil
    }

    /// The mean-IoU curve is read first, so a file that is no report at all says so by it; counts
    /// must be whole and non-negative, and the curve non-empty.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        meanIoU = try c.decode([Double].self, forKey: .meanIoU)
        guard !meanIoU.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .meanIoU, in: c, debugDescription: "is empty") }
        func count(_ key: CodingKeys) throws -> Int {
            guard let n = Int(exactly: try c.decode(Double.self, forKey: key)), n >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be a count")
            }
            return n
        }
        objects = try count(.objects)
        overMax90 = try count(.overMax90)
        noc85 = try c.decode(Double.self, forKey: .noc85)
        noc90 = try c.decode(Double.self, forKey: .noc90)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? "?"
        imagesFolder = try c.decodeIfPresent(String.self, forKey: .imagesFolder)
        masksFolder = try c.decodeIfPresent(String.self, forKey: .masksFolder)
        ignoreValue = try c.decodeIfPresent(UInt32.self, forKey: .ignoreValue)
        maxClicks = try c.decodeIfPresent(Int.self, forKey: .maxClicks)
        nocAtMax90 = try c.contains(.nocAtMax90) ? count(.nocAtMax90) : nil
        secondsPerClick = try c.decodeIfPresent(Double.self, forKey: .secondsPerClick)
        prepareSeconds = try c.decodeIfPresent(Double.self, forKey: .prepareSeconds)
        perImage = try c.decodeIfPresent([PerImage].self, forKey: .perImage)
    }
}

/// Two models on the same objects: both reports and their paired comparison,
/// `{"models": [A, B], "paired": {...}}`.
public struct NoCPairReport: Codable, Sendable, Equatable {
    public struct Difference: Codable, Sendable, Equatable {
        public var name: String
        public var a: Int
        public var b: Int
        public var delta: Int
    }

    public struct Paired: Codable, Sendable, Equatable {
        public var metric = "noc90"
        public var meanDelta: Double
        public var ci95: [Double]
        public var bootstrap: Int
        public var seed: UInt64
        public var bWins: [Difference]
        public var aWins: [Difference]
        public var perImage: [Difference]

        enum CodingKeys: String, CodingKey {
            case metric, ci95, bootstrap, seed
            case meanDelta = "mean_delta"
            case bWins = "b_wins"
            case aWins = "a_wins"
            case perImage = "per_image"
        }
    }

    public var models: [NoCReport]
    public var paired: Paired

    /// The objects where each model wins most: five of each, as the table lists them.
    public init(_ a: NoCReport, _ b: NoCReport, _ p: PairedNoC) {
        func difference(_ d: PairedNoC.Difference) -> Difference { Difference(name: d.name, a: d.a, b: d.b, delta: d.delta) }
        models = [a, b]
        paired = Paired(meanDelta: p.meanDelta, ci95: [p.interval.low, p.interval.high], bootstrap: p.replicates, seed: p.seed,
                        bWins: p.bWins(5).map(difference), aWins: p.aWins(5).map(difference), perImage: p.differences.map(difference))
    }
}
