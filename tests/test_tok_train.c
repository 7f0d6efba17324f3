#define _GNU_SOURCE /* memmem */
/* BPE training against a brute-force reference (rescan every pair count at
 * every merge, same tie rule: highest count, then the left token's bytes
 * lexicographically smallest, then the right's), merge for merge; vocabulary
 * size limits; and save/load round trips of trained and byte tokenizers. */
#include "alab/tok.h"
#include "test.h"
#include "tok/tok_internal.h"
#include "tok_text.h"

#define RV 1024 /* reference vocab limit */

typedef struct {
  int n;
  al_buf tok[RV];
  int nm, ml[RV * 2], mr[RV * 2], mid[RV * 2];
  int reused; /* merges whose bytes were already a token */
} ref_bpe;

static int total_reused;

static int bytes_less(const al_buf *a, const al_buf *b) {
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->data, b->data, n);
  return c ? c < 0 : a->len < b->len;
}

/* The reference: words are the pieces of each <|endoftext|>-separated document. */
static void ref_train(ref_bpe *r, const char *text, size_t len, int vocab) {
  int nw = 0, cap = 1024;
  int32_t **w = al_malloc(cap * sizeof *w);
  size_t *wl = al_malloc(cap * sizeof *wl);
  tok_pretok *pre = tok_pretok_new();
  size_t doc = 0;
  for (;;) {
    const char *hit = memmem(text + doc, len - doc, "<|endoftext|>", 13);
    size_t end = hit ? (size_t)(hit - text) : len, pos = 0, start, n;
    while ((n = tok_pretok_next(pre, text + doc, end - doc, &pos, &start)) > 0) {
      if (nw == cap) cap *= 2, w = al_realloc(w, cap * sizeof *w), wl = al_realloc(wl, cap * sizeof *wl);
      w[nw] = al_malloc(n * sizeof **w);
      for (size_t i = 0; i < n; i++) w[nw][i] = (unsigned char)text[doc + start + i];
      wl[nw++] = n;
    }
    if (!hit) break;
    doc = end + 13;
  }
  tok_pretok_free(pre);
  memset(r, 0, sizeof *r);
  for (int b = 0; b < 256; b++) {
    char c = (char)b;
    al_buf_append(&r->tok[b], &c, 1);
  }
  r->n = 256;
  int64_t *count = al_malloc((size_t)RV * RV * sizeof *count);
  while (r->n < vocab - 1) {
    memset(count, 0, (size_t)RV * RV * sizeof *count);
    for (int k = 0; k < nw; k++)
      for (size_t i = 0; i + 1 < wl[k]; i++) count[w[k][i] * RV + w[k][i + 1]]++;
    int ba = -1, bb = -1;
    int64_t best = 0;
    for (int a = 0; a < r->n; a++)
      for (int b = 0; b < r->n; b++) {
        int64_t c = count[a * RV + b];
        if (c == 0 || c < best) continue;
        if (c > best || bytes_less(&r->tok[a], &r->tok[ba]) ||
            (a == ba && bytes_less(&r->tok[b], &r->tok[bb])))
          best = c, ba = a, bb = b;
      }
    if (best == 0) break;
    al_buf cat = {0};
    al_buf_append(&cat, r->tok[ba].data, r->tok[ba].len);
    al_buf_append(&cat, r->tok[bb].data, r->tok[bb].len);
    int id = -1;
    for (int k = 0; k < r->n; k++)
      if (r->tok[k].len == cat.len && !memcmp(r->tok[k].data, cat.data, cat.len)) id = k;
    if (id < 0) r->tok[id = r->n++] = cat;
    else al_buf_free(&cat), r->reused++;
    r->ml[r->nm] = ba, r->mr[r->nm] = bb, r->mid[r->nm++] = id;
    for (int k = 0; k < nw; k++) {
      size_t o = 0;
      for (size_t i = 0; i < wl[k];) {
        if (i + 1 < wl[k] && w[k][i] == ba && w[k][i + 1] == bb) w[k][o++] = id, i += 2;
        else w[k][o++] = w[k][i++];
      }
      wl[k] = o;
    }
  }
  free(count);
  for (int k = 0; k < nw; k++) free(w[k]);
  free(w), free(wl);
}

static void ref_free(ref_bpe *r) {
  for (int k = 0; k < r->n; k++) al_buf_free(&r->tok[k]);
}

static void check_against_reference(const char *name, const char *text, size_t len, int vocab) {
  al_err err;
  al_tok *t = NULL;
  CHECK_OK(al_tok_train(&t, text, len, vocab, &err), err);
  if (!t) return;
  ref_bpe *r = al_malloc(sizeof *r);
  ref_train(r, text, len, vocab);
  CHECK(al_tok_n_merges(t) == r->nm, "%s: %d merges, reference %d", name, al_tok_n_merges(t), r->nm);
  CHECK(al_tok_vocab_size(t) == r->n + 1, "%s: vocab %d, reference %d + eot", name, al_tok_vocab_size(t), r->n);
  CHECK(al_tok_eot(t) == r->n, "%s: eot %d, expected last (%d)", name, al_tok_eot(t), r->n);
  int same = 1;
  for (int k = 0; k < r->nm && k < al_tok_n_merges(t) && same; k++) {
    int32_t l, rr, m;
    al_tok_merge(t, k, &l, &rr, &m);
    size_t n;
    const char *s = al_tok_token(t, m, &n);
    same = l == r->ml[k] && rr == r->mr[k] && m == r->mid[k] && n == r->tok[m].len && !memcmp(s, r->tok[m].data, n);
    CHECK(same, "%s: merge %d is (%d,%d)->%d, reference (%d,%d)->%d", name, k, l, rr, m, r->ml[k], r->mr[k], r->mid[k]);
  }
  total_reused += r->reused;
  ref_free(r);
  free(r);
  al_tok_free(t);
}

/* Two tokenizers hold the same tokens, specials and merges. */
static void check_same(const al_tok *a, const al_tok *b, const char *what) {
  CHECK(al_tok_vocab_size(a) == al_tok_vocab_size(b), "%s: vocab %d vs %d", what, al_tok_vocab_size(a),
        al_tok_vocab_size(b));
  CHECK(al_tok_eot(a) == al_tok_eot(b), "%s: eot", what);
  CHECK(al_tok_n_merges(a) == al_tok_n_merges(b), "%s: merges", what);
  int bad = 0;
  for (int id = 0; id < al_tok_vocab_size(a) && id < al_tok_vocab_size(b); id++) {
    size_t na, nb;
    const char *sa = al_tok_token(a, id, &na), *sb = al_tok_token(b, id, &nb);
    bad += !sa || !sb || na != nb || memcmp(sa, sb, na) || al_tok_is_special(a, id) != al_tok_is_special(b, id);
  }
  for (int k = 0; k < al_tok_n_merges(a) && k < al_tok_n_merges(b); k++) {
    int32_t x[3], y[3];
    al_tok_merge(a, k, &x[0], &x[1], &x[2]);
    al_tok_merge(b, k, &y[0], &y[1], &y[2]);
    bad += memcmp(x, y, sizeof x) != 0;
  }
  CHECK(bad == 0, "%s: %d tokens or merges differ", what, bad);
}

static void check_save_load(const al_tok *t, const char *dir, const char *text, size_t len) {
  al_err err;
  CHECK_OK(al_tok_save(t, dir, &err), err);
  al_tok *u = NULL;
  CHECK_OK(al_tok_load(&u, dir, &err), err);
  if (!u) return;
  check_same(t, u, dir);
  int32_t *a = NULL, *b = NULL;
  size_t na = 0, ca = 0, nb = 0, cb = 0;
  al_tok_encode(t, text, len, 1, &a, &na, &ca, &err);
  al_tok_encode(u, text, len, 1, &b, &nb, &cb, &err);
  CHECK(na == nb && !memcmp(a, b, na * sizeof *a), "%s: encodings differ after reload", dir);
  free(a), free(b);
  al_tok_free(u);
}

int main(void) {
  al_quiet = 1;
  al_err err;
  char *dir = test_tmpdir("tok_train");

  /* small alphabets: many ties, overlapping runs ("aaaa"), multi-byte letters */
  al_rng r;
  al_rng_seed(&r, 3);
  static const char *const alpha[] = {"a", "b", "a", "aa", "c", " ", " ", "é", "\n", "<|endoftext|>", "1"};
  for (int round = 0; round < 4; round++) {
    al_buf text = {0};
    while (text.len < 3000) {
      const char *s = alpha[al_rng_below(&r, round < 2 ? 6 : 11)];
      al_buf_append(&text, s, strlen(s));
    }
    char name[32];
    snprintf(name, sizeof name, "alphabet %d", round);
    check_against_reference(name, text.data, text.len, 257 + 40 + 60 * round);
    al_buf_free(&text);
  }
  al_buf text = {0};
  tt_generate(&text, 11, 30000, 1);
  check_against_reference("varied text", text.data, text.len, 700);
  check_against_reference("tiny corpus (stops early)", "ab ab", 5, 300);
  /* more small corpora; merges that would rebuild an existing token (reusing
   * its id) are handled the same way by both, if they occur (counted below) */
  for (int round = 0; round < 3; round++) {
    al_buf t = {0};
    while (t.len < 2000) {
      static const char *const parts[] = {"a", "aa", "b", "ab", " ", "ba", "cb"};
      const char *p = parts[al_rng_below(&r, 7)];
      al_buf_append(&t, p, strlen(p));
    }
    check_against_reference("a/b corpus", t.data, t.len, 330);
    al_buf_free(&t);
  }
  printf("merges rebuilding an existing token: %d\n", total_reused);

  /* deterministic: same corpus, same merges */
  al_tok *t1 = NULL, *t2 = NULL;
  CHECK_OK(al_tok_train(&t1, text.data, text.len, 600, &err), err);
  CHECK_OK(al_tok_train(&t2, text.data, text.len, 600, &err), err);
  if (t1 && t2) check_same(t1, t2, "two trainings");
  CHECK(t1 && al_tok_vocab_size(t1) == 600 && al_tok_eot(t1) == 599, "vocab 600 with eot last");

  /* vocabulary size limits */
  al_tok *bad = NULL;
  CHECK_FAILS_WITH(al_tok_train(&bad, text.data, text.len, 256, &err), err, "257..65536");
  CHECK_FAILS_WITH(al_tok_train(&bad, text.data, text.len, 65537, &err), err, "vocab_size 65537");
  CHECK_FAILS_WITH(al_tok_train(&bad, text.data, text.len, -1, &err), err, "out of range");
  CHECK(bad == NULL, "no tokenizer on failure");
  al_tok *b257 = NULL;
  CHECK_OK(al_tok_train(&b257, text.data, text.len, 257, &err), err);
  al_tok *byte = al_tok_byte();
  if (b257) check_same(b257, byte, "vocab 257 = byte tokenizer");
  al_tok_free(b257);

  /* the byte tokenizer: ids = bytes, eot 256, no merges; its files */
  CHECK(al_tok_vocab_size(byte) == 257 && al_tok_eot(byte) == 256 && al_tok_n_merges(byte) == 0, "byte tokenizer");
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  al_tok_encode(byte, "hi <|endoftext|>\xff", 17, 1, &ids, &n, &cap, &err);
  CHECK(n == 5 && ids[0] == 'h' && ids[2] == ' ' && ids[3] == 256 && ids[4] == 255, "byte encoding");
  char *bdir = al_path_join(dir, "byte");
  check_save_load(byte, bdir, text.data, text.len);
  char *vp = al_path_join(bdir, "vocab.json"), *mp = al_path_join(bdir, "merges.txt"), *vs, *ms;
  size_t vl, ml;
  CHECK_OK(al_read_file(vp, &vs, &vl, &err), err);
  CHECK_OK(al_read_file(mp, &ms, &ml, &err), err);
  CHECK(strstr(vs, "\"\xc4\xa0\": 32") && strstr(vs, "\"!\": 33") && strstr(vs, "\"\xc4\x80\": 0") &&
            strstr(vs, "\"<|endoftext|>\": 256") && strstr(vs, "\"\xc3\xbf\": 255"),
        "byte vocab.json keys through the byte-to-unicode mapping: %.200s", vs);
  CHECK(!strcmp(ms, "#version: 0.2\n"), "byte merges.txt is the header only: '%s'", ms);
  free(vs), free(ms), free(vp), free(mp), free(bdir);

  /* trained tokenizers survive save + load */
  char *tdir = al_path_join(dir, "trained");
  if (t1) check_save_load(t1, tdir, text.data, text.len);
  free(tdir);

  free(ids);
  al_tok_free(byte);
  al_tok_free(t1);
  al_tok_free(t2);
  al_buf_free(&text);
  free(dir);
  return test_summary();
}
