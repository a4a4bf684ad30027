import Foundation
import SegNN

/// A 3×3 convolution (padding 1, no bias) of a map upsampled ×2 by nearest neighbour, computed at
/// the low resolution: output pixel (2i + a, 2j + b) reads low-resolution rows i + ⌊(a + ky − 1)/2⌋
/// (two distinct rows for each a) and likewise columns, so each of the four phases (a, b) is a 2×2
/// convolution of the low-resolution map with summed taps: 16 taps per low-resolution pixel where
/// the upsampled map needs 36 (2.25× fewer multiply-adds). Zero padding agrees: the upsampled
/// rows −1 and 2S are the low-resolution rows −1 and S. The pixel decoder uses it on the part of
/// its input that depends on the phrase (`SAM3SegmentationHead.masks`).
struct SAM3UpConv: Sendable {
    /// taps[((a·2 + b)·4 + dy·2 + dx)] is a [out, in] matrix (row-major).
    let taps: [Float]
    /// The same taps as rows for `PackedLinear.gemmTaps`: phase (a, b)'s matrix [out, 4 · in] at
    /// (a·2 + b) · outC · tapStride, output o's row holding its four taps' weights one after the
    /// other (tap dy·2 + dx at column (dy·2 + dx) · in), rows tapStride apart.
    let tapRows: [Float]
    let tapStride: Int
    let inC: Int, outC: Int

    init(_ c: ConvW) {
        precondition(c.k == 3 && c.pad == 1 && c.stride == 1 && !c.depthwise, "SAM3UpConv takes 3×3 convolutions")
        inC = c.inC
        outC = c.outC
        let mat = c.inC * c.outC
        var t = [Float](repeating: 0, count: 16 * mat)
        for a in 0..<2 {
            for b in 0..<2 {
                for ky in 0..<3 {
                    for kx in 0..<3 {
                        // Low-resolution offsets of this tap, -1...0 for phase 0 and 0...1 for phase 1.
                        let dy = (a + ky - 1) >> 1 + (a == 0 ? 1 : 0), dx = (b + kx - 1) >> 1 + (b == 0 ? 1 : 0)
                        let base = ((a * 2 + b) * 4 + dy * 2 + dx) * mat
                        for o in 0..<c.outC {
                            for i in 0..<c.inC { t[base + o * c.inC + i] += c.w[((o * c.inC + i) * 3 + ky) * 3 + kx] }
                        }
                    }
                }
            }
        }
        taps = t
        let stride = PackedLinear.paddedStride(4 * c.inC)
        var rows = [Float](repeating: 0, count: 4 * c.outC * stride)
        for ph in 0..<4 {
            for tap in 0..<4 {
                for o in 0..<c.outC {
                    for i in 0..<c.inC { rows[(ph * c.outC + o) * stride + tap * c.inC + i] = t[((ph * 4 + tap) * c.outC + o) * c.inC + i] }
                }
            }
        }
        tapRows = rows
        tapStride = stride
    }

    /// out [outC, 2S, 2S] += conv3×3(nearest×2(x)), x [inC, S, S], both channel-major.
    func addInto(_ x: UnsafePointer<Float>, side s: Int, _ out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let p = s + 2, plane = p * p, n = s * p, big = 2 * s
        // x zero-padded by one pixel, and a row more at the end: the shifted products read up to
        // two floats past the last plane (into columns that are dropped).
        let xp = ws.buffer(SAM3Slot.pix2.rawValue, inC * plane + 2 * p + 2)
        xp.initialize(repeating: 0, count: inC * plane + 2 * p + 2)
        for c in 0..<inC {
            for y in 0..<s { (xp + c * plane + (y + 1) * p + 1).update(from: x + (c * s + y) * s, count: s) }
        }
        let phase = ws.buffer(SAM3Slot.seg.rawValue, outC * n)
        taps.withUnsafeBufferPointer { tb in
            guard let t = tb.baseAddress else { return }
            for a in 0..<2 {
                for b in 0..<2 {
                    // The phase on the padded grid: row i, column j (< s; the last two columns are junk).
                    if PackedLinear.available {
                        // The four taps summed in registers (one pass over the phase's output,
                        // where four products each read and wrote it).
                        let offsets = (0..<4).map { tap in (a + tap / 2) * p + (b + tap % 2) }
                        tapRows.withUnsafeBufferPointer { rb in
                            guard let r = rb.baseAddress else { return }
                            PackedLinear.gemmTaps(a: r + (a * 2 + b) * outC * tapStride, lda: tapStride, m: outC, k: inC, b: xp,
                                                  offsets: offsets, ldb: plane, n: n, c: phase, ldc: n)
                        }
                    } else {
                    for dy in 0..<2 {
                        for dx in 0..<2 {
                            let shift = (a + dy) * p + (b + dx)   // low-resolution offset (a - 1 + dy, b - 1 + dx), padded
                            let k = t + ((a * 2 + b) * 4 + dy * 2 + dx) * outC * inC
                            Gemm.sgemm(m: outC, n: n, k: inC, a: k, lda: inC, b: xp + shift, ldb: plane,
                                       beta: dy == 0 && dx == 0 ? 0 : 1, c: phase, ldc: n)
                        }
                    }
                    }
                    Threads.parallelRanges(outC) { range in
                        for o in range {
                            let src = phase + o * n, dst = out + o * big * big
                            for i in 0..<s {
                                let row = dst + (2 * i + a) * big + b, from = src + i * p
                                for j in 0..<s { row[2 * j] += from[j] }
                            }
                        }
                    }
                }
            }
        }
    }
}
