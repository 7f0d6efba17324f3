/* Token shards: alab's own format (written and read) and llm.c's (read).
 * The layouts are documented in include/alab/data.h. */
#include <stdlib.h>
#include <string.h>
#include "alab/data.h"

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void wr64(unsigned char *p, uint64_t v) {
  wr32(p, (uint32_t)v);
  wr32(p + 4, (uint32_t)(v >> 32));
}

/* Tokens are read in place, so the host must be little-endian (as x86 and
 * ARM Linux are); a big-endian host fails at compile time. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "token shards are read in place: little-endian hosts only");

/* The largest token and the number of EOT tokens, in one pass. */
static void scan_tokens(const al_tokens *v, int32_t eot, int32_t *max_token, uint64_t *neot) {
  int32_t mx = -1;
  uint64_t ne = 0;
  if (v->width == 2) {
    const uint16_t *t = v->data;
    for (size_t i = 0; i < v->n; i++) {
      mx = t[i] > mx ? t[i] : mx;
      ne += t[i] == eot;
    }
  } else {
    const uint32_t *t = v->data;
    for (size_t i = 0; i < v->n; i++) {
      int32_t x = t[i] > INT32_MAX ? INT32_MAX : (int32_t)t[i];
      mx = x > mx ? x : mx;
      ne += x == eot;
    }
  }
  *max_token = mx;
  *neot = ne;
}

/* The first token >= vocab (its index), or n when there is none. */
static size_t first_token_at_least(const al_tokens *v, int64_t vocab) {
  for (size_t i = 0; i < v->n; i++)
    if (al_tokens_at(v, i) < 0 || al_tokens_at(v, i) >= vocab) return i;
  return v->n;
}

static int parse_alab(al_shard *s, const unsigned char *p, size_t len, const char *where, al_err *err) {
  if (len < AL_SHARD_HEADER)
    return al_fail(err, "%s: truncated alab token shard: %zu bytes, the header alone is %d", where, len,
                   AL_SHARD_HEADER);
  uint32_t version = rd32(p + 8), vocab = rd32(p + 12), width = rd32(p + 16);
  int32_t eot = (int32_t)rd32(p + 20);
  uint64_t n = rd64(p + 24), ndocs = rd64(p + 32);
  if (version != 1) return al_fail(err, "%s: alab token shard version %u is not supported (this alab reads 1)", where, version);
  if (width != 2 && width != 4) return al_fail(err, "%s: token width %u bytes in the header (must be 2 or 4)", where, width);
  if (vocab == 0 || vocab > (uint32_t)INT32_MAX || (width == 2 && vocab > 65536))
    return al_fail(err, "%s: vocabulary size %u in the header is invalid for %u-byte tokens", where, vocab, width);
  if (eot < -1 || eot >= (int64_t)vocab)
    return al_fail(err, "%s: end-of-text id %d in the header is outside the vocabulary of %u", where, eot, vocab);
  size_t avail = (len - AL_SHARD_HEADER) / width;
  if (n > avail || (len - AL_SHARD_HEADER) % width)
    return al_fail(err, "%s: truncated token shard: the header says %llu tokens (%llu bytes) but the file holds %zu bytes of tokens",
                   where, (unsigned long long)n, (unsigned long long)n * width, len - AL_SHARD_HEADER);
  if (n < avail)
    return al_fail(err, "%s: the header says %llu tokens but the file holds %zu (trailing data?)", where,
                   (unsigned long long)n, avail);
  s->format = AL_SHARD_ALAB;
  s->version = (int)version;
  s->vocab_size = (int)vocab;
  s->eot = eot;
  s->tokens = (al_tokens){p + AL_SHARD_HEADER, (int)width, (size_t)n};
  uint64_t neot;
  scan_tokens(&s->tokens, eot, &s->max_token, &neot);
  if (s->max_token >= (int32_t)vocab) {
    size_t at = first_token_at_least(&s->tokens, vocab);
    return al_fail(err, "%s: token %d at position %zu is outside the shard's vocabulary of %u (corrupt shard)", where,
                   al_tokens_at(&s->tokens, at), at, vocab);
  }
  if (ndocs > n) return al_fail(err, "%s: the header says %llu documents in %llu tokens", where, (unsigned long long)ndocs, (unsigned long long)n);
  s->ndocs = ndocs;
  return 0;
}

static int parse_llmc(al_shard *s, const unsigned char *p, size_t len, const char *where, al_err *err) {
  if (len < AL_LLMC_HEADER)
    return al_fail(err, "%s: truncated llm.c token shard: %zu bytes, the header alone is %d", where, len, AL_LLMC_HEADER);
  int32_t version = (int32_t)rd32(p + 4), count = (int32_t)rd32(p + 8);
  if (version != 1) return al_fail(err, "%s: llm.c token shard version %d is not supported (expected 1)", where, version);
  if (count < 0) return al_fail(err, "%s: llm.c token shard has a negative token count %d", where, count);
  size_t avail = (len - AL_LLMC_HEADER) / 2;
  if ((uint64_t)count > avail || (len - AL_LLMC_HEADER) % 2)
    return al_fail(err, "%s: truncated token shard: the header says %d tokens (%llu bytes) but the file holds %zu bytes of tokens",
                   where, count, 2ULL * count, len - AL_LLMC_HEADER);
  if ((uint64_t)count < avail)
    return al_fail(err, "%s: the header says %d tokens but the file holds %zu (trailing data?)", where, count, avail);
  s->format = AL_SHARD_LLMC;
  s->version = version;
  s->vocab_size = 0;
  s->eot = AL_LLMC_EOT;
  s->tokens = (al_tokens){p + AL_LLMC_HEADER, 2, (size_t)count};
  scan_tokens(&s->tokens, s->eot, &s->max_token, &s->ndocs);
  return 0;
}

int al_shard_parse(al_shard *s, const void *data, size_t len, const char *where, al_err *err) {
  memset(s, 0, sizeof *s);
  s->path = al_strdup(where);
  const unsigned char *p = data;
  int rc;
  if (len >= 8 && !memcmp(p, AL_SHARD_MAGIC, 8)) rc = parse_alab(s, p, len, where, err);
  else if (len >= 4 && rd32(p) == AL_LLMC_MAGIC) rc = parse_llmc(s, p, len, where, err);
  else if (len < 8) rc = al_fail(err, "%s: not a token shard: only %zu bytes", where, len);
  else
    rc = al_fail(err, "%s: not a token shard: wrong magic (expected \"%s\" or llm.c's %d; tokenize text with "
                 "`alab data tokenize`)", where, AL_SHARD_MAGIC, AL_LLMC_MAGIC);
  if (rc) {
    free(s->path);
    s->path = NULL;
  }
  return rc;
}

int al_shard_open(al_shard *s, const char *path, al_err *err) {
  al_map m;
  if (al_map_file(path, &m, err)) return -1;
  if (al_shard_parse(s, m.data, m.len, path, err)) {
    al_unmap(&m);
    return -1;
  }
  s->map = m;
  return 0;
}

void al_shard_close(al_shard *s) {
  al_unmap(&s->map);
  free(s->path);
  memset(s, 0, sizeof *s);
}

int al_shard_check_vocab(const al_shard *s, int vocab_size, al_err *err) {
  if (s->vocab_size > vocab_size)
    return al_fail(err, "%s: vocabulary size mismatch: the shard was tokenized with a vocabulary of %d tokens but the model has %d",
                   s->path, s->vocab_size, vocab_size);
  if (s->max_token >= vocab_size) {
    size_t at = first_token_at_least(&s->tokens, vocab_size);
    return al_fail(err, "%s: vocabulary size mismatch: token %d at position %zu is outside the model's vocabulary of %d "
                   "(the shard needs at least %d)", s->path, al_tokens_at(&s->tokens, at), at, vocab_size,
                   s->max_token + 1);
  }
  return 0;
}

/* ---- writing ---- */

static void header_bytes(unsigned char h[AL_SHARD_HEADER], const al_shard_writer *w) {
  memset(h, 0, AL_SHARD_HEADER);
  memcpy(h, AL_SHARD_MAGIC, 8);
  wr32(h + 8, 1);
  wr32(h + 12, (uint32_t)w->vocab_size);
  wr32(h + 16, (uint32_t)w->width);
  wr32(h + 20, (uint32_t)w->eot);
  wr64(h + 24, w->ntokens);
  wr64(h + 32, w->ndocs);
}

int al_shard_writer_open(al_shard_writer *w, const char *path, int vocab_size, int32_t eot, al_err *err) {
  memset(w, 0, sizeof *w);
  if (vocab_size <= 0) return al_fail(err, "%s: vocabulary size %d must be positive", path, vocab_size);
  if (eot < -1 || eot >= vocab_size) return al_fail(err, "%s: end-of-text id %d outside the vocabulary of %d", path, eot, vocab_size);
  w->vocab_size = vocab_size;
  w->width = vocab_size <= 65536 ? 2 : 4;
  w->eot = eot;
  if (al_atomic_open(&w->a, path, err)) return -1;
  unsigned char h[AL_SHARD_HEADER];
  header_bytes(h, w); /* placeholder counts; rewritten on commit */
  if (fwrite(h, 1, sizeof h, w->a.f) != sizeof h) {
    al_atomic_abort(&w->a);
    return al_fail(err, "%s: cannot write the shard header", path);
  }
  return 0;
}

int al_shard_writer_append(al_shard_writer *w, const int32_t *ids, size_t n, al_err *err) {
  unsigned char buf[8192];
  size_t per = sizeof buf / w->width;
  for (size_t i = 0; i < n; i += per) {
    size_t m = n - i < per ? n - i : per;
    for (size_t k = 0; k < m; k++) {
      int32_t t = ids[i + k];
      if (t < 0 || t >= w->vocab_size)
        return al_fail(err, "%s: token %d (position %llu) is outside the vocabulary of %d", w->a.path, t,
                       (unsigned long long)(w->ntokens + k), w->vocab_size);
      w->ndocs += t == w->eot;
      if (w->width == 2) {
        buf[2 * k] = (unsigned char)t;
        buf[2 * k + 1] = (unsigned char)(t >> 8);
      } else wr32(buf + 4 * k, (uint32_t)t);
    }
    if (fwrite(buf, w->width, m, w->a.f) != m) return al_fail(err, "%s: write failed (disk full?)", w->a.path);
    w->ntokens += m;
  }
  return 0;
}

int al_shard_writer_commit(al_shard_writer *w, al_err *err) {
  unsigned char h[AL_SHARD_HEADER];
  header_bytes(h, w);
  if (fseek(w->a.f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof h, w->a.f) != sizeof h) {
    al_fail(err, "%s: cannot rewrite the shard header", w->a.path);
    al_atomic_abort(&w->a);
    return -1;
  }
  return al_atomic_commit(&w->a, err);
}

void al_shard_writer_abort(al_shard_writer *w) { al_atomic_abort(&w->a); }

int al_shard_write(const char *path, const int32_t *ids, size_t n, int vocab_size, int32_t eot, al_err *err) {
  al_shard_writer w;
  if (al_shard_writer_open(&w, path, vocab_size, eot, err)) return -1;
  if (al_shard_writer_append(&w, ids, n, err)) {
    al_shard_writer_abort(&w);
    return -1;
  }
  return al_shard_writer_commit(&w, err);
}

/* ---- several shards ---- */

static int set_add(al_shard_set *ss, const char *path, al_err *err) {
  ss->shards = al_realloc(ss->shards, (ss->n + 1) * sizeof *ss->shards);
  al_shard *s = &ss->shards[ss->n];
  if (al_shard_open(s, path, err)) return -1;
  ss->n++;
  const al_shard *a = &ss->shards[0];
  if (s->format != a->format || s->eot != a->eot || s->vocab_size != a->vocab_size)
    return al_fail(err, "%s: does not match %s (format, vocabulary size or end-of-text id differ)", s->path, a->path);
  return 0;
}

int al_shard_set_open(al_shard_set *ss, const char *spec, al_err *err) {
  memset(ss, 0, sizeof *ss);
  al_paths p;
  if (al_paths_expand(&p, spec, err)) return -1;
  int rc = 0;
  for (int i = 0; i < p.n && !rc; i++) rc = set_add(ss, p.paths[i], err);
  al_paths_free(&p);
  if (rc) al_shard_set_close(ss);
  return rc;
}

void al_shard_set_close(al_shard_set *ss) {
  for (int i = 0; i < ss->n; i++) al_shard_close(&ss->shards[i]);
  free(ss->shards);
  memset(ss, 0, sizeof *ss);
}

al_tokens *al_shard_set_tokens(const al_shard_set *ss) {
  al_tokens *v = al_malloc((ss->n ? ss->n : 1) * sizeof *v);
  for (int i = 0; i < ss->n; i++) v[i] = ss->shards[i].tokens;
  return v;
}

uint64_t al_shard_set_ntokens(const al_shard_set *ss) {
  uint64_t n = 0;
  for (int i = 0; i < ss->n; i++) n += ss->shards[i].tokens.n;
  return n;
}

int al_shard_set_check_vocab(const al_shard_set *ss, int vocab_size, al_err *err) {
  for (int i = 0; i < ss->n; i++)
    if (al_shard_check_vocab(&ss->shards[i], vocab_size, err)) return -1;
  return 0;
}
