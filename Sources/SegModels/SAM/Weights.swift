import SegCore
import SegNN

/// A linear layer's weights: W [out, in], b [out].
struct LinearW: Sendable {
    let w: Param, b: Param?
    let inF: Int, outF: Int

    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>, ldx: Int? = nil, ldy: Int? = nil) {
        Gemm.linear(x, rows: rows, inFeatures: inF, ldx: ldx, weight: w.pointer, bias: b?.pointer, outFeatures: outF, y, ldy: ldy)
    }
}

/// A convolution's weights [out, in/groups, k, k] with bias (BatchNorm already folded in when there was one).
struct ConvW: Sendable {
    let w: Param, b: Param?
    let inC: Int, outC: Int, k: Int, stride: Int, pad: Int, depthwise: Bool
}

struct NormW: Sendable {
    let w: Param, b: Param
    let dim: Int
    let eps: Float
}

/// Reads tensors out of a state dict into a model's parameter store, checking every shape.
struct WeightLoader {
    let dict: StateDict
    let store: ParamStore

    func floats(_ key: String, _ shape: [Int]) throws -> [Float] {
        do { return try dict.floats(key, shape: shape) } catch { throw SegError(error) }
    }

    /// A tensor as the model keeps it: a copy, the checkpoint's pages released as it is made
    /// (`StateDict.floats`), so SAM 3's 3.3 GB are in memory once while loading.
    func param(_ key: String, _ shape: [Int]) throws -> Param { store.add(try floats(key, shape), shape: shape) }

    func shape(_ key: String) throws -> [Int] {
        guard let s = dict.shape(key) else { throw SegError(.invalid, file: dict.path, "missing tensor \(key)") }
        return s
    }

    func linear(_ prefix: String, _ inF: Int, _ outF: Int, bias: Bool = true) throws -> LinearW {
        LinearW(w: try param(prefix + ".weight", [outF, inF]), b: bias ? try param(prefix + ".bias", [outF]) : nil, inF: inF, outF: outF)
    }

    func norm(_ prefix: String, _ dim: Int, eps: Float) throws -> NormW {
        NormW(w: try param(prefix + ".weight", [dim]), b: try param(prefix + ".bias", [dim]), dim: dim, eps: eps)
    }

    func conv(_ prefix: String, _ inC: Int, _ outC: Int, k: Int, stride: Int = 1, pad: Int = 0, bias: Bool) throws -> ConvW {
        ConvW(w: try param(prefix + ".weight", [outC, inC, k, k]), b: bias ? try param(prefix + ".bias", [outC]) : nil,
              inC: inC, outC: outC, k: k, stride: stride, pad: pad, depthwise: false)
    }

    /// TinyViT's `Conv2d_BN`: a bias-free conv (`.c`) followed by eval-mode BatchNorm (`.bn`), folded.
    func convBN(_ prefix: String, _ inC: Int, _ outC: Int, k: Int, stride: Int = 1, pad: Int = 0, depthwise: Bool = false) throws -> ConvW {
        let wShape = [outC, depthwise ? 1 : inC, k, k]
        let w = try floats(prefix + ".c.weight", wShape)
        let g = try floats(prefix + ".bn.weight", [outC]), b = try floats(prefix + ".bn.bias", [outC])
        let m = try floats(prefix + ".bn.running_mean", [outC]), v = try floats(prefix + ".bn.running_var", [outC])
        let folded = Norm.foldBatchNorm(weight: w, bias: nil, outChannels: outC, gamma: g, beta: b, mean: m, variance: v, eps: 1e-5)
        return ConvW(w: store.add(folded.weight, shape: wShape), b: store.add(folded.bias, shape: [outC]),
                     inC: inC, outC: outC, k: k, stride: stride, pad: pad, depthwise: depthwise)
    }
}

extension SegError {
    /// A checkpoint error as the app's error, same file and reason.
    init(_ e: CheckpointError) {
        let kind: SegError.Kind = switch e.kind {
        case .notFound: .notFound
        case .unreadable: .unreadable
        case .unsupported, .refused: .unsupported
        case .truncated: .truncated
        case .corrupt: .corrupt
        case .invalid: .invalid
        }
        self.init(kind, file: e.file, e.reason)
    }
}

/// Runs a conv layer on one NCHW image.
func runConv(_ c: ConvW, _ x: UnsafePointer<Float>, height: Int, width: Int, _ y: UnsafeMutablePointer<Float>, ws: Workspace, scratchSlot: Int) {
    if c.depthwise {
        Conv.depthwise(x, channels: c.inC, height: height, width: width, kernel: c.k, stride: c.stride, padding: c.pad,
                       weight: c.w.pointer, bias: c.b?.pointer, y)
        return
    }
    let g = Conv.Geometry(inChannels: c.inC, outChannels: c.outC, kernel: c.k, stride: c.stride, padding: c.pad, height: height, width: width)
    let n = Conv.scratchCount(g)
    Conv.conv2d(x, g, weight: c.w.pointer, bias: c.b?.pointer, y, scratch: n > 0 ? ws.buffer(scratchSlot, n) : nil)
}

/// [rows, cols] → [cols, rows].
func transpose(_ x: UnsafePointer<Float>, rows: Int, cols: Int, _ y: UnsafeMutablePointer<Float>) {
    let tile = 32
    Threads.parallel((rows + tile - 1) / tile) { tr in
        let r0 = tr * tile, r1 = min(rows, r0 + tile)
        var c0 = 0
        while c0 < cols {
            let c1 = min(cols, c0 + tile)
            for r in r0..<r1 {
                for c in c0..<c1 { y[c * rows + r] = x[r * cols + c] }
            }
            c0 = c1
        }
    }
}
