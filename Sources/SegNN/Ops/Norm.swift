import CKernels

/// Normalisations.
public enum Norm {
    /// LayerNorm over the last dimension of `rows` × `dim` values (row stride `dim`), in place or
    /// into `out`: (v - mean) / sqrt(var + eps) · weight + bias, biased variance as PyTorch, where
    /// v = x + preBias (per column) when given: the bias of the layer before, added in the same pass.
    /// With `gelu`, GELU follows on each row while it is in cache (LayerNorm → GELU, as SAM's upscaling).
    public static func layerNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, preBias: UnsafePointer<Float>? = nil, eps: Float,
                                 gelu: Bool = false) {
        typealias F8 = SIMD8<Float>
        Threads.parallelRanges(rows, minPerChunk: 64) { range in
            if Elementwise.useC {
                ck_layernorm(x + range.lowerBound * dim, out + range.lowerBound * dim, range.count, dim, weight, bias, preBias, eps, gelu ? 1 : 0)
                return
            }
            var x = x
            if let pre = preBias {
                // The Swift path: add the pre-bias into `out` first, then normalise `out` in place.
                for r in range { for j in 0..<dim { out[r * dim + j] = x[r * dim + j] + pre[j] } }
                x = UnsafePointer(out)
            }
            for r in range {
                let row = x + r * dim
                let o = out + r * dim
                // Eight float lanes, then a pairwise lane sum: as exact as PyTorch's own float32
                // reduction, and vectorised.
                let vec = dim / 8 * 8
                var acc = F8(repeating: 0)
                var i = 0
                while i < vec { acc += UnsafeRawPointer(row + i).loadUnaligned(as: F8.self); i += 8 }
                var s = acc.sum()
                while i < dim { s += row[i]; i += 1 }
                let mean = s / Float(dim)
                let mv = F8(repeating: mean)
                var acc2 = F8(repeating: 0)
                i = 0
                while i < vec { let d = UnsafeRawPointer(row + i).loadUnaligned(as: F8.self) - mv; acc2 += d * d; i += 8 }
                var v = acc2.sum()
                while i < dim { let d = row[i] - mean; v += d * d; i += 1 }
                let inv = 1 / (v / Float(dim) + eps).squareRoot()
                let iv = F8(repeating: inv)
                i = 0
                while i < vec {
                    let xv = UnsafeRawPointer(row + i).loadUnaligned(as: F8.self)
                    let w = UnsafeRawPointer(weight + i).loadUnaligned(as: F8.self), b = UnsafeRawPointer(bias + i).loadUnaligned(as: F8.self)
                    UnsafeMutableRawPointer(o + i).storeBytes(of: (xv - mv) * iv * w + b, as: F8.self)
                    i += 8
                }
                while i < dim { o[i] = (row[i] - mean) * inv * weight[i] + bias[i]; i += 1 }
            }
        }
        // The Swift path's GELU as its own pass (the C path did it per row above).
        if gelu && !Elementwise.useC { Elementwise.geluSwift(out, rows * dim) }
    }

    /// LayerNorm2d (SAM's channel LayerNorm on NCHW): for each pixel, normalise across the `channels`
    /// planes of `pixels` values each, in place.
    public static func layerNorm2d(_ x: UnsafeMutablePointer<Float>, channels: Int, pixels: Int,
                                   weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        // Work on blocks of pixels so the per-pixel sums stay in cache while channels stream past.
        let block = 256
        let blocks = (pixels + block - 1) / block
        Threads.parallel(blocks) { b in
            let lo = b * block, n = min(block, pixels - lo)
            var mean = [Double](repeating: 0, count: n)
            var varr = [Double](repeating: 0, count: n)
            mean.withUnsafeMutableBufferPointer { mp in
                varr.withUnsafeMutableBufferPointer { vp in
                    for c in 0..<channels {
                        let plane = x + c * pixels + lo
                        for i in 0..<n { mp[i] += Double(plane[i]) }
                    }
                    for i in 0..<n { mp[i] /= Double(channels) }
                    for c in 0..<channels {
                        let plane = x + c * pixels + lo
                        for i in 0..<n { let d = Double(plane[i]) - mp[i]; vp[i] += d * d }
                    }
                    for i in 0..<n { vp[i] = 1 / (vp[i] / Double(channels) + Double(eps)).squareRoot() }
                    for c in 0..<channels {
                        let plane = x + c * pixels + lo
                        let w = weight[c], bb = bias[c]
                        for i in 0..<n {
                            plane[i] = (plane[i] - Float(mp[i])) * Float(vp[i]) * w + bb
                        }
                    }
                }
            }
        }
    }

    /// BatchNorm (eval mode) folded into the convolution before it: returns the scaled weight and
    /// the new bias, so inference runs one conv instead of conv + normalisation.
    /// w' = w · γ/√(σ²+ε) per output channel, b' = β + (b − μ) · γ/√(σ²+ε).
    public static func foldBatchNorm(weight: [Float], bias: [Float]?, outChannels: Int,
                                     gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Float) -> (weight: [Float], bias: [Float]) {
        let per = weight.count / max(outChannels, 1)
        var w = weight
        var b = [Float](repeating: 0, count: outChannels)
        for o in 0..<outChannels {
            let scale = gamma[o] / (variance[o] + eps).squareRoot()
            for i in 0..<per { w[o * per + i] *= scale }
            b[o] = beta[o] + ((bias?[o] ?? 0) - mean[o]) * scale
        }
        return (w, b)
    }
}
