import Foundation
import SegCore

/// What one shard of a sharded interactive benchmark writes (`segterm noc --shard I/N
/// --partial-out PART`) and `segterm noc merge` puts together: each model's records (clicks, IoUs,
/// timings) for the objects the shard owns, split by file stem, and a fingerprint of the run. An
/// object's clicks depend only on that object and the model, so the union of the shards' records,
/// put back in stem order, is the unsharded run's.
public struct NoCPartial: Codable, Sendable {
    public static let formatName = "segterm-noc-partial"
    /// Bumped whenever a field changes meaning.
    public static let formatVersion = 1

    public var format = NoCPartial.formatName
    public var version = NoCPartial.formatVersion
    public var shardIndex: Int
    public var shardCount: Int
    public var fingerprint: Fingerprint
    /// One per model, in the order of `--model`.
    public var runs: [Run]

    /// Everything that must agree across the shards for their union to be one run.
    public struct Fingerprint: Codable, Sendable, Equatable {
        public var splitVersion = Shard.splitVersion
        public var maxClicks: Int
        public var ignoreValue: UInt32?
        /// `--limit`: only the first N pairs in stem order.
        public var limit: Int?
        /// Each `--model` as given, with the size and modification time of a checkpoint file.
        public var models: [String]
        public var images: String
        public var imagesSHA256: String
        public var masks: String
        public var masksSHA256: String
        /// The objects of the whole run: the merge checks that the shards hold them all.
        public var objects: Int
    }

    public struct Run: Codable, Sendable {
        public var model: String
        public var records: [NoC.Record]
        /// Seconds `prepare` took per object, index as `records`.
        public var prepareSeconds: [Double]

        public init(model: String, output: NoCBatch.Output) {
            self.model = model
            records = output.records
            prepareSeconds = output.prepareSeconds
        }
    }

    public init(shard: Shard, fingerprint: Fingerprint, runs: [Run]) {
        shardIndex = shard.index
        shardCount = shard.count
        self.fingerprint = fingerprint
        self.runs = runs
    }

    public var shard: Shard {
        get throws { try Shard(index: shardIndex, count: shardCount) }
    }

    /// The fingerprint of a run over these folders with these settings. Folders are digested by
    /// their files' names, sizes and modification times (`InputDigest`), a checkpoint by its size
    /// and time: hashing gigabytes in every shard would cost more than many shards' work.
    public static func fingerprint(images: String, masks: String, models: [String], maxClicks: Int, ignoreValue: UInt32?,
                                   limit: Int?, objects: Int) throws -> Fingerprint {
        let stamped = models.map { model in
            FileIO.stamp(model).map { "\(model) \($0)" } ?? model
        }
        return Fingerprint(maxClicks: maxClicks, ignoreValue: ignoreValue, limit: limit, models: stamped,
                           images: images, imagesSHA256: try InputDigest.sha256(images), masks: masks, masksSHA256: try InputDigest.sha256(masks), objects: objects)
    }

    public func write(to path: String) throws { try PartialFile.write(self, to: path) }

    public static func read(_ path: String) throws -> NoCPartial {
        let partial = try PartialFile.read(path, as: NoCPartial.self, what: "partial interactive benchmark",
                                           format: { ($0.format, $0.version) }, expected: (formatName, formatVersion))
        do { _ = try partial.shard } catch let error as SegError { throw error.about(path) }
        let clicks = partial.fingerprint.maxClicks
        guard (1...1000).contains(clicks), partial.fingerprint.objects >= 0, !partial.runs.isEmpty, partial.runs.count <= 2 else {
            throw SegError(.corrupt, file: path, "invalid settings or no runs")
        }
        for run in partial.runs {
            guard run.prepareSeconds.count == run.records.count else {
                throw SegError(.corrupt, file: path, "\(run.model): \(run.records.count) records but \(run.prepareSeconds.count) preparation times")
            }
            if let bad = run.records.first(where: { $0.ious.count != clicks || $0.clicks.count != clicks || $0.seconds.count != clicks }) {
                throw SegError(.corrupt, file: path, "\(run.model): object \(bad.name) does not have \(clicks) clicks")
            }
        }
        return partial
    }

    /// The shards of one run put together: each model's records in stem order (the unsharded run's
    /// order, so every mean and the paired bootstrap are the same numbers), after checking that the
    /// partials share the fingerprint, that each shard 0..<N is there once, and that the objects
    /// are all there, once.
    public static func merge(_ paths: [String]) throws -> (fingerprint: Fingerprint, runs: [(model: String, output: NoCBatch.Output)]) {
        guard let firstPath = paths.first else { throw SegError(.invalid, file: "noc merge", "no partial results given") }
        let partials = try paths.map { try read($0) }
        let first = partials[0]
        for (path, p) in zip(paths, partials) {
            guard p.fingerprint == first.fingerprint else {
                throw SegError(.invalid, file: path, "comes from another run than \(firstPath): " + difference(p.fingerprint, first.fingerprint))
            }
            guard p.runs.map(\.model) == first.runs.map(\.model) else {
                throw SegError(.invalid, file: path, "holds the models \(p.runs.map(\.model)), \(firstPath) holds \(first.runs.map(\.model))")
            }
        }
        try Shard.checkComplete(zip(paths, partials).map { path, p in (path, try p.shard) })

        let runs = try first.runs.indices.map { m in
            var owner: [String: String] = [:]
            var rows: [(record: NoC.Record, prepare: Double)] = []
            for (path, p) in zip(paths, partials) {
                for (record, prepare) in zip(p.runs[m].records, p.runs[m].prepareSeconds) {
                    if let other = owner[record.name] { throw SegError(.invalid, file: path, "object \(record.name) is also in \(other)") }
                    owner[record.name] = path
                    rows.append((record, prepare))
                }
            }
            guard rows.count == first.fingerprint.objects else {
                throw SegError(.invalid, file: firstPath,
                               "the shards hold \(rows.count) objects of \(first.runs[m].model), the run has \(first.fingerprint.objects)")
            }
            rows.sort { StemPairing.stemOrder($0.record.name, $1.record.name) }
            return (model: first.runs[m].model, output: NoCBatch.Output(records: rows.map(\.record), prepareSeconds: rows.map(\.prepare)))
        }
        return (first.fingerprint, runs)
    }

    private static func difference(_ a: Fingerprint, _ b: Fingerprint) -> String {
        if a.splitVersion != b.splitVersion { return "another version of the image split" }
        if a.maxClicks != b.maxClicks || a.ignoreValue != b.ignoreValue || a.limit != b.limit {
            return "other settings (--max-clicks, --ignore-value or --limit)"
        }
        if a.models != b.models { return "other models (\(a.models) against \(b.models))" }
        if a.imagesSHA256 != b.imagesSHA256 { return "other images (\(a.images) against \(b.images), the folders differ)" }
        if a.masksSHA256 != b.masksSHA256 { return "other masks (\(a.masks) against \(b.masks), the folders differ)" }
        return "the folders are named differently (\(a.images), \(a.masks) against \(b.images), \(b.masks)) or hold other objects"
    }
}
