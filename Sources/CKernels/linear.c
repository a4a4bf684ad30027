#include "ckernels.h"
#include "ck_linear.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// A register-tiled product for y = x · Wᵀ with W packed in panels of 32 outputs ([k][32] each):
// a tile of 12 rows × 32 outputs held in 24 AVX-512 accumulators, each step of the inner loop two
// loads of the panel and 12 broadcasts of x (the shape of the fused attention kernel's logits).
// OpenBLAS reaches about 88 GFLOP/s per core on SAM 3's FFN blocks (packing the 2 MB weights for
// each block of rows); this kernel about 100.

int ck_linear_packed_available(void) { return ck_level() >= 3; }

size_t ck_linear_pack_floats(size_t n, size_t k) { return (n + CK_LIN_PANEL - 1) / CK_LIN_PANEL * CK_LIN_PANEL * k; }

void ck_linear_pack(const float *w, size_t ldw, size_t n, size_t k, float *packed) {
    size_t panels = (n + CK_LIN_PANEL - 1) / CK_LIN_PANEL;
    for (size_t p = 0; p < panels; p++) {
        float *dst = packed + p * k * CK_LIN_PANEL;
        for (size_t j = 0; j < CK_LIN_PANEL; j++) {
            size_t o = p * CK_LIN_PANEL + j;
            if (o < n) {
                const float *src = w + o * ldw;
                for (size_t i = 0; i < k; i++) dst[i * CK_LIN_PANEL + j] = src[i];
            } else {
                for (size_t i = 0; i < k; i++) dst[i * CK_LIN_PANEL + j] = 0.0f;
            }
        }
    }
}

#if defined(__x86_64__)
typedef float lf16 __attribute__((vector_size(64), aligned(4)));
#define TGT __attribute__((target("avx512f,avx2,fma")))
#define MR CK_LIN_ROWS
#define SPLAT(c) ((lf16){0} + (float)(c))

// One tile: rows x[0..MR) (pointers; rows past the caller's count repeat a valid row, their
// results not stored), the panel pw [k][32], outputs o0 .. o0 + cols (cols ≤ 32) of y.
TGT static void tile_avx512(const float *const *xr, size_t k, const float *pw, const float *bias, float *y, size_t ldy, int rows,
                            int cols, int mode) {
    lf16 acc[MR][2];
    _Pragma("unroll") for (int r = 0; r < MR; r++) { acc[r][0] = SPLAT(0); acc[r][1] = SPLAT(0); }
    const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3], *x4 = xr[4], *x5 = xr[5];
    const float *x6 = xr[6], *x7 = xr[7], *x8 = xr[8], *x9 = xr[9], *x10 = xr[10], *x11 = xr[11];
    for (size_t i = 0; i < k; i++) {
        lf16 w0 = *(const lf16 *)(pw + i * 32), w1 = *(const lf16 *)(pw + i * 32 + 16);
#define STEP(r, xp) { float b = xp[i]; acc[r][0] += b * w0; acc[r][1] += b * w1; }
        STEP(0, x0) STEP(1, x1) STEP(2, x2) STEP(3, x3) STEP(4, x4) STEP(5, x5)
        STEP(6, x6) STEP(7, x7) STEP(8, x8) STEP(9, x9) STEP(10, x10) STEP(11, x11)
#undef STEP
    }
    lf16 b0 = SPLAT(0), b1 = SPLAT(0);
    if (bias) {
        float tmp[32];
        for (int j = 0; j < 32; j++) tmp[j] = j < cols ? bias[j] : 0.0f;
        memcpy(&b0, tmp, 64);
        memcpy(&b1, tmp + 16, 64);
    }
    for (int r = 0; r < rows; r++) {
        lf16 v0 = acc[r][0], v1 = acc[r][1];
        float *yr = y + (size_t)r * ldy;
        if (mode == CK_LIN_ACCUMULATE) {
            float cur[32];
            memcpy(cur, yr, (size_t)cols * sizeof(float));
            lf16 c0, c1;
            memcpy(&c0, cur, 64);
            memcpy(&c1, cur + 16, 64);
            v0 = (c0 + b0) + v0;
            v1 = (c1 + b1) + v1;
        } else {
            v0 = v0 + b0;
            v1 = v1 + b1;
            if (mode == CK_LIN_BIAS_RELU) {
                v0 = __builtin_elementwise_max(v0, SPLAT(0));
                v1 = __builtin_elementwise_max(v1, SPLAT(0));
            }
        }
        if (cols == 32) {
            memcpy(yr, &v0, 64);
            memcpy(yr + 16, &v1, 64);
        } else {
            float out[32];
            memcpy(out, &v0, 64);
            memcpy(out + 16, &v1, 64);
            memcpy(yr, out, (size_t)cols * sizeof(float));
        }
    }
}

// Panels outer, row tiles inner: a panel (k × 32 floats) is read from L1/L2 by every tile of the
// rows given, the rows (m × k, the caller's block) stay in L2.
TGT static void linear_packed_avx512(const float *x, size_t ldx, size_t m, size_t k, const float *packed, size_t n,
                                     const float *bias, float *y, size_t ldy, int mode) {
    size_t panels = (n + 31) / 32;
    for (size_t p = 0; p < panels; p++) {
        int cols = n - p * 32 < 32 ? (int)(n - p * 32) : 32;
        const float *pw = packed + p * k * 32;
        for (size_t r0 = 0; r0 < m; r0 += MR) {
            int rows = m - r0 < MR ? (int)(m - r0) : MR;
            const float *xr[MR];
            for (int r = 0; r < MR; r++) xr[r] = x + (r0 + (size_t)(r < rows ? r : rows - 1)) * ldx;
            tile_avx512(xr, k, pw, bias ? bias + p * 32 : NULL, y + r0 * ldy + p * 32, ldy, rows, cols, mode);
        }
    }
}
// One tile of ck_gemm_taps: rows a[0..MR) (pointers, each taps × k long), columns col .. col + cols
// (cols ≤ 32; a short panel reads with masked loads) of the shifted maps b + offsets[t].
TGT static void taps_tile_avx512(const float *const *ar, size_t k, const float *b, const ptrdiff_t *offsets, int taps, size_t ldb,
                                 size_t col, int cols, float *c, size_t ldc, int rows) {
    lf16 acc[MR][2];
    _Pragma("unroll") for (int r = 0; r < MR; r++) { acc[r][0] = SPLAT(0); acc[r][1] = SPLAT(0); }
    __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    for (int t = 0; t < taps; t++) {
        const float *bt = b + offsets[t] + col;
        const float *x0 = ar[0] + t * k, *x1 = ar[1] + t * k, *x2 = ar[2] + t * k, *x3 = ar[3] + t * k;
        const float *x4 = ar[4] + t * k, *x5 = ar[5] + t * k, *x6 = ar[6] + t * k, *x7 = ar[7] + t * k;
        const float *x8 = ar[8] + t * k, *x9 = ar[9] + t * k, *x10 = ar[10] + t * k, *x11 = ar[11] + t * k;
        for (size_t i = 0; i < k; i++) {
            lf16 w0, w1;
            if (cols == 32) {
                memcpy(&w0, bt + i * ldb, 64);
                memcpy(&w1, bt + i * ldb + 16, 64);
            } else {
                w0 = (lf16)_mm512_maskz_loadu_ps(m0, bt + i * ldb);
                w1 = (lf16)_mm512_maskz_loadu_ps(m1, bt + i * ldb + 16);
            }
#define STEP(r, xp) { float v = xp[i]; acc[r][0] += v * w0; acc[r][1] += v * w1; }
            STEP(0, x0) STEP(1, x1) STEP(2, x2) STEP(3, x3) STEP(4, x4) STEP(5, x5)
            STEP(6, x6) STEP(7, x7) STEP(8, x8) STEP(9, x9) STEP(10, x10) STEP(11, x11)
#undef STEP
        }
    }
    for (int r = 0; r < rows; r++) {
        float out[32];
        memcpy(out, &acc[r][0], 64);
        memcpy(out + 16, &acc[r][1], 64);
        memcpy(c + (size_t)r * ldc, out, (size_t)cols * sizeof(float));
    }
}

TGT static void gemm_taps_avx512(const float *a, size_t lda, size_t m, size_t k, const float *b, const ptrdiff_t *offsets, int taps,
                                 size_t ldb, size_t col0, size_t col1, float *c, size_t ldc) {
    for (size_t col = col0; col < col1; col += 32) {
        int cols = col1 - col < 32 ? (int)(col1 - col) : 32;
        for (size_t r0 = 0; r0 < m; r0 += MR) {
            int rows = m - r0 < MR ? (int)(m - r0) : MR;
            const float *ar[MR];
            for (int r = 0; r < MR; r++) ar[r] = a + (r0 + (size_t)(r < rows ? r : rows - 1)) * lda;
            taps_tile_avx512(ar, k, b, offsets, taps, ldb, col, cols, c + r0 * ldc + col, ldc, rows);
        }
    }
}
#undef TGT
#undef MR
#undef SPLAT
#endif

void ck_gemm_taps(const float *a, size_t lda, size_t m, size_t k, const float *b, const ptrdiff_t *offsets, int taps, size_t ldb,
                  size_t col0, size_t col1, float *c, size_t ldc) {
#if defined(__x86_64__)
    if (ck_level() >= 3) { if (m > 0 && col1 > col0) gemm_taps_avx512(a, lda, m, k, b, offsets, taps, ldb, col0, col1, c, ldc); return; }
#endif
    abort();  // callers check ck_linear_packed_available(); never silently wrong
}

void ck_linear_packed(const float *x, size_t ldx, size_t m, size_t k, const float *packed, size_t n, const float *bias,
                      float *y, size_t ldy, int mode) {
#if defined(__x86_64__)
    if (ck_level() >= 3 && m > 0) { linear_packed_avx512(x, ldx, m, k, packed, n, bias, y, ldy, mode); return; }
#endif
    abort();  // callers check ck_linear_packed_available(); never silently wrong
}
