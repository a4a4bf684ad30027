import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Elementwise kernels on contiguous buffers. The transcendental functions are branch-free SIMD
/// versions: the encoders evaluate GELU on about 10^8 values per image, too many for scalar libm.
///
/// The hot loops run in CKernels (the same arithmetic in C, compiled for AVX2+FMA and AVX-512 and
/// picked at run time): Swift compiles this module for baseline x86-64, where SIMD8 is two SSE
/// halves and nothing fuses multiply-adds. The Swift bodies below stay as the fallback when
/// SEGTERM_KERNELS=swift and as the reference the kernels are tested against.
public enum Elementwise {
    /// Whether the C kernels are in use (they are unless SEGTERM_KERNELS=swift).
    @inline(__always)
    static var useC: Bool { ck_level() > 0 }

    /// Selects the kernels' instruction set (0 Swift, 1 portable C, 2 AVX2, 3 AVX-512; capped by the
    /// CPU) and returns the level in force: for tests and A/B runs in one process.
    @discardableResult
    static func setKernelLevel(_ level: Int) -> Int { Int(ck_set_level(Int32(level))) }

    /// The level in force (see `setKernelLevel`).
    static var kernelLevel: Int { Int(ck_level()) }

    /// Elements per parallel chunk for memory-bound passes: below this, waking a second thread
    /// costs more than it saves.
    static let streamChunk = 1 << 16

    /// e^x, |relative error| < 2e-7 over the range softmax and erf use. Cody–Waite reduction
    /// x = n·ln2 + r, a degree-6 polynomial for e^r, and 2^n written into the exponent bits. Only
    /// arithmetic and bit casts (rounding by adding 1.5·2²³), so loops over it vectorise.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let xc: Float = x < -87.3 ? -87.3 : (x > 88.3 ? 88.3 : x)
        let t: Float = xc * 1.44269504088896341 + 12_582_912
        let n: Float = t - 12_582_912
        var r: Float = xc - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let e: Float = p * (r * r) + r + 1
        let scale = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return e * scale
    }

    /// erf as PyTorch's vectorised CPU kernel computes it (Abramowitz & Stegun 7.1.26 with an exact
    /// exponential): absolute error below 1.5e-7, the same error PyTorch's own GELU carries.
    @inline(__always)
    public static func erf(_ x: Float) -> Float {
        let a = Float(bitPattern: x.bitPattern & 0x7FFF_FFFF)
        let t: Float = 1 / (1 + 0.3275911 * a)
        var p: Float = 1.061405429
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let y: Float = 1 - p * t * exp(-(a * a))
        return Float(bitPattern: y.bitPattern | (x.bitPattern & 0x8000_0000))
    }

    public typealias F8 = SIMD8<Float>
    typealias U8 = SIMD8<UInt32>
    typealias I8 = SIMD8<Int32>

    // The SIMD versions use only operations that lower to single vector instructions (arithmetic,
    // bitwise, bit casts, compare-and-select); the standard library's clamped, rounded and
    // float→int conversion run lane by lane.

    @inline(__always)
    static func abs8(_ x: F8) -> F8 { unsafeBitCast(unsafeBitCast(x, to: U8.self) & U8(repeating: 0x7FFF_FFFF), to: F8.self) }

    /// min(x, c): a compare and a select (minps), exact.
    @inline(__always)
    static func min8(_ x: F8, _ c: Float) -> F8 { let v = F8(repeating: c); return x.replacing(with: v, where: x .> v) }

    @inline(__always)
    static func max8(_ x: F8, _ c: Float) -> F8 { let v = F8(repeating: c); return x.replacing(with: v, where: x .< v) }

    /// `exp` on eight lanes, same method and accuracy as the scalar one.
    @inline(__always)
    public static func exp8(_ x: F8) -> F8 {
        let xc = min8(max8(x, -87.3), 88.3)
        let t = xc * F8(repeating: 1.44269504088896341) + F8(repeating: 12_582_912)
        let n = t - F8(repeating: 12_582_912)
        var r = xc - n * F8(repeating: 0.693359375)
        r = r - n * F8(repeating: -2.12194440e-4)
        var p = F8(repeating: 1.9875691500e-4)
        p = p * r + F8(repeating: 1.3981999507e-3)
        p = p * r + F8(repeating: 8.3334519073e-3)
        p = p * r + F8(repeating: 4.1665795894e-2)
        p = p * r + F8(repeating: 1.6666665459e-1)
        p = p * r + F8(repeating: 5.0000001201e-1)
        let e = p * (r * r) + r + F8(repeating: 1)
        let ni = unsafeBitCast(t, to: I8.self) &- I8(repeating: 0x4B40_0000)
        let scale = unsafeBitCast((ni &+ I8(repeating: 127)) &* I8(repeating: 1 << 23), to: F8.self)
        return e * scale
    }

    /// GELU on eight lanes.
    @inline(__always)
    static func gelu8(_ x: F8) -> F8 {
        let z = x * F8(repeating: 0.70710678118654752)
        // erf(|z|) is 1 to float precision beyond 6; capping keeps exp's argument in range.
        let a = min8(abs8(z), 6)
        let t = F8(repeating: 1) / (F8(repeating: 1) + F8(repeating: 0.3275911) * a)
        var p = F8(repeating: 1.061405429)
        p = p * t + F8(repeating: -1.453152027)
        p = p * t + F8(repeating: 1.421413741)
        p = p * t + F8(repeating: -0.284496736)
        p = p * t + F8(repeating: 0.254829592)
        let y = F8(repeating: 1) - p * t * exp8(F8(repeating: 0) - a * a)
        let signed = unsafeBitCast(unsafeBitCast(y, to: U8.self) | (unsafeBitCast(z, to: U8.self) & U8(repeating: 0x8000_0000)), to: F8.self)
        return F8(repeating: 0.5) * x * (F8(repeating: 1) + signed)
    }

    /// GELU, exact erf form (PyTorch `nn.GELU()` default): x/2 · (1 + erf(x/√2)), in place.
    public static func gelu(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        if useC {
            Threads.parallelRanges(n, minPerChunk: 1 << 16) { range in ck_gelu(p + range.lowerBound, range.count, nil, 0) }
            return
        }
        geluSwift(p, n)
    }

    /// GELU of x + bias, the bias repeating every `period` values (a bias per channel on rows of
    /// `period` channels), in place: the bias add of the layer before costs no pass of its own.
    public static func gelu(_ p: UnsafeMutablePointer<Float>, _ n: Int, bias: UnsafePointer<Float>, period: Int) {
        precondition(period > 0 && n % period == 0, "gelu: n must be a multiple of the bias period")
        let rows = n / period
        if useC {
            Threads.parallelRanges(rows, minPerChunk: max(1, (1 << 16) / period)) { r in
                ck_gelu(p + r.lowerBound * period, r.count * period, bias, period)
            }
            return
        }
        addBias(p, p, rows: rows, dim: period, bias: bias)
        geluSwift(p, n)
    }

    /// out[m·ldo + i] = Σ_c h[m·channels + c] · gelu(x[c·ld + i] + bias[c]) for i < n, m < count: GELU
    /// on channel-major rows and a product with `count` (≤ 4) weight vectors in one pass, so the
    /// GELU values are never written back (SAM's masks = hypernetwork weights · upscaled embedding).
    /// The Swift path overwrites x with the GELU values and uses a GEMM.
    public static func geluMix(_ x: UnsafeMutablePointer<Float>, ld: Int, channels: Int, n: Int, bias: UnsafePointer<Float>,
                               h: UnsafePointer<Float>, count: Int, _ out: UnsafeMutablePointer<Float>, ldo: Int) {
        precondition(count >= 1 && count <= 4 && channels <= Int(CK_MIX_MAX_CHANNELS), "geluMix: up to 4 outputs of up to 64 channels")
        if useC {
            // Chunks of whole 16-float vectors.
            Threads.parallelRanges((n + 15) / 16, minPerChunk: 256) { r in
                let lo = r.lowerBound * 16, hi = min(n, r.upperBound * 16)
                ck_gelu_mix(x + lo, ld, channels, hi - lo, bias, h, count, out + lo, ldo)
            }
            return
        }
        Threads.parallelRanges(channels, minPerChunk: 1) { cs in
            for c in cs {
                let row = x + c * ld
                for i in 0..<n { row[i] += bias[c] }
            }
        }
        for c in 0..<channels { geluSwift(x + c * ld, n) }
        Gemm.sgemm(m: count, n: n, k: channels, a: h, lda: channels, b: x, ldb: ld, c: out, ldc: ldo)
    }

    /// The Swift GELU (eight lanes), the reference for the C kernels.
    public static func geluSwift(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        Threads.parallelRanges(n, minPerChunk: 1 << 16) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let raw = UnsafeMutableRawPointer(p + i)
                raw.storeBytes(of: gelu8(raw.loadUnaligned(as: F8.self)), as: F8.self)
                i += 8
            }
            while i < range.upperBound {
                let x = p[i]
                p[i] = 0.5 * x * (1 + erf(x * 0.70710678118654752))
                i += 1
            }
        }
    }

    public static func relu(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n where p[i] < 0 { p[i] = 0 }
    }

    /// y += x
    public static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        sum(y, UnsafePointer(y), x, n)
    }

    /// out = a + b (out may be a or b). Split over the threads: the decoder adds 1 M-value planes.
    public static func sum(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
        Threads.parallelRanges(n, minPerChunk: streamChunk) { r in
            let lo = r.lowerBound
            if useC {
                ck_sum(out + lo, a + lo, b + lo, r.count)
            } else {
                for i in r { out[i] = a[i] + b[i] }
            }
        }
    }

    /// out[r, j] = x[r, j] + bias[j] for `rows` rows of `dim` values (out may be x).
    public static func addBias(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, dim: Int, bias: UnsafePointer<Float>) {
        Threads.parallelRanges(rows, minPerChunk: max(1, streamChunk / max(dim, 1))) { r in
            if useC {
                ck_add_bias(out + r.lowerBound * dim, x + r.lowerBound * dim, r.count, dim, bias)
            } else {
                for row in r {
                    let o = out + row * dim, xr = x + row * dim
                    for j in 0..<dim { o[j] = xr[j] + bias[j] }
                }
            }
        }
    }

    public static func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        dst.update(from: src, count: n)
    }

    /// Softmax over each of `rows` rows of `cols` values (row stride `ld`), max-subtracted so large
    /// logits cannot overflow, in place.
    public static func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
        Threads.parallelRanges(rows, minPerChunk: max(1, 16384 / max(cols, 1))) { range in
            if useC {
                ck_softmax_rows(p + range.lowerBound * ld, range.count, cols, ld)
            } else if cols < 16 && ld == cols {
                shortRows(p + range.lowerBound * cols, rows: range.count, cols: cols)
            } else {
                for r in range { softmaxRow(p + r * ld, cols) }
            }
        }
    }

    /// Many short contiguous rows (the decoder's image-to-token attention: a handful of keys):
    /// subtract each row's max, then one vector pass of exp over the whole block, then normalise.
    static func shortRows(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = p + r * cols
            var m = row[0]
            for j in 1..<cols where row[j] > m { m = row[j] }
            if !m.isFinite { m = 0 }
            for j in 0..<cols { row[j] -= m }
        }
        let n = rows * cols
        var i = 0
        while i + 8 <= n {
            let raw = UnsafeMutableRawPointer(p + i)
            raw.storeBytes(of: exp8(raw.loadUnaligned(as: F8.self)), as: F8.self)
            i += 8
        }
        while i < n { p[i] = exp(p[i]); i += 1 }
        for r in 0..<rows {
            let row = p + r * cols
            var s: Float = 0
            for j in 0..<cols { s += row[j] }
            let inv = 1 / s
            for j in 0..<cols { row[j] *= inv }
        }
    }

    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for i in 0..<n where row[i] > m { m = row[i] }
        if m == -Float.infinity { m = 0 }
        var s: Float = 0
        var i = 0
        if n >= 8 {
            var acc = F8(repeating: 0)
            let mv = F8(repeating: m)
            while i + 8 <= n {
                let raw = UnsafeMutableRawPointer(row + i)
                let e = exp8(raw.loadUnaligned(as: F8.self) - mv)
                raw.storeBytes(of: e, as: F8.self)
                acc += e
                i += 8
            }
            s = acc.sum()
        }
        while i < n {
            let e = exp(row[i] - m)
            row[i] = e
            s += e
            i += 1
        }
        let inv = 1 / s
        for j in 0..<n { row[j] *= inv }
    }
}
