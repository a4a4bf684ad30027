import SegCore

/// The official predictor's image transform: resize the longest side to the encoder's size with
/// Pillow's BILINEAR resampler (what torchvision's `resize` runs on a PIL image), normalise, pad.
enum Preprocess {
    /// `ResizeLongestSide.get_preprocess_shape`: float64 scale, round half up. Returns (width, height).
    static func resizedSize(width: Int, height: Int, longest: Int) -> (width: Int, height: Int) {
        let scale = Double(longest) / Double(max(width, height))
        return (Int(Double(width) * scale + 0.5), Int(Double(height) * scale + 0.5))
    }

    /// Pillow's fixed-point coefficients for one axis (`precompute_coeffs` + `normalize_coeffs_8bpc`,
    /// bilinear filter, support 1 widened by the downscale factor).
    struct Coefficients {
        var bounds: [(min: Int, count: Int)] = []
        var kernel: [Int32] = []
        var ksize = 0

        static let precisionBits = 32 - 8 - 2

        init(inSize: Int, outSize: Int) {
            let scale = Double(inSize) / Double(outSize)
            let filterScale = max(scale, 1.0)
            let support = 1.0 * filterScale
            ksize = Int(support.rounded(.up)) * 2 + 1
            kernel = [Int32](repeating: 0, count: outSize * ksize)
            var weights = [Double](repeating: 0, count: ksize)
            for xx in 0..<outSize {
                let center = (Double(xx) + 0.5) * scale
                let ss = 1.0 / filterScale
                var xmin = Int(center - support + 0.5)
                if xmin < 0 { xmin = 0 }
                var xmax = Int(center + support + 0.5)
                if xmax > inSize { xmax = inSize }
                xmax -= xmin
                var ww = 0.0
                for x in 0..<ksize { weights[x] = 0 }
                for x in 0..<max(xmax, 0) {
                    var t = (Double(x + xmin) - center + 0.5) * ss
                    if t < 0 { t = -t }
                    let w = t < 1 ? 1 - t : 0
                    weights[x] = w
                    ww += w
                }
                for x in 0..<max(xmax, 0) where ww != 0 { weights[x] /= ww }
                let one = Double(1 << Coefficients.precisionBits)
                for x in 0..<ksize {
                    let v = weights[x]
                    kernel[xx * ksize + x] = Int32(v < 0 ? -0.5 + v * one : 0.5 + v * one)
                }
                bounds.append((xmin, max(xmax, 0)))
            }
        }
    }

    @inline(__always)
    static func clip8(_ v: Int32) -> UInt8 {
        if v >= Int32(1) << (Coefficients.precisionBits + 8) { return 255 }
        if v <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: v >> Int32(Coefficients.precisionBits))
    }

    /// Pillow `Image.resize((w, h), BILINEAR)` of an RGB image, byte for byte: a horizontal pass into
    /// an 8-bit intermediate over the rows the vertical pass needs, then the vertical pass.
    static func pillowBilinear(_ image: RGBImage, width outW: Int, height outH: Int) -> RGBImage {
        let inW = image.width, inH = image.height
        if outW == inW && outH == inH { return image }
        let needH = outW != inW, needV = outH != inH
        let horiz = Coefficients(inSize: inW, outSize: outW)
        let vert = Coefficients(inSize: inH, outSize: outH)
        let half = Int32(1) << Int32(Coefficients.precisionBits - 1)

        var src = image.pixels
        var srcW = inW
        var vbounds = vert.bounds
        if needH {
            let first = vert.bounds[0].min
            let last = vert.bounds[outH - 1].min + vert.bounds[outH - 1].count
            let rows = needV ? last - first : inH
            let y0 = needV ? first : 0
            if needV { for i in 0..<outH { vbounds[i].min -= first } }
            var temp = [UInt8](repeating: 0, count: rows * outW * 3)
            image.pixels.withUnsafeBufferPointer { inp in
                horiz.kernel.withUnsafeBufferPointer { kk in
                    temp.withUnsafeMutableBufferPointer { out in
                        for yy in 0..<rows {
                            let row = (yy + y0) * inW * 3
                            for xx in 0..<outW {
                                let (xmin, n) = horiz.bounds[xx]
                                let k = xx * horiz.ksize
                                var s0 = half, s1 = half, s2 = half
                                for x in 0..<n {
                                    let p = row + (x + xmin) * 3
                                    let w = kk[k + x]
                                    s0 &+= Int32(inp[p]) &* w
                                    s1 &+= Int32(inp[p + 1]) &* w
                                    s2 &+= Int32(inp[p + 2]) &* w
                                }
                                let o = (yy * outW + xx) * 3
                                out[o] = clip8(s0); out[o + 1] = clip8(s1); out[o + 2] = clip8(s2)
                            }
                        }
                    }
                }
            }
            src = temp
            srcW = outW
        }
        guard needV else { return RGBImage(width: outW, height: inH, pixels: src) }
        var result = [UInt8](repeating: 0, count: outW * outH * 3)
        src.withUnsafeBufferPointer { inp in
            vert.kernel.withUnsafeBufferPointer { kk in
                result.withUnsafeMutableBufferPointer { out in
                    for yy in 0..<outH {
                        let (ymin, n) = vbounds[yy]
                        let k = yy * vert.ksize
                        for xx in 0..<srcW {
                            var s0 = half, s1 = half, s2 = half
                            for y in 0..<n {
                                let p = ((y + ymin) * srcW + xx) * 3
                                let w = kk[k + y]
                                s0 &+= Int32(inp[p]) &* w
                                s1 &+= Int32(inp[p + 1]) &* w
                                s2 &+= Int32(inp[p + 2]) &* w
                            }
                            let o = (yy * srcW + xx) * 3
                            out[o] = clip8(s0); out[o + 1] = clip8(s1); out[o + 2] = clip8(s2)
                        }
                    }
                }
            }
        }
        return RGBImage(width: srcW, height: outH, pixels: result)
    }

    /// (x − mean) / std per channel in float32, as planes [3, S, S], zero beyond the resized image.
    static func normalizeAndPad(_ image: RGBImage, size s: Int, mean: [Float], std: [Float], into out: UnsafeMutablePointer<Float>) {
        out.initialize(repeating: 0, count: 3 * s * s)
        image.pixels.withUnsafeBufferPointer { px in
            for c in 0..<3 {
                let plane = out + c * s * s
                let m = mean[c], sd = std[c]
                for y in 0..<min(image.height, s) {
                    for x in 0..<min(image.width, s) {
                        plane[y * s + x] = (Float(px[(y * image.width + x) * 3 + c]) - m) / sd
                    }
                }
            }
        }
    }
}
