import Dispatch
import Foundation
import SegCore
import SegNN
import SegConcurrency
import Synchronization

/// `segterm embed`: the image embeddings of a folder computed ahead of time into the embedding
/// cache, so the workbench's first click on each image costs one decoder call.
///
/// Resumable by construction: an image whose verified entry is already in the cache is skipped,
/// and entries are written atomically, so a run killed at any moment leaves only whole entries
/// (and a temporary file the next store removes).
public enum EmbeddingPrecompute {
    public struct Summary: Sendable {
        public var images = 0
        /// Images whose entry was computed by this run.
        public var embedded = 0
        /// Images whose verified entry was already in the cache.
        public var alreadyCached = 0
        /// Images that could not be read or encoded, with the reason.
        public var failed: [(path: String, reason: String)] = []
        /// Wall time of the embedded images' preparation (decode, encoder, store), summed over jobs.
        public var encodeSeconds = 0.0
        public var wallSeconds = 0.0
        public var bytesPerEntry = 0
    }

    /// Embeds `images` with `jobs` images at once (each job's encoder gets its share of the
    /// cores). `progress` is called with (done, total) after each image, from any thread.
    public static func run(images: [String], model: SAMModel, pipeline: Pipeline = .sam, cache: EmbeddingCache, jobs: Int = 1,
                           limits: ImageFile.Limits = .standard,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) -> Summary {
        let start = DispatchTime.now()
        var summary = Summary()
        summary.images = images.count
        summary.bytesPerEntry = EmbeddingCache.entryBytes(model: model)
        let tally = Mutex(summary)
        ParallelFor.run(images.count, workers: jobs) { index in
            let outcome = embedOne(images[index], model: model, pipeline: pipeline, cache: cache, limits: limits)
            let done = tally.withLock { $0.record(outcome, path: images[index]) }
            progress?(done, images.count)
        }
        summary = tally.withLock { $0 }
        summary.failed.sort { $0.path < $1.path }
        summary.wallSeconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return summary
    }

    /// Whose image path the entries are for: SAM's, or MedSAM's (`medsam:`, its own preprocessing),
    /// keyed apart as the segmenters key them, so the workbench finds them.
    public enum Pipeline: Sendable {
        case sam, medSAM

        func tag(_ model: SAMModel) -> String { self == .sam ? model.fingerprint : MedSAMSegmenter.cacheTag(of: model) }

        func prepare(_ model: SAMModel, _ image: RGBImage) throws -> SAMEmbedding {
            self == .sam ? try model.prepare(image) : try model.prepareMedSAM(image)
        }
    }

    enum Outcome {
        case cached
        case embedded(seconds: Double)
        case failed(String)
    }

    static func embedOne(_ path: String, model: SAMModel, pipeline: Pipeline, cache: EmbeddingCache, limits: ImageFile.Limits) -> Outcome {
        let start = DispatchTime.now()
        do {
            let image = try ImageFile.read(path, limits: limits).rgbImage()
            let key = EmbeddingCache.key(image: image, model: pipeline.tag(model))
            if cache.contains(key: key, model: model, stretched: pipeline == .medSAM) { return .cached }
            let embedding = try pipeline.prepare(model, image)
            guard cache.store(embedding, key: key) else {
                return .failed("the cache in \(cache.directory) did not keep the entry (not writable, or full)")
            }
            return .embedded(seconds: Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
        } catch {
            return .failed("\(error)")
        }
    }
}

extension EmbeddingPrecompute.Summary {
    /// Counts an image's outcome; returns how many images are done.
    mutating func record(_ outcome: EmbeddingPrecompute.Outcome, path: String) -> Int {
        switch outcome {
        case .cached: alreadyCached += 1
        case .embedded(let seconds):
            embedded += 1
            encodeSeconds += seconds
        case .failed(let reason): failed.append((path, reason))
        }
        return embedded + alreadyCached + failed.count
    }
}
