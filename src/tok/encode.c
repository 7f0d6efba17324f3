#define _GNU_SOURCE /* memmem */
/* Encoding: pre-tokenize (pretok.c), then byte-pair merge each piece.
 *
 * Merge rule (GPT-2 / tiktoken): start from the piece's bytes as byte tokens;
 * repeatedly take the adjacent pair with the lowest merge rank (the leftmost
 * one on ties) and replace it by its merged token, until no adjacent pair has
 * a rank. Short pieces use an array scan; long ones a min-heap of
 * (rank, position) over a linked list, so a 1 MB piece stays O(n log n).
 *
 * Speed: each thread keeps a cache piece bytes -> ids per tokenizer (keyed by
 * the tokenizer's serial number, a few tokenizers per thread), so a repeated
 * word costs one hash lookup. The output array is grown once per call (a text
 * of n bytes has at most n + #specials tokens), and the work arrays live in
 * the per-thread scratch: no allocation per piece. */
#include <pthread.h>
#include <stdlib.h>
#include "tok/tok_internal.h"

#define CACHE_SLOTS 4
#define CACHE_MAX_PIECE 64          /* longer pieces are merged every time */
#define CACHE_MAX_ENTRIES (1 << 18) /* then the cache starts over (~16 MB per thread) */
#define SMALL_PIECE 48              /* array scan up to this many bytes */

typedef struct {
  uint64_t serial;
  tok_smap map; /* piece -> (offset into ids, count) */
  int32_t *ids;
  size_t n, cap;
} enc_cache;

typedef struct {
  tok_pretok *pre;
  enc_cache cache[CACHE_SLOTS];
  int victim;
  size_t work_cap;
  int32_t *sym;
  uint32_t *rank;
  int32_t *prev, *next;
  uint64_t *heap;
} enc_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
  enc_scratch *s = p;
  tok_pretok_free(s->pre);
  for (int i = 0; i < CACHE_SLOTS; i++) {
    if (s->cache[i].serial) tok_smap_free(&s->cache[i].map);
    free(s->cache[i].ids);
  }
  free(s->sym);
  free(s->rank);
  free(s->prev);
  free(s->next);
  free(s->heap);
  free(s);
}

static void make_key(void) { pthread_key_create(&scratch_key, scratch_free); }

static enc_scratch *scratch(void) {
  pthread_once(&scratch_once, make_key);
  enc_scratch *s = pthread_getspecific(scratch_key);
  if (!s) {
    s = al_calloc(1, sizeof *s);
    s->pre = tok_pretok_new();
    pthread_setspecific(scratch_key, s);
  }
  return s;
}

static enc_cache *cache_for(enc_scratch *s, const al_tok *t) {
  for (int i = 0; i < CACHE_SLOTS; i++)
    if (s->cache[i].serial == t->serial) return &s->cache[i];
  enc_cache *c = &s->cache[s->victim];
  s->victim = (s->victim + 1) % CACHE_SLOTS;
  if (c->serial) tok_smap_clear(&c->map);
  else tok_smap_init(&c->map, 1 << 14);
  c->serial = t->serial;
  c->n = 0;
  return c;
}

static void work_reserve(enc_scratch *s, size_t n) {
  if (n <= s->work_cap) return;
  size_t cap = s->work_cap ? s->work_cap : 256;
  while (cap < n) cap *= 2;
  s->sym = al_realloc(s->sym, cap * sizeof *s->sym);
  s->rank = al_realloc(s->rank, cap * sizeof *s->rank);
  s->prev = al_realloc(s->prev, cap * sizeof *s->prev);
  s->next = al_realloc(s->next, cap * sizeof *s->next);
  s->heap = al_realloc(s->heap, 2 * cap * sizeof *s->heap);
  s->work_cap = cap;
}

static inline uint32_t rank_of(const al_tok *t, int32_t a, int32_t b) {
  const uint32_t *r = tok_map64_get(&t->rank, tok_pair(a, b));
  return r ? *r : UINT32_MAX;
}

/* Array scan: O(n^2) worst case, fastest for words. Returns the token count. */
static size_t merge_small(const al_tok *t, int32_t *sym, uint32_t *rank, size_t n) {
  for (size_t i = 0; i + 1 < n; i++) rank[i] = rank_of(t, sym[i], sym[i + 1]);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; i++)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == UINT32_MAX) break;
    sym[best] = t->m_id[rank[best]];
    memmove(sym + best + 1, sym + best + 2, (n - best - 2) * sizeof *sym);
    memmove(rank + best + 1, rank + best + 2, (n - best - 2) * sizeof *rank);
    n--;
    if (best > 0) rank[best - 1] = rank_of(t, sym[best - 1], sym[best]);
    if (best + 1 < n) rank[best] = rank_of(t, sym[best], sym[best + 1]);
  }
  return n;
}

/* Heap entries pack (rank, position) so that the smaller u64 is merged first. */
static size_t merge_large(const al_tok *t, enc_scratch *s, size_t n) {
  int32_t *sym = s->sym, *prev = s->prev, *next = s->next;
  uint64_t *heap = s->heap;
  size_t nh = 0;
  for (size_t i = 0; i < n; i++) prev[i] = (int32_t)i - 1, next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
  for (size_t i = 0; i + 1 < n; i++) {
    uint32_t r = rank_of(t, sym[i], sym[i + 1]);
    if (r != UINT32_MAX) tok_heap_push(heap, &nh, (uint64_t)r << 32 | i);
  }
  while (nh) {
    uint64_t top = tok_heap_pop(heap, &nh);
    uint32_t r = (uint32_t)(top >> 32);
    int32_t i = (int32_t)(uint32_t)top;
    if (sym[i] < 0 || next[i] < 0 || rank_of(t, sym[i], sym[next[i]]) != r) continue; /* stale */
    int32_t j = next[i];
    sym[i] = t->m_id[r];
    sym[j] = -1;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    if (prev[i] >= 0) {
      uint32_t q = rank_of(t, sym[prev[i]], sym[i]);
      if (q != UINT32_MAX) tok_heap_push(heap, &nh, (uint64_t)q << 32 | (uint32_t)prev[i]);
    }
    if (next[i] >= 0) {
      uint32_t q = rank_of(t, sym[i], sym[next[i]]);
      if (q != UINT32_MAX) tok_heap_push(heap, &nh, (uint64_t)q << 32 | (uint32_t)i);
    }
  }
  size_t m = 0;
  for (int32_t i = 0; i >= 0; i = next[i]) sym[m++] = sym[i];
  return m;
}

/* Appends the ids of one piece to out (room for len ids is guaranteed). */
static size_t encode_piece(const al_tok *t, enc_scratch *s, enc_cache *c, const char *p, size_t len, int32_t *out) {
  if (len == 1) return out[0] = t->byte_id[(unsigned char)p[0]], 1;
  uint64_t h = 0;
  if (len <= CACHE_MAX_PIECE) {
    h = tok_hash_bytes(p, len);
    const tok_sentry *e = tok_smap_get(&c->map, p, len, h);
    if (e) {
      memcpy(out, c->ids + e->v0, e->v1 * sizeof *out);
      return e->v1;
    }
  }
  work_reserve(s, len);
  for (size_t i = 0; i < len; i++) s->sym[i] = t->byte_id[(unsigned char)p[i]];
  size_t m = len <= SMALL_PIECE ? merge_small(t, s->sym, s->rank, len) : merge_large(t, s, len);
  memcpy(out, s->sym, m * sizeof *out);
  if (len <= CACHE_MAX_PIECE) {
    if (c->map.n >= CACHE_MAX_ENTRIES) {
      tok_smap_clear(&c->map);
      c->n = 0;
    }
    if (c->n + m > c->cap) {
      c->cap = c->cap ? 2 * c->cap : 1 << 16;
      while (c->cap < c->n + m) c->cap *= 2;
      c->ids = al_realloc(c->ids, c->cap * sizeof *c->ids);
    }
    int ins;
    tok_sentry *e = tok_smap_put(&c->map, p, len, h, &ins);
    e->v0 = (uint32_t)c->n;
    e->v1 = (uint32_t)m;
    memcpy(c->ids + c->n, s->sym, m * sizeof *c->ids);
    c->n += m;
  }
  return m;
}

static size_t encode_ordinary(const al_tok *t, enc_scratch *s, enc_cache *c, const char *text, size_t len,
                              int32_t *out) {
  size_t pos = 0, start, plen, k = 0;
  while ((plen = tok_pretok_split(s->pre, t, text, len, &pos, &start)) > 0)
    k += encode_piece(t, s, c, text + start, plen, out + k);
  return k;
}

/* The earliest special token at or after `from` (longest on ties); -1 if
 * none. next[k] caches where special k next occurs (SIZE_MAX: not yet
 * searched, len: nowhere), so each special is searched for once per
 * occurrence rather than once per special found. */
static int32_t next_special(const al_tok *t, const char *text, size_t len, size_t from, size_t *next, size_t *at) {
  int32_t best = -1;
  size_t best_at = len, best_n = 0;
  for (int k = 0; k < t->n_special; k++) {
    size_t n;
    const char *sp = tok_bytes_of(t, t->special_ids[k], &n);
    if (next[k] == SIZE_MAX || (next[k] < from && next[k] < len)) {
      const char *hit = memmem(text + from, len - from, sp, n);
      next[k] = hit ? (size_t)(hit - text) : len;
    }
    if (next[k] < best_at || (next[k] == best_at && next[k] < len && n > best_n))
      best = t->special_ids[k], best_at = next[k], best_n = n;
  }
  *at = best_at;
  return best;
}

long al_tok_encode(const al_tok *t, const char *text, size_t len, int allow_special, int32_t **ids, size_t *n,
                   size_t *cap, al_err *err) {
  if (!text && len) return al_fail(err, "encode: NULL text of length %zu", len);
  if (*n + len + 1 > *cap) {
    size_t c = *cap ? *cap : 256;
    while (c < *n + len + 1) c *= 2;
    *ids = al_realloc(*ids, c * sizeof **ids);
    *cap = c;
  }
  if (!len) return 0;
  if (t->sp) { /* tokenizer.bin: no special strings, no dummy prefix inside a text */
    long k = tok_sp_encode(t, text, len, 0, *ids + *n, err);
    if (k > 0) *n += (size_t)k;
    return k;
  }
  enc_scratch *s = scratch();
  enc_cache *c = cache_for(s, t);
  int32_t *out = *ids + *n;
  size_t k = 0, pos = 0, *next = NULL;
  if (allow_special && t->n_special) {
    next = al_malloc((size_t)t->n_special * sizeof *next);
    for (int i = 0; i < t->n_special; i++) next[i] = SIZE_MAX;
  }
  while (next && pos < len) {
    size_t at, sn;
    int32_t sp = next_special(t, text, len, pos, next, &at);
    if (sp < 0) break;
    k += encode_ordinary(t, s, c, text + pos, at - pos, out + k);
    out[k++] = sp;
    tok_bytes_of(t, sp, &sn);
    pos = at + sn;
  }
  free(next);
  k += encode_ordinary(t, s, c, text + pos, len - pos, out + k);
  *n += k;
  return (long)k;
}
