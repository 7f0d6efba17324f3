/* The gradient sum of data-parallel training alone (al_dist_sum_floats:
 * reduce to rank 0, then broadcast), timed for a buffer of N floats:
 *   mpirun -n R build/tests/bench_dist_sum [N] [reps]
 * Prints the seconds per sum and the effective rate (4N bytes / seconds),
 * the figure the step-time model of bench/README.md takes, and the same for
 * the allgather of parameter shards that --zero1 adds to every step. */
#include <stdio.h>
#include <stdlib.h>
#include "alab/dist.h"

int main(int argc, char **argv) {
  al_err err = {{0}};
  al_dist *d = al_dist_init(&argc, &argv, &err);
  if (!d) {
    fprintf(stderr, "run under mpirun: %s\n", err.msg[0] ? err.msg : "no MPI job");
    return 2;
  }
  size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 124439808; /* GPT-2 small's parameters */
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  float *x = al_alloc_floats(n);
  for (size_t i = 0; i < n; i++) x[i] = 1.0f;
  al_dist_sum_floats(d, x, n); /* warm-up: pages touched, connections made */
  double t0 = al_now();
  for (int r = 0; r < reps; r++) al_dist_sum_floats(d, x, n);
  double s = (al_now() - t0) / reps;
  if (al_dist_rank(d) == 0)
    printf("%d ranks, %zu floats (%.0f MB): %.3f s per sum, %.2f GB/s of gradient\n", al_dist_size(d), n, 4e-6 * n, s,
           4e-9 * n / s);
  t0 = al_now();
  for (int r = 0; r < reps; r++) al_dist_gather_shards(d, x, n);
  s = (al_now() - t0) / reps;
  if (al_dist_rank(d) == 0) printf("%d ranks: %.3f s per allgather of parameter shards (--zero1)\n", al_dist_size(d), s);
  free(x);
  al_dist_finalize(d, 0);
  return 0;
}
