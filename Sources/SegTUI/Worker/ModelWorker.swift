import Dispatch
import Foundation
import SegCore
import SegEval
import SegModels
import Synchronization

/// Turns a path the workbench opens into the image the model sees: an image file, or (for
/// volumes) a slice windowed to grey RGB (`VolumeLibrary`).
public typealias ImageLoader = @Sendable (String, ImageFile.Limits) throws -> RGBImage

/// Runs the model off the interface's thread, one job at a time on a serial queue. It owns the
/// prepared image. A decode request waiting in the queue is replaced by a newer one (latest wins),
/// so a slow model never builds a backlog; results carry their request id so the reducer can drop
/// stale ones. Reports go to `post`, from the worker's thread.
///
/// An A/B session runs one worker per model (`lane`), each on its own queue, so a slow model never
/// delays the other's answer; only the first (`announcesImage`) reports the decoded image and
/// its ground truth, which both share.
public final class ModelWorker: @unchecked Sendable {
    // `decodes` is shared with the caller's thread; `prepared` is only touched on `queue`.
    private let model: AnySegmenter
    private let lane: Int
    private let announcesImage: Bool
    private let limits: ImageFile.Limits
    private let queue = DispatchQueue(label: "segterm.model-worker", qos: .userInitiated)
    private let decodes = Mutex(DecodeSlot())
    private var prepared: AnySegmenter.Prepared?
    private let groundTruth: GroundTruthObjects?
    /// The current image's ground-truth objects; only touched on `queue`.
    private var imageGroundTruth: (objects: [GroundTruthObject], ignored: Mask?)?
    private let post: @Sendable (WorkbenchEvent) -> Void
    /// Prepares the next images in the background (nil: prefetching off).
    let prefetcher: Prefetcher?

    private let loader: ImageLoader

    public static let readImageFile: ImageLoader = { path, limits in try ImageFile.read(path, limits: limits).rgbImage() }

    /// `prefetch`: how many images ahead to keep prepared (0: none).
    public init(model: AnySegmenter, lane: Int = 0, limits: ImageFile.Limits = .standard, groundTruth: GroundTruthObjects? = nil,
                prefetch: Int = 0, loader: @escaping ImageLoader = ModelWorker.readImageFile,
                post: @escaping @Sendable (WorkbenchEvent) -> Void) {
        prefetcher = prefetch > 0 ? Prefetcher(model: model, limits: limits, capacity: prefetch, loader: loader) : nil
        self.loader = loader
        self.model = model
        self.lane = lane
        announcesImage = lane == 0
        self.limits = limits
        self.groundTruth = groundTruth
        self.post = post
    }

    deinit { prefetcher?.stop() }

    /// The images to prepare in the background next, most likely first (replaces the last list).
    /// Queued behind the `open` that comes with it, so that the image being opened is taken from
    /// the prefetched ones before the new list drops it.
    public func prefetch(_ paths: [String]) {
        guard let prefetcher else { return }
        queue.async { prefetcher.want(paths) }
    }

    /// Loads and prepares an image; decodes posted after this run on it.
    public func open(index: Int, path: String) {
        decodes.withLock { $0.generation += 1 }
        queue.async { [self] in
            prepared = nil
            imageGroundTruth = nil
            prefetcher?.setWorkerBusy(true)
            defer { prefetcher?.setWorkerBusy(false) }
            if let ahead = prefetcher?.take(path) {
                // Prepared while the user was on another image: no encoder time now.
                if announcesImage { post(.imageLoaded(index: index, ahead.image)) }
                loadGroundTruth(index: index, path: path, image: ahead.image)
                prepared = ahead.prepared
                post(.preparedAhead(lane: lane, index: index, milliseconds: ahead.milliseconds))
                return
            }
            let image: RGBImage
            do {
                image = try loader(path, limits)
            } catch {
                if announcesImage { post(.imageFailed(index: index, "\(error)")) }
                return
            }
            if announcesImage { post(.imageLoaded(index: index, image)) }
            loadGroundTruth(index: index, path: path, image: image)
            let start = DispatchTime.now()
            do {
                prepared = try model.prepare(image)
                post(.prepared(lane: lane, index: index, milliseconds: Self.milliseconds(since: start)))
            } catch {
                post(.prepareFailed(lane: lane, index: index, "\(error)"))
            }
        }
    }

    public func decode(request: Int, prompts: Prompts, previous: Candidate?, multimask: Bool) {
        let image = decodes.withLock { slot in
            slot.pending = DecodeJob(request: request, prompts: prompts, previous: previous, multimask: multimask,
                                     generation: slot.generation)
            return slot.generation
        }
        queue.async { [self] in
            guard let job = decodes.withLock({ slot -> DecodeJob? in
                guard let job = slot.pending, job.generation == image else { return nil }
                slot.pending = nil
                return job
            }) else { return }  // a newer request already took this slot and ran, or it is for an image opened later
            guard let prepared else {
                post(.resultFailed(lane: lane, request: job.request, "the image is not prepared"))
                return
            }
            let start = DispatchTime.now()
            do {
                let candidates = try model.segment(prepared, prompts: job.prompts, previous: job.previous, multimask: job.multimask)
                post(.result(lane: lane, request: job.request, candidates, milliseconds: Self.milliseconds(since: start)))
                if let truth = imageGroundTruth {
                    // After the result, so the mask shows without waiting for the comparison.
                    let matches = candidates.map { GroundTruthObjects.bestMatch($0.mask, among: truth.objects, ignoring: truth.ignored) }
                    post(.groundTruthMatches(lane: lane, request: job.request, matches))
                }
            } catch {
                post(.resultFailed(lane: lane, request: job.request, "\(error)"))
            }
        }
    }

    /// Finds every instance of `phrase` on the prepared image (SAM 3's concept prompt), queued
    /// behind the open of the image it was asked on; dropped if another image was opened since.
    public func findPhrase(index: Int, phrase: String) {
        let image = decodes.withLock { $0.generation }
        queue.async { [self] in
            guard decodes.withLock({ $0.generation }) == image else { return }
            guard let find = model.findPhrase else {
                post(.phraseFailed(lane: lane, index: index, phrase: phrase, "\(model.name) takes no text"))
                return
            }
            guard let prepared else {
                post(.phraseFailed(lane: lane, index: index, phrase: phrase, "the image is not prepared"))
                return
            }
            let start = DispatchTime.now()
            do {
                let found = try find(prepared, phrase)
                post(.phraseFound(lane: lane, index: index, phrase: phrase, found, milliseconds: Self.milliseconds(since: start)))
            } catch {
                post(.phraseFailed(lane: lane, index: index, phrase: phrase, "\(error)"))
            }
        }
    }

    private func loadGroundTruth(index: Int, path: String, image: RGBImage) {
        guard let groundTruth else { return }
        let name = FileName.last(path)
        do {
            imageGroundTruth = try groundTruth.objects(forImage: name, width: image.width, height: image.height)
            if announcesImage { post(.groundTruthLoaded(index: index, objects: imageGroundTruth?.objects)) }
        } catch {
            if announcesImage { post(.groundTruthFailed(index: index, "\(error)")) }
        }
    }

    /// Blocks until every job queued so far has run (for tests and orderly shutdown).
    public func waitUntilIdle() { queue.sync {} }

    /// Stops the prefetching thread (the worker's queue finishes what it has).
    public func stop() { prefetcher?.stop() }

    /// Whether the prefetching thread is still inside a model's preparation.
    public var isPreparingAhead: Bool { prefetcher?.isPreparing ?? false }

    static func milliseconds(since start: DispatchTime) -> Int {
        Int((DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000)
    }
}

/// The newest decode request (older ones are dropped: only the last click's mask is wanted) and
/// the count of `open` calls. A decode is for the image opened last before it; a decode block
/// queued before a later `open` must leave that image's request to the blocks queued after the
/// open, or it would run it on the previous image's prepared state (found by ModelWorkerTests).
private struct DecodeSlot {
    var pending: DecodeJob?
    var generation = 0
}

private struct DecodeJob {
    var request: Int
    var prompts: Prompts
    var previous: Candidate?
    var multimask: Bool
    var generation: Int
}

/// Events posted from other threads, taken by the interface loop between keystrokes.
public final class EventInbox: Sendable {
    private let events = Mutex<[WorkbenchEvent]>([])

    public init() {}

    public func post(_ event: WorkbenchEvent) { events.withLock { $0.append(event) } }

    public func takeAll() -> [WorkbenchEvent] {
        events.withLock { events in
            defer { events.removeAll() }
            return events
        }
    }
}
