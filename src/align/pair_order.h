/* The order in which an objective visits n training items (preference
 * pairs): a fresh permutation per epoch drawn from (seed, epoch), or file
 * order without shuffle, so item k of the run is a function of k and a
 * resumed run continues exactly. */
#ifndef ALAB_ALIGN_PAIR_ORDER_H
#define ALAB_ALIGN_PAIR_ORDER_H
#include <stdint.h>

typedef struct {
  long n;
  uint64_t seed;
  int shuffle;
  uint32_t *perm; /* the permutation of epoch `epoch` */
  long epoch;
} pair_order;

void pair_order_init(pair_order *o, long n, uint64_t seed, int shuffle);
void pair_order_free(pair_order *o);
/* The item at position k of the run's sequence (epoch k / n). */
long pair_order_at(pair_order *o, uint64_t k);
#endif
