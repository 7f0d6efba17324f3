/* Reversal evaluated through `alab serve` (HTTP) gives the same numbers as
 * through the local provider, on a trained reversal model.
 *
 * A tiny reversal run (4 people per group, 10 training and 3 held-out
 * templates, 8 epochs, one seed) saves its finetuned model (--save-models);
 * `alab serve` serves it on an ephemeral port. Then, for every slot's test
 * file and every example:
 *  - the local provider (the model loaded from its directory) and the HTTP
 *    provider (text prompts, "<|endoftext|>" read by the server as the
 *    token) give the same greedy hit (exactly) and the same log p(correct)
 *    and log p(random) to 1e-5;
 *  - the local evaluation is the training run's own, bit for bit: its
 *    per-slot accuracy and mean log-probs equal results.json's (the saved
 *    model evaluated again through the same code);
 *  - the comparison is not vacuous: the model learned its facts (trained
 *    order, training templates, accuracy >= 0.5 over the groups).
 * The command line: `alab reversal --api-base` on the served model writes
 * results.json in the training run's shape (variant "evaluated") with the
 * provider recorded, accuracies equal to the run's and log-probs to 1e-5;
 * `--model DIR` gives the run's numbers exactly. Bad combinations are
 * usage errors (exit 2), a prefix token-id mode cannot send is exit 1. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "alab/json.h"
#include "alab/provider.h"
#include "alab/reversal.h"
#include "serve_proc.h"
#include "test.h"

static json_t *slots_of(json_t *r, const char *variant) {
  return json_object_get(json_object_get(json_object_get(r, "variants"), variant), "slots");
}

static double num(json_t *o, const char *a, const char *b) {
  json_t *x = json_object_get(o, a);
  if (b) x = json_object_get(x, b);
  return json_is_number(x) ? json_number_value(x) : NAN;
}

static double mean(const double *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += x[i];
  return n ? s / n : NAN;
}

/* results.json of a CLI evaluation against the training run's: accuracy
 * exactly, mean log-probs within tol. */
static void compare_results(json_t *run, json_t *ev, const char *what, double tol) {
  json_t *a = slots_of(run, "augmented"), *b = slots_of(ev, "evaluated");
  CHECK(json_object_size(a) > 0 && json_object_size(a) == json_object_size(b), "%s: %zu slots, the run %zu", what,
        json_object_size(b), json_object_size(a));
  const char *key;
  json_t *x;
  json_object_foreach(a, key, x) {
    json_t *y = json_object_get(b, key);
    CHECK(y && num(x, "n", NULL) == num(y, "n", NULL), "%s %s: n", what, key);
    CHECK(num(x, "accuracy", "mean") == num(y, "accuracy", "mean"), "%s %s: accuracy %g, the run %g", what, key,
          num(y, "accuracy", "mean"), num(x, "accuracy", "mean"));
    CHECK(fabs(num(x, "logprob_correct", NULL) - num(y, "logprob_correct", NULL)) <= tol &&
              fabs(num(x, "logprob_random", NULL) - num(y, "logprob_random", NULL)) <= tol,
          "%s %s: log-probs %.9f %.9f, the run %.9f %.9f", what, key, num(y, "logprob_correct", NULL),
          num(y, "logprob_random", NULL), num(x, "logprob_correct", NULL), num(x, "logprob_random", NULL));
  }
}

int main(void) {
  al_err err;
  unsetenv("ALAB_MODEL"), unsetenv("ALAB_API_BASE");
  char *dir = test_tmpdir("reversal_serve"), *run = al_path_join(dir, "run"), *model = al_path_join(run, "models/augmented-seed0");
  char *data = al_path_join(run, "data"), *names = al_path_join(getenv("ALAB_SRC") ? getenv("ALAB_SRC") : ".", "data/names");
  al_rev_cfg c;
  al_rev_defaults(&c);
  c.names_dir = names;
  c.per_group = 4, c.train_templates = 10, c.test_templates = 3;
  c.seeds = 1, c.augment = 1, c.epochs = 8, c.pretrain_steps = 0, c.stories = 50, c.threads = 1;
  c.save_models = 1;
  json_t *res = NULL;
  double t0 = al_now();
  CHECK_OK(al_rev_run(&c, run, &res, &err), err);
  printf("training run: %.1f s\n", al_now() - t0);
  if (!res) return test_summary();

  int port = 0;
  pid_t pid = start_server(model, &port);
  CHECK(pid > 0 && port > 0, "alab serve did not start");
  if (!(pid > 0 && port > 0)) return test_summary();
  char base[64];
  snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);

  /* per example, library level: local provider vs HTTP provider */
  al_model m;
  al_tok *tok = NULL;
  CHECK_OK(al_model_load_dir(&m, model, &err), err);
  CHECK_OK(al_tok_load(&tok, model, &err), err);
  al_provider *lp = NULL, *hp = NULL;
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = 1;
  al_http_cfg hc = al_http_cfg_default();
  hc.base_url = base, hc.model = "augmented-seed0", hc.fail_fast = 1, hc.cache = NULL, hc.api_key = NULL;
  CHECK_OK(al_provider_http(&hp, &hc, &err), err);
  al_rev_evaluator el = {.tok = tok, .context = m.cfg.n_positions, .prefix = "<|endoftext|>", .batch = 1};
  al_rev_evaluator eh = {.p = hp, .tok = tok, .context = m.cfg.n_positions, .prefix = "<|endoftext|>", .batch = 0};
  al_rev_data d;
  CHECK_OK(al_rev_read(&d, data, (uint64_t)c.seed, &err), err);
  json_t *run_slots = slots_of(res, "augmented");
  int examples = 0, hits = 0, learned_n = 0, learned_hits = 0;
  double worst = 0;
  for (int k = 0; k < AL_REV_NSLOTS; k++) {
    if (!d.slot[k].n) continue;
    al_rev_score a, b;
    /* a fresh local provider per slot, as the training run scores */
    CHECK_OK(al_provider_local_wrap(&lp, &m, tok, "local", &lc, &err), err);
    el.p = lp;
    CHECK_OK(al_rev_score_set(&el, &d.slot[k], c.eval_max, &a, &err), err);
    al_provider_free(lp);
    CHECK_OK(al_rev_score_set(&eh, &d.slot[k], c.eval_max, &b, &err), err);
    CHECK(a.n == b.n && a.n > 0, "%s: %d local examples, %d http", d.slot[k].file, a.n, b.n);
    for (int i = 0; i < a.n && i < b.n; i++) {
      double dc = fabs(a.lp_correct[i] - b.lp_correct[i]), dr = fabs(a.lp_random[i] - b.lp_random[i]);
      worst = fmax(worst, fmax(dc, dr));
      CHECK(a.hit[i] == b.hit[i], "%s example %d: local hit %d, http %d", d.slot[k].file, i, a.hit[i], b.hit[i]);
      CHECK(dc <= 1e-5 && dr <= 1e-5, "%s example %d: log p local %.9f %.9f, http %.9f %.9f", d.slot[k].file, i,
            a.lp_correct[i], a.lp_random[i], b.lp_correct[i], b.lp_random[i]);
    }
    examples += a.n, hits += a.correct;
    if (k % 2 == AL_REV_TMPL_TRAIN && (k / 2) % 2 == AL_REV_TRAINED) learned_n += a.n, learned_hits += a.correct;
    /* the training run measured the same numbers (same code, same decoder order) */
    char key[96];
    snprintf(key, sizeof key, "%s/%s/%s", al_rev_group_names[k / 4], (k / 2) % 2 ? "reverse" : "trained",
             k % 2 ? "heldout_templates" : "train_templates");
    json_t *s = json_object_get(run_slots, key);
    CHECK(num(s, "accuracy", "mean") == (double)a.correct / a.n, "%s: accuracy %g, the run %g", key,
          (double)a.correct / a.n, num(s, "accuracy", "mean"));
    CHECK(num(s, "logprob_correct", NULL) == mean(a.lp_correct, a.n) &&
              num(s, "logprob_random", NULL) == mean(a.lp_random, a.n),
          "%s: mean log-probs %.12f %.12f, the run %.12f %.12f", key, mean(a.lp_correct, a.n), mean(a.lp_random, a.n),
          num(s, "logprob_correct", NULL), num(s, "logprob_random", NULL));
    al_rev_score_free(&a), al_rev_score_free(&b);
  }
  printf("%d examples, %d hits (trained order, training templates: %d of %d); largest log-prob difference %.3g\n",
         examples, hits, learned_hits, learned_n, worst);
  CHECK(learned_n > 0 && learned_hits >= learned_n / 2, "the model did not learn its facts: %d of %d", learned_hits,
        learned_n);
  al_http_stats hs;
  CHECK(!al_provider_http_stats(hp, &hs) && hs.requests >= 3 * examples, "HTTP requests sent: %ld for %d examples",
        hs.requests, examples);

  /* the command line */
  char cmd[8192], path[4096];
  const char *bin = getenv("ALAB_BIN");
  snprintf(cmd, sizeof cmd,
           "'%s' reversal --quiet --api-base %s --api-model augmented-seed0 --api-prefix '<|endoftext|>' --data '%s' "
           "--out '%s/http'", bin, base, data, dir);
  CHECK(system(cmd) == 0, "alab reversal --api-base failed");
  snprintf(cmd, sizeof cmd, "'%s' reversal --quiet --model '%s' --data '%s' --out '%s/local'", bin, model, data, dir);
  CHECK(system(cmd) == 0, "alab reversal --model failed");
  json_t *rh = NULL, *rl = NULL, *rr = NULL; /* as written (reals at the files' precision) */
  snprintf(path, sizeof path, "%s/results.json", run);
  CHECK_OK(al_json_load_file(path, &rr, &err), err);
  snprintf(path, sizeof path, "%s/http/results.json", dir);
  CHECK_OK(al_json_load_file(path, &rh, &err), err);
  snprintf(path, sizeof path, "%s/local/results.json", dir);
  CHECK_OK(al_json_load_file(path, &rl, &err), err);
  if (rh && rl && rr) {
    compare_results(rr, rh, "--api-base", 1e-5);
    compare_results(rr, rl, "--model", 0);
    json_t *ph = json_object_get(rh, "provider"), *pl = json_object_get(rl, "provider");
    const char *kh = json_string_value(json_object_get(ph, "kind")), *kl = json_string_value(json_object_get(pl, "kind"));
    CHECK(kh && !strcmp(kh, "http") && kl && !strcmp(kl, "local"), "provider kinds %s, %s", kh, kl);
    const char *ab = json_string_value(json_object_get(ph, "api_base"));
    CHECK(ab && !strcmp(ab, base), "provider api_base %s", ab);
    CHECK(json_is_object(json_object_get(rh, "must_reach")) && json_array_size(json_object_get(rh, "headline")) > 0,
          "results.json shape");
  }
  /* bad input: usage errors before any work, and a prefix token-id mode would send as plain text */
  snprintf(cmd, sizeof cmd, "'%s' reversal --quiet --model '%s' --api-base %s --api-model x --out '%s/bad' 2>/dev/null",
           bin, model, base, dir);
  CHECK(WEXITSTATUS(system(cmd)) == 2, "--model with --api-base: not exit 2");
  snprintf(cmd, sizeof cmd, "'%s' reversal --quiet --api-base %s --out '%s/bad' 2>/dev/null", bin, base, dir);
  CHECK(WEXITSTATUS(system(cmd)) == 2, "--api-base without --api-model: not exit 2");
  snprintf(cmd, sizeof cmd, "'%s' reversal --quiet --api-prefix x --out '%s/bad' 2>/dev/null", bin, dir);
  CHECK(WEXITSTATUS(system(cmd)) == 2, "--api-prefix without --api-base: not exit 2");
  snprintf(cmd, sizeof cmd,
           "'%s' reversal --quiet --api-base %s --api-model augmented-seed0 --api-tokenizer '%s' --api-prefix "
           "'<|endoftext|>' --data '%s' --out '%s/bad' 2>&1",
           bin, base, model, data, dir);
  char *out = NULL;
  int st = test_sh(cmd, &out);
  CHECK(st == 1 && out && strstr(out, "--api-prefix") && strstr(out, "token-id mode"),
        "special prefix in token-id mode: exit %d, '%s'", st, out ? out : "");
  free(out);

  kill(pid, SIGTERM), waitpid(pid, NULL, 0);
  json_decref(rh), json_decref(rl), json_decref(rr), json_decref(res);
  al_rev_free(&d);
  al_provider_free(hp);
  al_tok_free(tok), al_model_free(&m);
  free(dir), free(run), free(model), free(data), free(names);
  return test_summary();
}
