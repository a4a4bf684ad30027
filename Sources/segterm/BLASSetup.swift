import Foundation
import SegNN
#if canImport(Glibc)
import Glibc
#endif

/// Debian's OpenBLAS 0.3.21 does not know AMD Zen 5 and falls back to its AVX2 (Haswell) kernels,
/// half the GEMM speed of its AVX-512 (SkylakeX) ones on such a CPU (measured: 100 vs 200 GFLOPS
/// per core). OpenBLAS picks its kernels when it is loaded, before `main`, from `OPENBLAS_CORETYPE`;
/// so for the model commands, when the CPU has AVX-512 and OpenBLAS chose an AVX2 kernel, segterm
/// sets the variable and re-executes itself once. A user's own `OPENBLAS_CORETYPE` always wins.
enum BLASSetup {
    static func preferFastKernels() {
        let args = CommandLine.arguments
        guard args.count > 1, ["segment", "bench", "open", "noc"].contains(args[1]) else { return }
        guard getenv("OPENBLAS_CORETYPE") == nil, getenv("SEGTERM_REEXEC") == nil else { return }
        guard ["Haswell", "Zen"].contains(SegNN.blasCoreName), SegNN.cpuHasAVX512 else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        setenv("SEGTERM_REEXEC", "1", 1)
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        execv("/proc/self/exe", &cargs)
        // exec failed: carry on with the kernels we have.
    }
}
