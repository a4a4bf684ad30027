import Foundation
import SegCore
import SegModels
#if canImport(Glibc)
import Glibc
#endif

/// Prepares the images the user will probably open next (the next ones in the list) while they
/// work on the current one, so that opening them costs no encoder time.
///
/// - One thread of its own at the lowest CPU priority (nice 19), so the interface and the model's
///   clicks come first; it waits while the worker prepares the image on screen.
/// - Bounded: at most `capacity` prepared images are kept; the wanted list is replaced on every
///   move, and images no longer wanted are dropped (a jump elsewhere cancels the rest: the image
///   being prepared at that moment finishes, the others never start).
/// - An image still being prefetched when the user opens it is not waited for: the worker prepares
///   it at normal priority (an unprivileged process cannot raise a niced thread back, and on a busy
///   machine the niced thread may be far from done); the prefetched copy is then dropped.
final class Prefetcher: @unchecked Sendable {
    struct Entry {
        let image: RGBImage
        let prepared: AnySegmenter.Prepared
        let milliseconds: Int
    }

    private let model: AnySegmenter
    private let limits: ImageFile.Limits
    let capacity: Int
    // `condition` guards everything below it.
    private let condition = NSCondition()
    private var wanted: [String] = []
    private var ready: [String: Entry] = [:]
    /// While the worker prepares the image on screen, prefetching waits.
    private var workerBusy = false
    private var stopped = false
    private var preparing = false

    /// How a path becomes the image the model sees (a file, or a volume's windowed slice).
    private let loader: ImageLoader

    init(model: AnySegmenter, limits: ImageFile.Limits, capacity: Int, loader: @escaping ImageLoader = ModelWorker.readImageFile) {
        self.loader = loader
        self.model = model
        self.limits = limits
        self.capacity = max(1, capacity)
        let thread = Thread { [self] in loop() }
        thread.name = "segterm.prefetch"
        thread.qualityOfService = .background
        thread.start()
    }

    /// The images to have ready, most wanted first (replaces the previous list).
    func want(_ paths: [String]) {
        condition.withLock {
            wanted = Array(paths.prefix(capacity))
            ready = ready.filter { wanted.contains($0.key) }
            condition.broadcast()
        }
    }

    /// The prepared image for `path`, if it was prefetched; it leaves the store.
    func take(_ path: String) -> Entry? {
        condition.withLock {
            wanted.removeAll { $0 == path }
            return ready.removeValue(forKey: path)
        }
    }

    func setWorkerBusy(_ busy: Bool) {
        condition.withLock {
            workerBusy = busy
            condition.broadcast()
        }
    }

    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    /// Whether an image is being prepared right now (it cannot be interrupted).
    var isPreparing: Bool { condition.withLock { preparing } }

    /// Prefetched so far (tests, benchmarks).
    var readyPaths: Set<String> { condition.withLock { Set(ready.keys) } }

    private func loop() {
        // Linux keeps nice values per thread: `who` 0 is this thread alone (see setpriority(2), NOTES).
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        while true {
            let path: String? = condition.withLock {
                while !stopped && (workerBusy || nextWanted() == nil) { condition.wait() }
                if stopped { return nil }
                preparing = true
                return nextWanted()
            }
            guard let path else { return }
            let entry = prepare(path)
            condition.withLock {
                preparing = false
                // Kept only if still wanted: the user may have jumped elsewhere meanwhile.
                if let entry, wanted.contains(path) { ready[path] = entry }
                if entry == nil { wanted.removeAll { $0 == path } }  // not retried in a loop
                condition.broadcast()
            }
        }
    }

    private func nextWanted() -> String? { wanted.first { ready[$0] == nil } }

    private func prepare(_ path: String) -> Entry? {
        let start = DispatchTime.now()
        // An image that fails here fails again, with its message, when the user opens it.
        guard let image = try? loader(path, limits),
              let prepared = try? model.prepare(image) else { return nil }
        return Entry(image: image, prepared: prepared, milliseconds: ModelWorker.milliseconds(since: start))
    }
}
