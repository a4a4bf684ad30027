import CBLAS
import CKernels
import Synchronization

/// Independent matrix products spread over the cores by us, each on single-threaded OpenBLAS.
/// OpenBLAS splits every product over its own threads and joins them at its end; on mid-sized
/// products (a chunk of rows of a linear layer, one attention window, a block of query rows of
/// one head) that split and join cost more than the second core gives (SAM 2.1's global
/// attention blocks took twice the CPU time at two threads as at one, for the same wall time).
public enum SerialBLAS {
    /// How many items run at once: the thread budget.
    public static var workers: Int { Threads.count }

    /// Runs body(item, worker) for items 0..<count on `workers` threads, with OpenBLAS on one
    /// thread meanwhile (so that products inside `body` may run side by side). Items are handed
    /// out one at a time, so a core taken by another process does not hold the others back.
    /// `worker` (0..<workers) indexes per-thread scratch. One worker: a plain loop, BLAS untouched.
    public static func forEach(_ count: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let n = min(workers, count)
        if n <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        enterSerial()
        defer { leaveSerial() }
        let next = Atomic<Int>(0)
        Threads.parallel(n) { w in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { break }
                body(i, w)
            }
        }
    }
}

extension SerialBLAS {
    /// How many `forEach` calls are running (two models may encode at once): OpenBLAS's thread
    /// count is one global, set to one by the first to enter and restored by the last to leave,
    /// so that one call's end does not hand the other's workers two threads each.
    private static let active = Mutex(0)

    private static func enterSerial() {
        active.withLock { n in
            if n == 0 { openblas_set_num_threads(1) }
            n += 1
        }
    }

    private static func leaveSerial() {
        active.withLock { n in
            n -= 1
            if n == 0 { openblas_set_num_threads(Int32(Threads.count)) }
        }
    }
}

extension Gemm {
    /// What follows the product on each block of rows of a linear layer.
    public enum Epilogue: Sendable { case bias, biasGELU, accumulate }

    /// A linear layer y = x·Wᵀ (+ b, then GELU), or y += x·Wᵀ + b, over blocks of rows spread over
    /// the cores with single-threaded products, each block's bias and GELU done right after its
    /// product by the same core. At one thread: one product and one pass over the output, as the
    /// arithmetic is the same either way (each output element sums over k in the same order).
    public static func linearRows(_ x: UnsafePointer<Float>, rows: Int, inFeatures k: Int, weight: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, outFeatures n: Int, _ y: UnsafeMutablePointer<Float>, _ epilogue: Epilogue) {
        let workers = SerialBLAS.workers
        // Blocks of at least 256 rows (the weight is packed again for each block), about four per
        // worker so that a core slowed by another process hands its share to the other.
        let block = workers <= 1 ? rows : max(256, (rows + 4 * workers - 1) / (4 * workers))
        let blocks = (rows + block - 1) / block
        let run = { (r0: Int, m: Int) in
            let xb = x + r0 * k, yb = y + r0 * n
            if epilogue == .accumulate, let bias { addBias(yb, rows: m, dim: n, bias) }
            sgemm(transB: true, m: m, n: n, k: k, a: xb, lda: k, b: weight, ldb: k, beta: epilogue == .accumulate ? 1 : 0, c: yb, ldc: n)
            guard let bias else { if epilogue == .biasGELU { gelu(yb, m * n, nil, 1) }; return }
            switch epilogue {
            case .accumulate: break
            case .bias: addBias(yb, rows: m, dim: n, bias)
            case .biasGELU: gelu(yb, m * n, bias, n)
            }
        }
        if blocks <= 1 {
            // One block: OpenBLAS's own threads on the product, the epilogue over the cores.
            if epilogue == .accumulate, let bias { Elementwise.addBias(y, y, rows: rows, dim: n, bias: bias) }
            sgemm(transB: true, m: rows, n: n, k: k, a: x, lda: k, b: weight, ldb: k, beta: epilogue == .accumulate ? 1 : 0, c: y, ldc: n)
            switch epilogue {
            case .accumulate: break
            case .bias: if let bias { Elementwise.addBias(y, y, rows: rows, dim: n, bias: bias) }
            case .biasGELU:
                if let bias { Elementwise.gelu(y, rows * n, bias: bias, period: n) } else { Elementwise.gelu(y, rows * n) }
            }
            return
        }
        SerialBLAS.forEach(blocks) { b, _ in
            let r0 = b * block
            run(r0, min(block, rows - r0))
        }
    }

    /// The element-wise epilogues on one core (inside a worker), the C kernels or the Swift ones.
    private static func addBias(_ y: UnsafeMutablePointer<Float>, rows: Int, dim: Int, _ bias: UnsafePointer<Float>) {
        if Elementwise.useC { ck_add_bias(y, y, rows, dim, bias); return }
        for r in 0..<rows { for j in 0..<dim { y[r * dim + j] += bias[j] } }
    }

    private static func gelu(_ y: UnsafeMutablePointer<Float>, _ count: Int, _ bias: UnsafePointer<Float>?, _ period: Int) {
        if Elementwise.useC { ck_gelu(y, count, bias, bias == nil ? 0 : period); return }
        if let bias { addBias(y, rows: count / period, dim: period, bias) }
        Elementwise.geluSwift(y, count)
    }
}

extension Elementwise {
    /// `softmaxRows` on the calling core only (inside a `SerialBLAS` worker).
    public static func softmaxRowsOneCore(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
        if useC {
            ck_softmax_rows(p, rows, cols, ld)
        } else if cols < 16 && ld == cols {
            shortRows(p, rows: rows, cols: cols)
        } else {
            for r in 0..<rows { softmaxRow(p + r * ld, cols) }
        }
    }
}
