/* Internals of the byte-level BPE tokenizer (src/tok/), shared by its files.
 *
 * A token is a byte string. Ids index a table of token bytes (tok_off/bytes);
 * merges are kept by rank (0 = applied first) as (left id, right id) -> merged
 * id, with a hash from the pair to its rank for encoding. Special tokens
 * (<|endoftext|>, or tokenizer.json added_tokens) are ordinary table entries
 * that the encoder recognises as whole strings only when asked. */
#ifndef ALAB_TOK_INTERNAL_H
#define ALAB_TOK_INTERNAL_H
#include <stdint.h>
#include <string.h>
#include "alab/base.h"
#include "alab/tok.h"

/* ---- hashing ---- */
static inline uint64_t tok_hash_bytes(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = 0x243F6A8885A308D3ull ^ (n * 0x9E3779B97F4A7C15ull);
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
    s += 8, n -= 8;
  }
  uint64_t w = 0;
  memcpy(&w, s, n);
  h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33; /* finalizer: every output bit depends on every input bit */
  h *= 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 33);
}
static inline uint64_t tok_hash_u64(uint64_t x) {
  x ^= x >> 32;
  x *= 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 32);
}
static inline uint64_t tok_pair(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

/* ---- a binary min-heap of u64 keys (the merge loops' queues) ---- */
static inline void tok_heap_push(uint64_t *h, size_t *n, uint64_t v) {
  size_t i = (*n)++;
  while (i > 0 && h[(i - 1) / 2] > v) h[i] = h[(i - 1) / 2], i = (i - 1) / 2;
  h[i] = v;
}
static inline uint64_t tok_heap_pop(uint64_t *h, size_t *n) {
  uint64_t top = h[0], v = h[--*n];
  size_t i = 0;
  for (size_t c; (c = 2 * i + 1) < *n; i = c) {
    if (c + 1 < *n && h[c + 1] < h[c]) c++;
    if (h[c] >= v) break;
    h[i] = h[c];
  }
  h[i] = v;
  return top;
}

/* ---- u64 -> u32 map, open addressing (key UINT64_MAX is reserved) ---- */
typedef struct { uint64_t *keys; uint32_t *vals; size_t cap, n; } tok_map64;
void tok_map64_init(tok_map64 *m, size_t expect);
void tok_map64_free(tok_map64 *m);
/* Returns a pointer to the value slot, inserting (value = init) if absent. */
uint32_t *tok_map64_put(tok_map64 *m, uint64_t key, uint32_t init, int *inserted);
static inline const uint32_t *tok_map64_get(const tok_map64 *m, uint64_t key) {
  size_t mask = m->cap - 1, i = tok_hash_u64(key) & mask;
  for (;; i = (i + 1) & mask) {
    if (m->keys[i] == key) return &m->vals[i];
    if (m->keys[i] == UINT64_MAX) return NULL;
  }
}

/* ---- byte-string -> (two u32 values) map ----
 * Entries live in the slots themselves (one cache miss per probe), key bytes
 * in an arena. Keys are non-empty; len == 0 marks an empty slot. Pointers to
 * entries are valid until the next put. */
typedef struct { uint64_t hash; uint32_t off, len, v0, v1; } tok_sentry;
typedef struct {
  tok_sentry *slot;
  size_t cap, n;
  al_buf keys;
} tok_smap;
void tok_smap_init(tok_smap *m, size_t expect);
void tok_smap_clear(tok_smap *m);
void tok_smap_free(tok_smap *m);
tok_sentry *tok_smap_put(tok_smap *m, const void *key, size_t len, uint64_t hash, int *inserted);
static inline tok_sentry *tok_smap_get(const tok_smap *m, const void *key, size_t len, uint64_t hash) {
  size_t mask = m->cap - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    tok_sentry *e = &m->slot[i];
    if (!e->len) return NULL;
    if (e->hash == hash && e->len == len && memcmp(m->keys.data + e->off, key, len) == 0) return e;
  }
}
static inline const char *tok_smap_key(const tok_smap *m, const tok_sentry *e) { return m->keys.data + e->off; }

/* ---- GPT-2 byte <-> unicode mapping and UTF-8 ---- */
/* Code point of byte b in vocab.json keys. */
int tok_byte_to_cp(int b);
/* Byte of a code point, or -1 if it is not in the mapping. */
int tok_cp_to_byte(uint32_t cp);
/* Decodes one UTF-8 code point at s (n bytes left); returns its length, or 0
 * if the bytes there are not valid UTF-8 (overlong, surrogate, > U+10FFFF). */
int tok_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
int tok_utf8_encode(uint32_t cp, char *out);
/* Offset of the first invalid UTF-8 byte, or n if all valid. */
size_t tok_utf8_check(const char *s, size_t n);
/* Converts a vocab key (mapped unicode) to raw bytes in *out; fails naming the
 * first character outside the mapping. */
int tok_key_to_bytes(const char *key, size_t n, al_buf *out, char *why, size_t why_len);
/* Appends the vocab-key form (mapped unicode) of raw bytes. */
void tok_bytes_to_key(const char *s, size_t n, al_buf *out);

/* ---- the tokenizer ---- */
struct al_tok {
  uint64_t serial;   /* unique per object; keys the per-thread encode caches */
  int n_ids;         /* vocab size = largest id + 1 */
  int ids_cap;
  uint32_t *tok_off, *tok_len; /* where each id's bytes are in `bytes` */
  uint8_t *present;  /* 1 if the id has a token (ids may have gaps) */
  uint8_t *special;  /* 1 for special tokens */
  al_buf bytes;      /* all token bytes */
  tok_smap by_bytes; /* token bytes -> id (non-special tokens) */
  int32_t byte_id[256];
  int n_merges, merges_cap;
  int32_t *m_left, *m_right, *m_id; /* by rank */
  tok_map64 rank;                  /* pair -> rank */
  int n_special;
  int32_t *special_ids;
  int32_t eot;
  void *pattern;     /* the pre-tokenizer pattern of a tokenizer.json Split (pcre2_code); NULL: GPT-2's */
  int pattern_jit;   /* pattern is JIT-compiled */
  int32_t bos;       /* begins a whole text (tokenizer.json's post-processor, tokenizer.bin's <s>); -1: none */
  struct tok_sp *sp; /* llama2.c's tokenizer.bin (sp.c); NULL: byte-level BPE */
};

/* Builder used by the loaders and the trainer. */
al_tok *tok_new(void);
/* Sets the token of an id; fails on a duplicate id or duplicate bytes. */
int tok_set(al_tok *t, int32_t id, const char *s, size_t n, int special, char *why, size_t why_len);
/* Puts bytes in the id's table slot only (no lookup by bytes; duplicates
 * allowed): tokenizer.bin's table, whose byte tokens decode to bytes that
 * other pieces also have. */
int tok_set_bytes(al_tok *t, int32_t id, const char *s, size_t n, char *why, size_t why_len);
/* Marks an existing id special (an added token that is also in the vocab). */
void tok_make_special(al_tok *t, int32_t id);
/* Appends a merge (ids must exist); fails if the merged bytes have no id. */
int tok_add_merge(al_tok *t, int32_t left, int32_t right, char *why, size_t why_len);
/* Checks the 256 byte tokens exist and finishes the tables. */
int tok_finish(al_tok *t, const char *where, al_err *err);
static inline const char *tok_bytes_of(const al_tok *t, int32_t id, size_t *n) {
  *n = t->tok_len[id];
  return t->bytes.data + t->tok_off[id];
}

/* The loaders on text in memory (the names are used in messages). */
int tok_parse_files(al_tok **out, const char *vocab_text, size_t vlen, const char *vocab_path, const char *merges_text,
                    size_t mlen, const char *merges_path, al_err *err);
int tok_parse_tokenizer_json(al_tok **out, const char *text, size_t len, const char *path, al_err *err);
/* tokenizer.json's normalizer, model.byte_fallback and pre_tokenizer: what
 * alab implements is accepted (a custom Split regex compiled into t), the
 * rest refused by name (pipeline.c). root is a json_t. */
int tok_read_pipeline(al_tok *t, const void *root, const char *path, al_err *err);

/* ---- llama2.c's tokenizer.bin (sp.c) ---- */
typedef struct tok_sp tok_sp;
void tok_sp_free(tok_sp *sp);
int tok_parse_llama2c(al_tok **out, const unsigned char *d, size_t size, const char *path, al_err *err);
int tok_sp_save(const al_tok *t, const char *path, al_err *err);
/* Encodes into out (room for len + 1 ids); prefix: the dummy-prefix space of
 * the start of a text. Returns the count, or -1. */
long tok_sp_encode(const al_tok *t, const char *text, size_t len, int prefix, int32_t *out, al_err *err);
/* tokenizer.json's post_processor: sets t->bos when it prepends one (post.c). */
int tok_read_post_processor(al_tok *t, const void *root, const char *path, al_err *err);
/* dir/tokenizer_config.json's "add_bos_token": true sets t->bos to its
 * "bos_token" (a string or {"content": ...}), which must be a token (post.c). */
int tok_read_add_bos(al_tok *t, const char *dir, al_err *err);

/* ---- pre-tokenizer (the GPT-2 pattern, or the tokenizer's own) ---- */
typedef struct tok_pretok tok_pretok;
tok_pretok *tok_pretok_new(void);
void tok_pretok_free(tok_pretok *p);
/* Next piece of s[0..n) at or after *pos under t's pattern (t NULL: GPT-2's):
 * returns its length and sets *start, or 0 at the end. Bytes the pattern does
 * not match (invalid UTF-8, or text a custom pattern leaves out) form pieces
 * of their own, one per maximal run. tok_pretok_next is GPT-2's. */
size_t tok_pretok_split(tok_pretok *p, const al_tok *t, const char *s, size_t n, size_t *pos, size_t *start);
size_t tok_pretok_next(tok_pretok *p, const char *s, size_t n, size_t *pos, size_t *start);
/* Compiles a pre-tokenizer regex into t->pattern (PCRE2, UTF + UCP); fails
 * with PCRE2's message and offset in why. */
int tok_pretok_compile(al_tok *t, const char *pattern, char *why, size_t why_len);
void tok_pretok_pattern_free(void *pattern);
#endif
