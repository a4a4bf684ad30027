import CKernels

/// Multi-head attention without the logits written out: the C kernel `ck_attention_rows` (blocks
/// of 128 keys with a streaming softmax, the logits of a block kept in L1), each head's keys and
/// values packed once, blocks of query rows of every head spread over the cores. `multiHeadSpread`
/// wrote 8 MB blocks of logits that went through L3 three times (product, softmax, packing for
/// ·V); the fused kernel does the same arithmetic per row up to rounding (a few 1e-7 relative).
extension Attention {
    /// Whether `fusedSpread` takes heads of this width: 32 (`CK_ATT_DIM`) with the C kernels on
    /// (`SEGTERM_KERNELS=swift` turns them off: callers take `multiHeadSpread`).
    public static func fusedAvailable(headDim: Int, valueDim: Int) -> Bool {
        headDim == Int(CK_ATT_DIM) && valueDim == Int(CK_ATT_DIM) && ck_level() > 0
    }

    /// Scratch floats `fusedSpread` needs: every head's packed keys and values.
    public static func fusedScratchCount(keys: Int, heads: Int) -> Int {
        2 * heads * ck_attention_pack_floats(keys)
    }

    /// Query rows per work item: two passes of the kernel (each pass reads all of a head's packed
    /// keys and values once); 108 items per head at 5 184 queries.
    static let fusedRowsPerItem = 2 * Int(CK_ATT_ROWS)

    /// out[:, h·32 ..< (h+1)·32] = softmax(scale · q_h k_hᵀ) v_h for each head h (heads of 32, see
    /// `fusedAvailable`), q, k, v, out row-major with strides ldq, ldk, ldv, ldo, head h at column h·32.
    /// `scratch` holds `fusedScratchCount(keys:heads:)` floats.
    public static func fusedSpread(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                                   v: UnsafePointer<Float>, ldv: Int, queries nq: Int, keys nk: Int, heads: Int, scale: Float,
                                   out: UnsafeMutablePointer<Float>, ldo: Int, scratch: UnsafeMutablePointer<Float>,
                                   bias: FactoredBias? = nil) {
        let dh = Int(CK_ATT_DIM), per = ck_attention_pack_floats(nk)
        if let bias { precondition(bias.height * bias.width == nk, "Attention.fusedSpread: the bias grid does not cover the keys") }
        SerialBLAS.forEach(heads) { h, _ in
            ck_attention_pack(k + h * dh, ldk, v + h * dh, ldv, nk, scratch + 2 * h * per, scratch + (2 * h + 1) * per)
        }
        // Rows before the bias's first row form items of their own (no bias).
        let plain = min(bias?.firstRow ?? 0, nq)
        let block = nq - plain >= 4 * fusedRowsPerItem || bias == nil ? fusedRowsPerItem : Int(CK_ATT_ROWS)
        let lead = (plain + block - 1) / block, blocks = lead + (nq - plain + block - 1) / block
        SerialBLAS.forEach(heads * blocks) { unit, _ in
            let h = unit / blocks, b = unit % blocks
            let r0 = b < lead ? b * block : plain + (b - lead) * block
            let nr = min(block, (b < lead ? plain : nq) - r0)
            let kp = scratch + 2 * h * per, vp = scratch + (2 * h + 1) * per
            if let bias, r0 >= plain {
                let br = r0 - bias.firstRow
                ck_attention_rows_bias(q + r0 * ldq + h * dh, ldq, nr, kp, vp, nk, scale, out + r0 * ldo + h * dh, ldo,
                                       bias.y + h * bias.headStrideY + br * bias.height, bias.height,
                                       bias.x + h * bias.headStrideX + br * bias.width, bias.width, bias.width)
            } else {
                ck_attention_rows(q + r0 * ldq + h * dh, ldq, nr, kp, vp, nk, scale, out + r0 * ldo + h * dh, ldo)
            }
        }
    }

    /// An additive bias on the logits of query row r ≥ firstRow and key j = yy · width + xx of a
    /// height × width key grid: y[h · headStrideY + (r − firstRow) · height + yy] + x[h · headStrideX +
    /// (r − firstRow) · width + xx] for head h (SAM 3's decoder box bias, boxRPB, kept factored).
    public struct FactoredBias {
        public let y: UnsafePointer<Float>, x: UnsafePointer<Float>
        public let height: Int, width: Int, headStrideY: Int, headStrideX: Int, firstRow: Int
        public init(y: UnsafePointer<Float>, x: UnsafePointer<Float>, height: Int, width: Int, headStrideY: Int, headStrideX: Int,
                    firstRow: Int) {
            self.y = y; self.x = x; self.height = height; self.width = width
            self.headStrideY = headStrideY; self.headStrideX = headStrideX; self.firstRow = firstRow
        }
    }
}
