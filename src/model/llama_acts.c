/* One allocation for all of Llama's training activations of a (B, T) shape,
 * and the rotary table of its T positions. */
#include <stdlib.h>
#include "alab/nn.h"
#include "model/llama.h"

/* Hands out consecutive 64-byte aligned slices of `block` (or only counts
 * when block is NULL). */
static float *take(float *block, size_t *used, size_t n) {
  float *p = block ? block + *used : NULL;
  *used += (n + 15) & ~(size_t)15;
  return p;
}

static size_t layout(llama_acts *a, float *block, const al_model_config *c, int B, int T) {
  llama_dims d = llama_dims_of(c);
  size_t N = (size_t)B * T, C = d.C, W = d.W, F = d.F, att = (size_t)B * d.H * T * T, used = 0;
  a->rope = take(block, &used, (size_t)T * d.hs);
  a->encoded = take(block, &used, N * C);
  a->normed = take(block, &used, N * C);
  a->norm_rstd = take(block, &used, N);
  a->scratch = take(block, &used, N * C);
  a->dres = take(block, &used, N * C);
  a->dbufC = take(block, &used, N * C);
  a->dbufW = take(block, &used, N * W);
  a->dbufGU = take(block, &used, N * 2 * F);
  a->dbufI = take(block, &used, N * F);
  a->datt = take(block, &used, att);
  for (int l = 0; l < c->n_layer; l++) {
    llama_layer_acts *la = &a->layer[l];
    la->ln1 = take(block, &used, N * C);
    la->ln1_rstd = take(block, &used, N);
    la->qkv = take(block, &used, N * W);
    la->att = take(block, &used, att);
    la->atty = take(block, &used, N * C);
    la->res2 = take(block, &used, N * C);
    la->ln2 = take(block, &used, N * C);
    la->ln2_rstd = take(block, &used, N);
    la->gu = take(block, &used, N * 2 * F);
    la->hmid = take(block, &used, N * F);
    la->res3 = take(block, &used, N * C);
  }
  return used;
}

void *llama_acts_new(const al_model_config *c, int B, int T) {
  llama_acts *a = al_calloc(1, sizeof *a);
  a->layer = al_calloc(c->n_layer, sizeof(llama_layer_acts));
  size_t n = layout(a, NULL, c, B, T);
  a->block = al_alloc_floats(n);
  layout(a, a->block, c, B, T);
  a->inputs = al_malloc((size_t)B * T * sizeof(int32_t));
  llama_dims d = llama_dims_of(c);
  nn_rope_table(a->rope, T, d.hs, llama_hparams_of(c).rope_theta);
  return a;
}

void llama_acts_free(void *acts) {
  llama_acts *a = acts;
  if (!a) return;
  free(a->block);
  free(a->layer);
  free(a->inputs);
  free(a);
}
