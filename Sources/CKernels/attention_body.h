// The fused attention kernel, written once on GCC/Clang vector types and compiled once per
// instruction set: attention.c includes this file with VW, V, VI, FN, TGT (as for kernels_body.h)
// and the tile sizes MR (query rows per tile), NS (key vectors per block of logits held in
// registers) and PR (query rows per group of the ·V product) defined for the register count.
//
// One head, heads of CK_ATT_DIM (32) values. For a tile of MR query rows and a block of
// CK_ATT_KEYS keys at a time: the logits of the block (MR × 128 floats, in L1), the streaming
// softmax update of each row (running max and sum, the rows' partial outputs rescaled when the
// max grows), and the block's probabilities times its values added to the partial outputs. The
// logits never leave L1, and each head's keys and values are packed once for all query rows.
// Exponentials are base 2: the queries are scaled by scale · log2(e) when packed.

#define DH CK_ATT_DIM
#define KB CK_ATT_KEYS
#define DV (DH / VW)
#define ASPLAT(c) ((V){0} + (float)(c))
// The largest block row sum (2^20) for which att_logits_exp's values are kept: every
// probability is then at most 2^20 relative to the row's reference max, the row sums over the
// whole key range stay far from float's range, and the partial outputs grow by at most 2^33 × |v|.
#define FUSED_MAX_SUM 1048576.0f

TGT static inline V FN(aload)(const float *p) { return *(const V *)p; }
TGT static inline void FN(astore)(float *p, V v) { *(V *)p = v; }

// 2^x for x <= 0 (x is a logit minus the running max, finite), relative error about 1e-7: x = n + r
// with n the nearest integer, a degree-5 polynomial for 2^r on [-0.5, 0.5] (fitted for relative
// error, 7.7e-8 in exact arithmetic), times 2^n. With AVX-512 the rounding and the scaling are one
// instruction each (vrndscaleps, vscalefps: 8 operations a vector, where the exponent-bit route
// takes 12); below 2^-149 the result is 0. Elsewhere n is rounded by adding 1.5 · 2^23 and 2^n
// written into the exponent bits, x clamped at -126 first.
TGT static inline V FN(exp2v)(V x) {
#if ATT_SCALEF
    V n = (V)_mm512_roundscale_ps((__m512)x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    V r = x - n;
#else
    x = __builtin_elementwise_max(x, ASPLAT(-126.0f));
    V t = x + 12582912.0f;
    V n = t - 12582912.0f;
    V r = x - n;
#endif
    V p = ASPLAT(1.3266971e-3f);
    p = p * r + 9.6754599e-3f;
    p = p * r + 5.5507425e-2f;
    p = p * r + 2.4022122e-1f;
    p = p * r + 6.9314694e-1f;
    V e = p * r + 1.0000001f;
#if ATT_SCALEF
    return (V)_mm512_scalef_ps((__m512)e, (__m512)n);
#else
    VI scale = (((VI)t - 0x4B400000) + 127) << 23;
    return e * (V)scale;
#endif
}

// s[r][j] = qs[r] · k_j for the MR rows of qs (DH each) and the KB keys of one packed block kt
// ([DH][KB]): NS vectors of keys at a time, MR × NS accumulators in registers.
TGT static inline void FN(att_logits)(const float *qs, const float *kt, float *s) {
    for (int j0 = 0; j0 < KB; j0 += NS * VW) {
        V acc[MR][NS];
        _Pragma("unroll") for (int r = 0; r < MR; r++)
            _Pragma("unroll") for (int n = 0; n < NS; n++) acc[r][n] = ASPLAT(0);
        for (int c = 0; c < DH; c++) {
            V kv[NS];
            _Pragma("unroll") for (int n = 0; n < NS; n++) kv[n] = FN(aload)(kt + c * KB + j0 + n * VW);
            _Pragma("unroll") for (int r = 0; r < MR; r++) {
                float qb = qs[r * DH + c];  // a scalar operand: broadcast into the FMA
                _Pragma("unroll") for (int n = 0; n < NS; n++) acc[r][n] += qb * kv[n];
            }
        }
        _Pragma("unroll") for (int r = 0; r < MR; r++)
            _Pragma("unroll") for (int n = 0; n < NS; n++) FN(astore)(s + r * KB + j0 + n * VW, acc[r][n]);
    }
}

// The logits of a tile against one block with their exponentials taken at once, against each row's
// running max m[r] from the earlier blocks rather than this block's: s[r][j] = 2^(qs[r]·k_j − m[r]),
// the block's row sums in bsum[r] (as vectors); bias (NULL: none) [MR][KB] is added to the logits
// before the exponentials (att_bias's values, already in base 2). The accumulators start at −m[r], so there is no
// separate pass over the logits to find the block's max and subtract it, and the exponentials
// follow each chunk's products while they are still in registers (the separate softmax pass cost
// about a fifth of the kernel's time). Mathematically the same softmax (any reference point gives
// the same ratios); the caller keeps it only while the block sums stay small (see FUSED_MAX_SUM)
// and otherwise redoes the block with att_logits and att_softmax, which move the running max.
TGT static inline void FN(att_logits_exp)(const float *qs, const float *kt, const float *m, const float *bias, float *s, V *bsum) {
    _Pragma("unroll") for (int r = 0; r < MR; r++) bsum[r] = ASPLAT(0);
    for (int j0 = 0; j0 < KB; j0 += NS * VW) {
        V acc[MR][NS];
        _Pragma("unroll") for (int r = 0; r < MR; r++)
            _Pragma("unroll") for (int n = 0; n < NS; n++) acc[r][n] = ASPLAT(-m[r]);
        for (int c = 0; c < DH; c++) {
            V kv[NS];
            _Pragma("unroll") for (int n = 0; n < NS; n++) kv[n] = FN(aload)(kt + c * KB + j0 + n * VW);
            _Pragma("unroll") for (int r = 0; r < MR; r++) {
                float qb = qs[r * DH + c];
                _Pragma("unroll") for (int n = 0; n < NS; n++) acc[r][n] += qb * kv[n];
            }
        }
        _Pragma("unroll") for (int r = 0; r < MR; r++) {
            V t = ASPLAT(0);
            _Pragma("unroll") for (int n = 0; n < NS; n++) {
                V a = acc[r][n];
                if (bias) a += FN(aload)(bias + r * KB + j0 + n * VW);
                V p = FN(exp2v)(a);
                FN(astore)(s + r * KB + j0 + n * VW, p);
                t += p;
            }
            bsum[r] += t;
        }
    }
}

// The streaming softmax step of the MR rows of a tile over `valid` logits of a block (the rest
// set to 0): each row's block max, the new running max, the factor alpha by which the row's earlier
// partial output and sum shrink (one vector exponential for the tile), then 2^(s - max) in place
// and the row sums, kept as vectors (lsum) until the end.
TGT static inline void FN(att_softmax)(float *s, int valid, float *m, V *lsum, float *alpha) {
    float diff[MR];
    for (int r = 0; r < MR; r++) {
        const float *row = s + r * KB;
        V mv = ASPLAT(-INFINITY);
        int j = 0;
        for (; j + VW <= valid; j += VW) mv = __builtin_elementwise_max(mv, FN(aload)(row + j));
        float mx = __builtin_reduce_max(mv);
        for (; j < valid; j++) if (row[j] > mx) mx = row[j];
        float mnew = mx > m[r] ? mx : m[r];
        diff[r] = m[r] - mnew > -200.0f ? m[r] - mnew : -200.0f;  // m starts at -inf: alpha ~0, and the partial output is 0 anyway
        m[r] = mnew;
    }
    for (int r0 = 0; r0 < MR; r0 += VW) {
        float tmp[VW];
        for (int k = 0; k < VW; k++) tmp[k] = r0 + k < MR ? diff[r0 + k] : 0.0f;
        V a = FN(exp2v)(FN(aload)(tmp));
        for (int k = 0; k < VW && r0 + k < MR; k++) alpha[r0 + k] = a[k];
    }
    for (int r = 0; r < MR; r++) {
        float *row = s + r * KB;
        V mr = ASPLAT(m[r]), acc = lsum[r] * alpha[r];
        int j = 0;
        for (; j + VW <= valid; j += VW) { V p = FN(exp2v)(FN(aload)(row + j) - mr); FN(astore)(row + j, p); acc += p; }
        if (j < valid) {
            float tmp[VW];
            for (int k = 0; k < VW; k++) tmp[k] = j + k < valid ? row[j + k] - m[r] : -200.0f;  // 2^-126: summed as ~0
            V p = FN(exp2v)(FN(aload)(tmp));
            for (int k = 0; k < VW; k++) if (j + k >= valid) p[k] = 0;
            memcpy(row + j, &p, (size_t)(valid - j) * sizeof(float));
            acc += p;
            j = valid;
        }
        for (; j < KB; j++) row[j] = 0;
        lsum[r] = acc;
    }
}

// o[r] = o[r] · alpha[r] (alpha NULL: o[r]) + Σ_j p[r][j] v_j for the MR rows (partial outputs o: [MR][DH]), PR rows
// at a time with PR × DV accumulators in registers; vp is the block's values [KB][DH].
TGT static inline void FN(att_values)(const float *p, const float *vp, int keys, const float *alpha, float *o) {
    for (int r0 = 0; r0 < MR; r0 += PR) {
        V acc[PR][DV];
        _Pragma("unroll") for (int r = 0; r < PR; r++)
            _Pragma("unroll") for (int d = 0; d < DV; d++) acc[r][d] = alpha ? FN(aload)(o + (r0 + r) * DH + d * VW) * alpha[r0 + r] : FN(aload)(o + (r0 + r) * DH + d * VW);
        for (int j = 0; j < keys; j++) {
            V vv[DV];
            _Pragma("unroll") for (int d = 0; d < DV; d++) vv[d] = FN(aload)(vp + j * DH + d * VW);
            _Pragma("unroll") for (int r = 0; r < PR; r++) {
                float pb = p[(r0 + r) * KB + j];
                _Pragma("unroll") for (int d = 0; d < DV; d++) acc[r][d] += pb * vv[d];
            }
        }
        _Pragma("unroll") for (int r = 0; r < PR; r++)
            _Pragma("unroll") for (int d = 0; d < DV; d++) FN(astore)(o + (r0 + r) * DH + d * VW, acc[r][d]);
    }
}

// `rows` query rows of one head against `nk` packed keys and values (ck_attention_pack).
// s[r][jj] += log2(e) · (by[r][y] + bx[r][x]) for the keys k0 + jj = y · width + x of one block (the
// logits are in base 2), in runs along x; rows at or past `rows` repeat the last row's bias.
TGT static inline void FN(att_bias)(float *s, size_t row0, size_t rows, size_t k0, int valid, const float *by, size_t ldby,
                                     const float *bx, size_t ldbx, size_t width) {
    const float L = 1.44269504088896341f;
    for (int r = 0; r < MR; r++) {
        size_t row = row0 + (size_t)r < rows ? row0 + (size_t)r : rows - 1;
        const float *yr = by + row * ldby, *xr = bx + row * ldbx;
        float *sr = s + r * KB;
        size_t y = k0 / width, x = k0 % width;
        int jj = 0;
        while (jj < valid) {
            int run = (int)(width - x) < valid - jj ? (int)(width - x) : valid - jj;
            float yb = yr[y];
            for (int t = 0; t < run; t++) sr[jj + t] += L * (yb + xr[x + t]);
            jj += run;
            x = 0;
            y++;
        }
    }
}

TGT static void FN(attention_rows)(const float *q, size_t ldq, size_t rows, const float *kpack, const float *vpack, size_t nk,
                                    float scale, float *out, size_t ldo, const float *by, size_t ldby, const float *bx, size_t ldbx,
                                    size_t width) {
    enum { TILES = CK_ATT_ROWS / MR };
    // Per tile: the scaled queries, running max and sum, partial outputs; one tile's logits.
    float qs[TILES][MR * DH] __attribute__((aligned(64)));
    float o[TILES][MR * DH] __attribute__((aligned(64)));
    float m[TILES][MR], alpha[MR];
    V lsum[TILES][MR];
    float s[MR * KB] __attribute__((aligned(64)));
    float bt[MR * KB] __attribute__((aligned(64)));  // a block's bias (base 2) for the fused step
    const float qscale = scale * 1.44269504088896341f;
    for (size_t base = 0; base < rows; base += CK_ATT_ROWS) {
        size_t nrow = rows - base < CK_ATT_ROWS ? rows - base : CK_ATT_ROWS;
        int tiles = (int)((nrow + MR - 1) / MR);
        for (int t = 0; t < tiles; t++) {
            for (int r = 0; r < MR; r++) {
                size_t row = base + (size_t)t * MR + r;
                for (int c = 0; c < DH; c++) qs[t][r * DH + c] = row < rows ? q[row * ldq + c] * qscale : 0.0f;
                m[t][r] = -INFINITY;
                lsum[t][r] = ASPLAT(0);
            }
            memset(o[t], 0, sizeof(o[t]));
        }
        for (size_t k0 = 0; k0 < nk; k0 += KB) {
            int valid = (int)(nk - k0 < KB ? nk - k0 : KB);
            const float *kt = kpack + k0 * DH, *vp = vpack + k0 * DH;
            for (int t = 0; t < tiles; t++) {
                if (k0 > 0 && valid == KB) {
                    // After the first block each row has a finite running max: the fused step, kept
                    // when every row's block sum stays below FUSED_MAX_SUM (no logit far above the
                    // row's max so far; inf and NaN fail the test too).
                    V bsum[MR];
                    if (by) {
                        memset(bt, 0, sizeof(bt));
                        FN(att_bias)(bt, base + (size_t)t * MR, rows, k0, valid, by, ldby, bx, ldbx, width);
                    }
                    FN(att_logits_exp)(qs[t], kt, m[t], by ? bt : NULL, s, bsum);
                    int ok = 1;
                    _Pragma("unroll") for (int r = 0; r < MR; r++) ok &= __builtin_reduce_max(bsum[r]) <= FUSED_MAX_SUM;
                    if (ok) {
                        _Pragma("unroll") for (int r = 0; r < MR; r++) lsum[t][r] += bsum[r];
                        FN(att_values)(s, vp, valid, NULL, o[t]);
                        continue;
                    }
                }
                FN(att_logits)(qs[t], kt, s);
                if (by) FN(att_bias)(s, base + (size_t)t * MR, rows, k0, valid, by, ldby, bx, ldbx, width);
                FN(att_softmax)(s, valid, m[t], lsum[t], alpha);
                FN(att_values)(s, vp, valid, alpha, o[t]);
            }
        }
        for (int t = 0; t < tiles; t++)
            for (int r = 0; r < MR; r++) {
                size_t row = base + (size_t)t * MR + r;
                if (row >= rows) break;
                float sum = 0;
                for (int k = 0; k < VW; k++) sum += lsum[t][r][k];
                float inv = 1.0f / sum;
                for (int c = 0; c < DH; c++) out[row * ldo + c] = o[t][r * DH + c] * inv;
            }
    }
}

#undef DH
#undef KB
#undef DV
#undef ASPLAT
#undef FUSED_MAX_SUM
