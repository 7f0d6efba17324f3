/* One pool of threads: OpenMP's. OpenBLAS runs single-threaded inside each
 * OpenMP thread (src/nn/matmul.c splits every product across threads).
 *
 * How many: an explicit count (--threads N) wins; 0 means OMP_NUM_THREADS
 * when it is set to a positive number (its first entry, as OpenMP reads a
 * list "4,2"), else every core. A model's fp32 numbers do not depend on the
 * count (src/nn/matmul.c cuts every product by its shape, and the other
 * kernels split work by rows, heads or columns, or sum in fixed chunks:
 * tests/test_threads_same.c); a run still records it (see al_train), since
 * oneDNN's bf16 products are not known to be independent of it. */
#include <omp.h>
#include <stdlib.h>
#include <cblas.h>
#include "alab/base.h"

int al_default_threads(void) {
  const char *env = getenv("OMP_NUM_THREADS");
  char *end;
  long n = env ? strtol(env, &end, 10) : 0;
  if (env && end != env && (*end == 0 || *end == ',') && n > 0 && n <= 4096) return (int)n;
  return omp_get_num_procs();
}

void al_set_threads(int n) {
  omp_set_num_threads(n > 0 ? n : al_default_threads());
  openblas_set_num_threads(1);
}

int al_get_threads(void) { return omp_get_max_threads(); }
