import SegCore

/// The interactive benchmark over a folder of images and masks paired by stem, a few images at a
/// time. Each image is independent, so the records (clicks and IoUs) do not depend on
/// scheduling; only the timings do. It knows no model: `prepare` turns an image into a session
/// that maps the clicks so far to a mask.
public struct NoCBatch: Sendable {
    public var pairs: [StemPairing.Pair]
    public var imageFolder: String
    public var maskFolder: String
    public var ignoreValue: UInt32?
    public var maxClicks: Int
    public var limits: ImageFile.Limits
    /// Images processed at once.
    public var jobs: Int

    /// One image prepared for a model: the clicks so far in, the model's mask out.
    public typealias Session = ([SimulatedClick]) throws -> Mask

    public struct Output: Sendable {
        public var records: [NoC.Record]
        /// Seconds `prepare` took per image, index as `records`.
        public var prepareSeconds: [Double]

        public init(records: [NoC.Record], prepareSeconds: [Double]) {
            self.records = records
            self.prepareSeconds = prepareSeconds
        }
    }

    public init(pairs: [StemPairing.Pair], imageFolder: String, maskFolder: String, ignoreValue: UInt32?, maxClicks: Int,
                limits: ImageFile.Limits = .standard, jobs: Int) {
        self.pairs = pairs; self.imageFolder = imageFolder; self.maskFolder = maskFolder; self.ignoreValue = ignoreValue
        self.maxClicks = maxClicks; self.limits = limits; self.jobs = jobs
    }

    /// Runs every pair; the first error (naming its file) stops the run. `prepare` gets the image
    /// and its path (for errors).
    public func run(progress: (@Sendable (Int, Int) -> Void)? = nil,
                    prepare: @escaping @Sendable (RGBImage, String) throws -> Session) throws -> Output {
        let counter = ProgressCounter(total: pairs.count, report: progress)
        // One image per claim: an image costs seconds, so blocks would only leave a core idle at the end.
        let results = try Parallel.map(pairs.count, workers: jobs, block: 1) { (k) throws(SegError) -> (NoC.Record, Double) in
            defer { counter.advance() }
            do {
                return try evaluate(pairs[k], prepare: prepare)
            } catch let error as SegError {
                throw error
            } catch {
                throw SegError(.invalid, file: imageFolder + "/" + pairs[k].image, "\(error)")
            }
        }
        return Output(records: results.map(\.0), prepareSeconds: results.map(\.1))
    }

    func evaluate(_ pair: StemPairing.Pair, prepare: (RGBImage, String) throws -> Session) throws -> (NoC.Record, Double) {
        let imagePath = imageFolder + "/" + pair.image
        let maskPath = maskFolder + "/" + pair.mask
        let image = try ImageFile.read(imagePath, limits: limits).rgbImage()
        let (truth, ignored) = try ImageFile.read(maskPath, limits: limits).objectMask(ignoreValue: ignoreValue)
        guard truth.size == image.size else {
            throw SegError(.invalid, file: maskPath, "the mask is \(truth.size) but the image is \(image.size)")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let session = try prepare(image, imagePath)
        let elapsed = clock.now - start
        let record = try NoC.run(name: pair.stem, truth: truth, ignore: ignoreValue == nil ? nil : ignored, maxClicks: maxClicks,
                                 predict: session)
        return (record, NoC.seconds(elapsed))
    }
}
