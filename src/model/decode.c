/* KV-cache decoding: a decoder owns its cache and scratch (the
 * architecture's decoder state) and only reads the model, so decoders on
 * different threads can share one model.
 *
 * Feeding n tokens at position p runs them through the trunk as one chunk
 * (up to CHUNK rows at a time, the architecture's decode_rows): their keys
 * and values go into the cache at p..p+n-1 and each attends to cache
 * positions 0..its own; then the LM head gives their logits. Few-row chunks
 * use the streaming matmul (weights read once per chunk), larger ones sgemm. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "model/arch.h"

enum { CHUNK = AL_DECODE_CHUNK, SMALL_ROWS = AL_DECODE_SMALL_ROWS };

struct al_decoder {
  const al_model *m;
  int pos, maxT;
  int32_t *history; /* tokens at positions 0..pos-1 */
  void *state;      /* the architecture's cache and chunk scratch */
  float *logits;    /* [CHUNK][V] */
  int nlogits;      /* rows valid in logits after the last chunk */
};

al_decoder *al_decoder_new(const al_model *m) {
  al_decoder *d = al_calloc(1, sizeof *d);
  d->m = m;
  d->maxT = m->cfg.n_positions;
  d->history = al_malloc((size_t)d->maxT * sizeof(int32_t));
  d->state = m->arch->decoder_state_new(m, CHUNK);
  d->logits = al_alloc_floats((size_t)CHUNK * m->cfg.vocab_size);
  return d;
}

void al_decoder_free(al_decoder *d) {
  if (!d) return;
  free(d->history);
  d->m->arch->decoder_state_free(d->state);
  free(d->logits);
  free(d);
}

int al_decoder_pos(const al_decoder *d) { return d->pos; }

void al_decoder_truncate(al_decoder *d, int pos) {
  if (pos < 0) pos = 0;
  if (pos < d->pos) {
    d->pos = pos;
    d->nlogits = 0;
  }
}

void al_decode_matmul(float *out, const float *inp, const float *W, const float *b, int n, int IC, int OC) {
  if (n <= SMALL_ROWS) nn_matmul_rows(out, inp, W, b, n, IC, OC);
  else nn_matmul_forward(out, inp, W, b, n, IC, OC);
}

/* The forward pass of n rows (n <= CHUNK), row r being token tok[r] at
 * position pos[r] of decoder ds[r]; ds[0] lends its scratch. Logits are
 * computed for rows first..n-1 into ds[0]->logits. Each row's numbers do not
 * depend on the other rows. */
static void forward_rows(al_decoder **ds, const int *pos, const int32_t *tok, int n, int first) {
  const al_model *m = ds[0]->m;
  void *states[CHUNK];
  for (int r = 0; r < n; r++) {
    ds[r]->history[pos[r]] = tok[r];
    states[r] = ds[r]->state;
  }
  const float *h = m->arch->decode_rows(m, states, pos, tok, n, first);
  nn_lmhead_forward(ds[0]->logits, h, m->lm_head, n - first, m->cfg.n_embd, m->cfg.vocab_size);
}

/* Runs n <= CHUNK tokens at the current position. Logits for all n rows if
 * all_rows, else for the last row only (stored as row 0). */
static void feed_chunk(al_decoder *d, const int32_t *tok, int n, int all_rows) {
  al_decoder *ds[CHUNK];
  int pos[CHUNK];
  for (int r = 0; r < n; r++) {
    ds[r] = d;
    pos[r] = d->pos + r;
  }
  forward_rows(ds, pos, tok, n, all_rows ? 0 : n - 1);
  d->nlogits = all_rows ? n : 1;
  d->pos += n;
}

static int check_tokens(const al_decoder *d, const int32_t *tok, int n, al_err *err) {
  if (n < 0 || d->pos + n > d->maxT)
    return al_fail(err, "sequence of %d tokens exceeds the model's context of %d", d->pos + n, d->maxT);
  for (int i = 0; i < n; i++)
    if (tok[i] < 0 || tok[i] >= d->m->cfg.vocab_size)
      return al_fail(err, "token id %d at position %d is out of range [0, %d)", tok[i], i, d->m->cfg.vocab_size);
  return 0;
}

int al_decoder_feed(al_decoder *d, const int32_t *tokens, int n, float *logits_all, al_err *err) {
  if (check_tokens(d, tokens, n, err)) return -1;
  int V = d->m->cfg.vocab_size;
  for (int i = 0; i < n; i += CHUNK) {
    int k = n - i < CHUNK ? n - i : CHUNK;
    feed_chunk(d, tokens + i, k, logits_all != NULL);
    if (logits_all) memcpy(logits_all + (size_t)i * V, d->logits, (size_t)k * V * sizeof(float));
  }
  return 0;
}

const float *al_decoder_logits(const al_decoder *d) {
  return d->nlogits ? d->logits + (size_t)(d->nlogits - 1) * d->m->cfg.vocab_size : NULL;
}

/* One token for each of n <= SMALL_ROWS decoders of one model, as one n-row
 * chunk (weights streamed once for all rows): each decoder ends exactly as if
 * it had been fed its token alone. */
int al_decoder_step_many(al_decoder **ds, const int32_t *tokens, int n, al_err *err) {
  if (n < 1 || n > SMALL_ROWS) return al_fail(err, "al_decoder_step_many: %d decoders (1..%d)", n, SMALL_ROWS);
  int pos[SMALL_ROWS];
  for (int r = 0; r < n; r++) {
    if (ds[r]->m != ds[0]->m) return al_fail(err, "al_decoder_step_many: decoder %d has another model", r);
    if (check_tokens(ds[r], tokens + r, 1, err)) return -1;
    for (int q = 0; q < r; q++)
      if (ds[q] == ds[r]) return al_fail(err, "al_decoder_step_many: decoder %d is given twice", r);
    pos[r] = ds[r]->pos;
  }
  forward_rows(ds, pos, tokens, n, 0);
  int V = ds[0]->m->cfg.vocab_size;
  for (int r = n - 1; r >= 0; r--) { /* row r to decoder r (row 0 is already in place) */
    if (r) memcpy(ds[r]->logits, ds[0]->logits + (size_t)r * V, (size_t)V * sizeof(float));
    ds[r]->nlogits = 1;
    ds[r]->pos++;
  }
  return 0;
}

float al_logsumexp(const float *x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  double s = 0.0;
  for (int i = 0; i < n; i++) s += exp((double)(x[i] - mx));
  return mx + (float)log(s);
}

int al_argmax(const float *x, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

int al_sequence_logprobs(al_decoder *d, const int32_t *tokens, int n, float *lp, int32_t *greedy, int topk,
                         int32_t *top_ids, float *top_lp, al_err *err) {
  al_decoder_truncate(d, 0);
  if (check_tokens(d, tokens, n, err)) return -1;
  int V = d->m->cfg.vocab_size;
  if (topk > V) topk = V;
  if (n > 0) {
    if (lp) lp[0] = NAN;
    if (greedy) greedy[0] = -1;
    for (int j = 0; j < topk; j++) {
      top_ids[j] = -1;
      top_lp[j] = NAN;
    }
  }
  for (int s = 0; s < n - 1; s += CHUNK) {
    int k = n - 1 - s < CHUNK ? n - 1 - s : CHUNK; /* the last token needs no logits */
    feed_chunk(d, tokens + s, k, 1);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < k; r++) {
      const float *z = d->logits + (size_t)r * V;
      int i = s + r + 1; /* the token these logits predict */
      float lse = al_logsumexp(z, V);
      if (lp) lp[i] = z[tokens[i]] - lse;
      if (greedy) greedy[i] = al_argmax(z, V);
      if (topk > 0) al_top_k(z, V, lse, topk, top_ids + (size_t)i * topk, top_lp + (size_t)i * topk);
    }
  }
  return 0;
}

/* Keeps the decoder's cache for the longest common prefix of its history and
 * seq[0..n), but no further than position keep_from (whose logits the caller
 * needs, and logits are not cached), and checks seq. Returns the position
 * from which the caller must feed seq, or -1. */
static int sync_prefix(al_decoder *d, const int32_t *seq, int n, int keep_from, al_err *err) {
  int lcp = 0;
  while (lcp < d->pos && lcp < n && d->history[lcp] == seq[lcp]) lcp++;
  int start = lcp < keep_from ? lcp : keep_from;
  if (start > n - 1) start = n - 1;
  al_decoder_truncate(d, start);
  if (check_tokens(d, seq + start, n - start, err)) return -1;
  return start;
}

int al_score_continuation(al_decoder *d, const int32_t *prompt, int np, const int32_t *cont, int nc, double *sum,
                          float *per_token, int *is_greedy, al_err *err) {
  if (np < 1) return al_fail(err, "scoring needs a prompt of at least one token (got %d)", np);
  if (nc < 1) return al_fail(err, "scoring needs a continuation of at least one token (got %d)", nc);
  int n = np + nc, V = d->m->cfg.vocab_size;
  if (n > d->maxT) return al_fail(err, "prompt + continuation of %d tokens exceed the model's context of %d", n, d->maxT);
  int32_t *seq = al_malloc((size_t)n * sizeof(int32_t));
  memcpy(seq, prompt, (size_t)np * sizeof(int32_t));
  memcpy(seq + np, cont, (size_t)nc * sizeof(int32_t));
  /* logits at positions np-1 .. n-2 are needed; feed from min(lcp, np-1) to n-2 */
  int start = sync_prefix(d, seq, n - 1, np - 1, err);
  if (start < 0) {
    free(seq);
    return -1;
  }
  double total = 0.0;
  int greedy = 1;
  for (int s = start; s < n - 1; s += CHUNK) {
    int k = n - 1 - s < CHUNK ? n - 1 - s : CHUNK;
    feed_chunk(d, seq + s, k, 1);
    for (int r = 0; r < k; r++) {
      int i = s + r + 1;
      if (i < np) continue;
      const float *z = d->logits + (size_t)r * V;
      float lpi = z[seq[i]] - al_logsumexp(z, V);
      total += lpi;
      if (per_token) per_token[i - np] = lpi;
      if (al_argmax(z, V) != seq[i]) greedy = 0;
    }
  }
  free(seq);
  if (sum) *sum = total;
  if (is_greedy) *is_greedy = greedy;
  return 0;
}

int al_decoder_prompt(al_decoder *d, const int32_t *prompt, int np, al_err *err) {
  if (np < 1) return al_fail(err, "generation needs a prompt of at least one token");
  if (np > d->maxT) return al_fail(err, "prompt of %d tokens exceeds the model's context of %d", np, d->maxT);
  int start = sync_prefix(d, prompt, np, np - 1, err);
  if (start < 0) return -1;
  /* all but the last token in chunks, then the last alone: the first new
   * token's logits come from the one-row decoding kernel whatever the prompt's
   * length and whatever the cache held, as `alab serve` feeds a prompt */
  for (int i = start; i < np - 1; i += CHUNK) {
    int k = np - 1 - i < CHUNK ? np - 1 - i : CHUNK;
    feed_chunk(d, prompt + i, k, 0);
  }
  feed_chunk(d, prompt + np - 1, 1, 0);
  return 0;
}

int al_generate(al_decoder *d, const int32_t *prompt, int np, int max_new, const al_sample_cfg *s, al_rng *rng,
                int stop_token, int32_t *out, al_token_cb on_token, void *ctx, al_err *err) {
  if (al_decoder_prompt(d, prompt, np, err)) return -1;
  int V = d->m->cfg.vocab_size, produced = 0;
  void *scratch = al_sample_scratch(V);
  while (produced < max_new) {
    const float *z = al_decoder_logits(d);
    int32_t tok = al_sample_logits(z, V, s, rng, scratch);
    out[produced++] = tok;
    if (on_token && on_token(ctx, tok)) break;
    if (tok == stop_token || produced == max_new || d->pos >= d->maxT) break;
    feed_chunk(d, &tok, 1, 0);
  }
  free(scratch);
  return produced;
}
