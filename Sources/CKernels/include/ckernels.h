#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>

// Element-wise float32 kernels for the neural engine, in C so that each can be compiled for
// AVX2+FMA and AVX-512 (per-function target attributes) while the rest of the program stays
// baseline x86-64: Swift cannot select an instruction set per function. The best version the
// CPU supports is picked once at first use; a portable build of the same code (SSE2 / NEON)
// is the fallback. None of these functions starts threads: callers split the work.

/// The instruction set in use: 0 = C kernels off (SEGTERM_KERNELS=swift: callers use their own
/// Swift code), 1 = portable, 2 = AVX2+FMA, 3 = AVX-512. SEGTERM_KERNELS=portable|avx2|avx512
/// caps the choice (for benchmarks and tests); it is read once.
int ck_level(void);
/// The name of ck_level(): "swift", "portable", "avx2", "avx512".
const char *ck_level_name(void);
/// Selects a level for this process (capped by what the CPU supports); returns the level in force.
int ck_set_level(int level);

/// x = gelu(x + bias[i % period]) (exact erf form, PyTorch nn.GELU()); bias may be NULL.
/// With a bias, n must be a multiple of period.
void ck_gelu(float *x, size_t n, const float *bias, size_t period);

/// Softmax of each of `rows` rows of `cols` values (row stride ld), max-subtracted, in place.
void ck_softmax_rows(float *p, size_t rows, size_t cols, size_t ld);

/// LayerNorm over each of `rows` contiguous rows of `dim` values of (x + pre), pre optional
/// (a bias added before normalising, per column), into out (may be x):
/// (v - mean) / sqrt(var + eps) * w + b, biased variance as PyTorch; then GELU (as ck_gelu) when
/// `gelu` is non-zero, while the row is still in L1.
void ck_layernorm(const float *x, float *out, size_t rows, size_t dim, const float *w, const float *b,
                  const float *pre, float eps, int gelu);

enum { CK_MIX_MAX_CHANNELS = 64 };

/// GELU then a small product, in one pass: out[m * ldo + i] = sum_c h[m * channels + c] *
/// gelu(x[c * ld + i] + bias[c]) for i < n, m < count. x is channel-major (row c at x + c * ld);
/// count <= 4 and channels <= CK_MIX_MAX_CHANNELS (SAM's masks from the upscaled embedding).
void ck_gelu_mix(const float *x, size_t ld, size_t channels, size_t n, const float *bias, const float *h, size_t count,
                 float *out, size_t ldo);

/// out[r][j] = x[r][j] + bias[j] for `rows` rows of `dim` (out may be x).
void ck_add_bias(float *out, const float *x, size_t rows, size_t dim, const float *bias);

/// out = a + b over n values (out may be a or b).
void ck_sum(float *out, const float *a, const float *b, size_t n);

enum { CK_FEW_ROWS = 6 };

/// A linear layer on a few rows, y[r][o] = (y[r][o] if accumulate) + bias[o] + sum_i x[r][i] w[o][i]
/// for r < rows <= CK_FEW_ROWS (x [rows][k] contiguous, y rows ldy apart) and the outputs o0 <= o < o1
/// of the weight w [n][k]; bias may be NULL. Reads each weight row once (the text encoder's
/// products over a short phrase's tokens stream the weights).
void ck_linear_few(const float *x, size_t rows, size_t k, const float *w, size_t o0, size_t o1, const float *bias, float *y, size_t ldy,
                   int accumulate);

#endif
