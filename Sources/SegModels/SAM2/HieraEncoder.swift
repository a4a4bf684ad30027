import SegCore
import SegNN

/// SAM 2.1's image encoder as `SAM2Base.forward_image` runs it for the image predictor: the Hiera
/// trunk, the FPN neck with its scalp, `conv_s0`/`conv_s1` on the two finest levels and
/// `no_mem_embed` on the coarsest kept level. Tokens are rows [H·W, C] throughout.
struct HieraEncoder: Sendable {
    struct Block: Sendable {
        let norm1: NormW, norm2: NormW
        let qkv: LinearW, proj: LinearW
        /// `proj` of a block that widens (applied to the normalised input for the shortcut).
        let skip: LinearW?
        let fc1: LinearW, fc2: LinearW
        let dim: Int, dimOut: Int, heads: Int
        let window: Int   // 0: global attention
        let pool: Bool    // 2×2 query pooling (first block of a stage)
    }

    /// The three maps the decoder takes, as tokens: the embedding [g², d] (no_mem_embed added),
    /// conv_s1's [(2g)², d/4] and conv_s0's [(4g)², d/8].
    struct Output {
        let embed: UnsafeMutablePointer<Float>, s1: UnsafeMutablePointer<Float>, s0: UnsafeMutablePointer<Float>
    }

    let config: SAMConfig.Hiera
    let patch: ConvW
    /// The position embedding, added per strip of tokens instead of kept as a [G², C] map
    /// (G = imageSize / 4; 25 MB for tiny): the background embedding already resized along x
    /// [h, G, C] with the y taps, and the window embedding [w, w, C] that tiles the grid.
    let posRows: Param, posWindow: Param
    let posTapsY: CubicTaps
    let blocks: [Block]
    /// Per neck level (0 finest): the lateral 1×1 conv [d, C_i] with bias, as a linear layer.
    let lateral: [LinearW]
    /// conv_s0 / conv_s1, and the same composed with the level's lateral conv (used when the level
    /// takes no top-down input: two 1×1 convs in a row are one).
    let convS0: LinearW, convS1: LinearW
    let fusedS0: LinearW, fusedS1: LinearW
    let noMem: Param                // [d]

    var grid0: Int { config.imageSize / 4 }

    init(_ h: SAMConfig.Hiera, _ l: WeightLoader) throws {
        config = h
        let t = "image_encoder.trunk.", c = h.embedDim
        patch = try l.conv(t + "patch_embed.proj", 3, c, k: 7, stride: 4, pad: 3, bias: true)
        let g = h.imageSize / 4
        let bg = try l.floats(t + "pos_embed", [1, c] + h.posEmbedSize)
        let w0 = h.windowSpec[0]
        let win = try l.floats(t + "pos_embed_window", [1, c, w0, w0])
        let ph = h.posEmbedSize[0], pw = h.posEmbedSize[1]
        let tx = CubicTaps(input: pw, output: g)
        var rows = [Float](repeating: 0, count: ph * g * c)
        for ch in 0..<c {
            for r in 0..<ph {
                for x in 0..<g {
                    var acc: Float = 0
                    for i in 0..<4 { acc += bg[(ch * ph + r) * pw + tx.index[x * 4 + i]] * tx.weight[x * 4 + i] }
                    rows[(r * g + x) * c + ch] = acc
                }
            }
        }
        posRows = l.store.add(rows, shape: [ph, g, c])
        var window = [Float](repeating: 0, count: w0 * w0 * c)
        for ch in 0..<c { for y in 0..<w0 { for x in 0..<w0 { window[(y * w0 + x) * c + ch] = win[(ch * w0 + y) * w0 + x] } } }
        posWindow = l.store.add(window, shape: [w0, w0, c])
        posTapsY = CubicTaps(input: ph, output: g)

        var bl: [Block] = []
        var dim = c, heads = h.numHeads, stage = 0
        let ends = h.stageEnds, poolAt = h.qPoolBlocks
        for i in 0..<h.depth {
            var dimOut = dim
            // The window lags a block: a stage's first block still uses the previous stage's size.
            var window = h.windowSpec[stage]
            if h.globalAttnBlocks.contains(i) { window = 0 }
            if i > 0 && ends.contains(i - 1) {
                dimOut = dim * h.dimMul
                heads *= h.headMul
                stage += 1
            }
            let p = t + "blocks.\(i)."
            let hidden = Int(Double(dimOut) * h.mlpRatio)
            bl.append(Block(norm1: try l.norm(p + "norm1", dim, eps: 1e-6), norm2: try l.norm(p + "norm2", dimOut, eps: 1e-6),
                            qkv: try l.linear(p + "attn.qkv", dim, 3 * dimOut), proj: try l.linear(p + "attn.proj", dimOut, dimOut),
                            skip: dim != dimOut ? try l.linear(p + "proj", dim, dimOut) : nil,
                            fc1: try l.linear(p + "mlp.layers.0", dimOut, hidden), fc2: try l.linear(p + "mlp.layers.1", hidden, dimOut),
                            dim: dim, dimOut: dimOut, heads: heads, window: window, pool: poolAt.contains(i)))
            dim = dimOut
        }
        blocks = bl

        let d = h.neckDim, dims = h.stageDims, n = dims.count
        // neck.convs are listed coarsest first (backbone_channel_list is [8C, 4C, 2C, C]).
        lateral = try (0..<n).map { i in
            let k = "image_encoder.neck.convs.\(n - 1 - i).conv."
            let w = try l.param(k + "weight", [d, dims[i], 1, 1]), b = try l.param(k + "bias", [d])
            return LinearW(w: w, b: b, inF: dims[i], outF: d)
        }
        func conv1x1(_ key: String, _ inC: Int, _ outC: Int) throws -> LinearW {
            LinearW(w: try l.param(key + ".weight", [outC, inC, 1, 1]), b: try l.param(key + ".bias", [outC]), inF: inC, outF: outC)
        }
        convS0 = try conv1x1("sam_mask_decoder.conv_s0", d, d / 8)
        convS1 = try conv1x1("sam_mask_decoder.conv_s1", d, d / 4)
        fusedS0 = HieraEncoder.compose(convS0, after: lateral[0], store: l.store)
        fusedS1 = HieraEncoder.compose(convS1, after: lateral[1], store: l.store)
        noMem = try l.param("no_mem_embed", [1, 1, d])
    }

    /// outer(inner(x)) as one linear layer, composed in double precision.
    static func compose(_ outer: LinearW, after inner: LinearW, store: ParamStore) -> LinearW {
        let o = outer.outF, m = outer.inF, i = inner.inF
        var w = [Float](repeating: 0, count: o * i), b = [Float](repeating: 0, count: o)
        for r in 0..<o {
            var acc = Double(outer.b?[r] ?? 0)
            for k in 0..<m { acc += Double(outer.w[r * m + k]) * Double(inner.b?[k] ?? 0) }
            b[r] = Float(acc)
            for c in 0..<i {
                var s = 0.0
                for k in 0..<m { s += Double(outer.w[r * m + k]) * Double(inner.w[k * i + c]) }
                w[r * i + c] = Float(s)
            }
        }
        return LinearW(w: store.add(w, shape: [o, i]), b: store.add(b, shape: [o]), inF: i, outF: o)
    }

    /// PyTorch's bicubic taps (`align_corners=False`, A = −0.75, indices clamped at the borders).
    struct CubicTaps: Sendable {
        var index: [Int] = [], weight: [Float] = []
        init(input: Int, output: Int) {
            let scale = Float(input) / Float(output), a: Float = -0.75
            func c1(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
            func c2(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            for d in 0..<output {
                let real = scale * (Float(d) + 0.5) - 0.5
                let f = real.rounded(.down), t = real - f
                let ws = [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]
                for k in 0..<4 {
                    index.append(min(max(Int(f) - 1 + k, 0), input - 1))
                    weight.append(ws[k])
                }
            }
        }
    }

    enum HSlot: Int {
        case x = 300, y, t, t2, src, qkv, q, attn, o, mlp, lat, patch
    }
    /// Workspace slots of the stage outputs, the neck's full-width levels and the decoder's maps.
    static let levelSlot = 400, neckSlot = 420, mapSlot = 440

    /// Rows of tokens per pass in the stages' big loops (patch embedding, shortcut, MLP): a few MB
    /// of scratch instead of a whole stage-1 map per intermediate.
    static let chunkRows = 4096

    /// image: normalised [3, S, S]. Returns pointers into `ws` (valid until its next use).
    func forward(_ image: UnsafePointer<Float>, ws: Workspace) -> Output {
        let c = config.embedDim
        var side = grid0
        // Tokens × channels halves at each stage, so the first stage's size bounds every block's.
        let capacity = side * side * c
        var x = ws.buffer(HSlot.x.rawValue, capacity), y = ws.buffer(HSlot.y.rawValue, capacity)
        patchEmbed(image, x, ws: ws)
        var levels: [Level] = []
        let ends = Set(config.stageEnds)
        for (i, b) in blocks.enumerated() {
            block(b, x: x, side: side, out: y, ws: ws)
            swap(&x, &y)
            if b.pool { side /= 2 }
            if ends.contains(i) {
                let index = levels.count, count = side * side
                if let fused = fusedConv(level: index) {
                    // The level only feeds conv_s0/conv_s1: run the fused 1×1 conv now, keep no copy.
                    let o = ws.buffer(Self.mapSlot + index, count * fused.outF)
                    fused(x, rows: count, o)
                    levels.append(Level(tokens: nil, side: side, dim: b.dimOut, map: o))
                } else {
                    let keep = ws.buffer(Self.levelSlot + index, count * b.dimOut)
                    keep.update(from: x, count: count * b.dimOut)
                    levels.append(Level(tokens: keep, side: side, dim: b.dimOut, map: nil))
                }
            }
        }
        return neck(levels, ws: ws)
    }

    /// A stage's output for the neck: its tokens, or (levels 0 and 1 with no top-down input) the
    /// high-resolution map already computed from them.
    struct Level {
        let tokens: UnsafeMutablePointer<Float>?
        let side: Int, dim: Int
        let map: UnsafeMutablePointer<Float>?
    }

    /// The lateral conv composed with conv_s0/conv_s1 when level `i` takes no top-down input and
    /// feeds no finer level; nil when the neck needs the level's full-width output.
    func fusedConv(level i: Int) -> LinearW? {
        let top = Set(config.fpnTopDownLevels)
        guard i < 2, !top.contains(i), !top.contains(i - 1) else { return nil }
        return i == 0 ? fusedS0 : fusedS1
    }

    /// `Hiera._get_pos_embed` added to rows firstRow..<firstRow+rows of the token grid: the bicubic
    /// background (its y taps over the x-resized rows) plus the tiled window embedding.
    func addPosition(_ x: UnsafeMutablePointer<Float>, firstRow: Int, rows: Int) {
        let g = grid0, c = config.embedDim, w0 = config.windowSpec[0]
        let pr = posRows.pointer, pw = posWindow.pointer, ty = posTapsY
        Threads.parallel(rows) { r in
            let y = firstRow + r
            let i0 = ty.index[y * 4], i1 = ty.index[y * 4 + 1], i2 = ty.index[y * 4 + 2], i3 = ty.index[y * 4 + 3]
            let w0y = ty.weight[y * 4], w1y = ty.weight[y * 4 + 1], w2y = ty.weight[y * 4 + 2], w3y = ty.weight[y * 4 + 3]
            for xx in 0..<g {
                let a = pr + (i0 * g + xx) * c, b = pr + (i1 * g + xx) * c, cc = pr + (i2 * g + xx) * c, d = pr + (i3 * g + xx) * c
                let win = pw + ((y % w0) * w0 + xx % w0) * c
                let o = x + (y * g + xx) * c
                for k in 0..<c {
                    var acc: Float = 0
                    acc += a[k] * w0y
                    acc += b[k] * w1y
                    acc += cc[k] * w2y
                    acc += d[k] * w3y
                    o[k] += acc + win[k]
                }
            }
        }
    }

    /// The 7×7 stride-4 patch embedding straight into tokens, a strip of output rows at a time:
    /// each strip's patches as rows [pixels, 3·7·7] times the weights [C, 3·7·7]ᵀ.
    func patchEmbed(_ image: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, ws: Workspace) {
        let s = config.imageSize, g = grid0, c = config.embedDim, k = 7, kk = 3 * k * k
        let stripRows = max(1, Self.chunkRows / g)
        let cols = ws.buffer(HSlot.patch.rawValue, stripRows * g * kk)
        var r0 = 0
        while r0 < g {
            let rows = min(stripRows, g - r0)
            Threads.parallel(rows) { r in
                let oy = r0 + r
                for ox in 0..<g {
                    let dst = cols + (r * g + ox) * kk
                    for ci in 0..<3 {
                        for ky in 0..<k {
                            let iy = 4 * oy - 3 + ky
                            let row = dst + (ci * k + ky) * k
                            guard iy >= 0 && iy < s else { row.initialize(repeating: 0, count: k); continue }
                            let src = image + (ci * s + iy) * s
                            for kx in 0..<k {
                                let ix = 4 * ox - 3 + kx
                                row[kx] = ix >= 0 && ix < s ? src[ix] : 0
                            }
                        }
                    }
                }
            }
            Self.linear(LinearW(w: patch.w, b: patch.b, inF: kk, outF: c), cols, rows: rows * g, x + r0 * g * c)
            addPosition(x, firstRow: r0, rows: rows)
            r0 += rows
        }
    }

    /// One MultiScaleBlock: x [side², dim] → out [side'², dimOut]. The attention runs over groups of
    /// windows and the shortcut and MLP over chunks of rows, so scratch stays a few MB.
    func block(_ b: Block, x: UnsafePointer<Float>, side: Int, out: UnsafeMutablePointer<Float>, ws: Workspace) {
        let n = side * side, dOut = b.dimOut
        let norm1 = b.norm1
        let outSide = b.pool ? side / 2 : side
        let m = outSide * outSide
        // Shortcut: the input, or (widening blocks) the pooled projection of the normalised input,
        // in strips of an even number of rows.
        if let skip = b.skip {
            let strip = max(2, Self.chunkRows / side / 2 * 2)
            let p = ws.buffer(HSlot.lat.rawValue, strip * side * dOut)
            let t = ws.buffer(HSlot.t.rawValue, strip * side * b.dim)
            var r0 = 0
            while r0 < side {
                let rows = min(strip, side - r0)
                Norm.layerNorm(x + r0 * side * b.dim, t, rows: rows * side, dim: b.dim, weight: norm1.w.pointer, bias: norm1.b.pointer, eps: norm1.eps)
                Self.linear(skip, t, rows: rows * side, p)
                if b.pool {
                    maxPool2(p, width: side, rows: rows, channels: dOut, out + (r0 / 2) * outSide * dOut)
                } else {
                    (out + r0 * side * dOut).update(from: p, count: rows * side * dOut)
                }
                r0 += rows
            }
        } else if b.pool {
            maxPool2(x, width: side, rows: side, channels: b.dim, out)
        } else {
            out.update(from: x, count: n * b.dim)
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
            partition(x, channels: b.dim, win, first: g0, count: count, src)
            Norm.layerNorm(src, src, rows: count * per, dim: b.dim, weight: norm1.w.pointer, bias: norm1.b.pointer, eps: norm1.eps)
            if win.paddedHeight != side || win.paddedWidth != side { zeroPadding(src, channels: b.dim, win, first: g0, count: count) }
            let qkv = ws.buffer(HSlot.qkv.rawValue, count * per * 3 * dOut)
            Self.linear(b.qkv, src, rows: count * per, qkv)
            var q = UnsafePointer(qkv), ldq = 3 * dOut
            if b.pool {
                let qp = ws.buffer(HSlot.q.rawValue, count * nq * dOut)
                Threads.parallel(count) { w in
                    poolWindow(qkv + w * per * 3 * dOut, ld: 3 * dOut, size: size, channels: dOut, qp + w * nq * dOut)
                }
                q = UnsafePointer(qp); ldq = dOut
            }
            let o = ws.buffer(HSlot.o.rawValue, count * nq * dOut)
            let each = Attention.scratchCount(queries: nq, keys: per)
            let qs = q
            func attend(_ w: Int, _ scratch: UnsafeMutablePointer<Float>) {
                let kv = qkv + w * per * 3 * dOut
                Attention.multiHead(q: qs + w * nq * ldq, ldq: ldq, k: kv + dOut, ldk: 3 * dOut, v: kv + 2 * dOut, ldv: 3 * dOut,
                                    queries: nq, keys: per, heads: b.heads, headDim: dh, valueDim: dh, scale: 1 / Float(dh).squareRoot(),
                                    out: o + w * nq * dOut, ldo: dOut, scratch: scratch)
            }
            if count > 1 {
                // Many small windows: one per core, each with single-threaded GEMMs.
                let scratch = ws.buffer(HSlot.attn.rawValue, Attention.workers(count) * each)
                Attention.eachWindow(count, scratch: scratch, scratchPerWindow: each, attend)
            } else {
                // Global attention: one big problem, OpenBLAS's own threads split its GEMMs.
                attend(0, ws.buffer(HSlot.attn.rawValue, each))
            }
            // The projection reuses `src` (no longer needed; as large or larger).
            Self.linear(b.proj, o, rows: count * nq, src)
            unpartitionAdd(src, channels: dOut, outWin, first: g0, count: count, out)
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
            Norm.layerNorm(xr, t2, rows: rows, dim: dOut, weight: b.norm2.w.pointer, bias: b.norm2.b.pointer, eps: b.norm2.eps)
            Self.linear(b.fc1, t2, rows: rows, h, gelu: true)
            Self.linear(b.fc2, h, rows: rows, xr, accumulate: true)
            r0 += rows
        }
    }

    /// y (+)= x · Wᵀ + b with the bias pass split over the cores (Gemm.linear adds it on one), and
    /// with `gelu` the bias and GELU in one pass after the product.
    static func linear(_ l: LinearW, _ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>,
                       accumulate: Bool = false, gelu: Bool = false) {
        if accumulate, let b = l.b { Elementwise.addBias(y, y, rows: rows, dim: l.outF, bias: b.pointer) }
        Gemm.sgemm(transB: true, m: rows, n: l.outF, k: l.inF, a: x, lda: l.inF, b: l.w.pointer, ldb: l.inF,
                   beta: accumulate ? 1 : 0, c: y, ldc: l.outF)
        if accumulate { return }
        if gelu {
            if let b = l.b { Elementwise.gelu(y, rows * l.outF, bias: b.pointer, period: l.outF) } else { Elementwise.gelu(y, rows * l.outF) }
        } else if let b = l.b {
            Elementwise.addBias(y, y, rows: rows, dim: l.outF, bias: b.pointer)
        }
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

    /// FpnNeck (1×1 laterals, nearest top-down on `fpnTopDownLevels`, sum), the scalp, conv_s0/s1,
    /// no_mem_embed.
    func neck(_ levels: [Level], ws: Workspace) -> Output {
        let d = config.neckDim, n = levels.count, kept = n - config.scalp
        let top = Set(config.fpnTopDownLevels)
        var prev: (UnsafeMutablePointer<Float>, Int)?
        var outs = [UnsafeMutablePointer<Float>?](repeating: nil, count: n)
        var hr: [UnsafeMutablePointer<Float>?] = [nil, nil]
        for i in stride(from: n - 1, through: 0, by: -1) {
            let lv = levels[i], count = lv.side * lv.side
            guard let tokens = lv.tokens else {
                // Computed at the stage's end (fusedConv).
                if i < 2 { hr[i] = lv.map }
                prev = nil
                continue
            }
            let o = ws.buffer(Self.neckSlot + i, count * d)
            lateral[i](tokens, rows: count, o)
            if top.contains(i), let (p, ps) = prev {
                // Nearest ×2: pixel (y, x) takes the coarser level's (y/2, x/2).
                Threads.parallel(lv.side) { y in
                    for x in 0..<lv.side {
                        let src = p + ((y / 2) * ps + x / 2) * d, dst = o + (y * lv.side + x) * d
                        for k in 0..<d { dst[k] += src[k] }
                    }
                }
            }
            outs[i] = o
            prev = (o, lv.side)
            if i < 2 {
                let f = i == 0 ? convS0 : convS1
                let h = ws.buffer(Self.mapSlot + i, count * f.outF)
                f(o, rows: count, h)
                hr[i] = h
            }
        }
        let embedLevel = kept - 1
        let e = outs[embedLevel] ?? ws.buffer(Self.neckSlot + embedLevel, 1)
        let count = levels[embedLevel].side * levels[embedLevel].side
        Elementwise.addBias(e, e, rows: count, dim: d, bias: noMem.pointer)
        return Output(embed: e, s1: hr[1] ?? e, s0: hr[0] ?? e)
    }
}
