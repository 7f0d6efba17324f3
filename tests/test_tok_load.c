/* Every load error of the tokenizer files names what and where; a fuzz of
 * mutated vocab.json / merges.txt / tokenizer.json never crashes, and what
 * loads still round-trips text (the fuzz calls the loaders' in-memory
 * parsers: the files' reading is the same al_read_file for every case). */
#include "alab/tok.h"
#include "test.h"
#include "tok/tok_internal.h"
#include "tok_text.h"

static char *dir;

static void put(const char *name, const char *data, size_t n) {
  char *p = al_path_join(dir, name);
  FILE *f = fopen(p, "wb");
  if (f) fwrite(data, 1, n, f), fclose(f);
  free(p);
}
static void puts_(const char *name, const char *s) { put(name, s, strlen(s)); }

/* A vocab.json with the 256 byte tokens, then `extra` entries (",\"k\": id"). */
static void put_vocab(const char *extra) {
  al_buf b = {0};
  al_buf_append(&b, "{", 1);
  for (int i = 0; i < 256; i++) {
    char c = (char)i;
    if (i == 0) continue; /* added below, so a test can leave it out */
    al_buf_append(&b, "\"", 1);
    if (c == '"' || c == '\\') al_buf_append(&b, "\\", 1); /* JSON escapes */
    tok_bytes_to_key(&c, 1, &b);
    al_buf_printf(&b, "\": %d,\n", i);
  }
  al_buf_printf(&b, "\"\xc4\x80\": 0%s}", extra);
  put("vocab.json", b.data, b.len);
  al_buf_free(&b);
}

static int load(al_err *err) {
  al_tok *t = NULL;
  char *v = al_path_join(dir, "vocab.json"), *m = al_path_join(dir, "merges.txt");
  int rc = al_tok_load_files(&t, v, m, err);
  al_tok_free(t);
  free(v), free(m);
  return rc;
}

static int load_json(al_err *err) {
  al_tok *t = NULL;
  char *p = al_path_join(dir, "tokenizer.json");
  int rc = al_tok_load_tokenizer_json(&t, p, err);
  al_tok_free(t);
  free(p);
  return rc;
}

/* tokenizer.json around a model body and added tokens. */
static void put_tj(const char *model, const char *added) {
  al_buf b = {0};
  al_buf_printf(&b, "{\"model\": %s, \"added_tokens\": %s}", model, added);
  put("tokenizer.json", b.data, b.len);
  al_buf_free(&b);
}

static void mutate(al_buf *out, const char *s, size_t n, al_rng *r) {
  out->len = 0;
  al_buf_append(out, s, n);
  static const char pool[] = "{}[]\":, 0123456789-\n\\u\xc4\xa0\xff#ab ";
  for (int m = 1 + (int)al_rng_below(r, 4); m > 0; m--) {
    size_t at = out->len ? al_rng_below(r, out->len) : 0;
    int kind = (int)al_rng_below(r, 4);
    if (kind == 0 && out->len) out->data[at] = pool[al_rng_below(r, sizeof pool - 1)];
    else if (kind == 1 && out->len) { /* delete a range */
      size_t k = 1 + al_rng_below(r, 16);
      if (at + k > out->len) k = out->len - at;
      memmove(out->data + at, out->data + at + k, out->len - at - k);
      out->len -= k;
    } else if (kind == 2) { /* insert a byte */
      al_buf_reserve(out, 1);
      memmove(out->data + at + 1, out->data + at, out->len - at);
      out->data[at] = pool[al_rng_below(r, sizeof pool - 1)];
      out->len++;
    } else if (out->len) { /* duplicate a chunk */
      size_t k = 1 + al_rng_below(r, 40);
      if (at + k > out->len) k = out->len - at;
      al_buf chunk = {0};
      al_buf_append(&chunk, out->data + at, k);
      size_t to = al_rng_below(r, out->len);
      al_buf_reserve(out, k);
      memmove(out->data + to + k, out->data + to, out->len - to);
      memcpy(out->data + to, chunk.data, k);
      out->len += k;
      al_buf_free(&chunk);
    }
  }
}

int main(void) {
  al_quiet = 1;
  al_err err;
  dir = test_tmpdir("tok_load");
  al_tok *t = NULL;

  /* files missing */
  CHECK_FAILS_WITH(al_tok_load(&t, dir, &err), err, "no tokenizer files");
  put_vocab("");
  CHECK_FAILS_WITH(al_tok_load(&t, dir, &err), err, "has vocab.json but not merges.txt");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt: cannot open");
  puts_("merges.txt", "#version: 0.2\n");
  CHECK_OK(al_tok_load(&t, dir, &err), err);
  CHECK(t && al_tok_vocab_size(t) == 256 && al_tok_eot(t) == -1, "256 bytes, no eot");
  al_tok_free(t);
  t = NULL;
  CHECK_FAILS_WITH(al_tok_load(&t, "/nonexistent/dir", &err), err, "no tokenizer files");
  CHECK_FAILS_WITH(al_tok_load_files(&t, "/nonexistent/v.json", "/nonexistent/m.txt", &err), err,
                   "/nonexistent/v.json: cannot open");

  /* vocab.json */
  puts_("vocab.json", "{\"a\": 1,\n \"b\" 2}");
  CHECK_FAILS_WITH(load(&err), err, "vocab.json:2:");
  CHECK(strstr(err.msg, "invalid JSON"), "%s", err.msg);
  puts_("vocab.json", "[1, 2]");
  CHECK_FAILS_WITH(load(&err), err, "must be a JSON object");
  put_vocab(", \"ab\": \"7\"");
  CHECK_FAILS_WITH(load(&err), err, "key \"ab\": the id must be an integer");
  put_vocab(", \"ab\": -4");
  CHECK_FAILS_WITH(load(&err), err, "id -4 is out of range");
  put_vocab(", \"ab\": 99999999999");
  CHECK_FAILS_WITH(load(&err), err, "out of range");
  put_vocab(", \"ab\": 65");
  CHECK_FAILS_WITH(load(&err), err, "key \"ab\": duplicate id 65");
  put_vocab(", \"a\": 300");
  CHECK_FAILS_WITH(load(&err), err, "duplicate object key");
  put_vocab(", \"a\xff\": 300");
  CHECK_FAILS_WITH(load(&err), err, "vocab.json:256:");
  CHECK(strstr(err.msg, "invalid UTF-8 (byte 0xFF)"), "%s", err.msg);
  put_vocab(", \"a b\": 300");
  CHECK_FAILS_WITH(load(&err), err, "key \"a b\" (id 300): character U+0020");
  CHECK(strstr(err.msg, "byte-to-unicode mapping"), "%s", err.msg);
  put_vocab(", \"\": 300");
  CHECK_FAILS_WITH(load(&err), err, "empty token");
  puts_("vocab.json", "{\"a\": 97}");
  CHECK_FAILS_WITH(load(&err), err, "lacks the single-byte token for byte 0x00");

  /* merges.txt */
  put_vocab(", \"ab\": 256, \"abc\": 257, \"\xc4\xa0" "a\": 258, \"<|endoftext|>\": 259");
  puts_("merges.txt", "#version: 0.2\na b\nab c\n\xc4\xa0 a\n\n");
  CHECK_OK(al_tok_load(&t, dir, &err), err);
  CHECK(t && al_tok_n_merges(t) == 3 && al_tok_eot(t) == 259 && al_tok_is_special(t, 259), "three merges, eot 259");
  al_tok_free(t);
  t = NULL;
  puts_("merges.txt", "a b\r\nab c\r\n\xc4\xa0 a\r\n"); /* no header, CRLF */
  CHECK_OK(load(&err), err);
  /* truncated: a token of the vocabulary ("\xc4\xa0a", id 258) that no merge makes */
  puts_("merges.txt", "#version: 0.2\na b\nab c\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt: 1 tokens of the vocabulary are made by no merge (the first: id 258)");
  puts_("merges.txt", "#version: 0.2\na b\nabc\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt:3: expected two tokens separated by one space, got \"abc\"");
  puts_("merges.txt", "#version: 0.2\na  b\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt:2: expected two tokens");
  puts_("merges.txt", "#version: 0.2\na b c\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt:2: expected two tokens");
  puts_("merges.txt", "a b\nab zz\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt:2: merge part \"zz\" is not in the vocabulary");
  puts_("merges.txt", "a b\nb c\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt:2: merge \"b c\": the merged token");
  puts_("merges.txt", "a b\nab c\na b\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt:3: merge \"a b\": duplicate merge");
  puts_("merges.txt", "a b\na \xe2\x98\x83\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt:2: \"\xe2\x98\x83\": character U+2603");
  puts_("merges.txt", "a b\na \xc3\n");
  CHECK_FAILS_WITH(load(&err), err, "merges.txt:2:3: invalid UTF-8 (byte 0xC3)");

  /* tokenizer.json */
  al_buf vocab = {0};
  char *vp = al_path_join(dir, "vocab.json");
  char *vtext;
  size_t vlen;
  CHECK_OK(al_read_file(vp, &vtext, &vlen, &err), err);
  al_buf model = {0};
  al_buf_printf(&model, "{\"type\": \"BPE\", \"vocab\": %s, \"merges\": [\"a b\", [\"ab\", \"c\"]]}", vtext);
  put_tj(model.data, "[{\"id\": 259, \"content\": \"<|endoftext|>\", \"special\": true}, {\"id\": 260, \"content\": \"<pad>\"}]");
  CHECK_OK(load_json(&err), err);
  char *tj = al_path_join(dir, "tokenizer.json");
  CHECK_OK(al_tok_load_tokenizer_json(&t, tj, &err), err);
  if (t) {
    int32_t *ids = NULL;
    size_t n = 0, cap = 0;
    al_tok_encode(t, "abc<pad><|endoftext|>", 21, 1, &ids, &n, &cap, &err);
    CHECK(n == 3 && ids[0] == 257 && ids[1] == 260 && ids[2] == 259, "added tokens are specials: %zu ids", n);
    free(ids);
    al_tok_free(t);
    t = NULL;
  }
  put_tj(model.data, "[{\"id\": 256, \"content\": \"<pad>\"}]");
  CHECK_FAILS_WITH(load_json(&err), err, "added_tokens[0]: id 256 (\"<pad>\") is already another token");
  put_tj(model.data, "[{\"content\": \"<pad>\"}]");
  CHECK_FAILS_WITH(load_json(&err), err, "added_tokens[0]: field 'id' is missing");
  put_tj(model.data, "[{\"id\": 300, \"content\": 5}]");
  CHECK_FAILS_WITH(load_json(&err), err, "added_tokens[0]: field 'content' must be a string");
  put_tj(model.data, "{}");
  CHECK_FAILS_WITH(load_json(&err), err, "added_tokens must be an array");
  put_tj("3", "[]");
  CHECK_FAILS_WITH(load_json(&err), err, "field 'model' is missing or not an object");
  put_tj("{\"type\": \"WordPiece\", \"vocab\": {}, \"merges\": []}", "[]");
  CHECK_FAILS_WITH(load_json(&err), err, "model.type is WordPiece; only \"BPE\"");
  put_tj("{\"type\": \"BPE\", \"vocab\": {}}", "[]");
  CHECK_FAILS_WITH(load_json(&err), err, "model.merges is missing or not an array");
  put_tj("{\"type\": \"BPE\", \"merges\": []}", "[]");
  CHECK_FAILS_WITH(load_json(&err), err, "model.vocab: the vocabulary must be a JSON object");
  model.len = 0;
  al_buf_printf(&model, "{\"type\": \"BPE\", \"vocab\": %s, \"merges\": [\"a b\", 7]}", vtext);
  put_tj(model.data, "[]");
  CHECK_FAILS_WITH(load_json(&err), err, "model.merges[1]: a merge must be");
  model.len = 0;
  al_buf_printf(&model, "{\"type\": \"BPE\", \"vocab\": %s, \"merges\": [\"ab\"]}", vtext);
  put_tj(model.data, "[]");
  CHECK_FAILS_WITH(load_json(&err), err, "model.merges[0]: expected \"left right\"");
  model.len = 0;
  al_buf_printf(&model, "{\"type\": \"BPE\", \"vocab\": %s, \"merges\": [[\"a\", \"q\"]]}", vtext);
  put_tj(model.data, "[]");
  CHECK_FAILS_WITH(load_json(&err), err, "model.merges[0]: merge \"a q\": the merged token");
  puts_("tokenizer.json", "{\"model\": ");
  CHECK_FAILS_WITH(load_json(&err), err, "tokenizer.json:1:");
  /* a directory with only tokenizer.json loads it */
  char *sub = al_path_join(dir, "tj_only"), *subtj = al_path_join(sub, "tokenizer.json");
  al_mkdir_p(sub, &err);
  put_tj("3", "[]");
  rename(tj, subtj);
  CHECK_FAILS_WITH(al_tok_load(&t, sub, &err), err, "field 'model'");

  /* the fuzz: mutations of a trained tokenizer's files */
  al_buf text = {0};
  tt_generate(&text, 21, 20000, 1);
  al_tok *base = NULL;
  CHECK_OK(al_tok_train(&base, text.data, text.len, 330, &err), err);
  char *bdir = al_path_join(dir, "base");
  CHECK_OK(al_tok_save(base, bdir, &err), err);
  char *bv = al_path_join(bdir, "vocab.json"), *bm = al_path_join(bdir, "merges.txt"), *vs, *ms;
  size_t vl, ml;
  CHECK_OK(al_read_file(bv, &vs, &vl, &err), err);
  CHECK_OK(al_read_file(bm, &ms, &ml, &err), err);
  al_buf tjs = {0}, merges = {0}, mut = {0};
  for (const char *p = strchr(ms, '\n') + 1; *p;) { /* merges as a JSON array */
    const char *e = strchr(p, '\n');
    al_buf_printf(&merges, "%s\"%.*s\"", merges.len ? ", " : "", (int)(e - p), p);
    p = e + 1;
  }
  al_buf_printf(&tjs, "{\"model\": {\"type\": \"BPE\", \"vocab\": %s, \"merges\": [%s]}, \"added_tokens\": "
                "[{\"id\": 329, \"content\": \"<|endoftext|>\"}]}", vs, merges.data);
  put("tokenizer.json", tjs.data, tjs.len);
  CHECK_OK(load_json(&err), err);
  al_rng r;
  al_rng_seed(&r, 5);
  int loaded = 0, bad_roundtrip = 0;
  for (int it = 0; it < 6000; it++) {
    int which = it % 3;
    const char *src = which == 0 ? vs : which == 1 ? ms : tjs.data;
    size_t srclen = which == 0 ? vl : which == 1 ? ml : tjs.len;
    mutate(&mut, src, srclen, &r);
    al_tok *u = NULL; /* the loaders' parsers, on text in memory */
    int rc = which == 2   ? tok_parse_tokenizer_json(&u, mut.data, mut.len, "tokenizer.json", &err)
             : which == 1 ? tok_parse_files(&u, vs, vl, "vocab.json", mut.data, mut.len, "merges.txt", &err)
                          : tok_parse_files(&u, mut.data, mut.len, "vocab.json", ms, ml, "merges.txt", &err);
    CHECK(rc == 0 ? u != NULL : (u == NULL && err.msg[0]), "iteration %d: rc %d without a consistent result", it, rc);
    if (u) {
      loaded++;
      int32_t *ids = NULL;
      size_t n = 0, cap = 0, blen;
      char *back = NULL;
      al_tok_encode(u, text.data, 3000, 1, &ids, &n, &cap, &err);
      bad_roundtrip += al_tok_decode(u, ids, n, &back, &blen, &err) != 0 || blen != 3000 || memcmp(back, text.data, 3000);
      free(ids), free(back);
      al_tok_free(u);
    }
  }
  printf("fuzz: %d of 6000 mutated tokenizers loaded\n", loaded);
  CHECK(loaded > 60 && loaded < 5800, "fuzz: %d of 6000 mutated files loaded", loaded);
  CHECK(bad_roundtrip == 0, "fuzz: %d loaded tokenizers failed to round-trip", bad_roundtrip);

  al_tok_free(base);
  al_buf_free(&tjs), al_buf_free(&merges), al_buf_free(&mut), al_buf_free(&text), al_buf_free(&vocab),
      al_buf_free(&model);
  free(vs), free(ms), free(bv), free(bm), free(bdir), free(vp), free(vtext), free(tj), free(sub), free(subtj);
  free(dir);
  return test_summary();
}
