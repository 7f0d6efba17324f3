/* GPT-2's KV-cache decoding: the per-decoder state (cache and chunk scratch)
 * and the forward of n rows with attention against the cache: up to
 * AL_DECODE_SMALL_ROWS rows (a token being generated) in one parallel region
 * for the whole trunk (decode_team, as Llama's), more (a prompt's chunk)
 * through gpt2_block_forward with the few-row matmul or sgemm
 * (al_decode_matmul). Both give the same numbers. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "model/gpt2.h"
#include "nn/rows.h"
#include "nn/team.h"

typedef struct {
  int maxT;
  float *kcache, *vcache; /* [L][H][maxT][hs]: a head's positions contiguous, so attention streams them */
  float *x, *ln, *qkv, *atty, *tmp, *fch, *scores; /* scratch for `rows` rows */
  int nthreads;       /* decode_team: threads at most, each with its own */
  float *lnt;         /* [nthreads][SMALL_ROWS][C] normed rows */
  nn_rows_weight *rw; /* [L][4] qkv, attn proj, fc, fc proj as the row kernels read them */
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
  s->nthreads = omp_get_max_threads();
  s->lnt = al_alloc_floats((size_t)s->nthreads * AL_DECODE_SMALL_ROWS * C);
  s->rw = al_calloc(L * 4, sizeof *s->rw);
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
  free(s->lnt);
  free(s->rw);
  free(s);
}

/* Where layer l's head h at position t starts in a cache */
static inline size_t cache_at(const gpt2_state *d, int H, int hs, int l, int h, int t) {
  return (((size_t)l * H + h) * d->maxT + t) * hs;
}

/* Channels [c0, c1) of a key or value row src[0, C) of layer l, position t
 * into the cache, head by head. */
static void cache_put(float *cache, const gpt2_state *d, int H, int hs, int l, int t, const float *src, int c0, int c1) {
  for (int c = c0; c < c1;) {
    int h = c / hs, e = (h + 1) * hs < c1 ? (h + 1) * hs : c1;
    memcpy(cache + cache_at(d, H, hs, l, h, t) + (c - h * hs), src + c, (size_t)(e - c) * sizeof(float));
    c = e;
  }
}

/* One head of one query row at position t against cache positions 0..t of
 * layer l: o[hs] = softmax(q.k / sqrt(hs)) v; s is scratch for t+1 scores. */
static void attend_head(const gpt2_state *d, int C, int H, int l, int t, int h, const float *q, float *s, float *o) {
  int hs = C / H;
  float scale = 1.0f / sqrtf((float)hs), mx = -INFINITY;
  const float *K = d->kcache + cache_at(d, H, hs, l, h, 0), *Vc = d->vcache + cache_at(d, H, hs, l, h, 0);
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
    cache_put(a->ds[r]->kcache, a->ds[r], H, hs, l, a->pos[r], qkv + (size_t)r * 3 * C + C, 0, C);
    cache_put(a->ds[r]->vcache, a->ds[r], H, hs, l, a->pos[r], qkv + (size_t)r * 3 * C + 2 * C, 0, C);
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (int r = 0; r < n; r++)
    for (int h = 0; h < H; h++)
      attend_head(a->ds[r], C, H, l, a->pos[r], h, qkv + (size_t)r * 3 * C + h * hs, scores + ((size_t)r * H + h) * T,
                  atty + (size_t)r * C + h * hs);
}

/* x[r, c] += tmp[r, c] for the n rows and columns [c0, c1) */
static void add_cols(float *x, const float *tmp, int n, int C, int c0, int c1) {
  for (int r = 0; r < n; r++)
    for (int c = c0; c < c1; c++) x[(size_t)r * C + c] = x[(size_t)r * C + c] + tmp[(size_t)r * C + c];
}

/* n <= AL_DECODE_SMALL_ROWS rows through every block in one parallel
 * region (see llama_decode.c's decode_team): each thread computes its
 * columns of every product (and caches its columns of k and v, adds its
 * columns to the residual stream, applies GELU to its fc columns), norms
 * the residual stream into its own buffer, and the team meets at nn_team's
 * barriers, five per block. */
static void decode_team(const al_model *m, gpt2_state **ds, const int *pos, int n) {
  gpt2_state *s = ds[0];
  const gpt2_weights *w = m->weights;
  const al_model_config *c = &m->cfg;
  int L = c->n_layer, C = c->n_embd, H = c->n_head, hs = C / H, T = s->maxT;
  float eps = gpt2_hparams_of(c).layer_norm_epsilon;
  for (int l = 0; l < L; l++) /* resolved on the thread that holds the bf16 context */
    nn_rows_weights_of(s->rw + 4 * l, (const float *[]){w->h[l].qkvw, w->h[l].attprojw, w->h[l].fcw, w->h[l].fcprojw},
                       4);
  nn_team team;
#pragma omp parallel num_threads(omp_get_max_threads() < s->nthreads ? omp_get_max_threads() : s->nthreads)
  {
#pragma omp single
    nn_team_init(&team, omp_get_num_threads());
    int id = omp_get_thread_num(), parts = team.n, q0, q1, p0, p1, f0, f1, a0, a1;
    nn_matmul_rows_cols(3 * C, id, parts, &q0, &q1);
    nn_matmul_rows_cols(C, id, parts, &p0, &p1);
    nn_matmul_rows_cols(4 * C, id, parts, &f0, &f1);
    nn_team_part(n * H, 1, id, parts, &a0, &a1);
    int k0 = q0 > C ? q0 : C, k1 = q1 < 2 * C ? q1 : 2 * C, v0 = q0 > 2 * C ? q0 : 2 * C; /* my k and v columns */
    float *ln = s->lnt + (size_t)id * AL_DECODE_SMALL_ROWS * C;
    for (int l = 0; l < L; l++) {
      const gpt2_layer *p = &w->h[l];
      const nn_rows_weight *rw = s->rw + 4 * l;
      nn_layernorm_forward(ln, NULL, NULL, s->x, p->ln1w, p->ln1b, n, C, eps);
      nn_matmul_rows_part(s->qkv, ln, rw[0], p->qkvb, n, C, 3 * C, id, parts);
      for (int r = 0; r < n; r++) {
        const float *row = s->qkv + (size_t)r * 3 * C;
        if (k1 > k0) cache_put(ds[r]->kcache, ds[r], H, hs, l, pos[r], row + C, k0 - C, k1 - C);
        if (q1 > v0) cache_put(ds[r]->vcache, ds[r], H, hs, l, pos[r], row + 2 * C, v0 - 2 * C, q1 - 2 * C);
      }
      nn_team_wait(&team);
      for (int i = a0; i < a1; i++) { /* (row, head) pairs */
        int r = i / H, h = i % H;
        attend_head(ds[r], C, H, l, pos[r], h, s->qkv + (size_t)r * 3 * C + h * hs, s->scores + (size_t)i * T,
                    s->atty + (size_t)r * C + h * hs);
      }
      nn_team_wait(&team);
      nn_matmul_rows_part(s->tmp, s->atty, rw[1], p->attprojb, n, C, C, id, parts);
      add_cols(s->x, s->tmp, n, C, p0, p1);
      nn_team_wait(&team);
      nn_layernorm_forward(ln, NULL, NULL, s->x, p->ln2w, p->ln2b, n, C, eps);
      nn_matmul_rows_part(s->fch, ln, rw[2], p->fcb, n, C, 4 * C, id, parts);
      for (int r = 0; r < n; r++) nn_gelu_forward(s->fch + (size_t)r * 4 * C + f0, s->fch + (size_t)r * 4 * C + f0, f1 - f0);
      nn_team_wait(&team);
      nn_matmul_rows_part(s->tmp, s->fch, rw[3], p->fcprojb, n, 4 * C, C, id, parts);
      add_cols(s->x, s->tmp, n, C, p0, p1);
      nn_team_wait(&team);
    }
  }
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
  if (n <= AL_DECODE_SMALL_ROWS) decode_team(m, (gpt2_state **)states, pos, n);
  else {
    cache_attention att = {(gpt2_state **)states, pos, C, c->n_head};
    gpt2_layer_acts io = {.ln1 = d->ln, .qkv = d->qkv, .atty = d->atty, .res2 = d->x, .ln2 = d->ln, .fch = d->fch,
                          .fch_gelu = d->fch, .res3 = d->x};
    for (int l = 0; l < c->n_layer; l++)
      gpt2_block_forward(&w->h[l], l, d->x, &io, d->tmp, n, C, eps, al_decode_matmul, attend_cache, &att);
  }
  nn_layernorm_forward(d->ln, NULL, NULL, d->x + (size_t)first * C, w->lnfw, w->lnfb, n - first, C, eps);
  return d->ln;
}
