/* llama2.c's tokenizer.bin: a SentencePiece BPE vocabulary with scores,
 * read, written and encoded as llama2.c's run.c does.
 *
 * File (little-endian): int32 max_token_length, then per id in order
 *   float32 score, int32 len, len bytes (the piece, SentencePiece's U+2581
 *   already replaced by a space; BOS is "\n<s>\n", EOS "\n</s>\n").
 * The file has no count: ids run to the end of the file.
 *
 * Encoding text (run.c's encode):
 *   1. at the start of a text (al_tok_encode_start) the "dummy prefix": the
 *      id of the piece " ", if the vocabulary has one, when text is non-empty;
 *   2. each UTF-8 code point becomes the id of its piece, or, when the code
 *      point is not a piece, one byte-fallback token <0xXX> per byte (bytes
 *      that are not valid UTF-8 are code points of their own);
 *   3. repeatedly, of all adjacent pairs whose concatenated pieces are a
 *      piece with score > -1e10, merge the one whose piece scores highest
 *      (the leftmost on ties), until none is left.
 * Step 3 runs on a max-heap of (score, position) over a linked list, so a
 * long text costs O(n log n) rather than run.c's O(n^2).
 *
 * Decoding: a piece "<0xXX>" is the byte XX, every other piece its bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "tok/tok_internal.h"

#define SP_MIN_SCORE (-1e10f) /* run.c's starting best score: pairs at or below it never merge */

struct tok_sp {
  float *score;          /* per id */
  al_buf pieces;         /* each id's piece as in the file */
  uint32_t *off, *len;   /* where */
  tok_smap piece;        /* piece -> id (v0); the first id on duplicates, as a linear search finds */
  int32_t byte_tok[256]; /* id of "<0xXX>", -1 if absent */
  int32_t space;         /* id of " ", -1 if absent */
  int max_len;
};

void tok_sp_free(tok_sp *sp) {
  if (!sp) return;
  free(sp->score);
  free(sp->off);
  free(sp->len);
  al_buf_free(&sp->pieces);
  tok_smap_free(&sp->piece);
  free(sp);
}

static int32_t sp_lookup(const tok_sp *sp, const char *s, size_t n) {
  const tok_sentry *e = tok_smap_get(&sp->piece, s, n, tok_hash_bytes(s, n));
  return e ? (int32_t)e->v0 : -1;
}

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "<0xXX>" (two upper- or lower-case hex digits) -> XX, else -1. */
static int byte_piece(const char *s, size_t n) {
  if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
  int hi = hex_digit(s[3]), lo = hex_digit(s[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static int le32(const unsigned char *p) { return (int)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24); }

int tok_parse_llama2c(al_tok **out, const unsigned char *d, size_t size, const char *path, al_err *err) {
  *out = NULL;
  if (size < 4) return al_fail(err, "%s: %zu bytes, too short for tokenizer.bin's header (int32 max_token_length)", path, size);
  int max_len = le32(d);
  if (max_len < 1 || max_len > 1 << 20)
    return al_fail(err, "%s: max_token_length %d in the header is not in 1..%d (not a llama2.c tokenizer.bin?)", path,
                   max_len, 1 << 20);
  al_tok *t = tok_new();
  tok_sp *sp = t->sp = al_calloc(1, sizeof *sp);
  sp->max_len = max_len;
  sp->space = -1;
  for (int b = 0; b < 256; b++) sp->byte_tok[b] = -1;
  tok_smap_init(&sp->piece, 1024);
  size_t pos = 4, cap = 0;
  int32_t id = 0;
  char why[160];
  for (; pos < size; id++) {
    if (size - pos < 8) {
      al_fail(err, "%s: id %d at byte %zu: the file ends inside its score and length", path, id, pos);
      goto fail;
    }
    float score;
    memcpy(&score, d + pos, 4);
    int len = le32(d + pos + 4);
    if (!isfinite(score) || len < 1 || len > max_len || (size_t)len > size - pos - 8) {
      al_fail(err, "%s: id %d at byte %zu: %s", path, id, pos,
              !isfinite(score) ? "the score is not finite"
              : len < 1 || len > max_len ? "the length is not in 1..max_token_length"
                                         : "the file ends inside the piece");
      goto fail;
    }
    const char *s = (const char *)d + pos + 8;
    pos += 8 + (size_t)len;
    if ((size_t)id >= cap) {
      cap = cap ? 2 * cap : 1024;
      sp->score = al_realloc(sp->score, cap * sizeof *sp->score);
      sp->off = al_realloc(sp->off, cap * sizeof *sp->off);
      sp->len = al_realloc(sp->len, cap * sizeof *sp->len);
    }
    sp->score[id] = score;
    sp->off[id] = (uint32_t)sp->pieces.len;
    sp->len[id] = (uint32_t)len;
    al_buf_append(&sp->pieces, s, (size_t)len);
    int ins;
    tok_sentry *e = tok_smap_put(&sp->piece, s, (size_t)len, tok_hash_bytes(s, (size_t)len), &ins);
    if (ins) e->v0 = (uint32_t)id;
    int b = byte_piece(s, (size_t)len);
    char c = (char)b;
    if (b >= 0 && sp->byte_tok[b] < 0) sp->byte_tok[b] = id;
    if (tok_set_bytes(t, id, b >= 0 ? &c : s, b >= 0 ? 1 : (size_t)len, why, sizeof why)) {
      al_fail(err, "%s: id %d: %s", path, id, why);
      goto fail;
    }
  }
  if (id < 3) {
    al_fail(err, "%s: %d tokens; llama2.c's vocabulary starts <unk>, <s>, </s> (ids 0, 1, 2)", path, id);
    goto fail;
  }
  sp->space = sp_lookup(sp, " ", 1);
  /* BOS (1) begins every text and, as in run.c, ends a generated one: it is
   * both the tokenizer's BOS and its end-of-text. */
  tok_make_special(t, 0);
  tok_make_special(t, 1);
  tok_make_special(t, 2);
  t->bos = t->eot = 1;
  *out = t;
  return 0;
fail:
  al_tok_free(t);
  return -1;
}

int al_tok_load_llama2c(al_tok **out, const char *path, al_err *err) {
  *out = NULL;
  char *d;
  size_t n;
  if (al_read_file(path, &d, &n, err)) return -1;
  int rc = tok_parse_llama2c(out, (const unsigned char *)d, n, path, err);
  free(d);
  return rc;
}

int tok_sp_save(const al_tok *t, const char *path, al_err *err) {
  const tok_sp *sp = t->sp;
  al_buf b = {0};
  int32_t v = sp->max_len;
  al_buf_append(&b, &v, 4);
  for (int32_t id = 0; id < t->n_ids; id++) {
    v = (int32_t)sp->len[id];
    al_buf_append(&b, &sp->score[id], 4);
    al_buf_append(&b, &v, 4);
    al_buf_append(&b, sp->pieces.data + sp->off[id], sp->len[id]);
  }
  int rc = al_write_file_atomic(path, b.data, b.len, err);
  al_buf_free(&b);
  return rc;
}

/* Max-heap order as one u64 (min-heap of the complement): higher score
 * first, then the lower position. */
static uint64_t heap_key(float score, uint32_t pos) {
  uint32_t u;
  memcpy(&u, &score, 4);
  u = u >> 31 ? ~u : u | 0x80000000u; /* monotone float -> u32 */
  return (uint64_t)~u << 32 | pos;
}

/* The id of piece(a) + piece(b), or -1 when it is no piece or scores too low. */
static int32_t merged(const tok_sp *sp, int32_t a, int32_t b, char *buf) {
  memcpy(buf, sp->pieces.data + sp->off[a], sp->len[a]);
  memcpy(buf + sp->len[a], sp->pieces.data + sp->off[b], sp->len[b]);
  int32_t id = sp_lookup(sp, buf, sp->len[a] + sp->len[b]);
  return id >= 0 && sp->score[id] > SP_MIN_SCORE ? id : -1;
}

static void push_pair(const tok_sp *sp, const int32_t *sym, int32_t i, int32_t j, char *buf, uint64_t *heap, size_t *nh) {
  int32_t id = merged(sp, sym[i], sym[j], buf);
  if (id >= 0) tok_heap_push(heap, nh, heap_key(sp->score[id], (uint32_t)i));
}

long tok_sp_encode(const al_tok *t, const char *text, size_t len, int prefix, int32_t *out, al_err *err) {
  const tok_sp *sp = t->sp;
  size_t cap = len + 1, n = 0;
  int32_t *sym = al_malloc(cap * sizeof *sym), *next = al_malloc(cap * sizeof *next);
  uint64_t *heap = al_malloc(3 * cap * sizeof *heap); /* n - 1 pairs, then at most 2 per merge */
  char *buf = al_malloc(2 * (size_t)sp->max_len);
  if (prefix && len && sp->space >= 0) sym[n++] = sp->space;
  for (size_t p = 0; p < len;) {
    uint32_t cp;
    int k = tok_utf8_decode((const unsigned char *)text + p, len - p, &cp);
    if (k == 0) k = 1;
    int32_t id = k <= sp->max_len ? sp_lookup(sp, text + p, (size_t)k) : -1;
    if (id >= 0) sym[n++] = id;
    for (int i = 0; id < 0 && i < k; i++) {
      unsigned char c = (unsigned char)text[p + i];
      if (sp->byte_tok[c] < 0) {
        free(sym), free(next), free(heap), free(buf);
        return al_fail(err, "encode: byte 0x%02X at offset %zu is not in the vocabulary and it has no <0x%02X> "
                            "byte-fallback token", c, p + i, c);
      }
      sym[n++] = sp->byte_tok[c];
    }
    p += (size_t)k;
  }
  size_t nh = 0;
  for (size_t i = 0; i < n; i++) next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
  for (size_t i = 0; i + 1 < n; i++) push_pair(sp, sym, (int32_t)i, (int32_t)i + 1, buf, heap, &nh);
  int32_t *prev = out; /* out has room for n ids: it holds each symbol's predecessor until the end */
  for (size_t i = 0; i < n; i++) prev[i] = (int32_t)i - 1;
  while (nh) {
    uint64_t top = tok_heap_pop(heap, &nh);
    int32_t i = (int32_t)(uint32_t)top, j = next[i];
    if (sym[i] < 0 || j < 0) continue;
    int32_t id = merged(sp, sym[i], sym[j], buf);
    if (id < 0 || heap_key(sp->score[id], (uint32_t)i) != top) continue; /* stale: the pair has changed */
    sym[i] = id;
    sym[j] = -1;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    if (prev[i] >= 0) push_pair(sp, sym, prev[i], i, buf, heap, &nh);
    if (next[i] >= 0) push_pair(sp, sym, i, next[i], buf, heap, &nh);
  }
  size_t m = 0;
  for (int32_t i = n ? 0 : -1; i >= 0; i = next[i]) out[m++] = sym[i];
  free(sym), free(next), free(heap), free(buf);
  return (long)m;
}
