/* GPT-2's KV-cache decoding: the per-decoder state (cache and chunk scratch)
 * and the forward of n rows through gpt2_block_forward, with attention
 * against the cache and the few-row matmul (al_decode_matmul). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "model/gpt2.h"

typedef struct {
  int maxT;
  float *kcache, *vcache;                           /* [L][maxT][C] */
  float *x, *ln, *qkv, *atty, *tmp, *fch, *scores; /* scratch for `rows` rows */
} gpt2_state;

void *gpt2_decoder_state_new(const al_model *m, int rows) {
  const al_model_config *c = &m->cfg;
  gpt2_state *s = al_calloc(1, sizeof *s);
  size_t C = c->n_embd, L = c->n_layer, R = rows;
  s->maxT = c->n_positions;
  s->kcache = al_alloc_floats(L * s->maxT * C);
  s->vcache = al_alloc_floats(L * s->maxT * C);
  s->x = al_alloc_floats(R * C);
  s->ln = al_alloc_floats(R * C);
  s->qkv = al_alloc_floats(R * 3 * C);
  s->atty = al_alloc_floats(R * C);
  s->tmp = al_alloc_floats(R * C);
  s->fch = al_alloc_floats(R * 4 * C);
  s->scores = al_alloc_floats(R * c->n_head * s->maxT);
  return s;
}

void gpt2_decoder_state_free(void *state) {
  gpt2_state *s = state;
  if (!s) return;
  free(s->kcache);
  free(s->vcache);
  free(s->x);
  free(s->ln);
  free(s->qkv);
  free(s->atty);
  free(s->tmp);
  free(s->fch);
  free(s->scores);
  free(s);
}

/* One head of one query row at position t against cache positions 0..t of
 * layer l: o[hs] = softmax(q.k / sqrt(hs)) v; s is scratch for t+1 scores. */
static void attend_head(const gpt2_state *d, int C, int H, int l, int t, int h, const float *q, float *s, float *o) {
  int hs = C / H, T = d->maxT;
  float scale = 1.0f / sqrtf((float)hs), mx = -INFINITY;
  const float *K = d->kcache + (size_t)l * T * C, *Vc = d->vcache + (size_t)l * T * C;
  for (int t2 = 0; t2 <= t; t2++) {
    const float *k = K + (size_t)t2 * C + h * hs;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int i = 0; i < hs; i++) dot += q[i] * k[i];
    s[t2] = dot * scale;
    mx = s[t2] > mx ? s[t2] : mx;
  }
  float sum = 0.0f;
  for (int t2 = 0; t2 <= t; t2++) {
    s[t2] = expf(s[t2] - mx);
    sum += s[t2];
  }
  float inv = 1.0f / sum;
  memset(o, 0, hs * sizeof(float));
  for (int t2 = 0; t2 <= t; t2++) {
    const float *v = Vc + (size_t)t2 * C + h * hs;
    float w = s[t2] * inv;
#pragma omp simd
    for (int i = 0; i < hs; i++) o[i] += w * v[i];
  }
}

/* Decoding attention: rows of (possibly) different decoders. */
typedef struct {
  gpt2_state **ds;
  const int *pos;
  int C, H;
} cache_attention;

/* Every row's key and value go into its decoder's cache before any row
 * attends, so rows of one decoder at consecutive positions see each other
 * causally, and rows of different decoders never mix. */
static void attend_cache(void *ctx, int l, float *atty, const float *qkv, int n) {
  const cache_attention *a = ctx;
  int C = a->C, H = a->H, hs = C / H, T = a->ds[0]->maxT;
  float *scores = a->ds[0]->scores;
  for (int r = 0; r < n; r++) {
    size_t at = ((size_t)l * T + a->pos[r]) * C;
    memcpy(a->ds[r]->kcache + at, qkv + (size_t)r * 3 * C + C, C * sizeof(float));
    memcpy(a->ds[r]->vcache + at, qkv + (size_t)r * 3 * C + 2 * C, C * sizeof(float));
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (int r = 0; r < n; r++)
    for (int h = 0; h < H; h++)
      attend_head(a->ds[r], C, H, l, a->pos[r], h, qkv + (size_t)r * 3 * C + h * hs, scores + ((size_t)r * H + h) * T,
                  atty + (size_t)r * C + h * hs);
}

/* The trunk over n rows in place on states[0]'s scratch (x is the residual
 * stream, updated by each block); each row's numbers do not depend on the
 * other rows. Returns ln_f of rows first..n-1. */
const float *gpt2_decode_rows(const al_model *m, void **states, const int *pos, const int32_t *tok, int n, int first) {
  gpt2_state *d = states[0];
  const al_model_config *c = &m->cfg;
  const gpt2_weights *w = m->weights;
  int C = c->n_embd;
  float eps = gpt2_hparams_of(c).layer_norm_epsilon;
  for (int r = 0; r < n; r++) {
    const float *e = w->wte + (size_t)tok[r] * C, *pe = w->wpe + (size_t)pos[r] * C;
    for (int i = 0; i < C; i++) d->x[(size_t)r * C + i] = e[i] + pe[i];
  }
  cache_attention att = {(gpt2_state **)states, pos, C, c->n_head};
  gpt2_layer_acts io = {.ln1 = d->ln, .qkv = d->qkv, .atty = d->atty, .res2 = d->x, .ln2 = d->ln, .fch = d->fch,
                        .fch_gelu = d->fch, .res3 = d->x};
  for (int l = 0; l < c->n_layer; l++)
    gpt2_block_forward(&w->h[l], l, d->x, &io, d->tmp, n, C, eps, al_decode_matmul, attend_cache, &att);
  nn_layernorm_forward(d->ln, NULL, NULL, d->x + (size_t)first * C, w->lnfw, w->lnfb, n - first, C, eps);
  return d->ln;
}
