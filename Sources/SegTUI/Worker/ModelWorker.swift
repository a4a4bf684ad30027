import Dispatch
import Foundation
import SegCore
import SegEval
import SegModels

/// Runs the model off the interface's thread, one job at a time on a serial queue. It owns the
/// prepared image. A decode request waiting in the queue is replaced by a newer one (latest wins),
/// so a slow model never builds a backlog; results carry their request id so the reducer can drop
/// stale ones. Reports go to `post`, from the worker's thread.
public final class ModelWorker: @unchecked Sendable {
    // `lock` guards `pendingDecode` and `generation`; `prepared` is only touched on `queue`.
    private let model: AnySegmenter
    private let limits: ImageFile.Limits
    private let queue = DispatchQueue(label: "segterm.model-worker", qos: .userInitiated)
    private let lock = NSLock()
    private var pendingDecode: (request: Int, prompts: Prompts, previous: Candidate?, multimask: Bool, generation: Int)?
    /// Counts `open` calls. A decode is for the image opened last before it; a decode block queued
    /// before a later `open` must leave that image's request to the blocks queued after the open, or
    /// it would run it on the previous image's prepared state (found by ModelWorkerTests).
    private var generation = 0
    private var prepared: AnySegmenter.Prepared?
    private let groundTruth: GroundTruthObjects?
    /// The current image's ground-truth objects; only touched on `queue`.
    private var imageGroundTruth: (objects: [GroundTruthObject], ignored: Mask?)?
    private let post: @Sendable (WorkbenchEvent) -> Void

    public init(model: AnySegmenter, limits: ImageFile.Limits = .standard, groundTruth: GroundTruthObjects? = nil,
                post: @escaping @Sendable (WorkbenchEvent) -> Void) {
        self.model = model
        self.limits = limits
        self.groundTruth = groundTruth
        self.post = post
    }

    /// Loads and prepares an image; decodes posted after this run on it.
    public func open(index: Int, path: String) {
        lock.withLock { generation += 1 }
        queue.async { [self] in
            prepared = nil
            imageGroundTruth = nil
            let image: RGBImage
            do {
                image = try ImageFile.read(path, limits: limits).rgbImage()
            } catch {
                post(.imageFailed(index: index, "\(error)"))
                return
            }
            post(.imageLoaded(index: index, image))
            loadGroundTruth(index: index, path: path, image: image)
            let start = DispatchTime.now()
            do {
                prepared = try model.prepare(image)
                post(.prepared(index: index, milliseconds: Self.milliseconds(since: start)))
            } catch {
                post(.prepareFailed(index: index, "\(error)"))
            }
        }
    }

    public func decode(request: Int, prompts: Prompts, previous: Candidate?, multimask: Bool) {
        let image = lock.withLock { () -> Int in
            pendingDecode = (request, prompts, previous, multimask, generation)
            return generation
        }
        queue.async { [self] in
            guard let job = lock.withLock({ () -> (request: Int, prompts: Prompts, previous: Candidate?, multimask: Bool, generation: Int)? in
                guard let job = pendingDecode, job.generation == image else { return nil }
                pendingDecode = nil
                return job
            }) else { return }  // a newer request already took this slot and ran, or it is for an image opened later
            guard let prepared else {
                post(.resultFailed(request: job.request, "the image is not prepared"))
                return
            }
            let start = DispatchTime.now()
            do {
                let candidates = try model.segment(prepared, prompts: job.prompts, previous: job.previous, multimask: job.multimask)
                post(.result(request: job.request, candidates, milliseconds: Self.milliseconds(since: start)))
                if let truth = imageGroundTruth {
                    // After the result, so the mask shows without waiting for the comparison.
                    let matches = candidates.map { GroundTruthObjects.bestMatch($0.mask, among: truth.objects, ignoring: truth.ignored) }
                    post(.groundTruthMatches(request: job.request, matches))
                }
            } catch {
                post(.resultFailed(request: job.request, "\(error)"))
            }
        }
    }

    private func loadGroundTruth(index: Int, path: String, image: RGBImage) {
        guard let groundTruth else { return }
        let name = FileName.last(path)
        do {
            imageGroundTruth = try groundTruth.objects(forImage: name, width: image.width, height: image.height)
            post(.groundTruthLoaded(index: index, objects: imageGroundTruth?.objects))
        } catch {
            post(.groundTruthFailed(index: index, "\(error)"))
        }
    }

    /// Blocks until every job queued so far has run (for tests and orderly shutdown).
    public func waitUntilIdle() { queue.sync {} }

    static func milliseconds(since start: DispatchTime) -> Int {
        Int((DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000)
    }
}

/// Events posted from other threads, taken by the interface loop between keystrokes.
public final class EventInbox: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [WorkbenchEvent] = []

    public init() {}

    public func post(_ event: WorkbenchEvent) { lock.withLock { events.append(event) } }

    public func takeAll() -> [WorkbenchEvent] {
        lock.withLock {
            defer { events.removeAll() }
            return events
        }
    }
}
