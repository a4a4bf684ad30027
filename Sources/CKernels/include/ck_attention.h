#ifndef CK_ATTENTION_H
#define CK_ATTENTION_H
#include <stddef.h>

// Fused attention (attention.c): the instruction set is ck_level()'s (ckernels.h), AVX-512,
// AVX2+FMA or the portable build.

/// Head width, keys per packed block and query rows per pass of the fused attention kernel.
enum { CK_ATT_DIM = 32, CK_ATT_KEYS = 128, CK_ATT_ROWS = 48 };

/// Floats of one head's packed keys (and as many of its values) for nk keys.
size_t ck_attention_pack_floats(size_t nk);

/// Packs one head's keys k [nk][32] (row stride ldk) as blocks of CK_ATT_KEYS keys transposed
/// ([32][CK_ATT_KEYS] each), and its values v [nk][32] (stride ldv) contiguous; zero padding.
void ck_attention_pack(const float *k, size_t ldk, const float *v, size_t ldv, size_t nk, float *kpack, float *vpack);

/// out[r][0..32) = softmax_j(scale · q_r · k_j) v_j for `rows` query rows of one head (q [rows][32],
/// stride ldq) against nk packed keys and values, without writing the logits out: blocks of keys
/// with a streaming softmax (running max and sum). Single-threaded; callers split the rows.
/// Differs from softmax(q kᵀ) v through products by rounding only (a few 1e-7 relative).
void ck_attention_rows(const float *q, size_t ldq, size_t rows, const float *kpack, const float *vpack, size_t nk, float scale,
                       float *out, size_t ldo);

/// ck_attention_rows with an additive bias on the logits, factored over a key grid of `width`
/// columns: row r, key j = y · width + x takes by[r · ldby + y] + bx[r · ldbx + x] (before the
/// softmax, not scaled). by NULL: no bias.
void ck_attention_rows_bias(const float *q, size_t ldq, size_t rows, const float *kpack, const float *vpack, size_t nk, float scale,
                            float *out, size_t ldo, const float *by, size_t ldby, const float *bx, size_t ldbx, size_t width);

#endif
