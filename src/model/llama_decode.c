/* Llama's KV-cache decoding: the per-decoder state (caches sized by the
 * key/value heads, the rotary table of every position, chunk scratch) and the
 * forward of n rows with attention against the cache: up to
 * AL_DECODE_SMALL_ROWS rows (a token being generated) in one parallel region
 * for the whole trunk (decode_team), more (a prompt's chunk) through
 * llama_block_forward's sgemm products. Both give the same numbers. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "model/llama.h"
#include "nn/rows.h"
#include "nn/team.h"

typedef struct {
  int maxT;
  float *kcache, *vcache; /* [L][KVH][maxT][hs]: a kv head's positions contiguous, so attention streams them */
  float *rope;            /* [maxT][hs] */
  float *x, *ln, *qkv, *atty, *tmp, *gu, *hmid, *scores; /* scratch for `rows` rows */
  int rows, nthreads;     /* decode_team: threads at most, each with its own */
  float *lnt;             /* [nthreads][SMALL_ROWS][C] normed rows */
  nn_rows_weight *rw;     /* [L][4] qkv, o, gate|up, down as the row kernels read them */
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
  s->rows = rows;
  s->nthreads = omp_get_max_threads();
  s->lnt = al_alloc_floats((size_t)s->nthreads * AL_DECODE_SMALL_ROWS * d.C);
  s->rw = al_calloc(L * 4, sizeof *s->rw);
  return s;
}

void llama_decoder_state_free(void *state) {
  llama_state *s = state;
  if (!s) return;
  free(s->kcache), free(s->vcache), free(s->rope);
  free(s->x), free(s->ln), free(s->qkv), free(s->atty), free(s->tmp), free(s->gu), free(s->hmid), free(s->scores);
  free(s->lnt), free(s->rw);
  free(s);
}

/* Where layer l's kv head kv at position t starts in a cache */
static inline size_t cache_at(const llama_state *s, const llama_dims *d, int l, int kv, int t) {
  return (((size_t)l * d->KVH + kv) * s->maxT + t) * d->hs;
}

/* Query head h of one row at position t against cache positions 0..t of
 * layer l (key/value head kh): o[hs] = softmax(q.k / sqrt(hs)) v; s is
 * scratch for t+1 scores. */
static void attend_head(const llama_state *st, const llama_dims *d, int l, int t, int kh, const float *q, float *s,
                        float *o) {
  int hs = d->hs;
  float scale = 1.0f / sqrtf((float)hs), mx = -INFINITY;
  const float *K = st->kcache + cache_at(st, d, l, kh, 0), *Vc = st->vcache + cache_at(st, d, l, kh, 0);
  for (int t2 = 0; t2 <= t; t2++) {
    const float *k = K + (size_t)t2 * hs;
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
    const float *v = Vc + (size_t)t2 * hs;
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
  for (int r = 0; r < n; r++)
    for (int kv = 0; kv < d->KVH; kv++) {
      size_t at = cache_at(a->ds[r], d, l, kv, a->pos[r]);
      memcpy(a->ds[r]->kcache + at, qkv + (size_t)r * W + C + kv * hs, hs * sizeof(float));
      memcpy(a->ds[r]->vcache + at, qkv + (size_t)r * W + C + KV + kv * hs, hs * sizeof(float));
    }
#pragma omp parallel for collapse(2) schedule(static)
  for (int r = 0; r < n; r++)
    for (int h = 0; h < H; h++)
      attend_head(a->ds[r], d, l, a->pos[r], h / group, qkv + (size_t)r * W + h * hs, scores + ((size_t)r * H + h) * T,
                  atty + (size_t)r * C + h * hs);
}

/* Rope and cache the qkv head units [u0, u1) of the n rows (q heads, then
 * k heads, then v heads, hs channels each), as llama_block_forward's rope
 * and attend_cache do for all of them. */
static void rope_and_cache(llama_state **ds, const llama_dims *d, int l, const int *pos, int n, int u0, int u1) {
  llama_state *s = ds[0];
  int hs = d->hs, H = d->H, KVH = d->KVH, W = d->W, T = s->maxT;
  for (int u = u0; u < u1; u++) {
    float *head = s->qkv + (size_t)u * hs;
    if (u < H + KVH) nn_rope(head, s->rope, pos, T, n, W, 1, hs, 0);
    if (u < H) continue;
    int kv = u < H + KVH ? u - H : u - H - KVH; /* the key or value head */
    for (int r = 0; r < n; r++) {
      float *cache = u < H + KVH ? ds[r]->kcache : ds[r]->vcache;
      memcpy(cache + cache_at(ds[r], d, l, kv, pos[r]), head + (size_t)r * W, hs * sizeof(float));
    }
  }
}

/* n <= AL_DECODE_SMALL_ROWS rows through every block in one parallel
 * region: each thread computes its part of every product's outputs (whole
 * heads of q|k|v, which it also ropes and caches; channels of o and down,
 * added to the residual stream x; channels of the SwiGLU, gate and up
 * together), every thread norms the residual stream into its own buffer,
 * and the team meets at nn_team's barriers, five per block, instead of
 * OpenMP forking and joining around each product. */
static void decode_team(const al_model *m, llama_state **ds, const int *pos, int n) {
  llama_state *s = ds[0];
  const llama_weights *w = m->weights;
  const llama_dims d = llama_dims_of(&m->cfg);
  int L = m->cfg.n_layer, C = d.C, F = d.F, W = d.W, hs = d.hs, H = d.H, group = d.H / d.KVH;
  for (int l = 0; l < L; l++) /* resolved on the thread that holds the bf16 context */
    nn_rows_weights_of(s->rw + 4 * l, (const float *[]){w->h[l].qkvw, w->h[l].ow, w->h[l].guw, w->h[l].downw}, 4);
  nn_team team;
#pragma omp parallel num_threads(omp_get_max_threads() < s->nthreads ? omp_get_max_threads() : s->nthreads)
  {
#pragma omp single
    nn_team_init(&team, omp_get_num_threads());
    int id = omp_get_thread_num(), parts = team.n, u0, u1, a0, a1, c0, c1, f0, f1;
    nn_team_part(W, hs, id, parts, &u0, &u1);
    nn_team_part(n * H, 1, id, parts, &a0, &a1);
    nn_team_part(C, 1, id, parts, &c0, &c1);
    nn_team_part(F, 1, id, parts, &f0, &f1);
    float *ln = s->lnt + (size_t)id * AL_DECODE_SMALL_ROWS * C;
    for (int l = 0; l < L; l++) {
      const llama_layer *p = &w->h[l];
      const nn_rows_weight *rw = s->rw + 4 * l;
      nn_rmsnorm_forward(ln, NULL, s->x, p->ln1w, n, C, d.eps);
      nn_linear_rows_part(s->qkv, ln, rw[0], p->qkvb, n, C, W, u0, u1, 0);
      rope_and_cache(ds, &d, l, pos, n, u0 / hs, u1 / hs);
      nn_team_wait(&team);
      for (int i = a0; i < a1; i++) { /* (row, query head) pairs */
        int r = i / H, h = i % H;
        attend_head(ds[r], &d, l, pos[r], h / group, s->qkv + (size_t)r * W + h * hs, s->scores + (size_t)i * s->maxT,
                    s->atty + (size_t)r * C + h * hs);
      }
      nn_team_wait(&team);
      nn_linear_rows_part(s->x, s->atty, rw[1], p->ob, n, C, C, c0, c1, 1);
      nn_team_wait(&team);
      nn_rmsnorm_forward(ln, NULL, s->x, p->ln2w, n, C, d.eps);
      nn_linear_rows_part(s->gu, ln, rw[2], p->gub, n, C, 2 * F, f0, f1, 0);
      nn_linear_rows_part(s->gu, ln, rw[2], p->gub, n, C, 2 * F, F + f0, F + f1, 0);
      nn_swiglu_forward_part(s->hmid, s->gu, n, F, f0, f1);
      nn_team_wait(&team);
      nn_linear_rows_part(s->x, s->hmid, rw[3], p->downb, n, F, C, c0, c1, 1);
      nn_team_wait(&team);
    }
  }
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
  if (n <= AL_DECODE_SMALL_ROWS) decode_team(m, (llama_state **)states, pos, n);
  else {
    cache_attention att = {(llama_state **)states, pos, &d};
    llama_layer_acts io = {.ln1 = s->ln, .qkv = s->qkv, .atty = s->atty, .res2 = s->x, .ln2 = s->ln, .gu = s->gu,
                           .hmid = s->hmid, .res3 = s->x};
    for (int l = 0; l < m->cfg.n_layer; l++)
      llama_block_forward(&w->h[l], l, s->x, &io, s->tmp, n, &d, s->rope, pos, s->maxT, attend_cache, &att);
  }
  nn_rmsnorm_forward(s->ln, NULL, s->x + (size_t)first * C, w->normw, n - first, C, d.eps);
  return s->ln;
}
