/* The language-model part of `alab collapse`: documents as token arrays,
 * subsampling them, sampling whole stories from a model, and the statistics
 * of a set of stories (distinct n-grams, length, validity under the story
 * world's grammar). See src/exp/collapse_lm.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/synth.h"
#include "exp/collapse_lm.h"

void lm_docs_add(lm_docs *d, const int32_t *ids, size_t n, int32_t eot) {
  if (d->n + n + 1 > d->cap) {
    d->cap = (d->n + n + 1) * 2;
    d->ids = al_realloc(d->ids, d->cap * sizeof *d->ids);
  }
  if (d->ndocs == d->dcap) {
    d->dcap = d->dcap ? 2 * d->dcap : 64;
    d->starts = al_realloc(d->starts, d->dcap * sizeof *d->starts);
  }
  d->starts[d->ndocs++] = d->n;
  if (n) memcpy(d->ids + d->n, ids, n * sizeof *ids);
  d->n += n;
  d->ids[d->n++] = eot;
}

void lm_docs_free(lm_docs *d) {
  free(d->ids);
  free(d->starts);
  memset(d, 0, sizeof *d);
}

void lm_docs_subsample(const lm_docs *const *pools, int npools, size_t ntokens, int32_t eot, al_rng *rng, lm_docs *out) {
  size_t total = 0;
  for (int p = 0; p < npools; p++) total += pools[p]->ndocs;
  uint32_t *idx = al_malloc((total ? total : 1) * sizeof *idx);
  for (size_t i = 0; i < total; i++) idx[i] = (uint32_t)i;
  /* a partial Fisher-Yates shuffle: position i gets a uniform pick of the rest */
  for (size_t i = 0; i < total && out->n < ntokens; i++) {
    size_t j = i + (size_t)al_rng_below(rng, total - i);
    uint32_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
    size_t k = idx[i], len;
    int p = 0;
    while (k >= pools[p]->ndocs) k -= pools[p++]->ndocs;
    const int32_t *doc = lm_doc(pools[p], k, &len);
    lm_docs_add(out, doc, len, eot);
  }
  free(idx);
}

/* ---- sampling: up to SLOTS stories decoded together ----
 * Each slot holds one story (its own decoder and random stream) and steps
 * one token at a time; the live slots' tokens go through the model as one
 * batch (al_decoder_step_many: each weight matrix read once per step, every
 * decoder bit-identical to feeding its token alone). A story that reaches
 * the context's end is re-prompted alone with its last n_positions/2 tokens
 * (al_decoder_prompt, as al_generate feeds a prompt). So story i is exactly
 * what one decoder generating the stories one after another with
 * al_generate would write, whatever the slots held. A freed slot takes the
 * next story unless the stories before it already hold ntokens tokens for
 * certain (their tokens so far, each with its EOT); finished stories are
 * appended in order while out holds fewer than ntokens, and the few that
 * were started but not needed are dropped. */
enum { SLOTS = AL_DECODER_STEP_MAX };

typedef struct {
  long i;         /* story index; -1: the slot is free */
  al_rng r;       /* the story's stream: al_rng_seed_stream(seed, i) */
  int32_t *seq;   /* EOT, then the story so far */
  int n;          /* tokens of the story so far */
  int prompted;   /* the decoder holds logits for the next token */
} story_slot;

typedef struct {
  int32_t *ids;
  int n, cut, done;
} story_done;

/* The next token of slot s, or its end: 1 when the slot needs its token fed
 * (in *tok), 0 when the story ended or the window is full (re-prompted next
 * round), -1 on error. */
static int slot_advance(story_slot *s, al_decoder *d, int ctx, int V, int max_story, int32_t eot,
                        const al_sample_cfg *sc, void *scratch, story_done *fin, int32_t *tok, al_err *err) {
  if (!s->prompted) {
    int have = 1 + s->n, from = have <= ctx ? 0 : have - ctx / 2;
    if (al_decoder_prompt(d, s->seq + from, have - from, err)) return -1;
    s->prompted = 1;
  }
  int32_t t = al_sample_logits(al_decoder_logits(d), V, sc, &s->r, scratch);
  s->seq[1 + s->n++] = t;
  if (t == eot || s->n == max_story) { /* the story is done: EOT (not kept) or cut */
    int ended = t == eot;
    fin->n = s->n - ended;
    fin->cut = !ended;
    fin->ids = al_malloc(((size_t)fin->n + 1) * sizeof *fin->ids);
    memcpy(fin->ids, s->seq + 1, (size_t)fin->n * sizeof *fin->ids);
    fin->done = 1;
    s->i = -1;
    return 0;
  }
  if (al_decoder_pos(d) >= ctx) { /* the window is full: continue from its last half */
    s->prompted = 0;
    return 0;
  }
  *tok = t;
  return 1;
}

int lm_sample(const al_model *m, int32_t eot, double temperature, int max_story, size_t ntokens, uint64_t seed,
              lm_docs *out, size_t *ncut, al_err *err) {
  int ctx = m->cfg.n_positions, rc = 0;
  al_sample_cfg sc = {.temperature = (float)temperature, .top_p = 1, .top_k = 0};
  void *scratch = al_sample_scratch(m->cfg.vocab_size);
  al_decoder *ds[SLOTS];
  story_slot sl[SLOTS];
  for (int k = 0; k < SLOTS; k++) {
    ds[k] = al_decoder_new(m);
    sl[k] = (story_slot){.i = -1, .seq = al_malloc(((size_t)max_story + 1) * sizeof(int32_t))};
  }
  story_done *fin = NULL; /* stories [appended, next) */
  size_t fcap = 0;
  long next = 0, appended = 0;
  *ncut = 0;
  while (!rc) {
    while (appended < next && fin[appended].done) { /* finished stories, in order */
      story_done *f = &fin[appended++];
      if (out->n < ntokens) {
        lm_docs_add(out, f->ids, (size_t)f->n, eot);
        *ncut += (size_t)f->cut;
      }
      free(f->ids);
      f->ids = NULL;
    }
    if (out->n >= ntokens) break;
    /* the stories before `next` hold at least `lower` tokens */
    size_t lower = out->n;
    for (long i = appended; i < next; i++)
      if (fin[i].done) lower += (size_t)fin[i].n + 1;
    for (int k = 0; k < SLOTS; k++)
      if (sl[k].i >= 0) lower += (size_t)sl[k].n + 1;
    for (int k = 0; k < SLOTS && lower < ntokens; k++) {
      if (sl[k].i >= 0) continue;
      if ((size_t)next >= fcap) {
        fcap = fcap ? 2 * fcap : 256;
        fin = al_realloc(fin, fcap * sizeof *fin);
      }
      fin[next] = (story_done){0};
      sl[k].i = next;
      sl[k].n = 0;
      sl[k].prompted = 0;
      sl[k].seq[0] = eot;
      al_rng_seed_stream(&sl[k].r, seed, (uint64_t)next);
      next++;
      lower += 1;
    }
    al_decoder *act[SLOTS];
    int32_t tok[SLOTS];
    int live = 0;
    for (int k = 0; k < SLOTS && !rc; k++) {
      if (sl[k].i < 0) continue;
      int32_t t;
      int a = slot_advance(&sl[k], ds[k], ctx, m->cfg.vocab_size, max_story, eot, &sc, scratch, &fin[sl[k].i], &t, err);
      if (a < 0) rc = -1;
      else if (a > 0) act[live] = ds[k], tok[live++] = t;
    }
    if (!rc && live > 0) rc = al_decoder_step_many(act, tok, live, err);
  }
  for (long i = appended; i < next; i++) free(fin[i].ids);
  free(fin);
  for (int k = 0; k < SLOTS; k++) {
    al_decoder_free(ds[k]);
    free(sl[k].seq);
  }
  free(scratch);
  return rc ? -1 : 0;
}

/* ---- n-grams ----
 * A word is a maximal run of non-whitespace bytes; an n-gram is n consecutive
 * words of one document, hashed to 64 bits (FNV-1a of each word, combined),
 * and counted in an open-addressing set. Collisions among 64-bit hashes of
 * fewer than 2^24 n-grams have probability below 2^-16: ignored. */

static int is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static uint64_t word_hash(const char *w, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)w[i]) * 1099511628211ULL;
  return h;
}

static uint64_t mix(uint64_t h, uint64_t w) {
  h ^= w + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 29);
}

typedef struct {
  uint64_t *slot; /* 0: empty (a hash of 0 is stored as 1) */
  size_t cap, used;
} hset;

static int hset_add(hset *s, uint64_t h) {
  if (!h) h = 1;
  if (2 * (s->used + 1) > s->cap) {
    hset g = {al_calloc(s->cap ? 2 * s->cap : 1024, sizeof(uint64_t)), s->cap ? 2 * s->cap : 1024, 0};
    for (size_t i = 0; i < s->cap; i++)
      if (s->slot[i]) hset_add(&g, s->slot[i]);
    free(s->slot);
    *s = g;
  }
  for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
    if (s->slot[i] == h) return 0;
    if (!s->slot[i]) {
      s->slot[i] = h;
      s->used++;
      return 1;
    }
  }
}

double lm_distinct_ngrams(const char *const *docs, const size_t *lens, size_t ndocs, int n) {
  hset set = {0};
  uint64_t *win = al_malloc(sizeof(uint64_t) * (size_t)n); /* the last n word hashes, a ring */
  size_t total = 0;
  for (size_t d = 0; d < ndocs; d++) {
    const char *t = docs[d];
    size_t len = lens[d], words = 0;
    for (size_t i = 0; i < len;) {
      while (i < len && is_space(t[i])) i++;
      if (i == len) break;
      size_t j = i;
      while (j < len && !is_space(t[j])) j++;
      win[words % (size_t)n] = word_hash(t + i, j - i);
      words++;
      if (words >= (size_t)n) {
        uint64_t h = (uint64_t)n;
        for (size_t k = words - (size_t)n; k < words; k++) h = mix(h, win[k % (size_t)n]);
        hset_add(&set, h);
        total++;
      }
      i = j;
    }
  }
  double r = total ? (double)set.used / (double)total : 0;
  free(set.slot);
  free(win);
  return r;
}

int lm_stats_of(const al_tok *tok, const lm_docs *d, int story, lm_stats *st, al_err *err) {
  memset(st, 0, sizeof *st);
  size_t nd = d->ndocs, nvalid = 0;
  char **text = al_calloc(nd ? nd : 1, sizeof *text);
  size_t *lens = al_calloc(nd ? nd : 1, sizeof *lens);
  double words = 0, bytes = 0, lp = 0;
  int rc = 0;
  for (size_t i = 0; i < nd && !rc; i++) {
    size_t n;
    const int32_t *ids = lm_doc(d, i, &n);
    if (al_tok_decode(tok, ids, n, &text[i], &lens[i], err)) {
      rc = al_fail_prefix(err, "decoding sampled document %zu", i);
      break;
    }
    bytes += (double)lens[i];
    for (size_t k = 0; k < lens[i]; k++)
      words += !is_space(text[i][k]) && (k == 0 || is_space(text[i][k - 1]));
    al_synth_story s;
    if (story && !al_synth_story_score(text[i], lens[i], &s, NULL)) {
      nvalid++;
      lp += s.logprob;
    }
  }
  if (!rc) {
    st->distinct2 = lm_distinct_ngrams((const char *const *)text, lens, nd, 2);
    st->distinct4 = lm_distinct_ngrams((const char *const *)text, lens, nd, 4);
    st->words = nd ? words / (double)nd : NAN;
    st->bytes = nd ? bytes / (double)nd : NAN;
    st->valid = story && nd ? (double)nvalid / (double)nd : NAN;
    st->valid_logprob = nvalid ? lp / (double)nvalid : NAN;
  }
  for (size_t i = 0; i < nd; i++) free(text[i]);
  free(text);
  free(lens);
  return rc;
}
