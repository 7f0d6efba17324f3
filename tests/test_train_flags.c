/* Nothing bad is accepted silently by train, sample, score and tok:
 * - flags_parse refuses values outside a flag's range (from the flag table,
 *   which --help prints) and non-finite numbers, and a malformed range;
 * - alab train / sample refuse the bad values the issue found, exit 2, naming
 *   the flag; a batch the machine cannot hold is an error, not SIGABRT;
 * - tok decode takes any number of ids, as arguments or --in FILE;
 * - a truncated merges.txt is refused instead of changing the tokenization. */
#include "cli/flags.h"
#include "test.h"

static int parse(const flag_def *f, int nflags, const char *a1, const char *a2) {
  char *argv[3] = {"x", (char *)a1, (char *)a2};
  flag_cmd cmd = {"x", "x", f, nflags};
  return flags_parse(&cmd, a2 ? 3 : 2, argv, NULL, 0, NULL);
}

static void test_flags_parse(void) {
  double lr = 1, frac = 0.5;
  int n = 3;
  flag_def f[] = {{"lr", FLAG_DOUBLE, &lr, "h", "(0, inf)"}, {"frac", FLAG_DOUBLE, &frac, "h", "[0, 1)"},
                  {"n", FLAG_INT, &n, "h", "[1, 8]"}};
  CHECK(parse(f, 3, "--lr", "0.5") == 0 && lr == 0.5, "lr 0.5");
  CHECK(parse(f, 3, "--lr", "0") == -1 && lr == 0.5, "lr 0 is outside (0, inf)");
  CHECK(parse(f, 3, "--lr", "inf") == -1 && parse(f, 3, "--lr", "nan") == -1 && parse(f, 3, "--lr=-inf", NULL) == -1,
        "non-finite lr accepted");
  CHECK(parse(f, 3, "--frac", "0") == 0 && frac == 0 && parse(f, 3, "--frac", "1") == -1, "[0, 1) ends");
  CHECK(parse(f, 3, "--n", "1") == 0 && parse(f, 3, "--n", "8") == 0 && n == 8, "[1, 8] ends");
  CHECK(parse(f, 3, "--n", "0") == -1 && parse(f, 3, "--n", "9") == -1 && n == 8, "outside [1, 8]");
  flag_def bad[] = {{"n", FLAG_INT, &n, "h", "[1, 8"}};
  CHECK(parse(bad, 1, "--n", "2") == -1 && n == 8, "a malformed range in the table was not refused");
  flag_def str[] = {{"s", FLAG_STRING, &n, "h", "[1, 8]"}};
  CHECK(parse(str, 1, "--help", NULL) == -1, "a range on a string flag was not refused");
  json_t *j = flags_to_json(&(flag_cmd){"x", "x", f, 3}, (const char *const[]){"frac", NULL});
  CHECK(json_object_size(j) == 2 && json_real_value(json_object_get(j, "lr")) == 0.5 &&
            json_integer_value(json_object_get(j, "n")) == 8,
        "flags_to_json");
  json_decref(j);
}

/* "alab ARGS" with stderr folded into *out; returns the exit status. */
static int alab(const char *args, char **out) {
  al_buf cmd = {0};
  al_buf_printf(&cmd, "'%s' %s 2>&1", getenv("ALAB_BIN"), args);
  int rc = test_sh(cmd.data, out);
  al_buf_free(&cmd);
  return rc;
}

static void test_bad_flags(const char *root) {
  static const struct { const char *args, *says; } cases[] = {
      {"train --threads -1", "--threads: -1 is outside the allowed range [0, 4096]"},
      {"train --vocab -5", "--vocab: -5 is outside"},
      {"train --warmup -1", "--warmup: -1 is outside the allowed range [0, inf)"},
      {"train --grad-clip -1", "--grad-clip: -1 is outside"},
      {"train --grad-clip nan", "--grad-clip: 'nan' is not a valid finite number"},
      {"train --eval-every 0", "--eval-every: 0 is outside the allowed range [1, inf)"},
      {"train --ckpt-every -1", "--ckpt-every: -1 is outside"},
      {"train --lr inf", "--lr: 'inf' is not a valid finite number"},
      {"train --min-lr-frac 1.5", "--min-lr-frac: 1.5 is outside the allowed range [0, 1]"},
      {"sample --temperature nan", "--temperature: 'nan' is not a valid finite number"},
      {"sample --top-p 0", "--top-p: 0 is outside the allowed range (0, 1]"},
      {"score --threads -2 --text a", "--threads: -2 is outside"},
  };
  char *out;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = alab(cases[i].args, &out);
    CHECK(rc == 2 && strstr(out, cases[i].says), "alab %s: exit %d, '%s'", cases[i].args, rc, out);
    free(out);
  }
  CHECK(alab("train --help", &out) == 0 && strstr(out, "peak learning rate [default: 0.001; range (0, inf)]") &&
            strstr(out, "threads (0: OMP_NUM_THREADS if set, else all cores) [default: 0; range [0, 4096]]"),
        "train --help does not show the ranges: %s", out);
  free(out);
  char args[8192];
  snprintf(args, sizeof args, "train --out '%s/huge' --data story:50 --tokenizer byte --batch 1000000000 --quiet", root);
  int rc = alab(args, &out);
  CHECK(rc == 1 && strstr(out, "batch 1000000000 x seq_len 128 needs at least") && strstr(out, "of memory"),
        "a huge batch: exit %d, '%s'", rc, out);
  free(out);
}

static void test_tok_decode_many(const char *root) {
  /* 5000 ids 'a'..'z' repeated, as arguments and in a file */
  al_buf ids = {0}, want = {0};
  for (int i = 0; i < 5000; i++) {
    al_buf_printf(&ids, "%s%d", i ? (i % 7 ? " " : "\n") : "", 'a' + i % 26);
    al_buf_printf(&want, "%c", 'a' + i % 26);
  }
  al_buf_printf(&want, "\n");
  char *path = al_path_join(root, "ids.txt"), *out;
  al_err err;
  CHECK_OK(al_write_file_atomic(path, ids.data, ids.len, &err), err);
  al_buf args = {0};
  al_buf_printf(&args, "tok decode --in '%s'", path);
  CHECK(alab(args.data, &out) == 0 && !strcmp(out, want.data), "decode --in of 5000 ids: %.60s...", out);
  free(out);
  args.len = 0;
  al_buf_printf(&args, "tok decode ");
  for (size_t i = 0; i < ids.len; i++) al_buf_printf(&args, "%c", ids.data[i] == '\n' ? ' ' : ids.data[i]);
  CHECK(alab(args.data, &out) == 0 && !strcmp(out, want.data), "decode of 5000 id arguments: %.60s...", out);
  free(out);
  CHECK(alab("tok decode 97 98 x", &out) == 2 && strstr(out, "'x' is not a token id"), "bad id: %s", out);
  free(out);
  al_buf_free(&args);
  al_buf_free(&ids);
  al_buf_free(&want);
  free(path);
}

static void test_truncated_merges(const char *root) {
  char *corpus = al_path_join(root, "corpus.txt"), *tok = al_path_join(root, "tok"), args[8192], *out;
  al_buf text = {0};
  for (int i = 0; i < 200; i++) al_buf_printf(&text, "the cat sat on the mat number %d and then it ran away. ", i);
  al_err err;
  CHECK_OK(al_write_file_atomic(corpus, text.data, text.len, &err), err);
  snprintf(args, sizeof args, "tok train --corpus '%s' --vocab 300 --out '%s'", corpus, tok);
  CHECK(alab(args, &out) == 0, "tok train: %s", out);
  free(out);
  snprintf(args, sizeof args, "tok encode --tokenizer '%s' 'the cat sat'", tok);
  CHECK(alab(args, &out) == 0, "encode with the whole merges.txt: %s", out);
  free(out);
  /* drop the last 5 merges (a file cut at a line boundary) */
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "head -n -5 '%s/merges.txt' > '%s/m' && mv '%s/m' '%s/merges.txt'", tok, root, root, tok);
  CHECK(test_sh(cmd, &out) == 0, "%s", cmd);
  free(out);
  int rc = alab(args, &out);
  CHECK(rc == 1 && strstr(out, "merges.txt: 5 tokens of the vocabulary are made by no merge") && strstr(out, "truncated"),
        "a truncated merges.txt: exit %d, '%s'", rc, out);
  free(out);
  al_buf_free(&text);
  free(corpus);
  free(tok);
}

int main(void) {
  char *root = test_tmpdir("train_flags");
  test_flags_parse();
  test_bad_flags(root);
  test_tok_decode_many(root);
  test_truncated_merges(root);
  free(root);
  return test_summary();
}
