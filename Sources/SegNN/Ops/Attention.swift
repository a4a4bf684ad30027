/// Multi-head scaled dot-product attention and the pieces around it (windows, relative
/// positions, TinyViT biases). Tokens are rows; heads are column slices of width `headDim`.
public enum Attention {
    /// Adds a bias to a block of attention logits: (head, first query row, row count, logits, row stride).
    public typealias BiasHook = (_ head: Int, _ row0: Int, _ rows: Int, _ scores: UnsafeMutablePointer<Float>, _ ld: Int) -> Void

    /// Scratch floats `multiHead` needs (with the same `rowsPerBlock` override, if any).
    public static func scratchCount(queries: Int, keys: Int, rowsPerBlock rows: Int? = nil) -> Int {
        min(queries, rows ?? rowsPerBlock(queries, keys)) * keys
    }

    public static func rowsPerBlock(_ nq: Int, _ nk: Int) -> Int { max(1, min(nq, (1 << 19) / max(nk, 1))) }

    /// out[:, h·dv ..< (h+1)·dv] = softmax(scale · q_h k_hᵀ + bias_h) v_h for each head h.
    /// q, k, v and out are row-major with row strides ldq, ldk, ldv, ldo; q_h starts at column h·qHeadStride
    /// (default dq; TinyViT interleaves q, k, v per head), likewise k_h and v_h; out_h at column h·dv.
    public static func multiHead(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                                 v: UnsafePointer<Float>, ldv: Int, queries nq: Int, keys nk: Int,
                                 heads: Int, headDim dq: Int, valueDim dv: Int, scale: Float,
                                 out: UnsafeMutablePointer<Float>, ldo: Int,
                                 scratch: UnsafeMutablePointer<Float>, bias: BiasHook? = nil,
                                 qHeadStride: Int? = nil, kHeadStride: Int? = nil, vHeadStride: Int? = nil,
                                 rowsPerBlock rows: Int? = nil) {
        // `rows` overrides the 2 MB block of logits: with thousands of keys the default is about
        // 100 query rows, and each block repacks the head's K and V (SAM 3's global blocks, 5184
        // keys: 512 rows make the GEMMs 25 % faster, measured with OpenBLAS on 2 cores).
        let block = max(1, min(nq, rows ?? rowsPerBlock(nq, nk)))
        let qs = qHeadStride ?? dq, ks = kHeadStride ?? dq, vs = vHeadStride ?? dv
        for h in 0..<heads {
            var r0 = 0
            while r0 < nq {
                let nr = min(block, nq - r0)
                Gemm.sgemm(transB: true, m: nr, n: nk, k: dq, alpha: scale, a: q + r0 * ldq + h * qs, lda: ldq,
                           b: k + h * ks, ldb: ldk, c: scratch, ldc: nk)
                bias?(h, r0, nr, scratch, nk)
                Elementwise.softmaxRows(scratch, rows: nr, cols: nk, ld: nk)
                Gemm.sgemm(m: nr, n: dv, k: nk, a: scratch, lda: nk, b: v + h * vs, ldb: ldv,
                           c: out + r0 * ldo + h * dv, ldc: ldo)
                r0 += nr
            }
        }
    }

    // MARK: Windows

    /// Window grid for an H×W map and window size ws, padding bottom/right to multiples of ws.
    public struct Windows: Equatable, Sendable {
        public let height: Int, width: Int, size: Int
        public init(height: Int, width: Int, size: Int) { self.height = height; self.width = width; self.size = size }
        public var paddedHeight: Int { (height + size - 1) / size * size }
        public var paddedWidth: Int { (width + size - 1) / size * size }
        public var rows: Int { paddedHeight / size }
        public var cols: Int { paddedWidth / size }
        public var count: Int { rows * cols }
        public var tokensPerWindow: Int { size * size }
        public var totalTokens: Int { count * tokensPerWindow }
    }

    /// [H, W, C] → [windows, ws·ws, C], window-major in row order, zero padding outside the map
    /// (the reference pads with zeros, and padded tokens take part as keys).
    public static func partition(_ x: UnsafePointer<Float>, channels c: Int, _ w: Windows, _ out: UnsafeMutablePointer<Float>) {
        Threads.parallel(w.count) { win in
            let wy = win / w.cols, wx = win % w.cols
            let dst = out + win * w.tokensPerWindow * c
            for i in 0..<w.size {
                let y = wy * w.size + i
                for j in 0..<w.size {
                    let xx = wx * w.size + j
                    let d = dst + (i * w.size + j) * c
                    if y < w.height && xx < w.width {
                        d.update(from: x + (y * w.width + xx) * c, count: c)
                    } else {
                        d.initialize(repeating: 0, count: c)
                    }
                }
            }
        }
    }

    /// The inverse of `partition` dropping the padding; adds into `out` (the residual) when `accumulate`.
    public static func unpartition(_ x: UnsafePointer<Float>, channels c: Int, _ w: Windows, _ out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        Threads.parallel(w.height) { y in
            let wy = y / w.size, i = y % w.size
            for xx in 0..<w.width {
                let wx = xx / w.size, j = xx % w.size
                let src = x + ((wy * w.cols + wx) * w.tokensPerWindow + i * w.size + j) * c
                let d = out + (y * w.width + xx) * c
                if accumulate {
                    for t in 0..<c { d[t] += src[t] }
                } else {
                    d.update(from: src, count: c)
                }
            }
        }
    }

    // MARK: Relative positions (SAM ViT)

    /// Adds SAM's decomposed relative position terms to logits of a block of queries:
    /// logits[q, (kh, kw)] += q·Rh[qh − kh + H − 1] + q·Rw[qw − kw + W − 1], q unscaled.
    /// `relH` is [2H−1, dim], `relW` [2W−1, dim]; `proj` needs rows·(2H−1 + 2W−1) floats.
    public static func addRelativePositions(q: UnsafePointer<Float>, ldq: Int, row0: Int, rows: Int, dim: Int,
                                            height: Int, width: Int, relH: UnsafePointer<Float>, relW: UnsafePointer<Float>,
                                            scores: UnsafeMutablePointer<Float>, ld: Int, proj: UnsafeMutablePointer<Float>) {
        let lh = 2 * height - 1, lw = 2 * width - 1
        let ph = proj, pw = proj + rows * lh
        // Every query against every relative offset: two small GEMMs instead of a gather per pair.
        Gemm.sgemm(transB: true, m: rows, n: lh, k: dim, a: q + row0 * ldq, lda: ldq, b: relH, ldb: dim, c: ph, ldc: lh)
        Gemm.sgemm(transB: true, m: rows, n: lw, k: dim, a: q + row0 * ldq, lda: ldq, b: relW, ldb: dim, c: pw, ldc: lw)
        Threads.parallelRanges(rows, minPerChunk: 16) { range in
            for r in range {
                let qi = row0 + r
                let qh = qi / width, qw = qi % width
                let s = scores + r * ld
                let hrow = ph + r * lh, wrow = pw + r * lw
                for kh in 0..<height {
                    let bh = hrow[qh - kh + height - 1]
                    let srow = s + kh * width
                    for kw in 0..<width { srow[kw] += bh + wrow[qw - kw + width - 1] }
                }
            }
        }
    }

    // MARK: TinyViT attention biases

    /// TinyViT's index table for a ws×ws window: pair (i, j) of window positions maps to the
    /// number of its offset (|dy|, |dx|) in first-seen order, as the reference builds it.
    public static func tinyViTBiasIndex(windowSize ws: Int) -> (index: [Int], distinct: Int) {
        var seen: [Int: Int] = [:]
        var idx = [Int](repeating: 0, count: ws * ws * ws * ws)
        let n = ws * ws
        for p1 in 0..<n {
            for p2 in 0..<n {
                let key = abs(p1 / ws - p2 / ws) * 65536 + abs(p1 % ws - p2 % ws)
                let id: Int
                if let s = seen[key] { id = s } else { id = seen.count; seen[key] = id }
                idx[p1 * n + p2] = id
            }
        }
        return (idx, seen.count)
    }

    /// The dense bias [heads, N, N] from TinyViT's `attention_biases` [heads, distinct].
    public static func tinyViTBiasTable(biases: [Float], heads: Int, windowSize ws: Int) -> [Float] {
        let (idx, distinct) = tinyViTBiasIndex(windowSize: ws)
        let nn = idx.count
        var out = [Float](repeating: 0, count: heads * nn)
        for h in 0..<heads {
            for i in 0..<nn { out[h * nn + i] = biases[h * distinct + idx[i]] }
        }
        return out
    }
}
