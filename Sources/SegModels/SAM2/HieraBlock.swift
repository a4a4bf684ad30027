import SegCore
import SegNN

/// Hiera's MultiScaleBlock (hieradet.py) and the window plumbing around its attention.
extension HieraEncoder {
    /// One MultiScaleBlock: x [side², dim] → out [side'², dimOut]. The attention runs over groups of
    /// windows and the shortcut and MLP over chunks of rows, so scratch stays a few MB.
    func block(_ b: Block, x: UnsafePointer<Float>, side: Int, out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let n = side * side, dOut = b.dimOut
        let norm1 = b.norm1
        let outSide = b.pool ? side / 2 : side
        let m = outSide * outSide
        func phase(_ name: String, _ body: () -> Void) { HieraProfile.time("stage \(b.stage + 1) \(name)", body) }
        // Shortcut: the input, or (widening blocks) the pooled projection of the normalised input,
        // in strips of an even number of rows.
        if let skip = b.skip {
            let strip = max(2, Self.chunkRows / side / 2 * 2)
            let p = ws.buffer(HSlot.lat.rawValue, strip * side * dOut)
            let t = ws.buffer(HSlot.t.rawValue, strip * side * b.dim)
            var r0 = 0
            while r0 < side {
                let rows = min(strip, side - r0)
                phase("shortcut") {
                    Norm.layerNorm(x + r0 * side * b.dim, t, rows: rows * side, dim: b.dim, weight: norm1.w.pointer, bias: norm1.b.pointer, eps: norm1.eps)
                    Self.linear(skip, t, rows: rows * side, p)
                    if b.pool {
                        maxPool2(p, width: side, rows: rows, channels: dOut, out + (r0 / 2) * outSide * dOut)
                    } else {
                        (out + r0 * side * dOut).update(from: p, count: rows * side * dOut)
                    }
                }
                r0 += rows
            }
        } else if b.pool {
            phase("shortcut") { maxPool2(x, width: side, rows: side, channels: b.dim, out) }
        } else {
            phase("shortcut") { out.update(from: x, count: n * b.dim) }
        }
        let size = b.window == 0 ? side : b.window
        let win = Attention.Windows(height: side, width: side, size: size)
        let per = win.tokensPerWindow
        let qSize = b.pool ? size / 2 : size
        let nq = qSize * qSize
        let outWin = Attention.Windows(height: outSide, width: outSide, size: qSize)
        let dh = dOut / b.heads
        let group = max(1, Self.chunkRows / per)
        var g0 = 0
        while g0 < win.count {
            let count = min(group, win.count - g0)
            let src = ws.buffer(HSlot.src.rawValue, count * per * b.dim)
            // norm1 on the windows' tokens (the padding stays zero, as the reference pads after it).
            phase("partition") { partition(x, channels: b.dim, win, first: g0, count: count, src) }
            phase("norm1") {
                Norm.layerNorm(src, src, rows: count * per, dim: b.dim, weight: norm1.w.pointer, bias: norm1.b.pointer, eps: norm1.eps)
                if win.paddedHeight != side || win.paddedWidth != side { zeroPadding(src, channels: b.dim, win, first: g0, count: count) }
            }
            let qkv = ws.buffer(HSlot.qkv.rawValue, count * per * 3 * dOut)
            phase("qkv") { Self.linear(b.qkv, src, rows: count * per, qkv) }
            var q = UnsafePointer(qkv), ldq = 3 * dOut
            if b.pool {
                let qp = ws.buffer(HSlot.q.rawValue, count * nq * dOut)
                phase("qpool") {
                    Threads.parallel(count) { w in
                        poolWindow(qkv + w * per * 3 * dOut, ld: 3 * dOut, size: size, channels: dOut, qp + w * nq * dOut)
                    }
                }
                q = UnsafePointer(qp); ldq = dOut
            }
            let o = ws.buffer(HSlot.o.rawValue, count * nq * dOut)
            // Windows (or a global block's heads × query rows) spread over the cores, each on one
            // core with single-threaded products; at one thread, one window after another.
            // A global block's 8 MB of logits are shared among the workers (peak memory stays put).
            let blockFloats = win.count == 1 ? Self.globalBlockFloats / SerialBLAS.workers : Attention.defaultBlockFloats
            let scratchPer = Attention.scratchCount(queries: nq, keys: per, blockFloats: blockFloats)
            let scratch = ws.buffer(HSlot.attn.rawValue, scratchPer * SerialBLAS.workers)
            let scale = 1 / Float(dh).squareRoot()
            phase("attention") {
                if win.count == 1 {
                    Attention.multiHeadSpread(q: q, ldq: ldq, k: qkv + dOut, ldk: 3 * dOut, v: qkv + 2 * dOut, ldv: 3 * dOut,
                                              queries: nq, keys: per, heads: b.heads, headDim: dh, valueDim: dh, scale: scale,
                                              out: o, ldo: dOut, scratch: scratch, blockFloats: blockFloats)
                    return
                }
                SerialBLAS.forEach(count) { w, worker in
                    let kv = qkv + w * per * 3 * dOut
                    Attention.multiHead(q: q + w * nq * ldq, ldq: ldq, k: kv + dOut, ldk: 3 * dOut, v: kv + 2 * dOut, ldv: 3 * dOut,
                                        queries: nq, keys: per, heads: b.heads, headDim: dh, valueDim: dh, scale: scale,
                                        out: o + w * nq * dOut, ldo: dOut, scratch: scratch + worker * scratchPer, oneCore: true)
                }
            }
            // The projection reuses `src` (no longer needed; as large or larger).
            phase("proj") { Self.linear(b.proj, o, rows: count * nq, src) }
            phase("unpartition") { unpartitionAdd(src, channels: dOut, outWin, first: g0, count: count, out) }
            g0 += count
        }
        // MLP, a chunk of rows at a time.
        let hidden = b.fc1.outF
        let chunk = min(m, Self.chunkRows)
        let t2 = ws.buffer(HSlot.t2.rawValue, chunk * dOut), h = ws.buffer(HSlot.mlp.rawValue, chunk * hidden)
        var r0 = 0
        while r0 < m {
            let rows = min(chunk, m - r0)
            let xr = out + r0 * dOut
            phase("norm2") { Norm.layerNorm(xr, t2, rows: rows, dim: dOut, weight: b.norm2.w.pointer, bias: b.norm2.b.pointer, eps: b.norm2.eps) }
            phase("fc1+gelu") { Self.linear(b.fc1, t2, rows: rows, h, gelu: true) }
            phase("fc2") { Self.linear(b.fc2, h, rows: rows, xr, accumulate: true) }
            r0 += rows
        }
    }

    /// Logits per block of query rows in a global block, over all workers (8 MB: 512 rows of 4096
    /// keys at one thread, 256 per worker at two): OpenBLAS packs a head's keys and values again
    /// for every product, and over 128-row blocks that packing held the products at 67–69 GFLOP/s
    /// against 77 at 256 rows and 81 at 512 (one core, 4096 tokens, 96 per head).
    static let globalBlockFloats = 1 << 21

    /// y (+)= x · Wᵀ + b, with `gelu` the bias and GELU in one pass after the product; at more than
    /// one thread, blocks of rows spread over the cores (`Gemm.linearRows`).
    static func linear(_ l: LinearW, _ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>,
                       accumulate: Bool = false, gelu: Bool = false) {
        Gemm.linearRows(x, rows: rows, inFeatures: l.inF, weight: l.w.pointer, bias: l.b?.pointer, outFeatures: l.outF, y,
                        accumulate ? .accumulate : gelu ? .biasGELU : .bias)
    }

    /// Windows first..<first+count of `w` (row-major window order) from the map [H, W, C], zero
    /// padded past its edges (the padded tokens take part as keys, as in the reference).
    func partition(_ x: UnsafePointer<Float>, channels c: Int, _ w: Attention.Windows, first: Int, count: Int, _ out: UnsafeMutablePointer<Float>) {
        let per = w.tokensPerWindow
        Threads.parallel(count) { i in
            let win = first + i, wy = win / w.cols, wx = win % w.cols
            for ii in 0..<w.size {
                let y = wy * w.size + ii
                for jj in 0..<w.size {
                    let xx = wx * w.size + jj
                    let d = out + (i * per + ii * w.size + jj) * c
                    if y < w.height && xx < w.width { d.update(from: x + (y * w.width + xx) * c, count: c) } else { d.initialize(repeating: 0, count: c) }
                }
            }
        }
    }

    /// Zeroes the padded tokens of windows first..<first+count (partitioned into `x`).
    func zeroPadding(_ x: UnsafeMutablePointer<Float>, channels c: Int, _ w: Attention.Windows, first: Int, count: Int) {
        let per = w.tokensPerWindow
        for i in 0..<count {
            let win = first + i, wy = win / w.cols, wx = win % w.cols
            for ii in 0..<w.size {
                let y = wy * w.size + ii
                for jj in 0..<w.size where y >= w.height || wx * w.size + jj >= w.width {
                    (x + (i * per + ii * w.size + jj) * c).initialize(repeating: 0, count: c)
                }
            }
        }
    }

    /// Adds windows first..<first+count back into the map, dropping the padding.
    func unpartitionAdd(_ x: UnsafePointer<Float>, channels c: Int, _ w: Attention.Windows, first: Int, count: Int, _ out: UnsafeMutablePointer<Float>) {
        let per = w.tokensPerWindow
        Threads.parallel(count) { i in
            let win = first + i, wy = win / w.cols, wx = win % w.cols
            for ii in 0..<w.size {
                let y = wy * w.size + ii
                guard y < w.height else { break }
                for jj in 0..<w.size {
                    let xx = wx * w.size + jj
                    guard xx < w.width else { break }
                    let s = x + (i * per + ii * w.size + jj) * c, d = out + (y * w.width + xx) * c
                    for k in 0..<c { d[k] += s[k] }
                }
            }
        }
    }

    /// 2×2 max pooling of `rows` (even) rows of a map `width` tokens wide.
    func maxPool2(_ x: UnsafePointer<Float>, width: Int, rows: Int, channels c: Int, _ out: UnsafeMutablePointer<Float>) {
        let w = width / 2
        Threads.parallel(rows / 2) { y in
            for xx in 0..<w {
                let a = x + ((2 * y) * width + 2 * xx) * c, b = a + c, cc = a + width * c, d = cc + c
                let o = out + (y * w + xx) * c
                for k in 0..<c { o[k] = max(max(a[k], b[k]), max(cc[k], d[k])) }
            }
        }
    }

    /// The queries of one window (size×size rows, stride ld) pooled 2×2 into (size/2)² rows.
    func poolWindow(_ q: UnsafePointer<Float>, ld: Int, size: Int, channels c: Int, _ out: UnsafeMutablePointer<Float>) {
        let h = size / 2
        for y in 0..<h {
            for x in 0..<h {
                let a = q + ((2 * y) * size + 2 * x) * ld, b = a + ld, cc = a + size * ld, d = cc + ld
                let o = out + (y * h + x) * c
                for k in 0..<c { o[k] = max(max(a[k], b[k]), max(cc[k], d[k])) }
            }
        }
    }
}
