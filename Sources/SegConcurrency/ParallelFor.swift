import Dispatch
import Synchronization

/// The one parallel loop of the project: `body(i)` for every i in 0..<count on at most `workers`
/// threads. Indices are handed out in blocks of `block` from a shared counter, so a slow item (an
/// image with many objects, a padded window) does not leave a core idle while others finish.
public enum ParallelFor {
    public static func run(_ count: Int, workers: Int, block: Int = 1, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let block = max(1, block)
        let workerCount = max(1, min(workers, (count + block - 1) / block))
        if workerCount == 1 {
            for i in 0..<count { body(i) }
            return
        }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { escapable in
            let job = Job(body: escapable)
            DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
                while true {
                    let start = next.add(block, ordering: .relaxed).oldValue
                    if start >= count { return }
                    for i in start..<min(start + block, count) { job.body(i) }
                }
            }
        }
    }

    /// `body(i)` for every i, results in index order. The first error stops the handing out of
    /// new items and is rethrown once every worker has returned.
    public static func map<T, E: Error>(_ count: Int, workers: Int, block: Int = 1,
                                        _ body: (Int) throws(E) -> T) throws(E) -> [T] {
        if count <= 0 { return [] }
        let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize(); slots.deallocate() }
        let firstError = Mutex<E?>(nil)
        let failed = Atomic<Bool>(false)
        // Each slot is written by exactly one worker and read only after the loop has returned.
        let output = SlotWriter(slots: slots)
        withoutActuallyEscaping(body) { escapable in
            let job = ThrowingJob(body: escapable)
            run(count, workers: workers, block: block) { i in
                if failed.load(ordering: .relaxed) { return }
                do throws(E) {
                    output.store(try job.body(i), at: i)
                } catch {
                    // Any failure names its file and entry; the first one recorded is kept.
                    firstError.withLock { if $0 == nil { $0 = error } }
                    failed.store(true, ordering: .relaxed)
                }
            }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
        return slots.map { slot in
            guard let value = slot else { preconditionFailure("ParallelFor.map: a slot was not filled") }
            return value
        }
    }

    /// Carries a non-escaping closure into `concurrentPerform`; callers give each index its own data.
    private struct Job: @unchecked Sendable {
        let body: (Int) -> Void
    }

    private struct ThrowingJob<T, E: Error>: @unchecked Sendable {
        let body: (Int) throws(E) -> T
    }

    private struct SlotWriter<T>: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<T?>
        func store(_ value: T, at i: Int) { slots[i] = value }
    }
}
