import SegCore

/// Two promptable models on the same objects under the same click protocol: the paired
/// difference in clicks to 90 % IoU (B − A, negative when B needs fewer), with a seeded bootstrap
/// interval over objects, and the objects where each model wins by the most clicks.
public struct PairedNoC: Sendable, Equatable {
    public struct Difference: Sendable, Equatable {
        public var name: String
        public var a: Int
        public var b: Int
        public var delta: Int { b - a }
    }

    public var differences: [Difference]
    public var meanDelta: Double
    public var interval: (low: Double, high: Double)
    public var replicates: Int
    public var seed: UInt64

    public static func == (x: PairedNoC, y: PairedNoC) -> Bool {
        x.differences == y.differences && x.meanDelta == y.meanDelta && x.interval.low == y.interval.low
            && x.interval.high == y.interval.high && x.replicates == y.replicates && x.seed == y.seed
    }

    /// `a` and `b` hold the same objects (by name); an object missing from either is an error.
    public init(a: [NoC.Record], b: [NoC.Record], maxClicks: Int, replicates: Int = 1000, seed: UInt64 = 0) throws {
        let byName = Dictionary(b.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        differences = try a.map { record in
            guard let other = byName[record.name] else {
                throw SegError(.invalid, file: record.name, "the two runs do not cover the same objects")
            }
            return Difference(name: record.name, a: record.clicksToReach(0.90, maxClicks: maxClicks),
                              b: other.clicksToReach(0.90, maxClicks: maxClicks))
        }
        let deltas = differences.map { Double($0.delta) }
        meanDelta = deltas.isEmpty ? 0 : deltas.reduce(0, +) / Double(deltas.count)
        interval = Comparison.bootstrap(images: deltas.count, replicates: replicates, seed: seed) { counts in
            var sum = 0.0, n = 0
            for (i, c) in counts.enumerated() where c > 0 {
                sum += Double(c) * deltas[i]
                n += c
            }
            return n > 0 ? sum / Double(n) : .nan
        }
        self.replicates = replicates
        self.seed = seed
    }

    /// The objects where B needs the most fewer clicks than A (B wins), largest first.
    public func bWins(_ n: Int) -> [Difference] { Array(differences.filter { $0.delta < 0 }.sorted { ($0.delta, $0.name) < ($1.delta, $1.name) }.prefix(n)) }
    /// The objects where A needs the most fewer clicks than B.
    public func aWins(_ n: Int) -> [Difference] { Array(differences.filter { $0.delta > 0 }.sorted { ($0.delta, $1.name) > ($1.delta, $0.name) }.prefix(n)) }
}
