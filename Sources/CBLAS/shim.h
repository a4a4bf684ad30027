#include <cblas.h>

/* OpenBLAS (pthread build) exports this for its fork handler: it stops the worker threads, which
   otherwise spin in sched_yield for about 0.1 s after the library loads, and the next BLAS call
   starts them again. Declared here because cblas.h does not. */
int blas_thread_shutdown_(void);
