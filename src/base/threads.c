/* One pool of threads: OpenMP's. OpenBLAS runs single-threaded inside each
 * OpenMP thread (src/nn/matmul.c splits every product across threads). */
#include <omp.h>
#include <cblas.h>
#include "alab/base.h"

void al_set_threads(int n) {
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
  openblas_set_num_threads(1);
}

int al_get_threads(void) { return omp_get_max_threads(); }
