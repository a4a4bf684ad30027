#include "ckernels.h"
#include "ck_attention.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The fused attention kernel (attention_body.h) once per instruction set, each with tile sizes
// that fit its register file: MR query rows × NS key vectors of logits, PR rows × (32 / VW)
// vectors of outputs.

typedef float af4 __attribute__((vector_size(16), aligned(4)));
typedef int32_t ai4 __attribute__((vector_size(16), aligned(4)));
#define VW 4
#define V af4
#define VI ai4
#define FN(name) name##_portable
#define TGT
#define MR 4
#define NS 2
#define PR 1
#include "attention_body.h"
#undef VW
#undef V
#undef VI
#undef FN
#undef TGT
#undef MR
#undef NS
#undef PR

#if defined(__x86_64__)
typedef float af8 __attribute__((vector_size(32), aligned(4)));
typedef int32_t ai8 __attribute__((vector_size(32), aligned(4)));
#define VW 8
#define V af8
#define VI ai8
#define FN(name) name##_avx2
#define TGT __attribute__((target("avx2,fma")))
#define MR 6
#define NS 2
#define PR 2
#include "attention_body.h"
#undef VW
#undef V
#undef VI
#undef FN
#undef TGT
#undef MR
#undef NS
#undef PR

typedef float af16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t ai16 __attribute__((vector_size(64), aligned(4)));
#define VW 16
#define V af16
#define VI ai16
#define FN(name) name##_avx512
#define TGT __attribute__((target("avx512f,avx2,fma")))
#define MR 12
#define NS 2
#define PR 12
#define ATT_SCALEF 1
#include "attention_body.h"
#undef ATT_SCALEF
#undef VW
#undef V
#undef VI
#undef FN
#undef TGT
#undef MR
#undef NS
#undef PR
#endif

size_t ck_attention_pack_floats(size_t nk) {
    return (nk + CK_ATT_KEYS - 1) / CK_ATT_KEYS * CK_ATT_KEYS * CK_ATT_DIM;
}

void ck_attention_pack(const float *k, size_t ldk, const float *v, size_t ldv, size_t nk, float *kpack, float *vpack) {
    size_t blocks = (nk + CK_ATT_KEYS - 1) / CK_ATT_KEYS;
    // 16 keys at a time through a tile in L1, so that each write fills a whole line of the
    // transposed block (one key at a time wrote 32 lines one float each: 4 ms a layer at 5 184 keys).
    enum { T = 16 };
    float tile[T][CK_ATT_DIM];
    for (size_t b = 0; b < blocks; b++) {
        float *kt = kpack + b * CK_ATT_KEYS * CK_ATT_DIM;
        for (size_t j0 = 0; j0 < CK_ATT_KEYS; j0 += T) {
            for (size_t j = 0; j < T; j++) {
                size_t key = b * CK_ATT_KEYS + j0 + j;
                if (key < nk) memcpy(tile[j], k + key * ldk, sizeof(tile[j]));
                else memset(tile[j], 0, sizeof(tile[j]));
            }
            for (size_t c = 0; c < CK_ATT_DIM; c++)
                for (size_t j = 0; j < T; j++) kt[c * CK_ATT_KEYS + j0 + j] = tile[j][c];
        }
    }
    for (size_t key = 0; key < blocks * CK_ATT_KEYS; key++) {
        if (key < nk) memcpy(vpack + key * CK_ATT_DIM, v + key * ldv, CK_ATT_DIM * sizeof(float));
        else memset(vpack + key * CK_ATT_DIM, 0, CK_ATT_DIM * sizeof(float));
    }
}

void ck_attention_rows(const float *q, size_t ldq, size_t rows, const float *kpack, const float *vpack, size_t nk, float scale,
                       float *out, size_t ldo) {
    ck_attention_rows_bias(q, ldq, rows, kpack, vpack, nk, scale, out, ldo, NULL, 0, NULL, 0, 1);
}

void ck_attention_rows_bias(const float *q, size_t ldq, size_t rows, const float *kpack, const float *vpack, size_t nk, float scale,
                            float *out, size_t ldo, const float *by, size_t ldby, const float *bx, size_t ldbx, size_t width) {
    if (rows == 0) return;
    if (!by || !bx || width == 0) by = NULL;
#if defined(__x86_64__)
    switch (ck_level()) {
    case 3: attention_rows_avx512(q, ldq, rows, kpack, vpack, nk, scale, out, ldo, by, ldby, bx, ldbx, width); return;
    case 2: attention_rows_avx2(q, ldq, rows, kpack, vpack, nk, scale, out, ldo, by, ldby, bx, ldbx, width); return;
    default: break;
    }
#endif
    attention_rows_portable(q, ldq, rows, kpack, vpack, nk, scale, out, ldo, by, ldby, bx, ldbx, width);
}
