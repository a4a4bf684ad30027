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
        let stage: Int    // 0-based, the stage whose width the block outputs
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
                            dim: dim, dimOut: dimOut, heads: heads, window: window, pool: poolAt.contains(i), stage: stage))
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
        HieraProfile.time("patch embed") { patchEmbed(image, x, ws: ws) }
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
                    HieraProfile.time("neck") { fused(x, rows: count, o) }
                    levels.append(Level(tokens: nil, side: side, dim: b.dimOut, map: o))
                } else {
                    let keep = ws.buffer(Self.levelSlot + index, count * b.dimOut)
                    keep.update(from: x, count: count * b.dimOut)
                    levels.append(Level(tokens: keep, side: side, dim: b.dimOut, map: nil))
                }
            }
        }
        return HieraProfile.time("neck") { neck(levels, ws: ws) }
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
}
