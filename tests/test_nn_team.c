/* nn_team (src/nn/team.c), the decoder's spin-then-sleep barrier: in 3000
 * rounds each of 3 threads writes the round into its slot, waits, checks
 * that every slot holds the round (nobody left before everyone wrote),
 * waits again (nobody writes the next round before everyone checked).
 * Three threads on the machine's two cores make some waits outlast the
 * spin and sleep, so both paths run. Also nn_team_part's split. */
#include <omp.h>
#include "nn/team.h"
#include "test.h"

int main(void) {
  enum { N = 3, ROUNDS = 3000 };
  nn_team team;
  volatile int slot[N];
  int bad = 0, size = 0;
#pragma omp parallel num_threads(N) reduction(+ : bad)
  {
#pragma omp single
    {
      nn_team_init(&team, omp_get_num_threads());
      size = omp_get_num_threads();
    }
    int id = omp_get_thread_num();
    for (int r = 0; r < ROUNDS; r++) {
      slot[id] = r;
      nn_team_wait(&team);
      for (int k = 0; k < team.n; k++) bad += slot[k] != r;
      nn_team_wait(&team);
    }
  }
  CHECK(size == N, "team of %d threads, asked for %d", size, N);
  CHECK(bad == 0, "%d slots seen out of round", bad);
  /* parts: whole units, contiguous, covering [0, n) */
  int lo, hi, next = 0, ok = 1;
  for (int id = 0; id < 4; id++) {
    nn_team_part(18 * 48, 48, id, 4, &lo, &hi);
    ok &= lo == next && lo % 48 == 0 && hi % 48 == 0 && hi >= lo;
    next = hi;
  }
  CHECK(ok && next == 18 * 48, "parts of 18 units of 48 among 4 are not a cover (end %d)", next);
  nn_team_part(5, 1, 1, 2, &lo, &hi);
  CHECK(lo == 2 && hi == 5, "part 1 of 2 of [0, 5): [%d, %d)", lo, hi);
  return test_summary();
}
