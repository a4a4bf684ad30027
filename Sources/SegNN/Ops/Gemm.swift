import CBLAS
import CKernels

/// Matrix products through OpenBLAS. All matrices are row-major.
public enum Gemm {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, op(X) = X or Xᵀ.
    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// A linear layer (PyTorch `nn.Linear`): y[rows×out] = x[rows×in] · Wᵀ + b, W stored [out, in].
    /// `ldx`/`ldy` let x and y be column slices of wider matrices (attention heads, qkv splits).
    public static func linear(_ x: UnsafePointer<Float>, rows: Int, inFeatures: Int, ldx: Int? = nil,
                              weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outFeatures: Int,
                              _ y: UnsafeMutablePointer<Float>, ldy: Int? = nil, accumulate: Bool = false) {
        let ly = ldy ?? outFeatures
        var beta: Float = accumulate ? 1 : 0
        if let bias {
            for r in 0..<rows {
                let row = y + r * ly
                if accumulate {
                    for j in 0..<outFeatures { row[j] += bias[j] }
                } else {
                    row.update(from: bias, count: outFeatures)
                }
            }
            beta = 1
        }
        sgemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: ldx ?? inFeatures,
              b: weight, ldb: inFeatures, beta: beta, c: y, ldc: ly)
    }
}

extension Gemm {
    /// Row counts up to which `linearFew` streams the weights (in passes of `CK_FEW_ROWS` rows);
    /// above it a packing product reads the weights once for all rows and wins.
    public static let fewRowsMax = 12

    /// A linear layer y = x·Wᵀ + b (or y += …) on a few rows (a short phrase's tokens through a
    /// wide text encoder): the weights read once per `CK_FEW_ROWS` rows, the outputs split over
    /// the cores. OpenBLAS packs the weight before such a product, reading it twice and writing
    /// it once (the SAM 3 text encoder's 24 blocks hold 1.2 GB of weights). More rows, or the
    /// C kernels off: `linear`.
    public static func linearFew(_ x: UnsafePointer<Float>, rows: Int, inFeatures k: Int, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, outFeatures n: Int, _ y: UnsafeMutablePointer<Float>,
                                 accumulate: Bool = false) {
        guard rows <= fewRowsMax, Elementwise.useC else {
            linear(x, rows: rows, inFeatures: k, weight: weight, bias: bias, outFeatures: n, y, accumulate: accumulate)
            return
        }
        let per = Int(CK_FEW_ROWS)
        // Blocks of outputs (multiples of 4) handed out to the cores.
        let chunk = max(64, (n / (4 * Threads.count) + 3) / 4 * 4)
        let chunks = (n + chunk - 1) / chunk
        Threads.parallel(chunks) { c in
            let o0 = c * chunk, o1 = min(n, o0 + chunk)
            var r0 = 0
            while r0 < rows {
                let m = min(per, rows - r0)
                ck_linear_few(x + r0 * k, m, k, weight, o0, o1, bias, y + r0 * n, n, accumulate ? 1 : 0)
                r0 += m
            }
        }
    }
}
