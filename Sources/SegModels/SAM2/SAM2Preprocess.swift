import SegCore
import SegNN

/// `SAM2Transforms`: ToTensor (pixels / 255), torchvision `Resize((S, S))` on the float tensor
/// (bilinear with antialias, the aspect ratio not kept), ImageNet normalisation.
enum SAM2Preprocess {
    /// One axis of PyTorch's antialiased bilinear resize (`_upsample_bilinear2d_aa`, align_corners
    /// False): a triangle filter widened by the downscale factor, weights normalised per output.
    struct Taps {
        var start: [Int] = [], count: [Int] = []
        var weights: [Float] = []   // `width` per output, zero-padded
        var width = 0

        init(input: Int, output: Int) {
            let scale = Float(input) / Float(output)
            let support: Float = scale >= 1 ? scale : 1
            let invScale: Float = scale >= 1 ? 1 / scale : 1
            width = Int(support.rounded(.up)) * 2 + 1
            weights = [Float](repeating: 0, count: output * width)
            for i in 0..<output {
                let center = scale * (Float(i) + 0.5)
                let lo = max(Int(center - support + 0.5), 0)
                let n = max(min(Int(center + support + 0.5), input) - lo, 0)
                var total: Float = 0
                for j in 0..<min(n, width) {
                    let w = max(0, 1 - abs((Float(j + lo) - center + 0.5) * invScale))
                    weights[i * width + j] = w
                    total += w
                }
                if total != 0 { for j in 0..<min(n, width) { weights[i * width + j] /= total } }
                start.append(lo)
                count.append(min(n, width))
            }
        }
    }

    /// The normalised [3, S, S] input of `image` written to `out`.
    static func input(_ image: RGBImage, size s: Int, mean: [Float], std: [Float], into out: UnsafeMutablePointer<Float>) {
        let w = image.width, h = image.height
        let tx = Taps(input: w, output: s), ty = Taps(input: h, output: s)
        // Planes in [0, 1], then the horizontal pass (rows of the source), then the vertical one.
        var planes = [Float](repeating: 0, count: 3 * w * h)
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<(w * h) {
                for c in 0..<3 { planes[c * w * h + i] = Float(px[i * 3 + c]) / 255 }
            }
        }
        var horizontal = [Float](repeating: 0, count: 3 * h * s)
        planes.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { dst in
                guard let sp = src.baseAddress, let dp = dst.baseAddress else { return }
                Threads.parallel(3 * h) { row in
                    let r = sp + row * w, o = dp + row * s
                    for x in 0..<s {
                        var acc: Float = 0
                        let k = x * tx.width, lo = tx.start[x]
                        for j in 0..<tx.count[x] { acc += r[lo + j] * tx.weights[k + j] }
                        o[x] = acc
                    }
                }
            }
        }
        horizontal.withUnsafeBufferPointer { src in
            guard let sp = src.baseAddress else { return }
            Threads.parallel(3 * s) { job in
                let c = job / s, y = job % s
                let o = out + (c * s + y) * s
                let k = y * ty.width, lo = ty.start[y]
                for x in 0..<s { o[x] = 0 }
                for j in 0..<ty.count[y] {
                    let wgt = ty.weights[k + j], r = sp + (c * h + lo + j) * s
                    for x in 0..<s { o[x] += r[x] * wgt }
                }
                let m = mean[c], sd = std[c]
                for x in 0..<s { o[x] = (o[x] - m) / sd }
            }
        }
    }
}
