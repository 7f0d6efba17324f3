/* SFT batches for the masked LM objective (include/alab/sft.h): row r of
 * batch i is example order[i * B + r], inputs its first T tokens, targets
 * the next tokens, mask their loss flags; padding is end-of-text with target
 * -1 and mask 0. */
#include <stdlib.h>
#include <string.h>
#include "alab/sft.h"
#include "align/pair_order.h"

struct al_sft_source {
  const al_sft_data *train, *val;
  int B, T, eot;
  pair_order order;
};

long al_sft_count_cut(const al_sft_data *d, int T) {
  long n = 0;
  for (long e = 0; e < d->n; e++) n += d->off[e + 1] - d->off[e] > (size_t)T + 1;
  return n;
}

/* Row of example e (e < 0: padding only). */
static void fill_row(const al_sft_source *s, const al_sft_data *d, long e, int32_t *in, int32_t *tg, uint8_t *mk) {
  long len = e >= 0 ? (long)(d->off[e + 1] - d->off[e]) : 0;
  const int32_t *ids = e >= 0 ? d->ids + d->off[e] : NULL;
  const uint8_t *loss = e >= 0 ? d->loss + d->off[e] : NULL;
  for (int t = 0; t < s->T; t++) {
    int has = t + 1 < len;
    in[t] = t < len ? ids[t] : s->eot;
    tg[t] = has ? ids[t + 1] : -1;
    mk[t] = has ? loss[t + 1] : 0;
  }
}

static void train_batch(void *ctx, uint64_t index, int32_t *inputs, int32_t *targets, uint8_t *mask) {
  al_sft_source *s = ctx;
  for (int r = 0; r < s->B; r++) {
    size_t at = (size_t)r * s->T;
    fill_row(s, s->train, pair_order_at(&s->order, index * (uint64_t)s->B + (uint64_t)r), inputs + at, targets + at, mask + at);
  }
}

static void val_batch(void *ctx, uint64_t index, int32_t *inputs, int32_t *targets, uint8_t *mask) {
  al_sft_source *s = ctx;
  for (int r = 0; r < s->B; r++) {
    uint64_t k = index * (uint64_t)s->B + (uint64_t)r;
    size_t at = (size_t)r * s->T;
    fill_row(s, s->val, k < (uint64_t)s->val->n ? (long)k : -1, inputs + at, targets + at, mask + at);
  }
}

al_sft_source *al_sft_source_new(const al_sft_data *train, const al_sft_data *val, int B, int T, uint64_t seed,
                                 int shuffle, int eot, al_masked_source *src) {
  al_sft_source *s = al_calloc(1, sizeof *s);
  s->train = train, s->val = val && val->n ? val : NULL, s->B = B, s->T = T, s->eot = eot;
  pair_order_init(&s->order, train->n, seed, shuffle);
  *src = (al_masked_source){.train = train_batch, .ctx = s};
  if (s->val) src->val = val_batch, src->nval_batches = (s->val->n + B - 1) / B;
  return s;
}

void al_sft_source_free(al_sft_source *s) {
  if (!s) return;
  pair_order_free(&s->order);
  free(s);
}
