import CKernels

/// A linear layer's weight packed once for `ck_linear_packed` (AVX-512: tiles of 12 rows × 32
/// outputs in registers, the weight in panels of 32 outputs): for layers applied to many blocks of
/// rows, where OpenBLAS packs the weight again for every block (SAM 3's fusion-encoder FFN over the
/// image tokens: about 88 GFLOP/s per core through OpenBLAS, 104 through this kernel). Each output
/// is the same sum over the inputs as `Gemm.linear`'s, in another order (rounding only).
public struct PackedLinear: Sendable {
    public let packed: Param
    public let inFeatures: Int, outFeatures: Int

    /// Packs weight [outFeatures, inFeatures] (nn.Linear's layout) into memory owned by `store`.
    public init(weight: UnsafePointer<Float>, outFeatures n: Int, inFeatures k: Int, store: ParamStore) {
        var values = [Float](repeating: 0, count: ck_linear_pack_floats(n, k))
        values.withUnsafeMutableBufferPointer { p in
            if let base = p.baseAddress { ck_linear_pack(weight, k, n, k, base) }
        }
        packed = store.add(values, shape: [values.count])
        inFeatures = k
        outFeatures = n
    }

    /// Whether the packed kernel runs on this CPU at the kernel level in force (`ck_level`);
    /// otherwise callers use `Gemm`.
    public static var available: Bool { ck_linear_packed_available() != 0 }

    public enum Mode { case bias, biasReLU, accumulate }

    /// y[r] = x[r]·Wᵀ + b (`.bias`), relu(x[r]·Wᵀ + b) (`.biasReLU`) or y[r] + b + x[r]·Wᵀ
    /// (`.accumulate`) for `rows` rows (x rows `ldx` apart, y rows `ldy` apart), on the calling core
    /// only. Requires `available`. Strides of a multiple of 1 024 floats put a tile's 12 rows in
    /// the same L1 sets: pad them (see `paddedStride`).
    /// `outputs` (a range starting at a multiple of 32, default all) computes only those outputs of
    /// the layer, written from y's column 0 (the bias indexed from the range's start as well).
    public func apply(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                      ldy: Int, _ mode: Mode, outputs: Range<Int>? = nil) {
        let m: Int32 = switch mode {
        case .bias: Int32(CK_LIN_BIAS)
        case .biasReLU: Int32(CK_LIN_BIAS_RELU)
        case .accumulate: Int32(CK_LIN_ACCUMULATE)
        }
        let range = outputs ?? 0..<outFeatures
        let panel = Int(CK_LIN_PANEL)
        precondition(range.lowerBound % panel == 0 && range.lowerBound >= 0 && range.upperBound <= outFeatures,
                     "PackedLinear.apply: outputs \(range) do not start on a panel of \(outFeatures)")
        ck_linear_packed(x, ldx, rows, inFeatures, packed.pointer + range.lowerBound * inFeatures, range.count,
                         bias.map { $0 + range.lowerBound }, y, ldy, m)
    }

    /// `apply` over blocks of 96 rows spread over the cores (`SerialBLAS.forEach`).
    public func applyRows(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                          ldy: Int, _ mode: Mode, outputs: Range<Int>? = nil) {
        let block = 96, blocks = (rows + block - 1) / block
        SerialBLAS.forEach(blocks) { b, _ in
            let r0 = b * block
            apply(x + r0 * ldx, ldx: ldx, rows: min(block, rows - r0), bias: bias, y + r0 * ldy, ldy: ldy, mode, outputs: outputs)
        }
    }

    /// A row stride of at least `width` floats that is not a multiple of 1 024 (4 KB).
    public static func paddedStride(_ width: Int) -> Int { width % 1024 == 0 ? width + 16 : width }
}

extension PackedLinear {
    /// Outputs per packed panel: a part of the layer (`apply`'s `outputs`) starts on a multiple.
    public static let panel = Int(CK_LIN_PANEL)
    /// Rows per register tile of the kernel: blocks of rows in multiples of it waste no work.
    public static let tileRows = Int(CK_LIN_ROWS)
}

extension PackedLinear {
    /// C[r][col] = Σ_t Σ_i a[r][t·k + i] · b[offsets[t] + i·ldb + col] for r < m, col < n (`ck_gemm_taps`):
    /// a product over several shifted views of one channel-major map, in blocks of 256 columns
    /// spread over the cores. Requires `available`; a's stride should be `paddedStride`d.
    public static func gemmTaps(a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, b: UnsafePointer<Float>, offsets: [Int], ldb: Int,
                                n: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let block = 256, blocks = (n + block - 1) / block
        offsets.withUnsafeBufferPointer { ob in
            guard let o = ob.baseAddress else { return }
            SerialBLAS.forEach(blocks) { i, _ in
                ck_gemm_taps(a, lda, m, k, b, o, Int32(offsets.count), ldb, i * block, min(n, (i + 1) * block), c, ldc)
            }
        }
    }
}
