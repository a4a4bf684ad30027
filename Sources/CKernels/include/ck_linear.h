#ifndef CK_LINEAR_H
#define CK_LINEAR_H
#include <stddef.h>
#include <stdint.h>

// Linear layers on many rows with the weight packed once (linear.c): an AVX-512 kernel for the
// products whose inner dimension is small or whose weights are reused across many row blocks
// (SAM 3's fusion-encoder FFN over the 5 184 image tokens), where OpenBLAS packs the weight again
// for every block of rows. Single-threaded: callers split the rows over the cores.

/// Outputs per packed panel, and rows per register tile of the kernel.
enum { CK_LIN_PANEL = 32, CK_LIN_ROWS = 12 };

/// Whether the packed kernel runs here (ck_level() is AVX-512); otherwise callers use BLAS.
int ck_linear_packed_available(void);

/// Floats of a packed weight of n outputs and k inputs: ceil(n / 32) panels of [k][32].
size_t ck_linear_pack_floats(size_t n, size_t k);

/// Packs w [n][k] (nn.Linear's [out, in], rows ldw apart) into panels of 32 outputs, each [k][32]
/// (input-major), the outputs past n zero.
void ck_linear_pack(const float *w, size_t ldw, size_t n, size_t k, float *packed);

/// What the kernel does with each output after its sum s = Σ_i x[r][i] w[o][i].
enum { CK_LIN_BIAS = 0, CK_LIN_BIAS_RELU = 1, CK_LIN_ACCUMULATE = 2 };

/// y[r][o] for r < m, o < n (x rows ldx apart, y rows ldy apart), with the packed weight:
/// CK_LIN_BIAS: s + b[o]; CK_LIN_BIAS_RELU: max(s + b[o], 0); CK_LIN_ACCUMULATE: y[r][o] + b[o] + s
/// (in that order, as y += b then a product with beta 1). bias may be NULL (0). Rows ldx apart
/// by a multiple of 4 KB make the 12 rows of a tile share L1 sets: pad such strides.
void ck_linear_packed(const float *x, size_t ldx, size_t m, size_t k, const float *packed, size_t n, const float *bias,
                      float *y, size_t ldy, int mode);

/// C[r][col] = Σ_t Σ_i a[r][t·k + i] · b[offsets[t] + i·ldb + col] for r < m and col0 ≤ col < col1
/// (a rows lda apart, C rows ldc apart, overwritten): a product summed over `taps` shifted views of
/// one channel-major map (SAM 3's pixel decoder: the four taps of a 2×2 convolution, the map's
/// rows ldb apart), on the calling core, the columns in panels of 32 as ck_linear_packed. Requires
/// ck_linear_packed_available(). Rows of a lda apart by a multiple of 4 KB share L1 sets: pad.
void ck_gemm_taps(const float *a, size_t lda, size_t m, size_t k, const float *b, const ptrdiff_t *offsets, int taps, size_t ldb,
                  size_t col0, size_t col1, float *c, size_t ldc);

#endif
