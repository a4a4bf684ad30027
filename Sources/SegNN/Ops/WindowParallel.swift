import CBLAS

extension Attention {
    /// Runs `body(window, scratch)` for windows 0..<count spread over the cores, with OpenBLAS
    /// single-threaded meanwhile: one window's GEMMs (64 tokens × 96 channels in SAM 2.1's first
    /// stage) are too small for OpenBLAS to split, so without this they run one after another on one
    /// core. Each worker gets its own `scratchPerWindow` floats of `scratch`
    /// (`workers(count) × scratchPerWindow` in all). The thread setting is process-wide: a model
    /// running at the same time on another queue gets single-threaded BLAS for that long.
    public static func eachWindow(_ count: Int, scratch: UnsafeMutablePointer<Float>, scratchPerWindow: Int,
                                  _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let workers = self.workers(count)
        if workers <= 1 {
            for w in 0..<count { body(w, scratch) }
            return
        }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(Threads.count)) }
        Threads.parallel(workers) { k in
            var w = k
            while w < count {
                body(w, scratch + k * scratchPerWindow)
                w += workers
            }
        }
    }

    /// How many workers `eachWindow` uses for `count` windows.
    public static func workers(_ count: Int) -> Int { max(1, min(Threads.count, count)) }
}
