#if canImport(Glibc)
import Glibc
#endif
import SegNN

/// scikit-image's `resize(image, (S, S), order=3, mode="reflect", anti_aliasing=True,
/// preserve_range=True)` of an H × W × C image, in Float64, as scikit-image 0.26 computes it on
/// SciPy 1.17: the Gaussian anti-aliasing filter (`ndimage.gaussian_filter`, sigma (f − 1) / 2 on
/// the axes that shrink), then `ndimage.zoom(order=3, mode="mirror", grid_mode=True)` — the cubic
/// B-spline prefilter along every axis (the channel axis too) and the interpolation, which maps
/// output pixel k to input coordinate (k + 0.5)·zoom − 0.5 — then the clip to the input's range.
/// Each step keeps SciPy's order of operations, so the result is SciPy's to the last bit or so
/// (MedSAM casts it to uint8, where a value a hair under an integer would drop a level).
public enum SplineZoom {
    /// `data`: H × W × C row-major (channels last). Returns S × S × C (rows `outHeight`, columns `outWidth`).
    public static func resize(_ data: [Double], height: Int, width: Int, channels: Int,
                              outHeight: Int, outWidth: Int) -> [Double] {
        precondition(data.count == height * width * channels && height > 0 && width > 0 && channels > 0, "SplineZoom: bad shape")
        let dims = [height, width, channels], outDims = [outHeight, outWidth, channels]
        // skimage: factors = input / output; sigma = max(0, (factor − 1) / 2) per axis.
        let factors = zip(dims, outDims).map { Double($0) / Double($1) }
        var filtered = data
        for axis in 0..<3 {
            let sigma = max(0, (factors[axis] - 1) / 2)
            if sigma > 1e-15 { filtered = gaussian1D(filtered, dims: dims, axis: axis, sigma: sigma) }
        }
        // ndimage.zoom: zoom factors 1 / factor; all ones means a copy (its early exit).
        let zooms = factors.map { 1 / $0 }
        var out: [Double]
        if zooms.allSatisfy({ $0 == 1 }) {
            out = filtered
        } else {
            for axis in 0..<3 { splineFilter(&filtered, dims: dims, axis: axis) }
            out = interpolate(filtered, dims: dims, outDims: outDims)
        }
        // _clip_warp_output: the range of the (unfiltered) input.
        var lo = Double.infinity, hi = -Double.infinity
        for v in data { lo = min(lo, v); hi = max(hi, v) }
        for i in out.indices { out[i] = min(max(out[i], lo), hi) }
        return out
    }

    // MARK: The cubic B-spline prefilter (ni_splines.c, mode mirror)

    /// The pole of the cubic B-spline, sqrt(3) − 2, as SciPy writes it.
    static let pole = -0.267949192431122706472553658494127633

    /// `spline_filter1d(order=3, mode="mirror")` along `axis`, in place.
    static func splineFilter(_ a: inout [Double], dims: [Int], axis: Int) {
        let n = dims[axis]
        guard n > 1 else { return }  // NI_SplineFilter1D leaves a line of one alone
        let step = dims[(axis + 1)...].reduce(1, *)
        let outer = dims[..<axis].reduce(1, *)
        let z = pole
        let gain = (1.0 - z) * (1.0 - 1.0 / z)
        let zn1 = pow(z, Double(n - 1))
        var line = [Double](repeating: 0, count: n)
        for o in 0..<outer {
            for s in 0..<step {
                let base = o * n * step + s
                for i in 0..<n { line[i] = a[base + i * step] * gain }
                // _init_causal_mirror
                line[0] = line[0] + zn1 * line[n - 1]
                var zi = z
                if n > 2 {
                    for i in 1..<(n - 1) {
                        line[0] += zi * (line[i] + zn1 * line[n - 1 - i])
                        zi *= z
                    }
                }
                line[0] /= 1 - zn1 * zn1
                for i in 1..<n { line[i] += z * line[i - 1] }
                // _init_anticausal_mirror
                line[n - 1] = (z * line[n - 2] + line[n - 1]) * z / (z * z - 1)
                for i in stride(from: n - 2, through: 0, by: -1) { line[i] = z * (line[i + 1] - line[i]) }
                for i in 0..<n { a[base + i * step] = line[i] }
            }
        }
    }

    // MARK: The interpolation (ni_interpolation.c NI_ZoomShift, order 3, mode mirror, grid mode)

    /// `map_coordinate` for NI_EXTEND_MIRROR: a coordinate outside 0…len−1 reflected about the end samples.
    static func mirror(_ x: Double, _ len: Int) -> Double {
        var v = x
        if v < 0 {
            if len <= 1 { return 0 }
            let sz2 = 2 * len - 2
            v = Double(sz2 * Int(-v / Double(sz2))) + v
            v = v <= Double(1 - len) ? v + Double(sz2) : -v
        } else if v > Double(len - 1) {
            if len <= 1 { return 0 }
            let sz2 = 2 * len - 2
            v -= Double(sz2 * Int(v / Double(sz2)))
            if v >= Double(len) { v = Double(sz2) - v }
        }
        return v
    }

    /// `get_spline_interpolation_weights(x, 3)`.
    static func weights(_ xIn: Double) -> (Double, Double, Double, Double) {
        let x = xIn - floor(xIn)
        let y = x, z = 1.0 - x
        let w1 = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0
        let w2 = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0
        let w0 = z * z * z / 6.0
        var w3 = 1.0
        w3 -= w0; w3 -= w1; w3 -= w2
        return (w0, w1, w2, w3)
    }

    /// Per output position along one axis: the four input indices (mirrored at the edges) and weights.
    struct AxisTaps {
        var index: [Int]   // 4 per output position
        var weight: [Double]

        init(inSize: Int, outSize: Int) {
            // np.divide(input.shape, output_shape) in grid mode.
            let zoom = Double(inSize) / Double(outSize)
            index = []; weight = []
            index.reserveCapacity(4 * outSize); weight.reserveCapacity(4 * outSize)
            for k in 0..<outSize {
                var cc = Double(k)
                cc += 0.5; cc *= zoom; cc -= 0.5
                cc = SplineZoom.mirror(cc, inSize)
                let start = Int(floor(cc)) - 1
                for h in 0..<4 {
                    let i = start + h
                    index.append(i < 0 || i >= inSize ? Int(SplineZoom.mirror(Double(i), inSize)) : i)
                }
                let w = SplineZoom.weights(cc)
                weight.append(contentsOf: [w.0, w.1, w.2, w.3])
            }
        }
    }

    /// The 4 × 4 × 4 tensor-product sum per output value, terms in SciPy's order (last axis fastest)
    /// and each term multiplied by the weights in axis order.
    static func interpolate(_ c: [Double], dims: [Int], outDims: [Int]) -> [Double] {
        let t0 = AxisTaps(inSize: dims[0], outSize: outDims[0])
        let t1 = AxisTaps(inSize: dims[1], outSize: outDims[1])
        let t2 = AxisTaps(inSize: dims[2], outSize: outDims[2])
        let (oh, ow, oc) = (outDims[0], outDims[1], outDims[2])
        let rowStride = dims[1] * dims[2], colStride = dims[2]
        var out = [Double](repeating: 0, count: oh * ow * oc)
        c.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                Threads.parallelRanges(oh, minPerChunk: 8) { rows in
                    for y in rows {
                        for x in 0..<ow {
                            for ch in 0..<oc {
                                var t = 0.0
                                for a in 0..<4 {
                                    let ra = t0.index[4 * y + a] * rowStride, wa = t0.weight[4 * y + a]
                                    for b in 0..<4 {
                                        let rb = ra + t1.index[4 * x + b] * colStride, wb = t1.weight[4 * x + b]
                                        for e in 0..<4 {
                                            var coeff = s[rb + t2.index[4 * ch + e]]
                                            coeff *= wa
                                            coeff *= wb
                                            coeff *= t2.weight[4 * ch + e]
                                            t += coeff
                                        }
                                    }
                                }
                                d[(y * ow + x) * oc + ch] = t
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: Anti-aliasing (ndimage.gaussian_filter1d, truncate 4, mode mirror)

    /// NumPy's pairwise sum (`pairwise_sum` for doubles: eight accumulators below 128 values).
    static func numpySum(_ a: ArraySlice<Double>) -> Double {
        let n = a.count, base = a.startIndex
        if n < 8 {
            var res = 0.0
            for i in 0..<n { res += a[base + i] }
            return res
        } else if n <= 128 {
            var r = (0..<8).map { a[base + $0] }
            var i = 8
            while i < n - (n % 8) {
                for j in 0..<8 { r[j] += a[base + i + j] }
                i += 8
            }
            var res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n { res += a[base + i]; i += 1 }
            return res
        }
        var n2 = n / 2
        n2 -= n2 % 8
        return numpySum(a[base..<(base + n2)]) + numpySum(a[(base + n2)...])
    }

    /// `_gaussian_kernel1d(sigma, 0, radius)`.
    static func gaussianKernel(sigma: Double, radius: Int) -> [Double] {
        let sigma2 = sigma * sigma
        let phi = (-radius...radius).map { x in exp(-0.5 / sigma2 * Double(x * x)) }
        let total = numpySum(phi[...])
        return phi.map { $0 / total }
    }

    /// `gaussian_filter1d(a, sigma, axis, mode="mirror")`: NI_Correlate1D's symmetric path over a
    /// line extended as NI_ExtendLine extends it.
    static func gaussian1D(_ a: [Double], dims: [Int], axis: Int, sigma: Double) -> [Double] {
        let radius = Int(4.0 * sigma + 0.5)
        let w = gaussianKernel(sigma: sigma, radius: radius).reversed().map { $0 }  // correlate, not convolve
        let n = dims[axis]
        let step = dims[(axis + 1)...].reduce(1, *)
        let outer = dims[..<axis].reduce(1, *)
        var out = a
        var buffer = [Double](repeating: 0, count: n + 2 * radius)
        for o in 0..<outer {
            for s in 0..<step {
                let base = o * n * step + s
                for i in 0..<n { buffer[radius + i] = a[base + i * step] }
                extendLine(&buffer, length: n, before: radius, after: radius)
                for l in 0..<n {
                    let c = radius + l
                    var v = buffer[c] * w[radius]
                    for j in stride(from: -radius, to: 0, by: 1) { v += (buffer[c + j] + buffer[c - j]) * w[radius + j] }
                    out[base + l * step] = v
                }
            }
        }
        return out
    }

    /// NI_ExtendLine for NI_EXTEND_MIRROR (a line of one: nearest), "cbabcdcb|abcd|cbabcdcb".
    static func extendLine(_ b: inout [Double], length n: Int, before: Int, after: Int) {
        let first = before, last = before + n
        if n == 1 {
            for i in 0..<before { b[i] = b[first] }
            for i in 0..<after { b[last + i] = b[first] }
            return
        }
        var sizeBefore = before, src = first + 1, dst = first - 1
        while sizeBefore > 0 && src < last { b[dst] = b[src]; dst -= 1; src += 1; sizeBefore -= 1 }
        src = last - 2
        // (SciPy reads on past the line when the radius exceeds it; a radius here is about 2·n/S.)
        while sizeBefore > 0 && src >= first { b[dst] = b[src]; dst -= 1; src -= 1; sizeBefore -= 1 }
        var sizeAfter = after
        src = last - 2; dst = last
        while sizeAfter > 0 && src >= first { b[dst] = b[src]; dst += 1; src -= 1; sizeAfter -= 1 }
        src = first + 1
        while sizeAfter > 0 && src < last { b[dst] = b[src]; dst += 1; src += 1; sizeAfter -= 1 }
    }
}
