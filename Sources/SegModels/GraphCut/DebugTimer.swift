import Foundation
#if canImport(Glibc)
import Glibc
#endif

// TEMPORARY profiling aid (removed before merge).
enum DebugTimer {
    static let enabled = ProcessInfo.processInfo.environment["SEGTERM_DEBUG"] != nil
    @inline(__always) static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
    static func report(_ parts: [(String, UInt64)]) {
        guard enabled else { return }
        let line = parts.map { "\($0.0)=\(String(format: "%.1f", Double($0.1) / 1e6))" }.joined(separator: " ")
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
