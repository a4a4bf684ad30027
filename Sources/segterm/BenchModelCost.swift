import Foundation
import SegCore
import SegModels
import SegNN

/// SAM 2.1's encoder against the machine: its FLOPs per image, the rate achieved, and the fraction
/// of the SGEMM peak measured in the same run (the encoder is mostly matrix products, so that peak
/// bounds how fast it can be in fp32).
struct EncoderCost: Encodable {
    struct Phase: Encodable { let phase: String, wallMs: Double, cpuMs: Double, gflop: Double }
    let gflopPerImage: Double
    /// By the median wall time and by the median process CPU time.
    let gflopsWall: Double, gflopsCPU: Double
    let sgemmPeakWall: Double, sgemmPeakCPU: Double
    let fractionOfPeakWall: Double, fractionOfPeakCPU: Double
    /// Mean per image over the profiled runs (empty without --phases).
    let phases: [Phase]
}

extension BenchModel {
    func encoderCost(_ sam: SAMModel, rgb: RGBImage, encoder: (median: Double, min: Double, cpu: Double)) -> EncoderCost? {
        guard let macs = sam.encoderMultiplyAdds else { return nil }
        let gflop = 2 * macs.reduce(0) { $0 + $1.macs } / 1e9
        let peak = SGEMMRate.peak()
        // Both CPU-time rates are per core's worth of CPU time (all threads' time summed), so they compare.
        let wall = gflop / (encoder.median / 1e3), cpu = gflop / (encoder.cpu / 1e3)
        var phases: [EncoderCost.Phase] = []
        if self.phases {
            HieraProfile.reset()
            HieraProfile.enable(true)
            for _ in 0..<encoderRuns { _ = try? sam.prepare(rgb) }
            HieraProfile.enable(false)
            let flops = Dictionary(macs.map { ($0.phase, 2 * $0.macs / 1e9) }, uniquingKeysWith: +)
            let n = Double(encoderRuns)
            phases = HieraProfile.report().map { .init(phase: $0.phase, wallMs: $0.wallMs / n, cpuMs: $0.cpuMs / n, gflop: flops[$0.phase] ?? 0) }
        }
        return EncoderCost(gflopPerImage: gflop, gflopsWall: wall, gflopsCPU: cpu, sgemmPeakWall: peak.wall, sgemmPeakCPU: peak.cpu,
                           fractionOfPeakWall: wall / peak.wall, fractionOfPeakCPU: cpu / peak.cpu, phases: phases)
    }

    func printCost(_ c: EncoderCost) {
        print(String(format: "encoder cost     %.1f GFLOP per image (as the official model computes it); %.1f GFLOP/s by wall time, %.1f by CPU time",
                     c.gflopPerImage, c.gflopsWall, c.gflopsCPU))
        print(String(format: "SGEMM peak       %.1f GFLOP/s wall, %.1f CPU (2048³, this run's threads): encoder at %.0f%% (wall), %.0f%% (CPU)",
                     c.sgemmPeakWall, c.sgemmPeakCPU, 100 * c.fractionOfPeakWall, 100 * c.fractionOfPeakCPU))
        guard !c.phases.isEmpty else { return }
        let wall = c.phases.reduce(0) { $0 + $1.wallMs }, cpu = c.phases.reduce(0) { $0 + $1.cpuMs }
        print("phase                        wall ms  CPU ms  CPU share   GFLOP  GFLOP/s wall  GFLOP/s CPU")
        for p in c.phases {
            func rate(_ ms: Double) -> String { p.gflop > 0 ? String(format: "%12.1f", p.gflop / (ms / 1e3)) : "           -" }
            print(p.phase.padding(toLength: 26, withPad: " ", startingAt: 0)
                  + String(format: " %9.1f %7.1f %9.1f%% %7.2f ", p.wallMs, p.cpuMs, 100 * p.cpuMs / cpu, p.gflop) + rate(p.wallMs) + " " + rate(p.cpuMs))
        }
        print(String(format: "phases total %.1f ms wall, %.1f ms CPU (Hiera and neck; resize and the decoder's per-image work are outside)", wall, cpu))
    }
}
