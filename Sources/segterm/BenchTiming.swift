import Dispatch
import Foundation
import SegCore

/// Wall and CPU time for the benchmarks, in milliseconds.
enum BenchTiming {
    static func ms(since t: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e6 }

    /// Process CPU time: on a shared machine wall time includes waiting for the core, CPU time
    /// does not, so at one thread it is the figure to compare.
    static func processCPUms() -> Double { cpuMs(CLOCK_PROCESS_CPUTIME_ID) }

    /// The calling thread's CPU time (a keystroke's, without the other threads').
    static func threadCPUms() -> Double { cpuMs(CLOCK_THREAD_CPUTIME_ID) }

    private static func cpuMs(_ clock: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(clock, &t)
        return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
    }

    /// `body` run `warmup` times untimed, then `runs` times: the median and fastest wall time and
    /// the median process CPU time.
    static func time(runs: Int, warmup: Int, _ body: () throws -> Void) throws -> (median: Double, min: Double, cpu: Double) {
        for _ in 0..<warmup { try body() }
        var samples: [Double] = [], cpu: [Double] = []
        for _ in 0..<runs {
            let t = DispatchTime.now(), c = processCPUms()
            try body()
            samples.append(ms(since: t))
            cpu.append(processCPUms() - c)
        }
        return (median(samples), samples.min() ?? 0, median(cpu))
    }

    /// The image a model benchmark runs on: the file given, else 1024×1024 seeded noise (the
    /// same every run, and the encoder's own input size).
    static func image(_ path: String?) throws -> RGBImage {
        if let path { return try ImageFile.read(path).rgbImage() }
        var state: UInt32 = 12345
        var px = [UInt8](repeating: 0, count: 1024 * 1024 * 3)
        for i in px.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            px[i] = UInt8(truncatingIfNeeded: state >> 24)
        }
        return RGBImage(width: 1024, height: 1024, pixels: px)
    }
}
