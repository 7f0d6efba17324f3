/* One allocation for all of GPT-2's training activations of a (B, T) shape. */
#include <stdlib.h>
#include "model/gpt2_acts.h"

/* Hands out consecutive 64-byte aligned slices of `block` (or only counts
 * when block is NULL). */
static float *take(float *block, size_t *used, size_t n) {
  float *p = block ? block + *used : NULL;
  *used += (n + 15) & ~(size_t)15;
  return p;
}

static size_t layout(gpt2_acts *a, float *block, const al_model_config *c, int B, int T) {
  size_t N = (size_t)B * T, C = c->n_embd, H = c->n_head, used = 0;
  a->encoded = take(block, &used, N * C);
  a->lnf = take(block, &used, N * C);
  a->lnf_mean = take(block, &used, N);
  a->lnf_rstd = take(block, &used, N);
  a->scratch = take(block, &used, N * C);
  a->dres = take(block, &used, N * C);
  a->dbufC = take(block, &used, N * C);
  a->dbuf3 = take(block, &used, N * 3 * C);
  a->dbuf4 = take(block, &used, N * 4 * C);
  a->datt = take(block, &used, B * H * T * (size_t)T);
  for (int l = 0; l < c->n_layer; l++) {
    gpt2_layer_acts *la = &a->layer[l];
    la->ln1 = take(block, &used, N * C);
    la->ln1_mean = take(block, &used, N);
    la->ln1_rstd = take(block, &used, N);
    la->qkv = take(block, &used, N * 3 * C);
    la->atty = take(block, &used, N * C);
    la->att = take(block, &used, B * H * T * (size_t)T);
    la->res2 = take(block, &used, N * C);
    la->ln2 = take(block, &used, N * C);
    la->ln2_mean = take(block, &used, N);
    la->ln2_rstd = take(block, &used, N);
    la->fch = take(block, &used, N * 4 * C);
    la->fch_gelu = take(block, &used, N * 4 * C);
    la->res3 = take(block, &used, N * C);
  }
  return used;
}

void *gpt2_acts_new(const al_model_config *c, int B, int T) {
  gpt2_acts *a = al_calloc(1, sizeof *a);
  a->layer = al_calloc(c->n_layer, sizeof(gpt2_layer_acts));
  size_t n = layout(a, NULL, c, B, T);
  a->block = al_alloc_floats(n);
  layout(a, a->block, c, B, T);
  a->inputs = al_malloc((size_t)B * T * sizeof(int32_t));
  return a;
}

void gpt2_acts_free(void *acts) {
  gpt2_acts *a = acts;
  if (!a) return;
  free(a->block);
  free(a->layer);
  free(a->inputs);
  free(a);
}
