/* Corpora: text documents split at <|endoftext|>, JSONL with a chosen field,
 * every malformed-JSONL error with its line number, skip mode and its count,
 * tokenizing into memory and into a shard (byte tokenizer: the oracle is the
 * bytes themselves), and a fuzz of the JSONL and text readers. */
#include "alab/data.h"
#include "test.h"

typedef struct {
  char docs[64][128];
  size_t len[64];
  int n;
} collected;

static int collect(void *ctx, const char *doc, size_t len, al_err *err) {
  collected *c = ctx;
  if (c->n < 64 && len < 128) {
    memcpy(c->docs[c->n], doc, len);
    c->len[c->n] = len;
  }
  c->n++;
  return 0;
}

static int fail_second(void *ctx, const char *doc, size_t len, al_err *err) {
  return ++*(int *)ctx == 2 ? al_fail(err, "stop here") : 0;
}

static int walk(const char *text, al_corpus_format f, const char *field, int skip, collected *c, al_corpus_stats *st,
                al_err *err) {
  memset(c, 0, sizeof *c);
  al_corpus_opts o = {f, field, skip};
  return al_corpus_each_doc_buf(text, strlen(text), "c.jsonl", &o, collect, c, st, NULL, err);
}

#define DOC_IS(c, i, s) CHECK((c).len[i] == strlen(s) && !memcmp((c).docs[i], s, strlen(s)), "doc %d is '%.*s', want '%s'", i, (int)(c).len[i], (c).docs[i], s)

static void test_text(void) {
  collected c;
  al_corpus_stats st;
  al_err err;
  CHECK_OK(walk("Once upon a time.\n<|endoftext|>\nThe end\r\n\n<|endoftext|>B<|endoftext|><|endoftext|>\n  tail  \n",
                AL_CORPUS_TEXT, NULL, 0, &c, &st, &err), err);
  CHECK(c.n == 4, "text: %d documents", c.n);
  DOC_IS(c, 0, "Once upon a time.");
  DOC_IS(c, 1, "The end");
  DOC_IS(c, 2, "B");
  DOC_IS(c, 3, "  tail  \n"); /* only line breaks touching a separator are dropped */
  CHECK(st.docs == 4 && st.bytes == 17 + 7 + 1 + 9, "docs %llu bytes %llu", (unsigned long long)st.docs,
        (unsigned long long)st.bytes);
  CHECK_OK(walk("no separator\n\nat all\n", AL_CORPUS_TEXT, NULL, 0, &c, &st, &err), err);
  CHECK(c.n == 1, "%d", c.n);
  DOC_IS(c, 0, "no separator\n\nat all\n");
  CHECK_OK(walk("", AL_CORPUS_TEXT, NULL, 0, &c, &st, &err), err);
  CHECK(c.n == 0, "empty file has no documents");
  CHECK_OK(walk("<|endoftext|>\n<|endoftext|>", AL_CORPUS_TEXT, NULL, 0, &c, &st, &err), err);
  CHECK(c.n == 0, "separators only: %d documents", c.n);
}

static void test_jsonl(void) {
  collected c;
  al_corpus_stats st;
  al_err err;
  const char *good = "{\"text\": \"first\", \"id\": 1}\n"
                     "\n"
                     "   \n"
                     "{\"id\": 2, \"text\": \"caf\\u00e9 \\n line\"}\r\n"
                     "{\"text\": \"\"}\n"
                     "{\"text\": \"last, no newline\"}";
  CHECK_OK(walk(good, AL_CORPUS_JSONL, NULL, 0, &c, &st, &err), err);
  CHECK(c.n == 3, "jsonl: %d documents", c.n);
  DOC_IS(c, 0, "first");
  DOC_IS(c, 1, "caf\xc3\xa9 \n line");
  DOC_IS(c, 2, "last, no newline");
  CHECK(st.lines == 6 && st.skipped == 0, "lines %llu skipped %llu", (unsigned long long)st.lines,
        (unsigned long long)st.skipped);
  /* a field chosen by name */
  CHECK_OK(walk("{\"body\": \"x\", \"text\": \"y\"}\n{\"body\": \"z\"}\n", AL_CORPUS_JSONL, "body", 0, &c, &st, &err),
           err);
  CHECK(c.n == 2, "%d", c.n);
  DOC_IS(c, 0, "x");
  DOC_IS(c, 1, "z");
  /* AUTO picks JSONL from the name "c.jsonl" */
  CHECK_OK(walk("{\"text\": \"auto\"}\n", AL_CORPUS_AUTO, NULL, 0, &c, &st, &err), err);
  CHECK(c.n == 1, "auto format");
  DOC_IS(c, 0, "auto");

  /* each malformed line names its line number */
  const char *base = "{\"text\": \"a\"}\n{\"text\": \"b\"}\n\n";
  struct { const char *line, *needle; } bad[] = {
      {"{\"text\": \"unterminated}", "c.jsonl:4:"},
      {"{\"text\": \"a\"} trailing", "c.jsonl:4:"},
      {"{\"other\": \"a\"}", "c.jsonl:4: field \"text\" is missing"},
      {"{\"text\": 12}", "c.jsonl:4: field \"text\" must be a string, got a number"},
      {"{\"text\": null}", "c.jsonl:4: field \"text\" must be a string, got null"},
      {"{\"text\": [\"a\"]}", "c.jsonl:4: field \"text\" must be a string, got an array"},
      {"[\"text\"]", "c.jsonl:4: expected a JSON object"},
      {"\"just a string\"", "c.jsonl:4: expected a JSON object"},
      {"{\"text\": \"a\", \"text\": \"b\"}", "c.jsonl:4:"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s\n{\"text\": \"after\"}\n", base, bad[i].line);
    CHECK_FAILS_WITH(walk(buf, AL_CORPUS_JSONL, NULL, 0, &c, &st, &err), err, bad[i].needle);
    /* skip mode: the bad line is counted, the rest is read */
    err.msg[0] = 0;
    CHECK_OK(walk(buf, AL_CORPUS_JSONL, NULL, 1, &c, &st, &err), err);
    CHECK(c.n == 3 && st.skipped == 1, "skip mode read %d documents, skipped %llu", c.n,
          (unsigned long long)st.skipped);
    CHECK(strstr(st.first_skip, bad[i].needle), "skip records the first problem: '%s'", st.first_skip);
  }
  CHECK_OK(walk("x\n{\"text\": \"ok\"}\ny\nz\n", AL_CORPUS_JSONL, NULL, 1, &c, &st, &err), err);
  CHECK(st.skipped == 3 && c.n == 1 && st.lines == 4, "skipped %llu of %llu lines", (unsigned long long)st.skipped,
        (unsigned long long)st.lines);
  CHECK(strstr(st.first_skip, "c.jsonl:1:"), "first skip is line 1: %s", st.first_skip);
  /* a callback's error stops the walk */
  int calls = 0;
  al_corpus_opts o = {AL_CORPUS_TEXT, NULL, 0};
  const char *three = "a<|endoftext|>b<|endoftext|>c";
  CHECK_FAILS_WITH(al_corpus_each_doc_buf(three, strlen(three), "t.txt", &o, fail_second, &calls, &st, NULL, &err), err,
                   "stop here");
  CHECK(calls == 2, "the walk stopped after the failing callback (%d calls)", calls);
  al_corpus_format f;
  CHECK_FAILS_WITH(al_corpus_format_parse("csv", &f, &err), err, "'csv'");
  CHECK_OK(al_corpus_format_parse("jsonl", &f, &err), err);
  CHECK(f == AL_CORPUS_JSONL, "format parse");
}

static void write_text(const char *path, const char *s) {
  al_err err;
  if (al_write_file_atomic(path, s, strlen(s), &err)) {
    fprintf(stderr, "%s\n", err.msg);
    exit(2);
  }
}

/* Tokenizing with the byte tokenizer: ids are exactly the bytes of each
 * document followed by 256, in memory and in the shard alike. */
static void test_tokenize(const char *dir) {
  al_err err;
  al_tok *tok = al_tok_byte();
  char *in = al_path_join(dir, "c.jsonl"), *out = al_path_join(dir, "c.bin");
  write_text(in, "{\"text\": \"ab\"}\n{\"text\": \"<|endoftext|> is text here\"}\n{\"text\": \"\\u00ff\"}\n");
  const char *docs[] = {"ab", "<|endoftext|> is text here", "\xc3\xbf"};
  int32_t want[128];
  size_t nw = 0;
  for (int d = 0; d < 3; d++) {
    for (const char *p = docs[d]; *p; p++) want[nw++] = (unsigned char)*p;
    want[nw++] = 256;
  }
  al_corpus_opts o = {AL_CORPUS_AUTO, NULL, 0};
  int32_t *ids;
  size_t n;
  al_corpus_stats st;
  CHECK_OK(al_corpus_tokenize(in, &o, tok, &ids, &n, &st, &err), err);
  CHECK(n == nw && !memcmp(ids, want, n * sizeof *ids), "in-memory tokens: %zu, want %zu", n, nw);
  CHECK(st.docs == 3 && st.tokens == nw, "stats docs %llu tokens %llu", (unsigned long long)st.docs,
        (unsigned long long)st.tokens);
  free(ids);
  CHECK_OK(al_corpus_to_shard(in, &o, tok, out, 0, &st, &err), err);
  CHECK(st.docs == 3 && st.tokens == nw, "shard stats docs %llu tokens %llu", (unsigned long long)st.docs,
        (unsigned long long)st.tokens);
  al_shard s;
  CHECK_OK(al_shard_open(&s, out, &err), err);
  int same = s.tokens.n == nw;
  for (size_t i = 0; same && i < nw; i++) same = al_tokens_at(&s.tokens, i) == want[i];
  CHECK(same, "shard tokens equal the bytes + EOT");
  CHECK(s.vocab_size == 257 && s.eot == 256 && s.ndocs == 3, "header vocab %d eot %d docs %llu", s.vocab_size, s.eot,
        (unsigned long long)s.ndocs);
  /* decoding the shard gives the documents back */
  int32_t *copy = al_malloc(nw * sizeof *copy);
  for (size_t i = 0; i < nw; i++) copy[i] = al_tokens_at(&s.tokens, i);
  char *text;
  size_t tlen;
  CHECK_OK(al_tok_decode(tok, copy, nw, &text, &tlen, &err), err);
  const char *joined = "ab<|endoftext|><|endoftext|> is text here<|endoftext|>\xc3\xbf<|endoftext|>";
  CHECK(tlen == strlen(joined) && !memcmp(text, joined, tlen), "decoded '%s'", text);
  free(text);
  free(copy);
  al_shard_close(&s);

  /* a malformed line fails the whole run, names the line and leaves no shard */
  char *out2 = al_path_join(dir, "bad.bin");
  write_text(in, "{\"text\": \"ok\"}\n{\"text\": 5}\n");
  CHECK_FAILS_WITH(al_corpus_to_shard(in, &o, tok, out2, 0, &st, &err), err, "c.jsonl:2: field \"text\" must be a string");
  CHECK(!al_file_exists(out2), "no shard after a failed tokenize");
  o.skip_bad_lines = 1;
  CHECK_OK(al_corpus_to_shard(in, &o, tok, out2, 0, &st, &err), err);
  CHECK(st.skipped == 1 && st.docs == 1 && st.tokens == 3, "skip: %llu skipped, %llu docs, %llu tokens",
        (unsigned long long)st.skipped, (unsigned long long)st.docs, (unsigned long long)st.tokens);
  /* a plain text corpus */
  char *txt = al_path_join(dir, "c.txt");
  write_text(txt, "hi\n<|endoftext|>\nyo\n");
  o.skip_bad_lines = 0;
  CHECK_OK(al_corpus_tokenize(txt, &o, tok, &ids, &n, &st, &err), err);
  int32_t want2[] = {'h', 'i', 256, 'y', 'o', '\n', 256};
  CHECK(n == 7 && !memcmp(ids, want2, sizeof want2), "text corpus tokens (%zu)", n);
  free(ids);
  CHECK_FAILS_WITH(al_corpus_tokenize("/nonexistent/c.txt", &o, tok, &ids, &n, &st, &err), err, "/nonexistent/c.txt");
  free(txt);
  free(out2);
  free(in);
  free(out);
  al_tok_free(tok);
}

static int count_only(void *ctx, const char *doc, size_t len, al_err *err) {
  size_t *total = ctx;
  for (size_t i = 0; i < len; i++) *total += (unsigned char)doc[i]; /* touch every byte: ASan checks bounds */
  return 0;
}

/* Random mutations of a valid JSONL/text corpus: the readers never crash;
 * strict mode either succeeds or names a line; skip mode never fails. */
static void test_fuzz(void) {
  const char *seed_text = "{\"text\": \"Tom had a red ball.\", \"id\": 1}\n"
                          "{\"text\": \"caf\\u00e9 \\\"quoted\\\" \\ud83d\\ude00\", \"meta\": {\"a\": [1, 2.5, null]}}\n"
                          "\n"
                          "{\"text\": \"<|endoftext|>\\n\\t\"}\r\n"
                          "{\"text\": \"x\"}<|endoftext|>\n";
  size_t n0 = strlen(seed_text);
  al_rng r;
  al_rng_seed(&r, 99);
  const char alphabet[] = "{}[]\":,\\\n\r u0123456789abcdefxtn<|>";
  int strict_ok = 0, strict_fail = 0, unnamed = 0, skip_failed = 0;
  for (int it = 0; it < 6000; it++) {
    size_t cap = n0 + 64;
    char *b = al_malloc(cap);
    memcpy(b, seed_text, n0);
    size_t n = n0;
    int nmut = 1 + (int)al_rng_below(&r, 6);
    for (int k = 0; k < nmut; k++) {
      int op = (int)al_rng_below(&r, 4);
      size_t at = al_rng_below(&r, n + 1);
      if (op == 0 && at < n) b[at] = (char)al_rng_below(&r, 256);
      else if (op == 1 && at < n) b[at] = alphabet[al_rng_below(&r, sizeof alphabet - 1)];
      else if (op == 2 && at < n) {
        memmove(b + at, b + at + 1, n - at - 1);
        n--;
      } else if (n < cap) {
        memmove(b + at + 1, b + at, n - at);
        b[at] = alphabet[al_rng_below(&r, sizeof alphabet - 1)];
        n++;
      }
    }
    char *exact = al_malloc(n ? n : 1); /* exact size: ASan sees any overread */
    memcpy(exact, b, n);
    free(b);
    size_t total = 0;
    al_err err;
    al_corpus_stats st;
    for (int fmt = 0; fmt < 2; fmt++) {
      al_corpus_opts o = {fmt ? AL_CORPUS_TEXT : AL_CORPUS_JSONL, NULL, 0};
      err.msg[0] = 0;
      if (al_corpus_each_doc_buf(exact, n, "fuzz.jsonl", &o, count_only, &total, &st, NULL, &err) == 0) strict_ok++;
      else {
        strict_fail++;
        if (!strstr(err.msg, "fuzz.jsonl:")) unnamed++;
      }
      o.skip_bad_lines = 1;
      if (al_corpus_each_doc_buf(exact, n, "fuzz.jsonl", &o, count_only, &total, &st, NULL, &err) != 0) skip_failed++;
    }
    free(exact);
  }
  CHECK(unnamed == 0, "%d strict failures did not name file:line", unnamed);
  CHECK(skip_failed == 0, "skip mode failed %d times", skip_failed);
  CHECK(strict_ok > 100 && strict_fail > 100, "fuzz exercised both outcomes: %d ok, %d failed", strict_ok, strict_fail);
}

int main(void) {
  char *dir = test_tmpdir("data_corpus");
  test_text();
  test_jsonl();
  test_tokenize(dir);
  test_fuzz();
  free(dir);
  return test_summary();
}
