/* `alab tok`: train writes a loadable tokenizer; encode and decode agree with
 * the library; bad input exits non-zero with a message. */
#include "alab/tok.h"
#include "test.h"
#include "tok_text.h"

static int run(const char *cmd, char *out, size_t cap) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
  const char *bin = getenv("ALAB_BIN");
  if (!bin) return fprintf(stderr, "ALAB_BIN is not set\n"), 1;
  char *dir = test_tmpdir("tok_cli");
  char *corpus = al_path_join(dir, "corpus.txt"), *tokdir = al_path_join(dir, "tok");
  al_buf text = {0};
  tt_generate(&text, 4, 50000, 1);
  al_err err;
  CHECK_OK(al_write_file_atomic(corpus, text.data, text.len, &err), err);
  char cmd[8192], out[65536];
  snprintf(cmd, sizeof cmd, "'%s' tok train --corpus '%s' --vocab 500 --out '%s' 2>&1", bin, corpus, tokdir);
  CHECK(run(cmd, out, sizeof out) == 0, "train failed: %s", out);
  al_tok *t = NULL, *ref = NULL;
  CHECK_OK(al_tok_load(&t, tokdir, &err), err);
  CHECK_OK(al_tok_train(&ref, text.data, text.len, 500, &err), err);
  CHECK(t && ref && al_tok_n_merges(t) == al_tok_n_merges(ref) && al_tok_vocab_size(t) == 500, "CLI = library");

  const char *sample = "Hello world, we are 2024 <|endoftext|> caf\xc3\xa9";
  snprintf(cmd, sizeof cmd, "'%s' tok encode --special --tokenizer '%s' '%s'", bin, tokdir, sample);
  CHECK(run(cmd, out, sizeof out) == 0, "encode failed");
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  if (t) al_tok_encode(t, sample, strlen(sample), 1, &ids, &n, &cap, &err);
  al_buf want = {0};
  for (size_t i = 0; i < n; i++) al_buf_printf(&want, "%s%d", i ? " " : "", ids[i]);
  al_buf_append(&want, "\n", 1);
  CHECK(n > 5 && !strcmp(out, want.data), "encode printed '%s', want '%s'", out, want.data);
  snprintf(cmd, sizeof cmd, "'%s' tok decode --tokenizer '%s' %s", bin, tokdir, want.data);
  cmd[strlen(cmd) - 1] = 0; /* the newline */
  CHECK(run(cmd, out, sizeof out) == 0 && !strncmp(out, sample, strlen(sample)), "decode printed '%s'", out);

  snprintf(cmd, sizeof cmd, "'%s' tok decode --tokenizer '%s' 500 2>&1", bin, tokdir);
  CHECK(run(cmd, out, sizeof out) == 1 && strstr(out, "token id 500"), "decode of a bad id: '%s'", out);
  snprintf(cmd, sizeof cmd, "'%s' tok train --corpus '%s' --vocab 100 --out '%s/x' 2>&1", bin, corpus, dir);
  CHECK(run(cmd, out, sizeof out) == 2 && strstr(out, "--vocab: 100 is outside the allowed range [257, 65536]"), "vocab 100: '%s'", out);
  snprintf(cmd, sizeof cmd, "'%s' tok encode --tokenizer '%s/nope' hi 2>&1", bin, dir);
  CHECK(run(cmd, out, sizeof out) == 1 && strstr(out, "no tokenizer files"), "missing tokenizer: '%s'", out);
  snprintf(cmd, sizeof cmd, "'%s' tok frob 2>&1", bin);
  CHECK(run(cmd, out, sizeof out) == 2 && strstr(out, "unknown subcommand"), "unknown subcommand: '%s'", out);

  free(ids);
  al_buf_free(&want), al_buf_free(&text);
  al_tok_free(t), al_tok_free(ref);
  free(dir), free(corpus), free(tokdir);
  return test_summary();
}
