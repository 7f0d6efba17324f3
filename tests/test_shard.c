/* Token shards: alab round trips (uint16 and uint32), llm.c shards written by
 * hand from their documented header, every malformed-shard error, the vocab
 * check against a model, shard sets, and a fuzz of the header parser. */
#include "alab/data.h"
#include "test.h"

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static char *path_in(const char *dir, const char *name) { return al_path_join(dir, name); }

/* Writes bytes to a file (plain, the test's own writer). */
static void write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
  fclose(f);
}

static unsigned char *read_bytes(const char *path, size_t *n) {
  char *d;
  al_err err;
  if (al_read_file(path, &d, n, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    exit(2);
  }
  return (unsigned char *)d;
}

static void test_round_trip(const char *dir, int vocab, size_t n, uint64_t seed) {
  al_err err;
  al_rng r;
  al_rng_seed(&r, seed);
  int32_t eot = vocab - 1;
  int32_t *ids = al_malloc(n * sizeof *ids);
  for (size_t i = 0; i < n; i++) ids[i] = (int32_t)al_rng_below(&r, vocab);
  ids[n / 2] = vocab - 1; /* the extremes are present */
  ids[0] = 0;
  size_t ndocs = 0;
  for (size_t i = 0; i < n; i++) ndocs += ids[i] == eot;
  char *p = path_in(dir, vocab > 65536 ? "rt32.bin" : "rt16.bin");
  CHECK_OK(al_shard_write(p, ids, n, vocab, eot, &err), err);
  al_shard s;
  CHECK_OK(al_shard_open(&s, p, &err), err);
  int width = vocab > 65536 ? 4 : 2;
  CHECK(s.format == AL_SHARD_ALAB && s.version == 1, "format %d version %d", s.format, s.version);
  CHECK(s.vocab_size == vocab && s.eot == eot, "vocab %d eot %d", s.vocab_size, s.eot);
  CHECK(s.tokens.width == width && s.tokens.n == n, "width %d n %zu", s.tokens.width, s.tokens.n);
  CHECK(s.ndocs == ndocs, "ndocs %llu want %zu", (unsigned long long)s.ndocs, ndocs);
  CHECK(s.max_token == vocab - 1, "max token %d", s.max_token);
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += al_tokens_at(&s.tokens, i) != ids[i];
  CHECK(bad == 0, "%zu tokens differ after the round trip (vocab %d)", bad, vocab);
  /* the file is exactly the documented layout */
  size_t len;
  unsigned char *raw = read_bytes(p, &len);
  CHECK(len == AL_SHARD_HEADER + n * width, "file length %zu", len);
  CHECK(!memcmp(raw, "ALABTOK1", 8), "magic");
  uint32_t w32;
  memcpy(&w32, raw + 16, 4);
  CHECK(w32 == (uint32_t)width, "width field %u", w32);
  uint64_t n64;
  memcpy(&n64, raw + 24, 8);
  CHECK(n64 == n, "count field %llu", (unsigned long long)n64);
  if (width == 2) CHECK(raw[AL_SHARD_HEADER + 2 * (n / 2)] == (unsigned char)(vocab - 1), "little-endian token");
  CHECK_OK(al_shard_check_vocab(&s, vocab, &err), err);
  CHECK_OK(al_shard_check_vocab(&s, vocab + 47, &err), err); /* a padded vocabulary is fine */
  /* vocab-size mismatch names both numbers */
  CHECK_FAILS_WITH(al_shard_check_vocab(&s, vocab - 1, &err), err, "vocabulary size mismatch");
  char want[64];
  snprintf(want, sizeof want, "%d", vocab);
  CHECK(strstr(err.msg, want), "message names the shard's vocabulary: %s", err.msg);
  snprintf(want, sizeof want, "%d", vocab - 1);
  CHECK(strstr(err.msg, want), "message names the model's vocabulary: %s", err.msg);
  al_shard_close(&s);
  free(raw);
  free(ids);
  free(p);
}

/* An llm.c shard built byte by byte from its documented header. */
static unsigned char *llmc_bytes(const uint16_t *toks, int n, size_t *len) {
  *len = 1024 + 2 * (size_t)n;
  unsigned char *b = al_calloc(*len, 1);
  put32(b, 20240520);
  put32(b + 4, 1);
  put32(b + 8, (uint32_t)n);
  for (int i = 0; i < n; i++) {
    b[1024 + 2 * i] = (unsigned char)toks[i];
    b[1024 + 2 * i + 1] = (unsigned char)(toks[i] >> 8);
  }
  return b;
}

static void test_llmc(const char *dir) {
  al_err err;
  enum { N = 5000 };
  uint16_t toks[N];
  al_rng r;
  al_rng_seed(&r, 7);
  int neot = 0;
  for (int i = 0; i < N; i++) {
    toks[i] = i % 97 == 0 ? 50256 : (uint16_t)al_rng_below(&r, 50257);
    neot += toks[i] == 50256;
  }
  size_t len;
  unsigned char *b = llmc_bytes(toks, N, &len);
  char *p = path_in(dir, "tinystories_val.bin");
  write_bytes(p, b, len);
  al_shard s;
  CHECK_OK(al_shard_open(&s, p, &err), err);
  CHECK(s.format == AL_SHARD_LLMC && s.vocab_size == 0 && s.eot == 50256, "llm.c format %d vocab %d eot %d", s.format,
        s.vocab_size, s.eot);
  CHECK(s.tokens.n == N && s.tokens.width == 2, "n %zu", s.tokens.n);
  CHECK(s.ndocs == (uint64_t)neot, "docs %llu want %d", (unsigned long long)s.ndocs, neot);
  int bad = 0;
  for (int i = 0; i < N; i++) bad += al_tokens_at(&s.tokens, i) != toks[i];
  CHECK(bad == 0, "%d llm.c tokens read differently", bad);
  CHECK_OK(al_shard_check_vocab(&s, 50257, &err), err);
  CHECK_FAILS_WITH(al_shard_check_vocab(&s, 257, &err), err, "outside the model's vocabulary of 257");
  al_shard_close(&s);
  /* truncated: header count larger than the file */
  write_bytes(p, b, len - 2);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "truncated");
  CHECK(strstr(err.msg, "5000 tokens"), "names the header's count: %s", err.msg);
  write_bytes(p, b, 700);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "truncated llm.c token shard");
  put32(b + 4, 3);
  write_bytes(p, b, len);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "version 3");
  put32(b + 4, 1);
  put32(b + 8, 0x80000000u);
  write_bytes(p, b, len);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "negative token count");
  free(b);
  free(p);
}

static void test_errors(const char *dir) {
  al_err err;
  int32_t ids[100];
  for (int i = 0; i < 100; i++) ids[i] = i % 3 == 2 ? 256 : 'a' + i % 26;
  char *p = path_in(dir, "e.bin");
  CHECK_OK(al_shard_write(p, ids, 100, 257, 256, &err), err);
  size_t len;
  unsigned char *good = read_bytes(p, &len);
  unsigned char *b = al_malloc(len);
  al_shard s;
  /* truncated by one token, mid-token and inside the header */
  write_bytes(p, good, len - 2);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "truncated token shard");
  CHECK(strstr(err.msg, "100 tokens"), "names the count: %s", err.msg);
  write_bytes(p, good, len - 1);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "truncated");
  write_bytes(p, good, 40);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "truncated alab token shard");
  write_bytes(p, good, 3);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "not a token shard");
  write_bytes(p, good, 0);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "not a token shard");
  /* wrong magic */
  memcpy(b, good, len);
  b[3] = 'X';
  write_bytes(p, b, len);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "wrong magic");
  CHECK(strstr(err.msg, p), "names the file: %s", err.msg);
  /* trailing data */
  unsigned char *longer = al_calloc(len + 2, 1);
  memcpy(longer, good, len);
  write_bytes(p, longer, len + 2);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "trailing data");
  free(longer);
  /* bad header fields */
  memcpy(b, good, len);
  put32(b + 8, 2);
  write_bytes(p, b, len);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "version 2");
  memcpy(b, good, len);
  put32(b + 16, 3);
  write_bytes(p, b, len);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "token width 3");
  memcpy(b, good, len);
  put32(b + 12, 0);
  write_bytes(p, b, len);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "vocabulary size 0");
  memcpy(b, good, len);
  put32(b + 20, 900);
  write_bytes(p, b, len);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "end-of-text id 900");
  /* a token beyond the recorded vocabulary: a corrupt shard */
  memcpy(b, good, len);
  b[AL_SHARD_HEADER + 2 * 10 + 1] = 0x7f;
  write_bytes(p, b, len);
  CHECK_FAILS_WITH(al_shard_open(&s, p, &err), err, "position 10 is outside the shard's vocabulary of 257");
  /* a missing file */
  CHECK_FAILS_WITH(al_shard_open(&s, "/nonexistent/x.bin", &err), err, "/nonexistent/x.bin");
  /* the writer refuses tokens outside the vocabulary and leaves the old file */
  write_bytes(p, good, len);
  ids[50] = 257;
  CHECK_FAILS_WITH(al_shard_write(p, ids, 100, 257, 256, &err), err, "token 257 (position 50)");
  size_t len2;
  unsigned char *after = read_bytes(p, &len2);
  CHECK(len2 == len && !memcmp(after, good, len), "a failed write left the old shard intact");
  free(after);
  ids[50] = -1;
  CHECK_FAILS_WITH(al_shard_write(p, ids, 100, 257, 256, &err), err, "token -1");
  CHECK_FAILS_WITH(al_shard_write(p, ids, 100, 257, 257, &err), err, "end-of-text id 257");
  /* an empty shard is valid */
  CHECK_OK(al_shard_write(p, ids, 0, 257, 256, &err), err);
  CHECK_OK(al_shard_open(&s, p, &err), err);
  CHECK(s.tokens.n == 0 && s.max_token == -1, "empty shard n %zu", s.tokens.n);
  al_shard_close(&s);
  free(b);
  free(good);
  free(p);
}

static void test_set(const char *dir) {
  al_err err;
  int32_t a[10], b[7];
  for (int i = 0; i < 10; i++) a[i] = i;
  for (int i = 0; i < 7; i++) b[i] = 100 + i;
  char *pa = path_in(dir, "set_000.bin"), *pb = path_in(dir, "set_001.bin");
  CHECK_OK(al_shard_write(pb, b, 7, 257, 256, &err), err); /* written out of order: glob sorts */
  CHECK_OK(al_shard_write(pa, a, 10, 257, 256, &err), err);
  char *pat = path_in(dir, "set_*.bin");
  al_shard_set ss;
  CHECK_OK(al_shard_set_open(&ss, pat, &err), err);
  CHECK(ss.n == 2 && al_shard_set_ntokens(&ss) == 17, "set of %d shards, %llu tokens", ss.n,
        (unsigned long long)al_shard_set_ntokens(&ss));
  al_tokens *v = al_shard_set_tokens(&ss);
  CHECK(ss.n == 2 && al_tokens_at(&v[0], 3) == 3 && al_tokens_at(&v[1], 0) == 100, "sorted order");
  CHECK_OK(al_shard_set_check_vocab(&ss, 257, &err), err);
  CHECK_FAILS_WITH(al_shard_set_check_vocab(&ss, 100, &err), err, "vocabulary size mismatch");
  free(v);
  al_shard_set_close(&ss);
  char list[4096];
  snprintf(list, sizeof list, "%s,%s", pb, pa);
  CHECK_OK(al_shard_set_open(&ss, list, &err), err);
  CHECK(ss.n == 2 && ss.shards[0].tokens.n == 7, "a list keeps its order");
  al_shard_set_close(&ss);
  char *none = path_in(dir, "nothing_*.bin");
  CHECK_FAILS_WITH(al_shard_set_open(&ss, none, &err), err, "no file matches");
  /* shards of different vocabularies do not mix */
  char *pc = path_in(dir, "set_002.bin");
  CHECK_OK(al_shard_write(pc, a, 10, 300, 299, &err), err);
  CHECK_FAILS_WITH(al_shard_set_open(&ss, pat, &err), err, "does not match");
  free(pa);
  free(pb);
  free(pc);
  free(pat);
  free(none);
}

/* Random mutations of valid shards (both formats): flipped bytes, random
 * header words, truncation and extension. Parsing must fail cleanly or give a
 * shard whose every token can be read and is consistent with its header. */
static void test_fuzz(void) {
  al_err err;
  int32_t ids[300];
  for (int i = 0; i < 300; i++) ids[i] = (i * 37) % 257;
  uint16_t t16[300];
  for (int i = 0; i < 300; i++) t16[i] = (uint16_t)(i * 131);
  size_t llen;
  unsigned char *llmc = llmc_bytes(t16, 300, &llen);
  /* an alab shard image, built with the writer */
  char *dir = test_tmpdir("shard_fuzz");
  char *p = al_path_join(dir, "f.bin");
  if (al_shard_write(p, ids, 300, 257, 256, &err)) exit(2);
  size_t alen;
  unsigned char *alab = read_bytes(p, &alen);
  al_rng r;
  al_rng_seed(&r, 2024);
  int ok = 0, failed = 0, consistent = 1;
  for (int it = 0; it < 20000; it++) {
    const unsigned char *src = it & 1 ? llmc : alab;
    size_t n = it & 1 ? llen : alen;
    size_t m = n;
    int kind = (int)al_rng_below(&r, 4);
    if (kind == 0) m = al_rng_below(&r, n + 1);
    else if (kind == 1) m = n + al_rng_below(&r, 9);
    unsigned char *b = al_calloc(m ? m : 1, 1); /* exact size: ASan sees any overread */
    memcpy(b, src, m < n ? m : n);
    int nmut = 1 + (int)al_rng_below(&r, 4);
    for (int k = 0; k < nmut; k++) {
      size_t hdr = it & 1 ? 12 : 40;
      size_t at = al_rng_below(&r, 3) ? al_rng_below(&r, hdr) : al_rng_below(&r, m ? m : 1);
      if (at + 4 <= m && al_rng_below(&r, 2)) put32(b + at, (uint32_t)al_rng_u64(&r));
      else if (at < m) b[at] ^= (unsigned char)(1u << al_rng_below(&r, 8));
    }
    unsigned char *exact = b;
    al_shard s;
    if (al_shard_parse(&s, exact, m, "fuzz", &err) == 0) {
      ok++;
      int64_t sum = 0;
      for (size_t i = 0; i < s.tokens.n; i++) {
        int32_t t = al_tokens_at(&s.tokens, i);
        sum += t;
        if (s.vocab_size && (t < 0 || t >= s.vocab_size)) consistent = 0;
      }
      if ((const unsigned char *)s.tokens.data + s.tokens.n * s.tokens.width > exact + m) consistent = 0;
      (void)sum;
      al_shard_close(&s);
    } else {
      failed++;
      if (!err.msg[0]) consistent = 0;
    }
    free(b);
  }
  CHECK(consistent, "a fuzzed shard was accepted with tokens outside its vocabulary or its bounds");
  CHECK(ok > 100 && failed > 100, "fuzz exercised both outcomes: %d parsed, %d rejected", ok, failed);
  free(llmc);
  free(alab);
  free(p);
  free(dir);
}

int main(void) {
  char *dir = test_tmpdir("shard");
  test_round_trip(dir, 257, 10000, 1);     /* uint16 */
  test_round_trip(dir, 50257, 10000, 2);   /* uint16, GPT-2 size */
  test_round_trip(dir, 65536, 5000, 3);    /* the largest uint16 vocabulary */
  test_round_trip(dir, 100000, 10000, 4);  /* uint32 */
  test_llmc(dir);
  test_errors(dir);
  test_set(dir);
  test_fuzz();
  free(dir);
  return test_summary();
}
