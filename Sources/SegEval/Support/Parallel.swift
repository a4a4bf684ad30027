import Dispatch
import SegCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Work split over the machine's cores with Dispatch; the evaluation never starts more workers
/// than there are cores (other engines may run OpenBLAS threads beside it).
public enum Parallel {
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// `body(i)` for every i in 0..<count, results in index order. Items are handed out in small
    /// blocks from a shared counter so that a slow image does not leave a core idle.
    public static func map<T: Sendable>(_ count: Int, workers: Int = coreCount, block: Int = 4,
                                        _ body: @Sendable (Int) throws(SegError) -> T) throws(SegError) -> [T] {
        if count == 0 { return [] }
        let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize(); slots.deallocate() }
        let shared = SharedState(slots: slots)
        let workerCount = max(1, min(workers, (count + block - 1) / block))
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            while true {
                let start = shared.claim(block)
                if start >= count || shared.failed { return }
                for i in start..<min(start + block, count) {
                    do throws(SegError) {
                        let value = try body(i)
                        shared.store(value, at: i)
                    } catch {
                        shared.fail(error)
                        return
                    }
                }
            }
        }
        if let error = shared.error { throw error }
        var out: [T] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            guard let v = slots[i] else { preconditionFailure("Parallel.map: slot \(i) not filled") }
            out.append(v)
        }
        return out
    }

    /// The next-index counter and the result slots shared by the workers. Each slot is written by
    /// exactly one worker and read only after `concurrentPerform` returns, so only the counter and
    /// the error need the lock.
    private final class SharedState<T>: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<T?>
        private var next = 0
        private var firstError: SegError?
        private var lock = pthread_mutex_t()

        init(slots: UnsafeMutableBufferPointer<T?>) {
            self.slots = slots
            pthread_mutex_init(&lock, nil)
        }

        deinit { pthread_mutex_destroy(&lock) }

        func claim(_ n: Int) -> Int {
            pthread_mutex_lock(&lock)
            defer { pthread_mutex_unlock(&lock) }
            let start = next
            next += n
            return start
        }

        func store(_ value: T, at i: Int) { slots[i] = value }

        var failed: Bool {
            pthread_mutex_lock(&lock)
            defer { pthread_mutex_unlock(&lock) }
            return firstError != nil
        }

        var error: SegError? { firstError }

        func fail(_ error: SegError) {
            pthread_mutex_lock(&lock)
            defer { pthread_mutex_unlock(&lock) }
            // The lowest-numbered failure would be nicer, but any one names its file and entry.
            if firstError == nil { firstError = error }
        }
    }
}
