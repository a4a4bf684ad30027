import CBLAS

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
