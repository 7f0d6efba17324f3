/* The reversal curse on a tiny quick configuration (a training run: label
 * slow): 6 people per group, 20 training and 10 held-out templates, a
 * 2-layer GPT-2 pretrained 30 steps on the story world, 2 finetuning seeds.
 *
 * What must hold, and the thresholds:
 *  - trained order, training templates: accuracy >= 90% in every group (the
 *    issue's own target; every seed of this configuration memorises its
 *    facts, so a miss means finetuning broke, not bad luck);
 *  - reverse order (held-out templates, as in the paper): accuracy <= 5%,
 *    below chance (1/6), i.e. near zero;
 *  - log p(correct) - log p(random): trained order significant (p < 1e-6);
 *    reverse not significant at the 1% level and under a fifth of the
 *    trained order's difference. Why 1% and not 5%: GPT-2 ties its input and
 *    output embeddings, and tiny tied models carry a small reverse bias
 *    (+0.3 to +0.8 nats against +12 in the trained order); over base seeds
 *    its per-example p ranged from 0.025 to 0.94 (docs/reversal.md), so a 5%
 *    test would hinge on the seed, while a leak of reverse facts into
 *    training gives p far below 1%. */
#include "alab/json.h"
#include "alab/reversal.h"
#include "test.h"

static json_t *slot(json_t *r, const char *key) {
  return json_object_get(json_object_get(json_object_get(json_object_get(r, "variants"), "augmented"), "slots"), key);
}

static double get(json_t *o, const char *a, const char *b) {
  json_t *x = json_object_get(o, a);
  if (b) x = json_object_get(x, b);
  return json_is_number(x) ? json_number_value(x) : NAN;
}

int main(void) {
  char *tmp = test_tmpdir("reversal_run"), *names = al_path_join(getenv("ALAB_SRC") ? getenv("ALAB_SRC") : ".", "data/names");
  al_rev_cfg c;
  al_rev_defaults(&c);
  c.names_dir = names;
  c.per_group = 6, c.train_templates = 20, c.test_templates = 10;
  c.seeds = 2, c.augment = 1, c.epochs = 8, c.pretrain_steps = 30, c.stories = 100;
  al_err err;
  json_t *r = NULL;
  double t0 = al_now();
  CHECK_OK(al_rev_run(&c, tmp, &r, &err), err);
  printf("run took %.1f s\n", al_now() - t0);
  if (!r) return test_summary();
  static const char *groups[3] = {"p2d", "d2p", "both"};
  double trained_diff = INFINITY;
  for (int g = 0; g < 3; g++) {
    char key[96];
    snprintf(key, sizeof key, "%s/trained/train_templates", groups[g]);
    json_t *s = slot(r, key);
    double acc = get(s, "accuracy", "mean"), p = get(s, "logprob_diff", "p");
    printf("%s: accuracy %.3f, diff %.2f, p %.3g\n", key, acc, get(s, "logprob_diff", "mean"), p);
    CHECK(acc >= 0.9, "%s accuracy %.3f < 0.9", key, acc);
    CHECK(p < 1e-6, "%s: correct vs random p %.3g", key, p);
    snprintf(key, sizeof key, "%s/trained/heldout_templates", groups[g]);
    s = slot(r, key);
    CHECK(get(s, "logprob_diff", "p") < 1e-6, "%s: p %.3g", key, get(s, "logprob_diff", "p"));
    if (g < 2) trained_diff = fmin(trained_diff, get(s, "logprob_diff", "mean"));
  }
  for (int g = 0; g < 2; g++) {
    char key[96];
    snprintf(key, sizeof key, "%s/reverse/heldout_templates", groups[g]);
    json_t *s = slot(r, key);
    double acc = get(s, "accuracy", "mean"), chance = get(s, "chance", NULL), p = get(s, "logprob_diff", "p"),
           diff = get(s, "logprob_diff", "mean");
    printf("%s: accuracy %.3f (chance %.3f), diff %.2f, p %.3g\n", key, acc, chance, diff, p);
    CHECK(acc <= 0.05 && acc < chance, "%s accuracy %.3f", key, acc);
    CHECK(p > 0.01, "%s: reverse correct vs random significant, p %.3g", key, p);
    CHECK(diff < trained_diff / 5, "%s: reverse difference %.2f vs trained %.2f", key, diff, trained_diff);
  }
  json_t *must = json_object_get(r, "must_reach");
  CHECK(json_is_true(json_object_get(must, "trained_order_train_templates_at_least_90pct")), "must_reach forward");
  CHECK(json_is_true(json_object_get(must, "reverse_at_most_chance_plus_ci")), "must_reach reverse");
  /* the run directory */
  static const char *files[] = {"config.json", "results.json", "metrics.jsonl", "index.html", "data/all_prompts_train.jsonl"};
  for (int i = 0; i < 5; i++) {
    char *p = al_path_join(tmp, files[i]);
    CHECK(al_file_exists(p), "%s missing", files[i]);
    free(p);
  }
  json_decref(r);
  free(names);
  free(tmp);
  return test_summary();
}
