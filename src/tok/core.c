/* The tokenizer object: token table, merges, the byte tokenizer, accessors
 * and decoding. Loaders (load.c) and the trainer (train.c) fill it through
 * tok_set / tok_add_merge / tok_finish. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "tok/tok_internal.h"

#define TOK_MAX_ID (1 << 24)
static const char EOT[] = "<|endoftext|>";

al_tok *tok_new(void) {
  static atomic_ulong next_serial = 1;
  al_tok *t = al_calloc(1, sizeof *t);
  t->serial = atomic_fetch_add(&next_serial, 1);
  t->eot = t->bos = -1;
  for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
  tok_smap_init(&t->by_bytes, 1024);
  tok_map64_init(&t->rank, 1024);
  al_buf_append(&t->bytes, "", 0);
  return t;
}

void al_tok_free(al_tok *t) {
  if (!t) return;
  free(t->tok_off);
  free(t->tok_len);
  free(t->present);
  free(t->special);
  al_buf_free(&t->bytes);
  tok_smap_free(&t->by_bytes);
  free(t->m_left);
  free(t->m_right);
  free(t->m_id);
  tok_map64_free(&t->rank);
  free(t->special_ids);
  tok_pretok_pattern_free(t->pattern);
  tok_sp_free(t->sp);
  free(t);
}

int tok_set_bytes(al_tok *t, int32_t id, const char *s, size_t n, char *why, size_t why_len) {
  if (id < 0 || id >= TOK_MAX_ID) return snprintf(why, why_len, "id %d is out of range 0..%d", id, TOK_MAX_ID - 1), -1;
  if (n == 0) return snprintf(why, why_len, "id %d has an empty token", id), -1;
  if (id >= t->ids_cap) {
    int cap = t->ids_cap ? t->ids_cap : 512;
    while (cap <= id) cap *= 2;
    t->tok_off = al_realloc(t->tok_off, (size_t)cap * sizeof *t->tok_off);
    t->tok_len = al_realloc(t->tok_len, (size_t)cap * sizeof *t->tok_len);
    t->present = al_realloc(t->present, (size_t)cap);
    t->special = al_realloc(t->special, (size_t)cap);
    memset(t->present + t->ids_cap, 0, (size_t)(cap - t->ids_cap));
    memset(t->special + t->ids_cap, 0, (size_t)(cap - t->ids_cap));
    for (int i = t->ids_cap; i < cap; i++) t->tok_off[i] = t->tok_len[i] = 0;
    t->ids_cap = cap;
  }
  if (t->present[id]) return snprintf(why, why_len, "duplicate id %d", id), -1;
  t->present[id] = 1;
  t->tok_off[id] = (uint32_t)t->bytes.len;
  t->tok_len[id] = (uint32_t)n;
  al_buf_append(&t->bytes, s, n);
  if (id >= t->n_ids) t->n_ids = id + 1;
  return 0;
}

int tok_set(al_tok *t, int32_t id, const char *s, size_t n, int special, char *why, size_t why_len) {
  if (id >= 0 && id < t->ids_cap && t->present[id]) return snprintf(why, why_len, "duplicate id %d", id), -1;
  if (!special && n) {
    int ins;
    tok_sentry *e = tok_smap_put(&t->by_bytes, s, n, tok_hash_bytes(s, n), &ins);
    if (!ins) return snprintf(why, why_len, "id %d has the same token as id %u", id, e->v0), -1;
    if (tok_set_bytes(t, id, s, n, why, why_len)) return -1; /* leaves the map entry: the tokenizer is freed on error */
    e = tok_smap_get(&t->by_bytes, s, n, tok_hash_bytes(s, n));
    e->v0 = (uint32_t)id;
    if (n == 1) t->byte_id[(unsigned char)s[0]] = id;
    return 0;
  }
  if (tok_set_bytes(t, id, s, n, why, why_len)) return -1;
  if (special) tok_make_special(t, id);
  return 0;
}

void tok_make_special(al_tok *t, int32_t id) {
  if (t->special[id]) return;
  t->special[id] = 1;
  t->special_ids = al_realloc(t->special_ids, (size_t)(t->n_special + 1) * sizeof *t->special_ids);
  t->special_ids[t->n_special++] = id;
  size_t n;
  const char *s = tok_bytes_of(t, id, &n);
  if (n == sizeof EOT - 1 && memcmp(s, EOT, n) == 0) t->eot = id;
}

int tok_add_merge(al_tok *t, int32_t left, int32_t right, char *why, size_t why_len) {
  size_t nl, nr;
  const char *l = tok_bytes_of(t, left, &nl), *r = tok_bytes_of(t, right, &nr);
  char small[256], *cat = nl + nr <= sizeof small ? small : al_malloc(nl + nr);
  memcpy(cat, l, nl);
  memcpy(cat + nl, r, nr);
  const tok_sentry *e = tok_smap_get(&t->by_bytes, cat, nl + nr, tok_hash_bytes(cat, nl + nr));
  if (cat != small) free(cat);
  if (!e) return snprintf(why, why_len, "the merged token (ids %d + %d) is not in the vocabulary", left, right), -1;
  int ins;
  uint32_t *rank = tok_map64_put(&t->rank, tok_pair(left, right), (uint32_t)t->n_merges, &ins);
  if (!ins) return snprintf(why, why_len, "duplicate merge (first at rank %u)", *rank), -1;
  if (t->n_merges == t->merges_cap) {
    t->merges_cap = t->merges_cap ? 2 * t->merges_cap : 1024;
    t->m_left = al_realloc(t->m_left, (size_t)t->merges_cap * sizeof *t->m_left);
    t->m_right = al_realloc(t->m_right, (size_t)t->merges_cap * sizeof *t->m_right);
    t->m_id = al_realloc(t->m_id, (size_t)t->merges_cap * sizeof *t->m_id);
  }
  t->m_left[t->n_merges] = left;
  t->m_right[t->n_merges] = right;
  t->m_id[t->n_merges] = (int32_t)e->v0;
  t->n_merges++;
  return 0;
}

int tok_finish(al_tok *t, const char *where, al_err *err) {
  for (int b = 0; b < 256; b++)
    if (t->byte_id[b] < 0) {
      al_buf key = {0};
      char c = (char)b;
      tok_bytes_to_key(&c, 1, &key);
      int rc = al_fail(err, "%s: the vocabulary lacks the single-byte token for byte 0x%02X (key \"%s\")", where, b, key.data);
      al_buf_free(&key);
      return rc;
    }
  return 0;
}

al_tok *al_tok_byte(void) {
  al_tok *t = tok_new();
  char why[128];
  for (int b = 0; b < 256; b++) {
    char c = (char)b;
    tok_set(t, b, &c, 1, 0, why, sizeof why);
  }
  tok_set(t, 256, EOT, sizeof EOT - 1, 1, why, sizeof why);
  return t;
}

int al_tok_vocab_size(const al_tok *t) { return t->n_ids; }
int al_tok_eot(const al_tok *t) { return t->eot; }
int al_tok_bos(const al_tok *t) { return t->bos; }
int al_tok_n_merges(const al_tok *t) { return t->n_merges; }

int al_tok_merge(const al_tok *t, int rank, int32_t *left, int32_t *right, int32_t *merged) {
  if (rank < 0 || rank >= t->n_merges) return -1;
  *left = t->m_left[rank];
  *right = t->m_right[rank];
  *merged = t->m_id[rank];
  return 0;
}

int al_tok_is_special(const al_tok *t, int32_t id) { return id >= 0 && id < t->n_ids && t->special[id]; }

const char *al_tok_token(const al_tok *t, int32_t id, size_t *len) {
  if (id < 0 || id >= t->n_ids || !t->present[id]) return NULL;
  return tok_bytes_of(t, id, len);
}

int al_tok_decode(const al_tok *t, const int32_t *ids, size_t n, char **out, size_t *len, al_err *err) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= t->n_ids || !t->present[ids[i]])
      return al_fail(err, "decode: token id %d at position %zu is not in the vocabulary (size %d)", ids[i], i,
                     t->n_ids);
    total += t->tok_len[ids[i]];
  }
  char *s = al_malloc(total + 1), *p = s;
  for (size_t i = 0; i < n; i++) {
    memcpy(p, t->bytes.data + t->tok_off[ids[i]], t->tok_len[ids[i]]);
    p += t->tok_len[ids[i]];
  }
  *p = 0;
  *out = s;
  if (len) *len = total;
  return 0;
}
