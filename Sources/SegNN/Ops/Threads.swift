import CBLAS
import SegConcurrency
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How many cores the engine uses. OpenBLAS runs its own thread pool inside each GEMM and our loops
/// run on Dispatch between GEMMs, never at the same time, so both get the same budget without
/// oversubscribing the machine.
public enum Threads {
    private static let configured = Mutex<Int>(0)

    /// The online core count.
    public static var coreCount: Int { Cores.online }

    /// Sets the thread budget (default: all cores, or `SEGTERM_THREADS`).
    public static func configure(_ requested: Int? = nil) {
        var n = requested ?? 0
        if n <= 0, let env = getenv("SEGTERM_THREADS"), let v = Int(String(cString: env)), v > 0 { n = v }
        if n <= 0 { n = coreCount }
        n = min(n, coreCount)
        configured.withLock { c in
            openblas_set_num_threads(Int32(n))
            c = n
        }
    }

    /// Stops OpenBLAS's worker threads until the next BLAS call restarts them. They start when the
    /// library loads and spin for about 0.1 s waiting for work; a command that never calls BLAS
    /// (the evaluation) would otherwise share the cores with them.
    public static func parkBLASThreads() {
        _ = blas_thread_shutdown_()
    }

    /// The budget in force (configuring with the default on first use).
    public static var count: Int {
        let n = configured.withLock { $0 }
        if n > 0 { return n }
        configure()
        return count
    }

    /// Runs `body(chunk)` for chunks 0..<chunks on at most `count` threads. Callers must not call
    /// BLAS inside `body` (that would put OpenBLAS's threads on top of ours).
    @inline(__always)
    public static func parallel(_ chunks: Int, _ body: (Int) -> Void) {
        ParallelFor.run(chunks, workers: count, body)
    }

    /// Splits `0..<total` into contiguous ranges, one per worker, and runs them in parallel.
    @inline(__always)
    public static func parallelRanges(_ total: Int, minPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        if total <= 0 { return }
        let workers = max(1, min(count, total / max(minPerChunk, 1)))
        if workers == 1 { body(0..<total); return }
        let per = (total + workers - 1) / workers
        parallel(workers) { w in
            let lo = w * per, hi = min(total, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }
}
