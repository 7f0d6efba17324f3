/* Llama's KV-cache decoding: the per-decoder state (caches sized by the
 * key/value heads, the rotary table of every position, chunk scratch) and the
 * forward of n rows through llama_block_forward, with attention against the
 * cache. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "model/llama.h"

typedef struct {
  int maxT;
  float *kcache, *vcache; /* [L][maxT][KV] */
  float *rope;            /* [maxT][hs] */
  float *x, *ln, *qkv, *atty, *tmp, *gu, *hmid, *scores; /* scratch for `rows` rows */
} llama_state;

void *llama_decoder_state_new(const al_model *m, int rows) {
  const al_model_config *c = &m->cfg;
  llama_dims d = llama_dims_of(c);
  llama_state *s = al_calloc(1, sizeof *s);
  size_t L = c->n_layer, R = rows;
  s->maxT = c->n_positions;
  s->kcache = al_alloc_floats(L * s->maxT * d.KV);
  s->vcache = al_alloc_floats(L * s->maxT * d.KV);
  s->rope = al_alloc_floats((size_t)s->maxT * d.hs);
  nn_rope_table(s->rope, s->maxT, d.hs, llama_hparams_of(c).rope_theta);
  s->x = al_alloc_floats(R * d.C);
  s->ln = al_alloc_floats(R * d.C);
  s->qkv = al_alloc_floats(R * d.W);
  s->atty = al_alloc_floats(R * d.C);
  s->tmp = al_alloc_floats(R * d.C);
  s->gu = al_alloc_floats(R * 2 * d.F);
  s->hmid = al_alloc_floats(R * d.F);
  s->scores = al_alloc_floats(R * d.H * s->maxT);
  return s;
}

void llama_decoder_state_free(void *state) {
  llama_state *s = state;
  if (!s) return;
  free(s->kcache), free(s->vcache), free(s->rope);
  free(s->x), free(s->ln), free(s->qkv), free(s->atty), free(s->tmp), free(s->gu), free(s->hmid), free(s->scores);
  free(s);
}

/* Query head h of one row at position t against cache positions 0..t of
 * layer l (key/value head kh): o[hs] = softmax(q.k / sqrt(hs)) v; s is
 * scratch for t+1 scores. */
static void attend_head(const llama_state *st, const llama_dims *d, int l, int t, int kh, const float *q, float *s,
                        float *o) {
  int hs = d->hs, KV = d->KV, T = st->maxT;
  float scale = 1.0f / sqrtf((float)hs), mx = -INFINITY;
  const float *K = st->kcache + (size_t)l * T * KV + kh * hs, *Vc = st->vcache + (size_t)l * T * KV + kh * hs;
  for (int t2 = 0; t2 <= t; t2++) {
    const float *k = K + (size_t)t2 * KV;
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
    const float *v = Vc + (size_t)t2 * KV;
    float w = s[t2] * inv;
#pragma omp simd
    for (int i = 0; i < hs; i++) o[i] += w * v[i];
  }
}

typedef struct {
  llama_state **ds;
  const int *pos;
  const llama_dims *d;
} cache_attention;

/* Every row's key and value go into its decoder's cache before any row
 * attends, so rows of one decoder at consecutive positions see each other
 * causally, and rows of different decoders never mix. */
static void attend_cache(void *ctx, int l, float *atty, const float *qkv, int n) {
  const cache_attention *a = ctx;
  const llama_dims *d = a->d;
  int C = d->C, W = d->W, KV = d->KV, H = d->H, hs = d->hs, group = d->H / d->KVH, T = a->ds[0]->maxT;
  float *scores = a->ds[0]->scores;
  for (int r = 0; r < n; r++) {
    size_t at = ((size_t)l * T + a->pos[r]) * KV;
    memcpy(a->ds[r]->kcache + at, qkv + (size_t)r * W + C, KV * sizeof(float));
    memcpy(a->ds[r]->vcache + at, qkv + (size_t)r * W + C + KV, KV * sizeof(float));
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (int r = 0; r < n; r++)
    for (int h = 0; h < H; h++)
      attend_head(a->ds[r], d, l, a->pos[r], h / group, qkv + (size_t)r * W + h * hs, scores + ((size_t)r * H + h) * T,
                  atty + (size_t)r * C + h * hs);
}

/* The trunk over n rows in place on states[0]'s scratch (x is the residual
 * stream, updated by each block); each row's numbers do not depend on the
 * other rows. Returns the final norm of rows first..n-1. */
const float *llama_decode_rows(const al_model *m, void **states, const int *pos, const int32_t *tok, int n, int first) {
  llama_state *s = states[0];
  const llama_weights *w = m->weights;
  llama_dims d = llama_dims_of(&m->cfg);
  int C = d.C;
  for (int r = 0; r < n; r++) memcpy(s->x + (size_t)r * C, w->wte + (size_t)tok[r] * C, C * sizeof(float));
  cache_attention att = {(llama_state **)states, pos, &d};
  llama_layer_acts io = {.ln1 = s->ln, .qkv = s->qkv, .atty = s->atty, .res2 = s->x, .ln2 = s->ln, .gu = s->gu,
                         .hmid = s->hmid, .res3 = s->x};
  for (int l = 0; l < m->cfg.n_layer; l++)
    llama_block_forward(&w->h[l], l, s->x, &io, s->tmp, n, &d, s->rope, pos, s->maxT, attend_cache, &att);
  nn_rmsnorm_forward(s->ln, NULL, s->x + (size_t)first * C, w->normw, n - first, C, d.eps);
  return s->ln;
}
