/* A team barrier for decoding's one parallel region per token: the threads
 * of an OpenMP team meet several times per layer, and OpenMP's own barrier
 * under OMP_WAIT_POLICY=PASSIVE (what `alab` runs with) puts a waiting
 * thread to sleep at once, so every meeting costs a futex wake-up. This one
 * spins a bounded while (TEAM_SPIN pause instructions, microseconds: long
 * enough for a partner a few rows of work behind on an idle machine, short
 * enough not to burn a loaded machine's cores while the partner waits for
 * one) and then sleeps on a futex.
 *
 * Memory order: everything a thread wrote before team_wait is visible to
 * every thread after it (sequentially consistent atomics). */
#ifndef ALAB_NN_TEAM_H
#define ALAB_NN_TEAM_H

typedef struct {
  int n;            /* threads that must arrive */
  int arrived;      /* atomic: arrivals in this generation */
  unsigned gen;     /* atomic: bumped when the last thread arrives */
  int sleepers;     /* atomic: threads in (or entering) futex_wait */
} nn_team;

/* For a team of n threads; call before the region (or from one thread,
 * followed by an OpenMP barrier). */
void nn_team_init(nn_team *t, int n);
/* Returns once all n threads have called it (for this generation). */
void nn_team_wait(nn_team *t);
/* [*lo, *hi): part `id` of `parts` of [0, n), rounded to multiples of
 * `unit` (n itself a multiple of unit), contiguous and in order. */
void nn_team_part(int n, int unit, int id, int parts, int *lo, int *hi);

#endif
