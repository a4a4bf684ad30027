import SegCore

/// The interactive benchmark: simulated clicks until a limit, IoU after each, and the number of
/// clicks to reach 85 % and 90 % IoU (NoC), as the interactive-segmentation literature reports it.
/// It knows no model: `predict` turns the clicks so far into a mask.
public enum NoC {
    /// One object's run.
    public struct Record: Sendable, Codable, Equatable {
        public var name: String
        public var clicks: [SimulatedClick]
        /// IoU after each click (ignore pixels excluded).
        public var ious: [Double]
        /// Wall time of each `predict` call, seconds.
        public var seconds: [Double]

        public init(name: String, clicks: [SimulatedClick], ious: [Double], seconds: [Double]) {
            self.name = name; self.clicks = clicks; self.ious = ious; self.seconds = seconds
        }

        /// The 1-based index of the first click with IoU ≥ `threshold`, or `maxClicks` if none.
        public func clicksToReach(_ threshold: Double, maxClicks: Int) -> Int {
            if let k = ious.firstIndex(where: { $0 >= threshold }) { return k + 1 }
            return maxClicks
        }
    }

    /// Runs `maxClicks` clicks on one object (no early stop: the IoU curve needs every click).
    /// The first prediction is empty, so the first click lands on the object's most interior point.
    public static func run(name: String, truth: Mask, ignore: Mask?, maxClicks: Int,
                           predict: ([SimulatedClick]) throws -> Mask) throws -> Record {
        guard maxClicks > 0 else { throw SegError(.invalid, file: name, "the click limit must be positive") }
        var simulator = try ClickSimulator(truth: truth, ignore: ignore)
        var prediction = Mask(width: truth.width, height: truth.height)
        var ious: [Double] = []
        var seconds: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<maxClicks {
            _ = try simulator.click(after: prediction)
            let start = clock.now
            let next = try predict(simulator.clicks)
            let elapsed = clock.now - start
            guard next.size == truth.size else {
                throw SegError(.invalid, file: name, "the prediction is \(next.size) but the mask is \(truth.size)")
            }
            prediction = next
            seconds.append(Self.seconds(elapsed))
            ious.append(try prediction.iou(with: truth, ignoring: ignore))
        }
        return Record(name: name, clicks: simulator.clicks, ious: ious, seconds: seconds)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// The figures over a set of objects.
    public struct Summary: Sendable, Codable, Equatable {
        public var images: Int
        public var maxClicks: Int
        public var noc85: Double
        public var noc90: Double
        /// Objects that never reach 90 % IoU within the limit.
        public var overMax90: Int
        /// Objects whose NoC@90 equals the limit (RITM's count: also those reaching 90 % only at the last click).
        public var nocAtMax90: Int
        /// Mean IoU after click 1, 2, …, maxClicks.
        public var miouAt: [Double]
        /// Mean seconds per `predict` call.
        public var secondsPerClick: Double

        public init(records: [Record], maxClicks: Int) {
            images = records.count
            self.maxClicks = maxClicks
            let count = Double(max(records.count, 1))
            noc85 = records.reduce(0) { $0 + Double($1.clicksToReach(0.85, maxClicks: maxClicks)) } / count
            noc90 = records.reduce(0) { $0 + Double($1.clicksToReach(0.90, maxClicks: maxClicks)) } / count
            overMax90 = records.filter { !$0.ious.contains { $0 >= 0.90 } }.count
            nocAtMax90 = records.filter { $0.clicksToReach(0.90, maxClicks: maxClicks) >= maxClicks }.count
            miouAt = (0..<maxClicks).map { k in
                records.reduce(0) { $0 + (k < $1.ious.count ? $1.ious[k] : 0) } / count
            }
            let calls = records.reduce(0) { $0 + $1.seconds.count }
            secondsPerClick = calls > 0 ? records.reduce(0) { $0 + $1.seconds.reduce(0, +) } / Double(calls) : 0
        }
    }
}

/// Pairs images with masks by file stem; extensions are matched case-insensitively and may
/// differ (`21077.jpg` with `21077.bmp`), as in the benchmark sets.
public enum StemPairing {
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "bmp"]

    public struct Pair: Sendable, Equatable {
        public var stem: String
        public var image: String
        public var mask: String
    }

    /// Splits "name.ext" into ("name", "ext") at the last dot; nil for names without an image extension.
    public static func stem(of file: String) -> String? {
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return nil }
        let ext = file[file.index(after: dot)...].lowercased()
        guard imageExtensions.contains(ext) else { return nil }
        return String(file[..<dot])
    }

    /// Pairs in stem order; also the masks without an image and the images without a mask.
    /// Two files of one stem in the same folder are ambiguous and refused.
    public static func pair(images: [String], masks: [String]) throws -> (pairs: [Pair], unmatchedMasks: [String], unmatchedImages: [String]) {
        func index(_ files: [String], _ what: String) throws -> [String: String] {
            var out: [String: String] = [:]
            for f in files {
                guard let s = stem(of: f) else { continue }
                if let other = out[s] {
                    throw SegError(.invalid, file: f, "two \(what) share the stem \"\(s)\": \(other) and \(f)")
                }
                out[s] = f
            }
            return out
        }
        let imageByStem = try index(images, "images")
        let maskByStem = try index(masks, "masks")
        var pairs: [Pair] = []
        var unmatchedMasks: [String] = []
        for (s, mask) in maskByStem.sorted(by: { Self.stemOrder($0.key, $1.key) }) {
            if let image = imageByStem[s] { pairs.append(Pair(stem: s, image: image, mask: mask)) } else { unmatchedMasks.append(mask) }
        }
        let unmatchedImages = imageByStem.sorted(by: { Self.stemOrder($0.key, $1.key) })
            .filter { maskByStem[$0.key] == nil }.map(\.value)
        return (pairs, unmatchedMasks, unmatchedImages)
    }

    /// Code-point order of the UTF-8 bytes, as Python's `sorted` on file names.
    static func stemOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
