// The kernels, written once on GCC/Clang vector types and compiled once per instruction set:
// ckernels.c includes this file with VW (float lanes), V / VI (float / int32 vector types of VW
// lanes, 4-byte aligned so that plain dereferences are unaligned loads), FN(name) (the suffixed
// name) and TGT (the target attribute) defined. Inside a TGT function the vector types map to
// whole ymm/zmm registers and a*b+c contracts to FMA (clang's -ffp-contract=on).
//
// The arithmetic is that of Elementwise.swift (same reductions, same polynomials), so results
// differ from the Swift code only by FMA rounding: a few ulp.

#define SPLAT(c) ((V){0} + (float)(c))

TGT static inline V FN(load)(const float *p) { return *(const V *)p; }
TGT static inline void FN(store)(float *p, V v) { *(V *)p = v; }

// min(x, c) / max(x, c) as one compare and a select, like min8/max8 in Swift.
TGT static inline V FN(vmin)(V x, float c) { V k = SPLAT(c); VI m = x > k; return (V)(((VI)x & ~m) | ((VI)k & m)); }
TGT static inline V FN(vmax)(V x, float c) { V k = SPLAT(c); VI m = x < k; return (V)(((VI)x & ~m) | ((VI)k & m)); }

TGT static inline float FN(hsum)(V v) { float s = 0; for (int k = 0; k < VW; k++) s += v[k]; return s; }
TGT static inline float FN(hmax)(V v) { float m = v[0]; for (int k = 1; k < VW; k++) if (v[k] > m) m = v[k]; return m; }

// e^x, |relative error| < 2e-7: Cody-Waite reduction x = n ln2 + r, degree-6 polynomial for e^r,
// 2^n written into the exponent bits (n rounded by adding 1.5 * 2^23).
TGT static inline V FN(expv)(V x) {
    x = FN(vmin)(FN(vmax)(x, -87.3f), 88.3f);
    V t = x * 1.44269504088896341f + 12582912.0f;
    V n = t - 12582912.0f;
    V r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    V p = SPLAT(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    V e = p * (r * r) + r + 1.0f;
    VI scale = (((VI)t - 0x4B400000) + 127) << 23;
    return e * (V)scale;
}

// GELU, x/2 (1 + erf(x/sqrt 2)), erf by Abramowitz & Stegun 7.1.26 with the exponential above
// (absolute error < 1.5e-7, as PyTorch's vectorised CPU kernel). |z| is capped at 6, where erf
// is 1 to float precision, so that exp's argument stays in range and nothing becomes NaN.
TGT static inline V FN(geluv)(V x) {
    V z = x * 0.70710678118654752f;
    V a = FN(vmin)((V)((VI)z & 0x7FFFFFFF), 6.0f);
    V t = 1.0f / (1.0f + 0.3275911f * a);
    V p = SPLAT(1.061405429f);
    p = p * t + -1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t + -0.284496736f;
    p = p * t + 0.254829592f;
    V y = 1.0f - p * t * FN(expv)(-(a * a));
    V s = (V)((VI)y | ((VI)z & INT32_MIN));
    return 0.5f * x * (1.0f + s);
}

TGT static void FN(gelu)(float *x, size_t n, const float *bias, size_t period) {
    size_t i = 0;
    if (bias && period % VW == 0) {
        // Bias fused in: the vectors never straddle a row.
        for (; i < n; i += period)
            for (size_t j = 0; j < period; j += VW)
                FN(store)(x + i + j, FN(geluv)(FN(load)(x + i + j) + FN(load)(bias + j)));
        return;
    }
    if (bias)
        for (size_t k = 0; k < n; k++) x[k] += bias[k % period];
    for (; i + VW <= n; i += VW) FN(store)(x + i, FN(geluv)(FN(load)(x + i)));
    if (i < n) {
        // The tail through a padded vector, so that every value takes the same arithmetic.
        float tmp[VW] = {0};
        memcpy(tmp, x + i, (n - i) * sizeof(float));
        FN(store)(tmp, FN(geluv)(FN(load)(tmp)));
        memcpy(x + i, tmp, (n - i) * sizeof(float));
    }
}

// One row: max, e^(x - max) summed in VW lanes, then scaled by 1/sum.
TGT static inline void FN(softmax_row)(float *row, size_t n) {
    size_t vec = n / VW * VW, i;
    float m = -INFINITY;
    if (vec) {
        V mv = FN(load)(row);
        for (i = VW; i < vec; i += VW) { V x = FN(load)(row + i); VI g = x > mv; mv = (V)(((VI)mv & ~g) | ((VI)x & g)); }
        m = FN(hmax)(mv);
    }
    for (i = vec; i < n; i++) if (row[i] > m) m = row[i];
    if (!(m > -INFINITY && m < INFINITY)) m = 0;  // an all -inf row (or +inf) stays NaN-free in the max
    V acc = SPLAT(0);
    for (i = 0; i < vec; i += VW) { V e = FN(expv)(FN(load)(row + i) - m); FN(store)(row + i, e); acc += e; }
    float s = FN(hsum)(acc);
    if (i < n) {
        float tmp[VW];
        for (size_t k = 0; k < VW; k++) tmp[k] = k < n - i ? row[i + k] - m : -INFINITY;  // e^-inf -> 0 (clamped: tiny)
        V e = FN(expv)(FN(load)(tmp));
        for (size_t k = 0; k < n - i; k++) { row[i + k] = e[k]; s += e[k]; }
    }
    float inv = 1.0f / s;
    for (i = 0; i < vec; i += VW) FN(store)(row + i, FN(load)(row + i) * inv);
    for (; i < n; i++) row[i] *= inv;
}

// Many short contiguous rows (image-to-token attention: a handful of keys per row): subtract
// each row's max, one vector pass of exp over the whole block, then normalise each row.
TGT static void FN(softmax_short)(float *p, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *row = p + r * cols, m = row[0];
        for (size_t j = 1; j < cols; j++) if (row[j] > m) m = row[j];
        if (!(m > -INFINITY && m < INFINITY)) m = 0;
        for (size_t j = 0; j < cols; j++) row[j] -= m;
    }
    size_t n = rows * cols, i = 0;
    for (; i + VW <= n; i += VW) FN(store)(p + i, FN(expv)(FN(load)(p + i)));
    if (i < n) {
        float tmp[VW] = {0};
        memcpy(tmp, p + i, (n - i) * sizeof(float));
        FN(store)(tmp, FN(expv)(FN(load)(tmp)));
        memcpy(p + i, tmp, (n - i) * sizeof(float));
    }
    for (size_t r = 0; r < rows; r++) {
        float *row = p + r * cols, s = 0;
        for (size_t j = 0; j < cols; j++) s += row[j];
        float inv = 1.0f / s;
        for (size_t j = 0; j < cols; j++) row[j] *= inv;
    }
}

TGT static void FN(softmax_rows)(float *p, size_t rows, size_t cols, size_t ld) {
    if (cols < 16 && ld == cols) { FN(softmax_short)(p, rows, cols); return; }
    for (size_t r = 0; r < rows; r++) FN(softmax_row)(p + r * ld, cols);
}

TGT static void FN(layernorm)(const float *x, float *out, size_t rows, size_t dim, const float *w, const float *b,
                              const float *pre, float eps, int gelu) {
    size_t vec = dim / VW * VW;
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * dim;
        float *o = out + r * dim;
        // v = x + pre, kept in `o` when there is a pre-bias (o may alias row: same index, read first).
        if (pre) {
            size_t i = 0;
            for (; i < vec; i += VW) FN(store)(o + i, FN(load)(row + i) + FN(load)(pre + i));
            for (; i < dim; i++) o[i] = row[i] + pre[i];
            row = o;
        }
        V acc = SPLAT(0);
        size_t i = 0;
        for (; i < vec; i += VW) acc += FN(load)(row + i);
        float s = FN(hsum)(acc);
        for (; i < dim; i++) s += row[i];
        float mean = s / (float)dim;
        V acc2 = SPLAT(0);
        for (i = 0; i < vec; i += VW) { V d = FN(load)(row + i) - mean; acc2 += d * d; }
        float v = FN(hsum)(acc2);
        for (; i < dim; i++) { float d = row[i] - mean; v += d * d; }
        float inv = 1.0f / sqrtf(v / (float)dim + eps);
        for (i = 0; i < vec; i += VW) {
            V y = (FN(load)(row + i) - mean) * inv * FN(load)(w + i) + FN(load)(b + i);
            FN(store)(o + i, gelu ? FN(geluv)(y) : y);
        }
        for (; i < dim; i++) o[i] = (row[i] - mean) * inv * w[i] + b[i];
        if (gelu && vec < dim) FN(gelu)(o + vec, dim - vec, NULL, 0);
    }
}

// out[m * ldo + i] = sum over c of h[m * channels + c] * gelu(x[c * ld + i] + bias[c]), for i < n and
// m < count (<= 4, channels <= CK_MIX_MAX_CHANNELS): GELU and a tiny matrix product in one pass, in
// vertical vectors along i, so the GELU values are never stored.
TGT static void FN(gelu_mix)(const float *x, size_t ld, size_t channels, size_t n, const float *bias,
                             const float *h, size_t count, float *out, size_t ldo) {
    float hp[4][CK_MIX_MAX_CHANNELS] = {{0}};  // h padded to four rows: a fixed number of accumulators
    for (size_t m = 0; m < count; m++) memcpy(hp[m], h + m * channels, channels * sizeof(float));
    for (size_t i = 0; i < n; i += VW) {
        size_t rem = n - i < VW ? n - i : VW;
        V a0 = SPLAT(0), a1 = SPLAT(0), a2 = SPLAT(0), a3 = SPLAT(0);
        for (size_t c = 0; c < channels; c++) {
            V v;
            if (rem == VW) {
                v = FN(load)(x + c * ld + i);
            } else {
                float tmp[VW] = {0};
                memcpy(tmp, x + c * ld + i, rem * sizeof(float));
                v = FN(load)(tmp);
            }
            V g = FN(geluv)(v + bias[c]);
            a0 += g * hp[0][c];
            a1 += g * hp[1][c];
            a2 += g * hp[2][c];
            a3 += g * hp[3][c];
        }
        V acc[4] = {a0, a1, a2, a3};
        for (size_t m = 0; m < count; m++) {
            if (rem == VW) FN(store)(out + m * ldo + i, acc[m]);
            else memcpy(out + m * ldo + i, &acc[m], rem * sizeof(float));
        }
    }
}

TGT static void FN(add_bias)(float *out, const float *x, size_t rows, size_t dim, const float *bias) {
    size_t vec = dim / VW * VW;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * dim;
        float *o = out + r * dim;
        size_t i = 0;
        for (; i < vec; i += VW) FN(store)(o + i, FN(load)(xr + i) + FN(load)(bias + i));
        for (; i < dim; i++) o[i] = xr[i] + bias[i];
    }
}

TGT static void FN(sum)(float *out, const float *a, const float *b, size_t n) {
    size_t i = 0;
    for (; i + VW <= n; i += VW) FN(store)(out + i, FN(load)(a + i) + FN(load)(b + i));
    for (; i < n; i++) out[i] = a[i] + b[i];
}

// y[r][o] (+)= bias[o] + sum_k x[r][k] w[o][k] for rows <= CK_FEW_ROWS rows of x and outputs
// o0 <= o < o1 of the weight [n][k]: each weight row read once for all the rows (a product of a
// handful of rows is a stream over the weights; a packing GEMM copies them first). Four weight
// rows at a time, the next four prefetched: one weight row is one 4 KB page at k = 1024, and the
// hardware prefetcher does not cross pages.
// Inlined once per row count (a constant there), so that the accumulators stay in registers.
TGT static inline __attribute__((always_inline)) void FN(linear_few_n)(const float *x, const size_t rows, size_t k, const float *w,
                                                                        size_t o0, size_t o1, const float *bias, float *y,
                                                                        size_t ldy, int accumulate) {
    size_t kv = k / VW * VW;
    size_t o = o0;
    for (; o + 4 <= o1; o += 4) {
        V acc[4][CK_FEW_ROWS];
        for (int j = 0; j < 4; j++)
            for (size_t r = 0; r < CK_FEW_ROWS; r++) acc[j][r] = SPLAT(0);
        const float *wr = w + o * k;
        size_t i = 0;
        for (; i < kv; i += VW) {
            V xv[CK_FEW_ROWS];
            for (size_t r = 0; r < rows; r++) xv[r] = FN(load)(x + r * k + i);
            _Pragma("unroll") for (int j = 0; j < 4; j++) {
                __builtin_prefetch(wr + (4 + j) * k + i);
                V wv = FN(load)(wr + j * k + i);
                for (size_t r = 0; r < rows; r++) acc[j][r] += wv * xv[r];
            }
        }
        for (int j = 0; j < 4; j++)
            for (size_t r = 0; r < rows; r++) {
                float s = FN(hsum)(acc[j][r]);
                for (size_t t = i; t < k; t++) s += x[r * k + t] * wr[j * k + t];
                if (bias) s += bias[o + j];
                float *dst = y + r * ldy + o + j;
                *dst = accumulate ? *dst + s : s;
            }
    }
    for (; o < o1; o++) {
        const float *wr = w + o * k;
        for (size_t r = 0; r < rows; r++) {
            V acc = SPLAT(0);
            size_t i = 0;
            for (; i < kv; i += VW) acc += FN(load)(wr + i) * FN(load)(x + r * k + i);
            float s = FN(hsum)(acc);
            for (; i < k; i++) s += x[r * k + i] * wr[i];
            if (bias) s += bias[o];
            float *dst = y + r * ldy + o;
            *dst = accumulate ? *dst + s : s;
        }
    }
}

TGT static void FN(linear_few)(const float *x, size_t rows, size_t k, const float *w, size_t o0, size_t o1, const float *bias,
                               float *y, size_t ldy, int accumulate) {
    switch (rows) {
    case 1: FN(linear_few_n)(x, 1, k, w, o0, o1, bias, y, ldy, accumulate); break;
    case 2: FN(linear_few_n)(x, 2, k, w, o0, o1, bias, y, ldy, accumulate); break;
    case 3: FN(linear_few_n)(x, 3, k, w, o0, o1, bias, y, ldy, accumulate); break;
    case 4: FN(linear_few_n)(x, 4, k, w, o0, o1, bias, y, ldy, accumulate); break;
    case 5: FN(linear_few_n)(x, 5, k, w, o0, o1, bias, y, ldy, accumulate); break;
    case 6: FN(linear_few_n)(x, 6, k, w, o0, o1, bias, y, ldy, accumulate); break;
    default: break;
    }
}

#undef SPLAT
