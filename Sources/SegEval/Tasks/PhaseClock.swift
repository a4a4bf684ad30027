#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Phase timings on stderr when SEGTERM_TIMING is set (for BENCHMARKS.md), each with the resident
/// size at its end, so that a profile of where the memory goes needs no other tool.
public struct PhaseClock {
    private let enabled = getenv("SEGTERM_TIMING") != nil
    private var last = PhaseClock.now()
    private var lastCPU = PhaseClock.cpuNow()

    public init() {}

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The process's CPU time so far, all threads: with the wall time it shows how well a phase
    /// keeps the cores busy.
    static func cpuNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The resident set size now (the second field of /proc/self/statm, in pages), in MB.
    static func residentMB() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return -1 }
        defer { fclose(file) }
        var size = 0, resident = 0
        guard withUnsafeMutablePointer(to: &size, { s in
            withUnsafeMutablePointer(to: &resident) { r in withVaList([s, r]) { vfscanf(file, "%ld %ld", $0) } }
        }) == 2 else { return -1 }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE))) / 1_000_000
    }

    /// The peak resident size so far (VmHWM of /proc/self/status), in MB.
    static func peakMB() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmHWM:") {
                return (Int(text.dropFirst(6).filter(\.isNumber)) ?? -1000) / 1000
            }
        }
        return -1
    }

    public mutating func lap(_ name: String) {
        guard enabled else { return }
        let t = PhaseClock.now(), cpu = PhaseClock.cpuNow()
        let line = "timing: \(name) \(Int((t - last) * 1000)) ms, CPU \(Int((cpu - lastCPU) * 1000)) ms, resident \(PhaseClock.residentMB()) MB, peak \(PhaseClock.peakMB()) MB\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        last = t
        lastCPU = cpu
    }
}
