/* Hash maps of the tokenizer: u64 -> u32 (merge pairs) and byte string -> two
 * u32 values (token lookup, the encode cache, training word counts). Open
 * addressing with linear probing; capacities are powers of two, load <= 1/2. */
#include <stdlib.h>
#include "tok/tok_internal.h"

static size_t pow2_at_least(size_t n) {
  size_t c = 16;
  while (c < n) c *= 2;
  return c;
}

void tok_map64_init(tok_map64 *m, size_t expect) {
  m->cap = pow2_at_least(expect * 2);
  m->n = 0;
  m->keys = al_malloc(m->cap * sizeof *m->keys);
  m->vals = al_malloc(m->cap * sizeof *m->vals);
  memset(m->keys, 0xff, m->cap * sizeof *m->keys);
}

void tok_map64_free(tok_map64 *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

static void map64_grow(tok_map64 *m) {
  tok_map64 g;
  tok_map64_init(&g, m->cap);
  for (size_t i = 0; i < m->cap; i++) {
    if (m->keys[i] == UINT64_MAX) continue;
    size_t j = tok_hash_u64(m->keys[i]) & (g.cap - 1);
    while (g.keys[j] != UINT64_MAX) j = (j + 1) & (g.cap - 1);
    g.keys[j] = m->keys[i];
    g.vals[j] = m->vals[i];
  }
  g.n = m->n;
  tok_map64_free(m);
  *m = g;
}

uint32_t *tok_map64_put(tok_map64 *m, uint64_t key, uint32_t init, int *inserted) {
  if (2 * (m->n + 1) > m->cap) map64_grow(m);
  size_t mask = m->cap - 1, i = tok_hash_u64(key) & mask;
  for (;; i = (i + 1) & mask) {
    if (m->keys[i] == key) {
      if (inserted) *inserted = 0;
      return &m->vals[i];
    }
    if (m->keys[i] == UINT64_MAX) break;
  }
  m->keys[i] = key;
  m->vals[i] = init;
  m->n++;
  if (inserted) *inserted = 1;
  return &m->vals[i];
}

void tok_smap_init(tok_smap *m, size_t expect) {
  memset(m, 0, sizeof *m);
  m->cap = pow2_at_least(expect * 2);
  m->slot = al_calloc(m->cap, sizeof *m->slot);
}

void tok_smap_clear(tok_smap *m) {
  memset(m->slot, 0, m->cap * sizeof *m->slot);
  m->n = 0;
  m->keys.len = 0;
}

void tok_smap_free(tok_smap *m) {
  free(m->slot);
  al_buf_free(&m->keys);
  memset(m, 0, sizeof *m);
}

static void smap_grow(tok_smap *m) {
  size_t cap = m->cap * 2;
  tok_sentry *slot = al_calloc(cap, sizeof *slot);
  for (size_t k = 0; k < m->cap; k++) {
    if (!m->slot[k].len) continue;
    size_t i = m->slot[k].hash & (cap - 1);
    while (slot[i].len) i = (i + 1) & (cap - 1);
    slot[i] = m->slot[k];
  }
  free(m->slot);
  m->slot = slot;
  m->cap = cap;
}

tok_sentry *tok_smap_put(tok_smap *m, const void *key, size_t len, uint64_t hash, int *inserted) {
  tok_sentry *e = tok_smap_get(m, key, len, hash);
  if (e) {
    *inserted = 0;
    return e;
  }
  if (2 * (m->n + 1) > m->cap) smap_grow(m);
  size_t mask = m->cap - 1, i = hash & mask;
  while (m->slot[i].len) i = (i + 1) & mask;
  e = &m->slot[i];
  *e = (tok_sentry){hash, (uint32_t)m->keys.len, (uint32_t)len, 0, 0};
  m->n++;
  al_buf_append(&m->keys, key, len);
  *inserted = 1;
  return e;
}
