/* Items in a permutation per epoch (src/align/pair_order.h). */
#include <stdlib.h>
#include "alab/base.h"
#include "align/pair_order.h"

void pair_order_init(pair_order *o, long n, uint64_t seed, int shuffle) {
  o->n = n, o->seed = seed, o->shuffle = shuffle, o->epoch = -1;
  o->perm = shuffle ? al_malloc(sizeof *o->perm * (size_t)(n > 0 ? n : 1)) : NULL;
}

void pair_order_free(pair_order *o) {
  free(o->perm);
  o->perm = NULL;
}

long pair_order_at(pair_order *o, uint64_t k) {
  long epoch = (long)(k / (uint64_t)o->n), at = (long)(k % (uint64_t)o->n);
  if (!o->shuffle) return at;
  if (epoch != o->epoch) {
    for (long i = 0; i < o->n; i++) o->perm[i] = (uint32_t)i;
    al_rng r;
    al_rng_seed_stream(&r, o->seed, (uint64_t)epoch);
    al_rng_shuffle_u32(&r, o->perm, (size_t)o->n);
    o->epoch = epoch;
  }
  return o->perm[at];
}
