/* BPE training (the rule is documented at al_tok_train in alab/tok.h).
 *
 * 1. Pre-tokenize once and count distinct words (hash map word -> count).
 * 2. Each distinct word is a symbol array; every adjacent pair (a, b) has a
 *    count = sum over words of word count x occurrences, and a list of the
 *    words where it occurs (a linked list in one pool).
 * 3. A max-heap orders pairs by (count desc, bytes of a asc, bytes of b asc).
 *    Counts only fall after the step that creates a pair, so entries are
 *    checked lazily: a popped entry whose count is stale is pushed again with
 *    the current count.
 * 4. Merging (a, b) -> ab visits only the words on (a, b)'s list: it removes
 *    each such word's pair counts, merges left to right without overlap, and
 *    adds the new counts back; pairs that contain ab are new, so the word is
 *    added to their lists and they enter the heap after the step. */
#define _GNU_SOURCE
#include <stdlib.h>
#include "tok/tok_internal.h"

typedef struct { int32_t word, next; } occ;

typedef struct {
  al_tok *t;
  /* words */
  size_t nw;
  int32_t *sym;                /* all words' symbols */
  size_t *woff;                /* start of word w in sym */
  uint32_t *wlen, *wcnt;
  /* pairs */
  tok_map64 index;             /* pair -> pair number */
  size_t np, pcap;
  int64_t *count;
  int32_t *left, *right, *head; /* head: first occ of the pair's word list */
  occ *pool;
  size_t npool, poolcap;
  /* heap of (count, pair number) */
  struct hent { int64_t count; uint32_t pair; } *heap;
  size_t nh, hcap;
  /* a merge whose bytes equal an existing token reuses its id, so pairs with
   * that id may already exist and grow: they are re-queued after the step */
  int32_t reused;
  int32_t fresh; /* the token made by the current merge (-1 while counting) */
  uint32_t *grown;
  size_t ngrown, grown_cap;
} trainer;

static int pair_before(const trainer *tr, uint32_t p, uint32_t q) { /* same count: lexicographic */
  for (int side = 0; side < 2; side++) {
    int32_t a = side ? tr->right[p] : tr->left[p], b = side ? tr->right[q] : tr->left[q];
    if (a == b) continue;
    size_t na, nb;
    const char *sa = tok_bytes_of(tr->t, a, &na), *sb = tok_bytes_of(tr->t, b, &nb);
    int c = memcmp(sa, sb, na < nb ? na : nb);
    if (c) return c < 0;
    return na < nb;
  }
  return 0;
}

static int hent_above(const trainer *tr, struct hent x, struct hent y) {
  if (x.count != y.count) return x.count > y.count;
  return pair_before(tr, x.pair, y.pair);
}

static void heap_push(trainer *tr, int64_t count, uint32_t pair) {
  if (tr->nh == tr->hcap) {
    tr->hcap = tr->hcap ? 2 * tr->hcap : 1024;
    tr->heap = al_realloc(tr->heap, tr->hcap * sizeof *tr->heap);
  }
  struct hent v = {count, pair};
  size_t i = tr->nh++;
  while (i > 0 && hent_above(tr, v, tr->heap[(i - 1) / 2])) tr->heap[i] = tr->heap[(i - 1) / 2], i = (i - 1) / 2;
  tr->heap[i] = v;
}

static struct hent heap_pop(trainer *tr) {
  struct hent top = tr->heap[0], v = tr->heap[--tr->nh];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= tr->nh) break;
    if (c + 1 < tr->nh && hent_above(tr, tr->heap[c + 1], tr->heap[c])) c++;
    if (!hent_above(tr, tr->heap[c], v)) break;
    tr->heap[i] = tr->heap[c];
    i = c;
  }
  tr->heap[i] = v;
  return top;
}

/* Adds delta to pair (a, b) as seen in word w; a new pair gets w on its list. */
static void pair_add(trainer *tr, int32_t a, int32_t b, int64_t delta, int32_t w) {
  int ins;
  uint32_t *slot = tok_map64_put(&tr->index, tok_pair(a, b), (uint32_t)tr->np, &ins);
  uint32_t p = *slot;
  if (ins) {
    if (tr->np == tr->pcap) {
      tr->pcap = tr->pcap ? 2 * tr->pcap : 4096;
      tr->count = al_realloc(tr->count, tr->pcap * sizeof *tr->count);
      tr->left = al_realloc(tr->left, tr->pcap * sizeof *tr->left);
      tr->right = al_realloc(tr->right, tr->pcap * sizeof *tr->right);
      tr->head = al_realloc(tr->head, tr->pcap * sizeof *tr->head);
    }
    tr->count[p] = 0, tr->left[p] = a, tr->right[p] = b, tr->head[p] = -1;
    tr->np++;
  }
  tr->count[p] += delta;
  if (delta > 0 && !ins && (a == tr->reused || b == tr->reused)) {
    if (tr->ngrown == tr->grown_cap) {
      tr->grown_cap = tr->grown_cap ? 2 * tr->grown_cap : 256;
      tr->grown = al_realloc(tr->grown, tr->grown_cap * sizeof *tr->grown);
    }
    tr->grown[tr->ngrown++] = p;
  }
  int listed = tr->fresh < 0 || a == tr->fresh || b == tr->fresh; /* else w is on the list already */
  if (delta > 0 && listed && (tr->head[p] < 0 || tr->pool[tr->head[p]].word != w)) {
    if (tr->npool == tr->poolcap) {
      tr->poolcap = tr->poolcap ? 2 * tr->poolcap : 4096;
      tr->pool = al_realloc(tr->pool, tr->poolcap * sizeof *tr->pool);
    }
    tr->pool[tr->npool] = (occ){w, tr->head[p]};
    tr->head[p] = (int32_t)tr->npool++;
  }
}

static void word_pairs(trainer *tr, int32_t w, int64_t sign) {
  const int32_t *s = tr->sym + tr->woff[w];
  for (uint32_t i = 0; i + 1 < tr->wlen[w]; i++) pair_add(tr, s[i], s[i + 1], sign * tr->wcnt[w], w);
}

/* Merges (a, b) -> ab in word w, left to right without overlap, updating
 * only the pairs around each occurrence at i: (s[i-1], a), (a, b) and
 * (b, s[i+2]) go; (left neighbour, ab) and (ab, s[i+2]) come. Back-to-back
 * occurrences share the pair between them: the first removes it, the second
 * adds (ab, ab). */
static void word_merge(trainer *tr, int32_t w, int32_t a, int32_t b, int32_t ab) {
  int32_t *s = tr->sym + tr->woff[w];
  uint32_t n = tr->wlen[w], i = 0, o = 0;
  int64_t c = tr->wcnt[w];
  int prev_merged = 0; /* the last output symbol came from a merge ending at i - 1 */
  while (i < n) {
    if (i + 1 < n && s[i] == a && s[i + 1] == b) {
      if (o > 0 && !prev_merged) pair_add(tr, s[o - 1], a, -c, w); /* s[o - 1] is the original s[i - 1] */
      pair_add(tr, a, b, -c, w);
      if (i + 2 < n) pair_add(tr, b, s[i + 2], -c, w);
      if (o > 0) pair_add(tr, s[o - 1], ab, +c, w);
      int next_merges = i + 3 < n && s[i + 2] == a && s[i + 3] == b;
      if (i + 2 < n && !next_merges) pair_add(tr, ab, s[i + 2], +c, w);
      s[o++] = ab;
      i += 2;
      prev_merged = 1;
    } else {
      s[o++] = s[i++];
      prev_merged = 0;
    }
  }
  tr->wlen[w] = o;
}

/* Counts words of every document (text split at <|endoftext|>). */
static void count_words(const char *text, size_t len, tok_smap *words) {
  static const char EOT[] = "<|endoftext|>";
  tok_pretok *pre = tok_pretok_new();
  size_t doc = 0;
  while (doc <= len) {
    const char *hit = memmem(text + doc, len - doc, EOT, sizeof EOT - 1);
    size_t end = hit ? (size_t)(hit - text) : len, pos = 0, start, n;
    while ((n = tok_pretok_next(pre, text + doc, end - doc, &pos, &start)) > 0) {
      int ins;
      tok_sentry *e = tok_smap_put(words, text + doc + start, n, tok_hash_bytes(text + doc + start, n), &ins);
      e->v0++;
    }
    if (!hit) break;
    doc = end + sizeof EOT - 1;
  }
  tok_pretok_free(pre);
}

static void trainer_free(trainer *tr) {
  free(tr->sym), free(tr->woff), free(tr->wlen), free(tr->wcnt);
  tok_map64_free(&tr->index);
  free(tr->count), free(tr->left), free(tr->right), free(tr->head), free(tr->pool), free(tr->heap), free(tr->grown);
}

int al_tok_train(al_tok **out, const char *text, size_t len, int vocab_size, al_err *err) {
  *out = NULL;
  if (vocab_size < 257 || vocab_size > 65536)
    return al_fail(err, "BPE training: vocab_size %d is out of range 257..65536 (256 bytes + merges + <|endoftext|>)",
                   vocab_size);
  trainer tr = {0};
  tr.reused = tr.fresh = -1;
  char why[256];
  tr.t = tok_new();
  for (int b = 0; b < 256; b++) {
    char c = (char)b;
    tok_set(tr.t, b, &c, 1, 0, why, sizeof why);
  }
  tok_smap words;
  tok_smap_init(&words, 1 << 16);
  count_words(text, len, &words);
  tr.nw = words.n;
  tr.sym = al_malloc((words.keys.len + 1) * sizeof *tr.sym);
  tr.woff = al_malloc((tr.nw + 1) * sizeof *tr.woff);
  tr.wlen = al_malloc((tr.nw + 1) * sizeof *tr.wlen);
  tr.wcnt = al_malloc((tr.nw + 1) * sizeof *tr.wcnt);
  tok_map64_init(&tr.index, 1 << 16);
  size_t off = 0, w = 0;
  for (size_t i = 0; i < words.cap; i++) { /* slot order: a function of the words, so deterministic */
    const tok_sentry *e = &words.slot[i];
    if (!e->len) continue;
    const unsigned char *k = (const unsigned char *)tok_smap_key(&words, e);
    tr.woff[w] = off;
    tr.wlen[w] = e->len;
    tr.wcnt[w] = e->v0;
    for (uint32_t j = 0; j < e->len; j++) tr.sym[off + j] = k[j];
    off += e->len;
    word_pairs(&tr, (int32_t)w, +1);
    w++;
  }
  tok_smap_free(&words);
  for (size_t p = 0; p < tr.np; p++) heap_push(&tr, tr.count[p], (uint32_t)p);

  int ntok = 256;
  al_progress prog;
  al_progress_start(&prog, "bpe", (uint64_t)(vocab_size - 257), "merge");
  al_buf cat = {0};
  while (ntok < vocab_size - 1 && tr.nh) {
    struct hent top = heap_pop(&tr);
    if (top.count != tr.count[top.pair]) { /* stale: re-queue with the current count */
      if (tr.count[top.pair] > 0) heap_push(&tr, tr.count[top.pair], top.pair);
      continue;
    }
    if (top.count <= 0) break;
    int32_t a = tr.left[top.pair], b = tr.right[top.pair];
    size_t na, nb;
    const char *sa = tok_bytes_of(tr.t, a, &na);
    cat.len = 0;
    al_buf_append(&cat, sa, na);
    const char *sb = tok_bytes_of(tr.t, b, &nb);
    al_buf_append(&cat, sb, nb);
    const tok_sentry *e = tok_smap_get(&tr.t->by_bytes, cat.data, cat.len, tok_hash_bytes(cat.data, cat.len));
    int32_t ab = e ? (int32_t)e->v0 : ntok;
    if (!e) tok_set(tr.t, ntok++, cat.data, cat.len, 0, why, sizeof why);
    tok_add_merge(tr.t, a, b, why, sizeof why);
    size_t first_new = tr.np;
    tr.reused = e ? ab : -1;
    tr.fresh = ab;
    tr.ngrown = 0;
    for (int32_t o = tr.head[top.pair]; o >= 0; o = tr.pool[o].next) word_merge(&tr, tr.pool[o].word, a, b, ab);
    tr.count[top.pair] = 0; /* already 0: every occurrence was merged; never pick a pair twice */
    for (size_t p = first_new; p < tr.np; p++)
      if (tr.count[p] > 0) heap_push(&tr, tr.count[p], (uint32_t)p);
    for (size_t k = 0; k < tr.ngrown; k++) /* duplicates are harmless: a merged pair's count drops to 0 */
      if (tr.count[tr.grown[k]] > 0) heap_push(&tr, tr.count[tr.grown[k]], tr.grown[k]);
    al_progress_update(&prog, (uint64_t)(ntok - 256));
  }
  al_progress_finish(&prog);
  al_buf_free(&cat);
  static const char EOT[] = "<|endoftext|>";
  tok_set(tr.t, ntok, EOT, sizeof EOT - 1, 1, why, sizeof why);
  trainer_free(&tr);
  *out = tr.t;
  return 0;
}
