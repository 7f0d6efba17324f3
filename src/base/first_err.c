/* The first error of a parallel loop. Each iteration reads `failed` (an
 * atomic read, so a failure stops the rest early) and a failing iteration
 * keeps its message only if no other iteration failed before it (under a
 * critical section), so the caller reports one whole message, never a mix. */
#include "alab/base.h"

int al_first_err_failed(al_first_err *f) {
  int failed;
#pragma omp atomic read
  failed = f->failed;
  return failed;
}

void al_first_err_keep(al_first_err *f, const al_err *e) {
#pragma omp critical(al_first_err)
  {
    if (!f->failed) f->err = *e;
    f->failed = 1;
  }
}
