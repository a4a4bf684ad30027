#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Phase timings on stderr when SEGTERM_TIMING is set (for BENCHMARKS.md).
public struct PhaseClock {
    private let enabled = getenv("SEGTERM_TIMING") != nil
    private var last = PhaseClock.now()

    public init() {}

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public mutating func lap(_ name: String) {
        guard enabled else { return }
        let t = PhaseClock.now()
        let line = "timing: \(name) \(Int((t - last) * 1000)) ms\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        last = t
    }
}
