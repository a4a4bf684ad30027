import Foundation
import SegCore
import SegNN

/// One exemplar box: normalised to the image (0…1), positive (find things like this) or negative.
public struct SAM3Exemplar: Sendable, Equatable {
    public var x0: Float, y0: Float, x1: Float, y1: Float
    public var positive: Bool
    public init(x0: Float, y0: Float, x1: Float, y1: Float, positive: Bool) {
        self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1; self.positive = positive
    }
}

/// The geometry encoder (geometry_encoders.py `SequenceGeometryEncoder` as model_builder builds it:
/// boxes projected directly, pooled from the image with RoI align 7×7 and a 7×7 convolution, and
/// position-encoded; a label embedding; a CLS token; final projection and norm; encoder layers
/// cross-attending to the image; a closing norm). A text-only prompt still goes through it: its
/// sequence is the CLS token alone.
struct SAM3Geometry: Sendable {
    static let prefix = "detector.geometry_encoder."
    static let roi = 7

    let labelEmbed: Param, cls: Param
    let direct: LinearW, posProject: LinearW
    let pool: ConvW
    let finalProj: LinearW, norm: NormW, imgPreNorm: NormW
    let layers: [SAM3EncoderLayer]
    let encodeNorm: NormW
    let dim: Int

    init(_ l: WeightLoader, dim d: Int, heads: Int) throws {
        let p = Self.prefix
        dim = d
        labelEmbed = try l.param(p + "label_embed.weight", [2, d])
        cls = try l.param(p + "cls_embed.weight", [1, d])
        direct = try l.linear(p + "boxes_direct_project", 4, d)
        posProject = try l.linear(p + "boxes_pos_enc_project", d + 2, d)
        pool = try l.conv(p + "boxes_pool_project", d, d, k: Self.roi, bias: true)
        finalProj = try l.linear(p + "final_proj", d, d)
        norm = try l.norm(p + "norm", d, eps: 1e-5)
        imgPreNorm = try l.norm(p + "img_pre_norm", d, eps: 1e-5)
        var layers: [SAM3EncoderLayer] = []
        while l.dict.has(p + "encode.\(layers.count).norm1.weight") && layers.count < 64 {
            layers.append(try SAM3EncoderLayer(l, p + "encode.\(layers.count).", dim: d, heads: heads, posAtSelf: false, posAtCrossKeys: true))
        }
        self.layers = layers
        encodeNorm = try l.norm(p + "encode_norm", d, eps: 1e-5)
    }

    /// The geometry tokens [boxes…, CLS] ([n + 1, d]) for `boxes` on the image tokens `img` [h·w, d]
    /// (row-major, with their positions `pos`).
    func encode(_ boxes: [SAM3Exemplar], img: UnsafePointer<Float>, pos: UnsafePointer<Float>, height h: Int, width w: Int, ws: Workspace) -> [Float] {
        let d = dim, n = boxes.count + 1
        var tokens = [Float](repeating: 0, count: n * d)
        if !boxes.isEmpty {
            // img_pre_norm, then channel-major for RoI align.
            let normed = ws.buffer(SAM3Slot.geo.rawValue, h * w * d)
            Norm.layerNorm(img, normed, rows: h * w, dim: d, weight: imgPreNorm.w.pointer, bias: imgPreNorm.b.pointer, eps: imgPreNorm.eps)
            var chw = [Float](repeating: 0, count: d * h * w)
            for t in 0..<(h * w) { for c in 0..<d { chw[c * h * w + t] = normed[t * d + c] } }
            for (i, b) in boxes.enumerated() {
                let cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2, bw = b.x1 - b.x0, bh = b.y1 - b.y0
                let row = i * d
                // Direct projection of (cx, cy, w, h).
                var acc = Self.project(direct, [cx, cy, bw, bh])
                // RoI-pooled features through the 7×7 convolution (one output pixel).
                let pooled = Self.roiAlign(chw, channels: d, height: h, width: w,
                                           box: (b.x0 * Float(w), b.y0 * Float(h), b.x1 * Float(w), b.y1 * Float(h)), size: Self.roi)
                let k = Self.roi * Self.roi
                for o in 0..<d {
                    var s = pool.b?[o] ?? 0
                    for c in 0..<d { for j in 0..<k { s += pool.w[(o * d + c) * k + j] * pooled[c * k + j] } }
                    acc[o] += s
                }
                // Position encoding: [pos_y, pos_x, h, w].
                let e = SAM3Sine.xy(cx, cy, dim: d)
                let enc = e.y + e.x + [bh, bw]
                let proj = Self.project(posProject, enc)
                let label = b.positive ? 1 : 0
                for c in 0..<d { tokens[row + c] = labelEmbed[label * d + c] + acc[c] + proj[c] }
            }
        }
        for c in 0..<d { tokens[(n - 1) * d + c] = cls[c] }
        tokens.withUnsafeMutableBufferPointer { tp in
            guard let t = tp.baseAddress else { return }
            let tmp = ws.buffer(SAM3Slot.x.rawValue, n * d)
            finalProj(t, rows: n, tmp)
            Norm.layerNorm(tmp, t, rows: n, dim: d, weight: norm.w.pointer, bias: norm.b.pointer, eps: norm.eps)
            for layer in layers {
                layer(t, n: n, pos: nil, selfValid: nil, memory: img, m: h * w, memoryPos: pos, memoryValid: nil, ws: ws)
            }
            Norm.layerNorm(t, t, rows: n, dim: d, weight: encodeNorm.w.pointer, bias: encodeNorm.b.pointer, eps: encodeNorm.eps)
        }
        return tokens
    }

    /// One row through a linear layer (a handful of boxes: plain loops).
    static func project(_ l: LinearW, _ x: [Float]) -> [Float] {
        (0..<l.outF).map { o in
            var s = l.b?[o] ?? 0
            for i in 0..<l.inF { s += l.w[o * l.inF + i] * x[i] }
            return s
        }
    }

    /// torchvision's `roi_align` (aligned=False, spatial_scale 1, sampling_ratio -1: ceil(bin size)
    /// samples per bin side) of one box (x0, y0, x1, y1 in feature pixels) over x [C, h, w]; [C, size, size].
    static func roiAlign(_ x: [Float], channels c: Int, height h: Int, width w: Int, box: (Float, Float, Float, Float), size: Int) -> [Float] {
        let (x0, y0, x1, y1) = box
        let roiW = max(x1 - x0, 1), roiH = max(y1 - y0, 1)
        let binW = roiW / Float(size), binH = roiH / Float(size)
        let gridH = max(Int(ceilf(roiH / Float(size))), 1), gridW = max(Int(ceilf(roiW / Float(size))), 1)
        let count = Float(gridH * gridW)
        var out = [Float](repeating: 0, count: c * size * size)
        for ph in 0..<size {
            for pw in 0..<size {
                // The bilinear weights of every sample, then the channel sums.
                var taps: [(Int, Float)] = []
                for iy in 0..<gridH {
                    let yy = y0 + Float(ph) * binH + (Float(iy) + 0.5) * binH / Float(gridH)
                    for ix in 0..<gridW {
                        let xx = x0 + Float(pw) * binW + (Float(ix) + 0.5) * binW / Float(gridW)
                        taps += bilinear(yy, xx, h, w)
                    }
                }
                for ch in 0..<c {
                    var s: Float = 0
                    for (i, wt) in taps { s += wt * x[ch * h * w + i] }
                    out[(ch * size + ph) * size + pw] = s / count
                }
            }
        }
        return out
    }

    /// torchvision's `bilinear_interpolate` taps (index, weight); none outside [-1, h] × [-1, w].
    static func bilinear(_ yIn: Float, _ xIn: Float, _ h: Int, _ w: Int) -> [(Int, Float)] {
        if yIn < -1 || yIn > Float(h) || xIn < -1 || xIn > Float(w) { return [] }
        var y = max(yIn, 0), x = max(xIn, 0)
        var yl = Int(y), xl = Int(x), yh: Int, xh: Int
        if yl >= h - 1 { yh = h - 1; yl = h - 1; y = Float(yl) } else { yh = yl + 1 }
        if xl >= w - 1 { xh = w - 1; xl = w - 1; x = Float(xl) } else { xh = xl + 1 }
        let ly = y - Float(yl), lx = x - Float(xl), hy = 1 - ly, hx = 1 - lx
        return [(yl * w + xl, hy * hx), (yl * w + xh, hy * lx), (yh * w + xl, ly * hx), (yh * w + xh, ly * lx)]
    }
}
