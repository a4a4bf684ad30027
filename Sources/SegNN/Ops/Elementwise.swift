#if canImport(Glibc)
import Glibc
#endif

/// Elementwise kernels on contiguous buffers. The transcendental functions are branch-free SIMD
/// versions: the encoders evaluate GELU on about 10^8 values per image, too many for scalar libm.
public enum Elementwise {
    public typealias V = SIMD8<Float>

    /// e^x for a vector, |relative error| < 2e-7 over the range softmax and erf use.
    /// Cody–Waite reduction x = n·ln2 + r, a degree-6 polynomial for e^r, 2^n built in the exponent bits.
    @inline(__always)
    public static func exp(_ x: V) -> V {
        let clamped = x.clamped(lowerBound: V(repeating: -87.3), upperBound: V(repeating: 88.3))
        let n: V = (clamped * V(repeating: 1.44269504088896341)).rounded(.toNearestOrEven)
        var r: V = clamped - n * V(repeating: 0.693359375)
        r = r - n * V(repeating: -2.12194440e-4)
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + V(repeating: 1.3981999507e-3)
        p = p * r + V(repeating: 8.3334519073e-3)
        p = p * r + V(repeating: 4.1665795894e-2)
        p = p * r + V(repeating: 1.6666665459e-1)
        p = p * r + V(repeating: 5.0000001201e-1)
        let r2: V = r * r
        let e: V = p * r2 + r + V(repeating: 1)
        let ni: SIMD8<Int32> = SIMD8<Int32>(n, rounding: .toNearestOrEven)
        let bits: SIMD8<Int32> = (ni &+ SIMD8<Int32>(repeating: 127)) &<< SIMD8<Int32>(repeating: 23)
        return e * unsafeBitCast(bits, to: V.self)
    }

    /// erf as PyTorch's vectorised CPU kernel computes it (Abramowitz & Stegun 7.1.26 with an exact
    /// exponential): absolute error below 1.5e-7, the same error PyTorch's own GELU carries.
    @inline(__always)
    public static func erf(_ x: V) -> V {
        let a: V = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x7fff_ffff), to: V.self)
        let one = V(repeating: 1)
        let t: V = one / (one + V(repeating: 0.3275911) * a)
        var p = V(repeating: 1.061405429)
        p = p * t + V(repeating: -1.453152027)
        p = p * t + V(repeating: 1.421413741)
        p = p * t + V(repeating: -0.284496736)
        p = p * t + V(repeating: 0.254829592)
        let y: V = one - p * t * exp(-(a * a))
        return y.replacing(with: -y, where: x .< V(repeating: 0))
    }

    /// GELU, exact erf form (PyTorch `nn.GELU()` default): x/2 · (1 + erf(x/√2)), in place.
    public static func gelu(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        Threads.parallelRanges(n, minPerChunk: 1 << 16) { range in
            var i = range.lowerBound
            let end = range.upperBound
            while i + 8 <= end {
                let raw = UnsafeMutableRawPointer(p + i)
                let x = raw.loadUnaligned(as: V.self)
                let y: V = V(repeating: 0.5) * x * (V(repeating: 1) + erf(x * V(repeating: 0.70710678118654752)))
                raw.storeBytes(of: y, as: V.self)
                i += 8
            }
            while i < end {
                let x = p[i]
                p[i] = 0.5 * x * (1 + Glibc.erff(x * 0.70710678118654752))
                i += 1
            }
        }
    }

    public static func relu(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n where p[i] < 0 { p[i] = 0 }
    }

    /// y += x
    public static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    /// out = a + b
    public static func sum(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = a[i] + b[i] }
    }

    public static func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        dst.update(from: src, count: n)
    }

    /// Softmax over each of `rows` rows of `cols` values (row stride `ld`), max-subtracted so large
    /// logits cannot overflow, in place.
    public static func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
        Threads.parallelRanges(rows, minPerChunk: max(1, 16384 / max(cols, 1))) { range in
            for r in range { softmaxRow(p + r * ld, cols) }
        }
    }

    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for i in 0..<n where row[i] > m { m = row[i] }
        if m == -Float.infinity { m = 0 }
        var s: Float = 0
        var i = 0
        let mv = V(repeating: m)
        var acc = V(repeating: 0)
        while i + 8 <= n {
            let raw = UnsafeMutableRawPointer(row + i)
            let e = exp(raw.loadUnaligned(as: V.self) - mv)
            raw.storeBytes(of: e, as: V.self)
            acc += e
            i += 8
        }
        s = acc.sum()
        while i < n {
            let e = Glibc.expf(row[i] - m)
            row[i] = e
            s += e
            i += 1
        }
        let inv = 1 / s
        for j in 0..<n { row[j] *= inv }
    }
}
