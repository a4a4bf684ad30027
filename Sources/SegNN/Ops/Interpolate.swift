#if canImport(Glibc)
import Glibc
#endif

/// Resampling and positional encodings.
public enum Interpolate {
    /// Source taps for one axis of PyTorch's bilinear resize with `align_corners=False`:
    /// src = scale·(dst + 0.5) − 0.5 in float32, clamped at 0; scale = in/out.
    public struct Taps: Sendable {
        public var i0: [Int32], i1: [Int32], w0: [Float], w1: [Float]
        public init(input: Int, output: Int) {
            let scale = Float(input) / Float(output)
            i0 = []; i1 = []; w0 = []; w1 = []
            i0.reserveCapacity(output); i1.reserveCapacity(output); w0.reserveCapacity(output); w1.reserveCapacity(output)
            for d in 0..<output {
                var src = scale * (Float(d) + 0.5) - 0.5
                if src < 0 { src = 0 }
                let lo = min(Int(src), input - 1)
                let l1 = min(max(src - Float(lo), 0), 1)
                i0.append(Int32(lo))
                i1.append(Int32(lo < input - 1 ? lo + 1 : lo))
                w0.append(1 - l1)
                w1.append(l1)
            }
        }
    }

    /// Bilinear resize of `channels` planes (PyTorch `F.interpolate(mode="bilinear", align_corners=False)`,
    /// no antialias). The input plane may be a crop of a wider one: `inRowStride` and `inPlaneStride`.
    /// With `cropHeight`/`cropWidth` only the top-left part of the outHeight × outWidth result is
    /// computed (and stored densely): SAM crops the padded square right after upsampling it.
    public static func bilinear(_ x: UnsafePointer<Float>, channels: Int, inHeight: Int, inWidth: Int,
                                inRowStride: Int, inPlaneStride: Int,
                                outHeight fullHeight: Int, outWidth fullWidth: Int, _ y: UnsafeMutablePointer<Float>,
                                cropHeight: Int? = nil, cropWidth: Int? = nil) {
        let ty = Taps(input: inHeight, output: fullHeight)
        let tx = Taps(input: inWidth, output: fullWidth)
        let outHeight = min(cropHeight ?? fullHeight, fullHeight), outWidth = min(cropWidth ?? fullWidth, fullWidth)
        tx.i0.withUnsafeBufferPointer { xi0 in tx.i1.withUnsafeBufferPointer { xi1 in
        tx.w0.withUnsafeBufferPointer { xw0 in tx.w1.withUnsafeBufferPointer { xw1 in
            Threads.parallelRanges(channels * outHeight, minPerChunk: 16) { range in
                for job in range {
                    let c = job / outHeight, oy = job % outHeight
                    let plane = x + c * inPlaneStride
                    let r0 = plane + Int(ty.i0[oy]) * inRowStride, r1 = plane + Int(ty.i1[oy]) * inRowStride
                    let wy0 = ty.w0[oy], wy1 = ty.w1[oy]
                    let orow = y + (c * outHeight + oy) * outWidth
                    for ox in 0..<outWidth {
                        let a = Int(xi0[ox]), b = Int(xi1[ox])
                        let top = r0[a] * xw0[ox] + r0[b] * xw1[ox]
                        let bottom = r1[a] * xw0[ox] + r1[b] * xw1[ox]
                        orow[ox] = top * wy0 + bottom * wy1
                    }
                }
            }
        }}}}
    }

    /// SAM's random Fourier features: for a point (x, y) in [0, 1]², with c = 2p − 1,
    /// [sin(2π·c·G), cos(2π·c·G)] where G is the 2×F Gaussian matrix; writes 2F values.
    @inline(__always)
    public static func fourierFeatures(x: Float, y: Float, gaussian g: UnsafePointer<Float>, features f: Int,
                                       _ out: UnsafeMutablePointer<Float>) {
        let cx = 2 * x - 1, cy = 2 * y - 1
        let twoPi = Float(2 * Double.pi)
        for j in 0..<f {
            let p = twoPi * (cx * g[j] + cy * g[f + j])
            out[j] = sinf(p)
            out[f + j] = cosf(p)
        }
    }

    /// The dense positional encoding of an h×w grid of cell centres ((j + 0.5)/w, (i + 0.5)/h),
    /// as token rows [h·w, 2F].
    public static func denseFourierGrid(height h: Int, width w: Int, gaussian: UnsafePointer<Float>, features f: Int) -> [Float] {
        var out = [Float](repeating: 0, count: h * w * 2 * f)
        out.withUnsafeMutableBufferPointer { o in
            guard let base = o.baseAddress else { return }
            for i in 0..<h {
                for j in 0..<w {
                    fourierFeatures(x: (Float(j) + 0.5) / Float(w), y: (Float(i) + 0.5) / Float(h),
                                    gaussian: gaussian, features: f, base + (i * w + j) * 2 * f)
                }
            }
        }
        return out
    }
}
