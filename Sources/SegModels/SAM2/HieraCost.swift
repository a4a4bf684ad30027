import Synchronization
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import SegNN

/// What the image encoder costs: multiply-adds per phase as the official model computes them, and
/// (when switched on) the wall time per phase, so that `segterm bench model` can print GFLOP/s per
/// phase against the machine's SGEMM peak and show where time goes beyond the matrix products.
extension HieraEncoder {
    /// Phases of a block, in the order the report lists them.
    static let blockPhases = ["shortcut", "norm1", "partition", "qkv", "qpool", "attention", "proj", "unpartition",
                              "norm2", "fc1+gelu", "fc2"]

    /// Multiply-adds per phase for one image, counted as the reference runs them (windows padded,
    /// padded tokens through qkv and attention, all four lateral convs and conv_s0/s1 on the neck's
    /// full-width maps). Phases without products (norms, copies) are 0. Keys as `HieraProfile`'s.
    public func multiplyAdds() -> [(phase: String, macs: Double)] {
        var out: [(String, Double)] = []
        var side = grid0
        out.append(("patch embed", Double(side * side * 3 * 49 * config.embedDim)))
        for b in blocks {
            let outSide = b.pool ? side / 2 : side
            let size = b.window == 0 ? side : b.window
            let win = Attention.Windows(height: side, width: side, size: size)
            let q = b.pool ? size / 2 : size
            let padded = Double(win.totalTokens), queries = Double(win.count * q * q)
            let dIn = Double(b.dim), d = Double(b.dimOut), hidden = Double(b.fc1.outF), m = Double(outSide * outSide)
            let s = "stage \(b.stage + 1) "
            if b.skip != nil { out.append((s + "shortcut", Double(side * side) * dIn * d)) }
            out.append((s + "qkv", padded * dIn * 3 * d))
            out.append((s + "attention", 2 * queries * Double(win.tokensPerWindow) * d))
            out.append((s + "proj", queries * d * d))
            out.append((s + "fc1+gelu", m * d * hidden))
            out.append((s + "fc2", m * hidden * d))
            side = outSide
        }
        var neck = 0.0, s = grid0
        for dim in config.stageDims { neck += Double(s * s * dim * config.neckDim); s /= 2 }
        let d = Double(config.neckDim), g = Double(grid0)
        neck += g * g * d * d / 8 + g * g / 4 * d * d / 4
        out.append(("neck", neck))
        return Self.merged(out)
    }

    /// Sums entries with the same key, keeping the first occurrence's order.
    static func merged(_ entries: [(String, Double)]) -> [(phase: String, macs: Double)] {
        var order: [String] = [], sums: [String: Double] = [:]
        for (k, v) in entries {
            if sums[k] == nil { order.append(k) }
            sums[k, default: 0] += v
        }
        return order.map { ($0, sums[$0] ?? 0) }
    }
}

/// Wall and process CPU time per encoder phase, summed over blocks and runs, while switched on.
/// CPU time is the figure to read on a shared machine at one thread (all the work is on the calling
/// thread then); at two it also counts OpenBLAS's workers spinning between products. Off by
/// default: then `time` costs one lock and a flag test per call (a few hundred calls per image).
public enum HieraProfile {
    private struct State { var on = false; var ms: [String: (wall: Double, cpu: Double)] = [:]; var order: [String] = [] }
    private static let state = Mutex(State())

    public static func enable(_ on: Bool) { state.withLock { $0.on = on } }

    public static func reset() { state.withLock { $0.ms = [:]; $0.order = [] } }

    /// Milliseconds per phase in first-seen order.
    public static func report() -> [(phase: String, wallMs: Double, cpuMs: Double)] {
        state.withLock { s in s.order.map { ($0, s.ms[$0]?.wall ?? 0, s.ms[$0]?.cpu ?? 0) } }
    }

    @inline(__always)
    static func time<T>(_ phase: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        guard state.withLock({ $0.on }) else { return try body() }
        let t = DispatchTime.now().uptimeNanoseconds, c = cpuMs()
        let r = try body()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6, cpu = cpuMs() - c
        let key = phase()
        state.withLock { s in
            if s.ms[key] == nil { s.order.append(key) }
            let old = s.ms[key] ?? (0, 0)
            s.ms[key] = (old.wall + wall, old.cpu + cpu)
        }
        return r
    }

    private static func cpuMs() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
    }
}
