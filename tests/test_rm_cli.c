/* alab rm and alab bon through the binary, on a tiny model and data written
 * here: the same run twice gives the same model, and a run killed (SIGKILL)
 * mid-run and resumed ends with the uninterrupted run's model byte for byte; a pair whose chosen equals its
 * rejected is reported and left out; an empty response fails naming its
 * file and line; rm score on a language model refuses it; rm train --init
 * a language model keeps its tokenizer; rm score --input
 * reports every pair and the accuracy its own rewards give; bon's proxy
 * reward never falls with n (the expected best of more samples), and its KL
 * column is log n - (n-1)/n; with --gold-story its gold lies in [-1, 1]. */
#include <jansson.h>
#include "alab/bon.h"
#include "alab/json.h"
#include "test.h"

static int run(const char *args, char **out) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", getenv("ALAB_BIN"), args);
  return test_sh(cmd, out);
}

static int same_file(const char *a, const char *b) {
  char *x, *y;
  size_t nx, ny;
  al_err err;
  if (al_read_file(a, &x, &nx, &err)) return 0;
  if (al_read_file(b, &y, &ny, &err)) return free(x), 0;
  int same = nx == ny && !memcmp(x, y, nx);
  free(x), free(y);
  return same;
}

int main(void) {
  char *dir = test_tmpdir("rm_cli"), path[1024], args[4096], *out;
  al_err err;
  /* pairs: openings with a "red" thing preferred; one identical pair */
  al_buf pairs = {0};
  static const char *names[] = {"Lily", "Tom", "Mia", "Ben", "Sam", "Zoe"}, *things[] = {"hat", "ball", "kite", "cup"};
  for (int i = 0; i < 48; i++)
    al_buf_printf(&pairs, "{\"prompt\": \"%s had a\", \"chosen\": \" red %s.\", \"rejected\": \" big %s.\"}\n",
                  names[i % 6], things[i % 4], things[(i + 1) % 4]);
  al_buf_printf(&pairs, "{\"chosen\": \"same\", \"rejected\": \"same\"}\n");
  snprintf(path, sizeof path, "%s/pairs.jsonl", dir);
  CHECK_OK(al_write_file_atomic(path, pairs.data, pairs.len, &err), err);
  const char *common = "--tokenizer byte --layers 1 --heads 2 --embd 16 --context 32 --seq-len 24 --batch 4 --lr 3e-3 "
                       "--eval-every 2 --ckpt-every 2 --threads 1";
  snprintf(args, sizeof args, "rm train --data %s --out %s/a --steps 4 %s", path, dir, common);
  CHECK(run(args, &out) == 0 && strstr(out, "1 pairs have chosen equal to rejected (the first on line 49)"),
        "rm train: %s", out);
  free(out);
  snprintf(args, sizeof args, "rm train --data %s --out %s/b --steps 4 %s", path, dir, common);
  CHECK(run(args, &out) == 0, "rm train again: %s", out);
  free(out);
  char a[1024], b[1024];
  snprintf(a, sizeof a, "%s/a/model.safetensors", dir), snprintf(b, sizeof b, "%s/b/model.safetensors", dir);
  CHECK(same_file(a, b), "same seed, same threads: the same reward model");
  /* killed (SIGKILL) before its 3rd and its 9th file write, then resumed */
  for (int k = 3; k <= 9; k += 6) {
    snprintf(args, sizeof args, "ALAB_TEST_KILL_AT_WRITE=%d '%s' rm train --data %s --out %s/k%d --steps 4 %s 2>&1", k,
             getenv("ALAB_BIN"), path, dir, k, common);
    int st = test_sh(args, &out);
    CHECK(st != 0, "the run killed at write %d exited %d", k, st);
    free(out);
    snprintf(args, sizeof args, "rm train --data %s --out %s/k%d --steps 4 %s --resume", path, dir, k, common);
    CHECK(run(args, &out) == 0, "resume after the kill at write %d: %s", k, out);
    free(out);
    snprintf(b, sizeof b, "%s/k%d/model.safetensors", dir, k);
    CHECK(same_file(a, b), "killed at write %d and resumed: the uninterrupted run's model", k);
  }
  snprintf(args, sizeof args, "rm train --data %s --out %s/a --steps 4 %s --resume", path, dir, common);
  CHECK(run(args, &out) == 0 && strstr(out, "already done its 4 steps"), "resume of a finished run: %s", out);
  free(out);
  snprintf(a, sizeof a, "%s/a/config.json", dir);
  json_t *cfg;
  CHECK_OK(al_json_load_file(a, &cfg, &err), err);
  if (cfg) {
    const char *arch = json_string_value(json_array_get(json_object_get(cfg, "architectures"), 0));
    CHECK(arch && !strcmp(arch, "GPT2ForSequenceClassification") && json_integer_value(json_object_get(cfg, "pad_token_id")) == 256,
          "config: %s, pad_token_id of the byte tokenizer's end-of-text (256)", arch ? arch : "?");
    json_decref(cfg);
  }
  /* rm score: every pair, and the accuracy of its own rewards */
  snprintf(args, sizeof args, "rm score --model %s/a --input %s", dir, path);
  CHECK(run(args, &out) == 0, "rm score: %s", out);
  int lines = 0, right = 0;
  double acc = -1;
  for (char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    double c, r;
    long ln;
    if (sscanf(l, "{\"line\": %ld, \"chosen\": %lf, \"rejected\": %lf}", &ln, &c, &r) == 3) lines++, right += c > r;
    sscanf(l, "{\"pairs\": 48, \"accuracy\": %lf", &acc);
  }
  CHECK(lines == 48 && fabs(acc - right / 48.0) < 1e-6, "48 pairs scored (%d), accuracy %.4f vs %d/48", lines, acc, right);
  free(out);
  /* bad input */
  snprintf(path, sizeof path, "%s/empty.jsonl", dir);
  const char *bad = "{\"chosen\": \"a b\", \"rejected\": \"a c\"}\n{\"prompt\": \"p\", \"chosen\": \"\", \"rejected\": \"x\"}\n";
  CHECK_OK(al_write_file_atomic(path, bad, strlen(bad), &err), err);
  snprintf(args, sizeof args, "rm train --data %s --out %s/c %s", path, dir, common);
  CHECK(run(args, &out) == 1 && strstr(out, "empty.jsonl:2: the chosen response is empty"), "empty response: %s", out);
  free(out);
  snprintf(args, sizeof args, "train --data story:200 --out %s/lm --layers 1 --heads 2 --embd 16 --context 64 --seq-len 32 "
                              "--steps 2 --tokenizer byte --threads 1 --quiet", dir);
  CHECK(run(args, &out) == 0, "train the policy: %s", out);
  free(out);
  snprintf(args, sizeof args, "rm score --model %s/lm --text hello", dir);
  CHECK(run(args, &out) == 1 && strstr(out, "is a language model without a scalar head (score.weight)"), "LM as RM: %s", out);
  free(out);
  /* from a language model: its tokenizer and trunk, a new head */
  snprintf(args, sizeof args, "rm train --data %s/pairs.jsonl --init %s/lm --out %s/fromlm --steps 2 --seq-len 24 --batch 4 "
           "--threads 1 --quiet", dir, dir, dir);
  CHECK(run(args, &out) == 0, "rm train --init: %s", out);
  free(out);
  snprintf(a, sizeof a, "%s/lm/vocab.json", dir), snprintf(b, sizeof b, "%s/fromlm/vocab.json", dir);
  CHECK(same_file(a, b), "the reward model keeps the language model's tokenizer");
  snprintf(args, sizeof args, "rm score --model %s/fromlm --text 'Lily had a red hat.'", dir);
  CHECK(run(args, &out) == 0 && isfinite(atof(out)), "score with the initialised model: %s", out);
  free(out);
  /* bon */
  snprintf(args, sizeof args, "bon --policy %s/lm --rm %s/a --prompt 'Lily had a' --n 16 --max-new 8 --out %s/bon --threads 1",
           dir, dir, dir);
  CHECK(run(args, &out) == 0, "bon: %s", out);
  free(out);
  snprintf(path, sizeof path, "%s/bon/results.json", dir);
  json_t *res;
  CHECK_OK(al_json_load_file(path, &res, &err), err);
  if (res) {
    json_t *rows = json_object_get(res, "best_of_n");
    CHECK(json_array_size(rows) == 5, "n = 1, 2, 4, 8, 16");
    double prev = -INFINITY;
    for (size_t k = 0; k < json_array_size(rows); k++) {
      json_t *row = json_array_get(rows, k);
      int n = (int)json_integer_value(json_object_get(row, "n"));
      double kl = json_real_value(json_object_get(row, "kl")), p = json_real_value(json_object_get(json_object_get(row, "proxy"), "mean"));
      CHECK(n == 1 << k && fabs(kl - (log(n) - (n - 1.0) / n)) < 1e-12, "row %zu: n %d kl %g", k, n, kl);
      CHECK(p >= prev - 1e-9, "proxy reward falls from %g to %g at n = %d", prev, p, n);
      prev = p;
    }
    json_decref(res);
  }
  /* the story world's gold: every sampled text scores -1 (not a story) up to 1.0 */
  snprintf(args, sizeof args, "bon --policy %s/lm --rm %s/a --prompt 'Once upon a time,' --n 4 --max-new 8 --gold-story "
           "--out %s/bon2 --threads 1", dir, dir, dir);
  CHECK(run(args, &out) == 0 && strstr(out, "gold mean"), "bon --gold-story: %s", out);
  free(out);
  snprintf(path, sizeof path, "%s/bon2/results.json", dir);
  CHECK_OK(al_json_load_file(path, &res, &err), err);
  if (res) {
    json_t *rows = json_object_get(res, "best_of_n");
    for (size_t k = 0; k < json_array_size(rows); k++) {
      double g = json_real_value(json_object_get(json_object_get(json_array_get(rows, k), "gold"), "mean"));
      CHECK(g >= -1 && g <= 1, "gold %g outside [-1, 1]", g);
    }
    CHECK(!strcmp(json_string_value(json_object_get(res, "gold")), "story"), "results name the gold");
    json_decref(res);
  }
  al_buf_free(&pairs);
  free(dir);
  return test_summary();
}
