/// Convolutions on one image in NCHW layout (`[C, H, W]`, batch 1).
public enum Conv {
    public struct Geometry: Equatable, Sendable {
        public var inChannels: Int, outChannels: Int
        public var kernel: Int, stride: Int, padding: Int
        public var height: Int, width: Int  // input

        public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, height: Int, width: Int) {
            self.inChannels = inChannels; self.outChannels = outChannels
            self.kernel = kernel; self.stride = stride; self.padding = padding
            self.height = height; self.width = width
        }

        public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
        public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    }

    /// Scratch floats `conv2d` needs for `g` (im2col of one block of output rows).
    public static func scratchCount(_ g: Geometry) -> Int {
        if g.kernel == 1 && g.stride == 1 && g.padding == 0 { return 0 }
        let rows = rowsPerBlock(g)
        return g.inChannels * g.kernel * g.kernel * rows * g.outWidth
    }

    // About 4 MB of im2col per block: big enough for GEMM efficiency, small enough to stay in L3.
    static func rowsPerBlock(_ g: Geometry) -> Int {
        let perRow = g.inChannels * g.kernel * g.kernel * g.outWidth
        return max(1, min(g.outHeight, (1 << 20) / max(perRow, 1)))
    }

    /// Dense convolution (groups = 1): weight `[Cout, Cin, k, k]`, optional bias `[Cout]`.
    /// 1×1 stride 1 is a single GEMM; anything else goes through im2col in blocks of output rows.
    public static func conv2d(_ x: UnsafePointer<Float>, _ g: Geometry, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                              _ y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?) {
        let oh = g.outHeight, ow = g.outWidth, opix = oh * ow
        if let bias {
            for o in 0..<g.outChannels { (y + o * opix).initialize(repeating: bias[o], count: opix) }
        }
        let beta: Float = bias == nil ? 0 : 1
        if g.kernel == 1 && g.stride == 1 && g.padding == 0 {
            Gemm.sgemm(m: g.outChannels, n: opix, k: g.inChannels, a: weight, lda: g.inChannels,
                       b: x, ldb: opix, beta: beta, c: y, ldc: opix)
            return
        }
        guard let col = scratch else { preconditionFailure("Conv.conv2d: scratch buffer required") }
        let k = g.kernel, kk = k * k
        let rowsPer = rowsPerBlock(g)
        var r0 = 0
        while r0 < oh {
            let nr = min(rowsPer, oh - r0)
            let ncols = nr * ow
            // col[(c, ky, kx), (r, ox)] = x[c, (r0+r)·s − p + ky, ox·s − p + kx] (0 outside).
            Threads.parallel(g.inChannels) { c in
                let plane = x + c * g.height * g.width
                for ky in 0..<k {
                    for kx in 0..<k {
                        let dst = col + ((c * kk + ky * k + kx) * ncols)
                        for r in 0..<nr {
                            let iy = (r0 + r) * g.stride - g.padding + ky
                            let drow = dst + r * ow
                            if iy < 0 || iy >= g.height {
                                drow.initialize(repeating: 0, count: ow)
                                continue
                            }
                            let srow = plane + iy * g.width
                            for ox in 0..<ow {
                                let ix = ox * g.stride - g.padding + kx
                                drow[ox] = (ix >= 0 && ix < g.width) ? srow[ix] : 0
                            }
                        }
                    }
                }
            }
            Gemm.sgemm(m: g.outChannels, n: ncols, k: g.inChannels * kk, a: weight, lda: g.inChannels * kk,
                       b: col, ldb: ncols, beta: beta, c: y + r0 * ow, ldc: opix)
            r0 += nr
        }
    }

    /// Depthwise convolution (groups = channels), weight `[C, 1, k, k]`, direct loop: a GEMM per
    /// channel would be 1×k² by k²×HW, all overhead.
    public static func depthwise(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                 kernel k: Int, stride: Int, padding: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) {
        let oh = (height + 2 * padding - k) / stride + 1
        let ow = (width + 2 * padding - k) / stride + 1
        Threads.parallel(channels) { c in
            let plane = x + c * height * width
            let out = y + c * oh * ow
            let w = weight + c * k * k
            let b = bias?[c] ?? 0
            out.initialize(repeating: b, count: oh * ow)
            for ky in 0..<k {
                for kx in 0..<k {
                    let wv = w[ky * k + kx]
                    // Output columns whose input column ox·s − p + kx is inside the image.
                    var oxLo = 0
                    while oxLo < ow && oxLo * stride - padding + kx < 0 { oxLo += 1 }
                    var oxHi = ow
                    while oxHi > oxLo && (oxHi - 1) * stride - padding + kx >= width { oxHi -= 1 }
                    if oxLo >= oxHi { continue }
                    for oy in 0..<oh {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= height { continue }
                        let srow = plane + iy * width - padding + kx
                        let orow = out + oy * ow
                        if stride == 1 {
                            for ox in oxLo..<oxHi { orow[ox] += wv * srow[ox] }
                        } else {
                            for ox in oxLo..<oxHi { orow[ox] += wv * srow[ox * stride] }
                        }
                    }
                }
            }
        }
    }

    /// Depthwise convolution, stride 1, on channels-last tokens x [H·W, C] → y [H·W, C], with the
    /// weight given as [k·k, C]: the inner loop runs along channels, contiguous in both, so it
    /// vectorises, and attention stages need no NCHW round trip.
    public static func depthwiseChannelsLast(_ x: UnsafePointer<Float>, channels c: Int, height: Int, width: Int, kernel k: Int,
                                             padding: Int, weightKC: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                             _ y: UnsafeMutablePointer<Float>) {
        Threads.parallelRanges(height, minPerChunk: 4) { rows in
            for oy in rows {
                for ox in 0..<width {
                    let o = y + (oy * width + ox) * c
                    if let bias { o.update(from: bias, count: c) } else { o.initialize(repeating: 0, count: c) }
                    for ky in 0..<k {
                        let iy = oy - padding + ky
                        if iy < 0 || iy >= height { continue }
                        for kx in 0..<k {
                            let ix = ox - padding + kx
                            if ix < 0 || ix >= width { continue }
                            let src = x + (iy * width + ix) * c
                            let w = weightKC + (ky * k + kx) * c
                            for j in 0..<c { o[j] += w[j] * src[j] }
                        }
                    }
                }
            }
        }
    }

    /// Transposed convolution with kernel 2 and stride 2 (SAM's output upscaling): weight
    /// `[Cin, Cout, 2, 2]`, output `[Cout, 2H, 2W]`. One GEMM gives every (cout, dy, dx) plane at
    /// input resolution; a scatter interleaves them.
    public static func transposed2x2(_ x: UnsafePointer<Float>, inChannels: Int, outChannels: Int, height: Int, width: Int,
                                     weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                     _ y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let pix = height * width
        // scratch[(co, dy, dx), p] = Σ_ci W[ci, (co, dy, dx)] · x[ci, p]
        Gemm.sgemm(transA: true, m: outChannels * 4, n: pix, k: inChannels, a: weight, lda: outChannels * 4,
                   b: x, ldb: pix, c: scratch, ldc: pix)
        let ow = width * 2
        Threads.parallel(outChannels) { co in
            let b = bias?[co] ?? 0
            let out = y + co * pix * 4
            for dy in 0..<2 {
                for dx in 0..<2 {
                    let src = scratch + ((co * 4 + dy * 2 + dx) * pix)
                    for iy in 0..<height {
                        let orow = out + (iy * 2 + dy) * ow + dx
                        let srow = src + iy * width
                        for ix in 0..<width { orow[ix * 2] = srow[ix] + b }
                    }
                }
            }
        }
    }
}
