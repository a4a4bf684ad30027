/* The machine's practical SGEMM peak through the OpenBLAS segterm links (Debian's libopenblas):
 * the best of a few square single-precision GEMMs, in GFLOP/s. scripts/bench_sam3_peers.py
 * compiles and runs it to say what fraction of that the SAM 3 encoder reaches.
 *
 *     cc -O2 scripts/sgemm_peak.c -o /tmp/sgemm_peak -lopenblas && OPENBLAS_NUM_THREADS=2 /tmp/sgemm_peak [N] [reps]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4096, reps = argc > 2 ? atoi(argv[2]) : 5;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (long i = 0; i < (long)n * n; i++) { a[i] = (float)(i % 13) * 0.01f; b[i] = (float)(i % 7) * 0.02f; c[i] = 0; }
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) {  /* the first run warms the threads and caches */
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t = now() - t;
        if (r > 0 && t < best) best = t;
    }
    printf("{\"n\": %d, \"bestSeconds\": %.4f, \"gflops\": %.1f, \"threads\": %d, \"core\": \"%s\"}\n", n, best,
           2.0 * n * (double)n * n / best / 1e9, openblas_get_num_threads(), openblas_get_corename());
    free(a); free(b); free(c);
    return 0;
}
