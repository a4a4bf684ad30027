#if canImport(Glibc)
import Glibc
#endif

/// Elementwise kernels on contiguous buffers. The transcendental functions are branch-free SIMD
/// versions: the encoders evaluate GELU on about 10^8 values per image, too many for scalar libm.
public enum Elementwise {
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

    /// GELU, exact erf form (PyTorch `nn.GELU()` default): x/2 · (1 + erf(x/√2)), in place.
    public static func gelu(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        Threads.parallelRanges(n, minPerChunk: 1 << 16) { range in
            for i in range {
                let x = p[i]
                p[i] = 0.5 * x * (1 + erf(x * 0.70710678118654752))
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
        for i in 0..<n { row[i] = exp(row[i] - m) }
        var s: Float = 0
        for i in 0..<n { s += row[i] }
        let inv = 1 / s
        for j in 0..<n { row[j] *= inv }
    }
}
