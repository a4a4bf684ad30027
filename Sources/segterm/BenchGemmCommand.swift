import ArgumentParser
import Dispatch
import Foundation
import SegNN

/// The machine's fp32 matrix-product rate through the same OpenBLAS the engine uses: the ceiling
/// for an encoder that is mostly GEMMs, measured rather than taken from a data sheet.
enum SGEMMRate {
    /// GFLOP/s of C = A·Bᵀ (A [m, k], B [n, k], as a linear layer runs it): the best of `runs`
    /// after one warm-up, by wall time and by process CPU time.
    static func measure(m: Int, n: Int, k: Int, runs: Int) -> (wall: Double, cpu: Double) {
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: n * k), c = [Float](repeating: 0, count: m * n)
        for i in a.indices { a[i] = Float(i % 7) * 0.1 }
        for i in b.indices { b[i] = Float(i % 5) * 0.1 }
        var bestWall = Double.infinity, bestCPU = Double.infinity
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for r in 0...runs {
                        let t = DispatchTime.now().uptimeNanoseconds, c0 = processCPUSeconds()
                        Gemm.sgemm(transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n)
                        if r == 0 { continue }
                        bestWall = min(bestWall, Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
                        bestCPU = min(bestCPU, processCPUSeconds() - c0)
                    }
                }
            }
        }
        let flop = 2.0 * Double(m) * Double(n) * Double(k)
        return (flop / bestWall / 1e9, flop / bestCPU / 1e9)
    }

    /// The peak used for "fraction of peak": a large square product (2048³, 17 GFLOP).
    static func peak() -> (wall: Double, cpu: Double) { measure(m: 2048, n: 2048, k: 2048, runs: 5) }

    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

struct BenchGemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Measure OpenBLAS SGEMM GFLOP/s: large squares and the shapes of SAM 2.1 tiny's encoder at 1024.",
        discussion: "Best of several runs by wall time and by process CPU time (CPU time is the steadier figure on a shared machine at one thread)."
    )

    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Timed runs per shape.") var runs = 5

    func run() throws {
        Threads.configure(threads)
        print("threads \(Threads.count), OpenBLAS \(SegNN.blasCoreName)")
        print("     m      n      k  what                                  GFLOP/s wall  GFLOP/s CPU")
        // (m, n, k, what): rows × outputs × inputs of the encoder's products (tiny, 1024×1024).
        let shapes: [(Int, Int, Int, String)] = [
            (2048, 2048, 2048, "square"), (4096, 4096, 4096, "square"),
            (4096, 288, 96, "stage 1 qkv, 4096-row chunk"), (4096, 384, 96, "stage 1 fc1"), (4096, 96, 384, "stage 1 fc2"),
            (4096, 576, 192, "stage 2 qkv"), (4096, 768, 192, "stage 2 fc1"), (4096, 192, 768, "stage 2 fc2"),
            (4096, 1152, 384, "stage 3 qkv"), (4096, 384, 384, "stage 3 proj"), (4096, 1536, 384, "stage 3 fc1"),
            (4096, 384, 1536, "stage 3 fc2"), (1024, 2304, 768, "stage 4 qkv"), (1024, 768, 3072, "stage 4 fc2"),
            (128, 4096, 96, "global attention scores, 128 rows"), (64, 64, 96, "stage 1 window scores"),
        ]
        for (m, n, k, what) in shapes {
            let r = SGEMMRate.measure(m: m, n: n, k: k, runs: runs)
            let label = what.padding(toLength: 36, withPad: " ", startingAt: 0)
            print(String(format: "%6d %6d %6d  ", m, n, k) + label + String(format: " %12.1f %12.1f", r.wall, r.cpu))
        }
    }
}
