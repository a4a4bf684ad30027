import SegCore
import SegNN

/// The official `Sam3Processor.transform` (sam3 0.1.4), which feeds the ViT for both the concept
/// prompts (`set_text_prompt`) and the points (`predict_inst` on the same state):
/// `ToDtype(uint8)`, `Resize((S, S))` on the **uint8** tensor, `ToDtype(float32, scale=True)`,
/// `Normalize(0.5, 0.5)`.
///
/// On a CPU with AVX2 or AVX-512, torchvision hands a uint8 bilinear resize to PyTorch's native
/// uint8 kernel (`_upsample_bilinear2d_aa`, Pillow-SIMD's fixed-point arithmetic), not the float
/// one: weights rounded to int16 with a precision chosen from the largest weight, a horizontal pass
/// whose rounded, clamped uint8 rows feed the vertical pass. The float resize of `SAM2Preprocess`
/// differs from it by up to a grey level per pixel, which moved the random model's detector levels
/// by ~1 %; this reproduces it bit for bit (`SAM3PreprocessTests` against torchvision).
enum SAM3Preprocess {
    /// One axis of the kernel's taps: `_compute_index_ranges_weights` in double (triangle filter
    /// widened by the downscale factor, normalised per output), then
    /// `_compute_index_ranges_int16_weights`' precision and rounding.
    struct Taps {
        var start: [Int] = [], count: [Int] = []
        var weights: [Int32] = []   // `width` per output, zero-padded
        var width = 0
        var precision = 0

        init(input: Int, output: Int) {
            let scale = Double(input) / Double(output)
            let support = scale >= 1 ? scale : 1
            let invScale = scale >= 1 ? 1 / scale : 1
            width = Int(support.rounded(.up)) * 2 + 1
            var real = [Double](repeating: 0, count: output * width)
            var largest = 0.0
            for i in 0..<output {
                let center = scale * (Double(i) + 0.5)
                // C's truncating casts, as the kernel's `static_cast<int64_t>`.
                let lo = max(Int(center - support + 0.5), 0)
                let n = min(max(min(Int(center + support + 0.5), input) - lo, 0), width)
                var total = 0.0
                for j in 0..<n {
                    let x = abs((Double(j + lo) - center + 0.5) * invScale)
                    let w = x < 1 ? 1 - x : 0
                    real[i * width + j] = w
                    total += w
                }
                if total != 0 {
                    for j in 0..<n {
                        real[i * width + j] /= total
                        largest = max(largest, real[i * width + j])
                    }
                }
                start.append(lo)
                count.append(n)
            }
            // The largest precision below 22 bits whose doubled largest weight still fits in int16.
            var p = 0
            while p < 22 && Int(0.5 + largest * Double(1 << (p + 1))) < (1 << 15) { p += 1 }
            precision = p
            let one = Double(1 << p)
            // Weights are ≥ 0 here, so the kernel's `v < 0 ? v - 0.5 : v + 0.5` is v + 0.5, truncated.
            weights = real.map { Int32(Int16(clamping: Int($0 * one + 0.5))) }
        }

        /// One output sample from `n` inputs `stride` apart, rounded and saturated to 0…255.
        @inline(__always)
        func sample(_ i: Int, _ src: UnsafePointer<UInt8>, stride: Int) -> UInt8 {
            var acc: Int32 = 1 << Int32(precision - 1)
            let k = i * width, lo = start[i]
            for j in 0..<count[i] { acc &+= Int32(src[(lo + j) * stride]) &* weights[k + j] }
            return UInt8(clamping: acc >> Int32(precision))
        }
    }

    /// The normalised [3, S, S] input of `image` written to `out`.
    static func input(_ image: RGBImage, size s: Int, mean: [Float], std: [Float], into out: UnsafeMutablePointer<Float>) {
        let resized = resized(image, size: s)
        // ToDtype(float32, scale=True) multiplies by the float32 of 1/255 (`mul_(1.0 / 255)`), then
        // Normalize subtracts and divides: a table per channel gives the same floats.
        let toUnit = Float(1.0 / 255.0)
        for c in 0..<3 {
            let table = (0..<256).map { (Float($0) * toUnit - mean[c]) / std[c] }
            let plane = out + c * s * s
            resized.withUnsafeBufferPointer { px in
                for i in 0..<(s * s) { plane[i] = table[Int(px[i * 3 + c])] }
            }
        }
    }

    /// `Resize((S, S))` of the uint8 image: S × S interleaved RGB bytes.
    static func resized(_ image: RGBImage, size s: Int) -> [UInt8] {
        let w = image.width, h = image.height
        // Interleaved RGB rows throughout, as the kernel's packed pixels; a pass whose size does not
        // change is skipped, as the kernel skips it.
        var rows = image.pixels
        var width = w
        if w != s {
            let tx = Taps(input: w, output: s)
            var horizontal = [UInt8](repeating: 0, count: h * s * 3)
            rows.withUnsafeBufferPointer { src in
                horizontal.withUnsafeMutableBufferPointer { dst in
                    guard let sp = src.baseAddress, let dp = dst.baseAddress else { return }
                    Threads.parallelRanges(h, minPerChunk: 16) { range in
                        for y in range {
                            for x in 0..<s {
                                for c in 0..<3 { dp[(y * s + x) * 3 + c] = tx.sample(x, sp + y * w * 3 + c, stride: 3) }
                            }
                        }
                    }
                }
            }
            rows = horizontal
            width = s
        }
        var resized = rows
        if h != s {
            let ty = Taps(input: h, output: s)
            resized = [UInt8](repeating: 0, count: s * width * 3)
            rows.withUnsafeBufferPointer { src in
                resized.withUnsafeMutableBufferPointer { dst in
                    guard let sp = src.baseAddress, let dp = dst.baseAddress else { return }
                    Threads.parallelRanges(s, minPerChunk: 16) { range in
                        for y in range {
                            for i in 0..<(width * 3) { dp[y * width * 3 + i] = ty.sample(y, sp + i, stride: width * 3) }
                        }
                    }
                }
            }
        }
        return resized
    }
}
