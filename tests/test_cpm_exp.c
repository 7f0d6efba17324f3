/* `alab cpm` at a small scale (al_cpm_exp_run): the run directory is
 * complete, and the numbers keep the invariants that hold whatever the
 * models learned:
 *   - at n = 1 a pick is a uniform sample: every kind's expected gold is the
 *     same (the set's mean gold), and two models always agree;
 *   - best-of-n by gold itself is the ceiling of every picker's gold;
 *   - gold and agreement lie in their ranges; accuracies in [0, 1];
 * and what the exact features must give: the CPM's "valid" coefficient is
 * positive with a bootstrap interval above 0 (broken stories have gold -1)
 * and its held-out accuracy beats chance. The same seed gives the same
 * results. With rm_init the reward models start from a language model
 * directory (its tokenizer and context; recorded in config.json). The CLI
 * refuses a bad flag with exit 2 and a missing --rm-init with exit 1. */
#include <jansson.h>
#include "alab/cpm_exp.h"
#include "alab/model.h"
#include "alab/synth.h"
#include "alab/tok.h"
#include "test.h"

static double num(const json_t *j) { return json_number_value(j); }

static json_t *run(const char *dir) {
  al_cpm_exp_cfg c;
  al_cpm_exp_defaults(&c);
  c.seeds = 2, c.pairs = 200, c.heldout = 100, c.groups = 4, c.N = 8;
  c.steps = 10, c.context = 192, c.embd = 32, c.vocab = 384;
  c.cpm.bootstrap = 50;
  al_err err;
  json_t *r = NULL;
  CHECK_OK(al_cpm_exp_run(&c, dir, &r, &err), err);
  return r;
}

static void invariants(const json_t *r) {
  const json_t *gold = json_object_get(r, "gold"), *ag = json_object_get(r, "agreement");
  const char *kinds[] = {"cpm", "rm", "gold_bon"};
  size_t nn = json_array_size(json_object_get(r, "n"));
  CHECK(nn == 4, "n = 1, 2, 4, 8: %zu values", nn);
  for (int s = 0; s < 2; s++) {
    double g1[3];
    for (int k = 0; k < 3; k++)
      g1[k] = num(json_array_get(json_object_get(json_array_get(json_object_get(gold, kinds[k]), 0), "seeds"), s));
    CHECK(fabs(g1[0] - g1[2]) < 1e-12 && fabs(g1[1] - g1[2]) < 1e-12, "seed %d: gold at n = 1 %g %g %g", s, g1[0],
          g1[1], g1[2]);
    for (size_t i = 0; i < nn; i++) {
      double ceil = num(json_array_get(json_object_get(json_array_get(json_object_get(gold, "gold_bon"), i), "seeds"), s));
      for (int k = 0; k < 2; k++) {
        double g = num(json_array_get(json_object_get(json_array_get(json_object_get(gold, kinds[k]), i), "seeds"), s));
        double a = num(json_array_get(json_object_get(json_array_get(json_object_get(ag, kinds[k]), i), "seeds"), s));
        CHECK(g <= ceil + 1e-12 && g >= -1 - 1e-12, "seed %d n index %zu %s: gold %g, ceiling %g", s, i, kinds[k], g, ceil);
        CHECK(a >= 0 && a <= 1 + 1e-12, "agreement %g", a);
        if (i == 0) CHECK(fabs(a - 1) < 1e-12, "agreement at n = 1 is %g", a);
      }
    }
    const json_t *coef = json_object_get(json_object_get(json_array_get(json_object_get(r, "coefficients"), s), "half_a"),
                                         "features");
    const json_t *valid = json_array_get(coef, 0);
    CHECK(!strcmp(json_string_value(json_object_get(valid, "name")), "valid"), "first feature");
    CHECK(num(json_object_get(valid, "coef")) > 0 && num(json_object_get(valid, "lo")) > 0,
          "seed %d: valid's coefficient %g [%g, ...]", s, num(json_object_get(valid, "coef")),
          num(json_object_get(valid, "lo")));
  }
  double acc = num(json_object_get(json_object_get(json_object_get(r, "accuracy"), "cpm"), "mean"));
  CHECK(acc > 0.65, "CPM held-out accuracy %g", acc);
  CHECK(json_array_size(json_object_get(r, "headline")) == 4, "headline");
}

/* results without the timing */
static char *dump(json_t *r) {
  json_t *c = json_deep_copy(r);
  json_object_del(c, "seconds");
  char *s = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(c);
  return s;
}

/* A run whose reward models start from a (random) language model directory. */
static void from_lm(const char *dir) {
  al_buf text = {0};
  al_err err;
  al_synth_corpus(5, 200, &text, NULL);
  al_tok *tok = NULL;
  CHECK_OK(al_tok_train(&tok, text.data, text.len, 300, &err), err);
  al_model_config g = {.vocab_size = tok ? al_tok_vocab_size(tok) : 300, .n_positions = 160, .n_layer = 1, .n_head = 2,
                       .n_embd = 32};
  al_model lm;
  char *lmdir = al_path_join(dir, "lm"), *run = al_path_join(dir, "from_lm");
  CHECK_OK(al_model_init(&lm, &g, 3, &err), err);
  CHECK_OK(al_model_save_dir(&lm, tok, lmdir, &err), err);
  al_cpm_exp_cfg c;
  al_cpm_exp_defaults(&c);
  c.seeds = 2, c.pairs = 100, c.heldout = 40, c.groups = 2, c.N = 8, c.steps = 5, c.cpm.bootstrap = 10;
  c.rm_init = lmdir;
  json_t *r = NULL;
  CHECK_OK(al_cpm_exp_run(&c, run, &r, &err), err);
  char *cp = al_path_join(run, "config.json");
  json_t *cfg = json_load_file(cp, 0, NULL);
  CHECK(cfg && !strcmp(json_string_value(json_object_get(json_object_get(cfg, "rm"), "init")), lmdir), "rm.init");
  const json_t *a = json_object_get(json_object_get(json_object_get(r, "accuracy"), "rm"), "mean");
  CHECK(json_is_number(a), "accuracy of the reward models started from the LM");
  json_decref(cfg), json_decref(r);
  al_model_free(&lm);
  al_tok_free(tok);
  al_buf_free(&text);
  free(cp), free(lmdir), free(run);
}

int main(void) {
  char *dir = test_tmpdir("cpm_exp");
  char *a = al_path_join(dir, "a"), *b = al_path_join(dir, "b");
  json_t *ra = run(a);
  if (ra) invariants(ra);
  json_t *rb = run(b);
  if (ra && rb) {
    char *sa = dump(ra), *sb = dump(rb);
    CHECK(!strcmp(sa, sb), "two runs with the same seed differ");
    free(sa), free(sb);
  }
  const char *files[] = {"config.json", "results.json", "metrics.jsonl", "agreement.svg", "gold.svg", "report.html"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char *p = al_path_join(a, files[i]);
    CHECK(al_file_exists(p), "%s missing", p);
    free(p);
  }
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' cpm --out '%s/c' --seeds 1 2>&1", getenv("ALAB_BIN"), dir);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 2 && out && strstr(out, "--seeds"), "--seeds 1: rc %d, %s", rc, out ? out : "");
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' cpm --out '%s/c' --penalty l3 2>&1", getenv("ALAB_BIN"), dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 2 && out && strstr(out, "--penalty"), "--penalty l3: rc %d, %s", rc, out ? out : "");
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' cpm --out '%s/c' --rm-init '%s/nowhere' --quiet 2>&1", getenv("ALAB_BIN"), dir, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 1 && out && strstr(out, "--rm-init"), "--rm-init nowhere: rc %d, %s", rc, out ? out : "");
  free(out);
  from_lm(dir);
  json_decref(ra), json_decref(rb);
  free(a), free(b), free(dir);
  return test_summary();
}
