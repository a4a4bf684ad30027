#include "ckernels.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Portable build of the kernels: four lanes (SSE2 on x86-64, NEON on arm64), no target attribute.
typedef float vf4 __attribute__((vector_size(16), aligned(4)));
typedef int32_t vi4 __attribute__((vector_size(16), aligned(4)));
#define VW 4
#define V vf4
#define VI vi4
#define FN(name) name##_portable
#define TGT
#include "kernels_body.h"
#undef VW
#undef V
#undef VI
#undef FN
#undef TGT

#if defined(__x86_64__)
typedef float vf8 __attribute__((vector_size(32), aligned(4)));
typedef int32_t vi8 __attribute__((vector_size(32), aligned(4)));
#define VW 8
#define V vf8
#define VI vi8
#define FN(name) name##_avx2
#define TGT __attribute__((target("avx2,fma")))
#include "kernels_body.h"
#undef VW
#undef V
#undef VI
#undef FN
#undef TGT

typedef float vf16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t vi16 __attribute__((vector_size(64), aligned(4)));
#define VW 16
#define V vf16
#define VI vi16
#define FN(name) name##_avx512
#define TGT __attribute__((target("avx512f,avx2,fma")))
#include "kernels_body.h"
#undef VW
#undef V
#undef VI
#undef FN
#undef TGT
#endif

static int cpu_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 3;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
#endif
    return 1;
}

static _Atomic int chosen = -1;

int ck_set_level(int level) {
    int best = cpu_level();
    if (level < 0) level = 0;
    if (level > best) level = best;
    atomic_store(&chosen, level);
    return level;
}

int ck_level(void) {
    int l = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (l >= 0) return l;
    int want = 3;
    const char *env = getenv("SEGTERM_KERNELS");
    if (env) {
        if (!strcmp(env, "swift")) want = 0;
        else if (!strcmp(env, "portable")) want = 1;
        else if (!strcmp(env, "avx2")) want = 2;
    }
    return ck_set_level(want);
}

const char *ck_level_name(void) {
    static const char *names[] = {"swift", "portable", "avx2", "avx512"};
    return names[ck_level()];
}

#if defined(__x86_64__)
#define DISPATCH(name, ...)                                   \
    switch (ck_level()) {                                     \
    case 3: name##_avx512(__VA_ARGS__); break;                \
    case 2: name##_avx2(__VA_ARGS__); break;                  \
    default: name##_portable(__VA_ARGS__); break;             \
    }
#else
#define DISPATCH(name, ...) name##_portable(__VA_ARGS__);
#endif

void ck_gelu(float *x, size_t n, const float *bias, size_t period) { DISPATCH(gelu, x, n, bias, period) }
void ck_softmax_rows(float *p, size_t rows, size_t cols, size_t ld) { DISPATCH(softmax_rows, p, rows, cols, ld) }
void ck_layernorm(const float *x, float *out, size_t rows, size_t dim, const float *w, const float *b,
                  const float *pre, float eps, int gelu) { DISPATCH(layernorm, x, out, rows, dim, w, b, pre, eps, gelu) }
void ck_gelu_mix(const float *x, size_t ld, size_t channels, size_t n, const float *bias, const float *h, size_t count,
                 float *out, size_t ldo) {
    if (count > 4 || channels > CK_MIX_MAX_CHANNELS) abort();  // the caller checks; never silently wrong
    DISPATCH(gelu_mix, x, ld, channels, n, bias, h, count, out, ldo)
}
void ck_add_bias(float *out, const float *x, size_t rows, size_t dim, const float *bias) { DISPATCH(add_bias, out, x, rows, dim, bias) }
void ck_sum(float *out, const float *a, const float *b, size_t n) { DISPATCH(sum, out, a, b, n) }
void ck_linear_few(const float *x, size_t rows, size_t k, const float *w, size_t o0, size_t o1, const float *bias, float *y, size_t ldy,
                   int accumulate) {
    if (rows > CK_FEW_ROWS) abort();  // the caller splits; never silently wrong
    DISPATCH(linear_few, x, rows, k, w, o0, o1, bias, y, ldy, accumulate)
}
