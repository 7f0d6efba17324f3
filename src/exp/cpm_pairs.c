/* `alab cpm fit` (alab/cpm_exp.h, al_cpm_fit_pairs): a compositional
 * preference model on any preference file (TRL, HH-RLHF, SHP) with its
 * features scored by any provider. Pairs are split by a seeded permutation
 * into training and held-out; every response is scored on every feature
 * (alab/cpm_features.h); a pair with a rejected score on either side is
 * left out of the fit and counted; the model is fitted on the training pairs
 * (chosen first) and its held-out accuracy is r(chosen) > r(rejected), a tie
 * counting one half. The run directory gets config.json, metrics.jsonl (one
 * line per pair: its features, how each was read, the split) and
 * results.json (coefficients with bootstrap intervals, accuracy, the
 * extraction's counts). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/cpm_exp.h"
#include "alab/cpm_features.h"
#include "alab/exp.h"
#include "alab/preference.h"

static json_t *pair_record(const al_cpm_feature_set *F, long i, int heldout, const double *sc, const signed char *me) {
  static const char *const how[] = {"rejected", "greedy", "expected"};
  json_t *side[2];
  for (int s = 0; s < 2; s++) {
    side[s] = json_object();
    for (int k = 0; k < F->n; k++) {
      size_t j = (size_t)s * F->n + k;
      json_object_set_new(side[s], F->f[k].name,
                          json_pack("{s:o, s:s}", "score", isfinite(sc[j]) ? json_real(sc[j]) : json_null(), "read",
                                    how[me[j] + 1]));
    }
  }
  return json_pack("{s:I, s:b, s:o, s:o}", "pair", (json_int_t)i, "heldout", heldout, "chosen", side[0], "rejected",
                   side[1]);
}

int al_cpm_fit_pairs(const al_cpm_fit_cfg *c, al_provider *p, const char *dir, json_t **results_out, al_err *err) {
  if (!(c->heldout >= 0 && c->heldout < 1)) return al_fail(err, "--heldout must be in [0, 1), got %g", c->heldout);
  al_cpm_feature_set F;
  if (al_cpm_features_load(c->features, &F, err)) return -1;
  al_pref_set set;
  if (al_pref_read(c->data, NULL, &set, err)) {
    al_cpm_features_free(&F);
    return -1;
  }
  al_run run;
  if (al_run_open(&run, dir, err)) {
    al_cpm_features_free(&F), al_pref_set_free(&set);
    return -1;
  }
  long n = set.n;
  int d = F.n;
  json_t *config = json_pack("{s:s, s:s, s:s, s:f, s:I, s:s, s:b, s:b}", "command", "cpm fit", "data", c->data,
                             "features", c->features, "heldout", c->heldout, "seed", (json_int_t)c->cpm.seed, "penalty",
                             c->cpm.penalty == AL_LR_L1 ? "l1" : "l2", "chat", c->extract.chat, "logprobs",
                             c->extract.use_logprobs);
  int rc = al_run_save_json(&run, "config.json", config, err);
  /* responses 2i (chosen) and 2i+1 (rejected) */
  const char **ctx = al_malloc(sizeof(char *) * 2 * n), **resp = al_malloc(sizeof(char *) * 2 * n);
  for (long i = 0; i < n; i++)
    ctx[2 * i] = ctx[2 * i + 1] = set.pairs[i].prompt, resp[2 * i] = set.pairs[i].chosen, resp[2 * i + 1] = set.pairs[i].rejected;
  double *sc = al_malloc(sizeof(double) * 2 * n * d);
  signed char *me = al_malloc((size_t)2 * n * d);
  al_cpm_extract_stats st = {0};
  al_cpm_extract_cfg xc = c->extract;
  xc.p = p;
  if (!rc) rc = al_cpm_extract(&xc, &F, ctx, resp, (int)(2 * n), sc, me, &st, err);
  /* the split: a seeded permutation, its first round(heldout * n) held out */
  uint32_t *perm = al_malloc(sizeof(uint32_t) * n);
  char *held = al_calloc((size_t)n, 1);
  for (long i = 0; i < n; i++) perm[i] = (uint32_t)i;
  al_rng r;
  al_rng_seed_stream(&r, c->cpm.seed, 7);
  al_rng_shuffle_u32(&r, perm, (size_t)n);
  long nheld = lround(c->heldout * n);
  for (long i = 0; i < nheld; i++) held[perm[i]] = 1;
  double *fa = al_malloc(sizeof(double) * n * d), *fb = al_malloc(sizeof(double) * n * d);
  int *won = al_malloc(sizeof(int) * n);
  long ntr = 0, nte = 0, dropped = 0;
  double right = 0;
  for (long i = 0; i < n && !rc; i++) {
    const double *a = sc + (size_t)2 * i * d, *b = a + d;
    int ok = 1;
    for (int k = 0; k < d; k++) ok &= isfinite(a[k]) && isfinite(b[k]);
    rc = al_run_metric(&run, pair_record(&F, i, held[i], a, me + (size_t)2 * i * d), err);
    if (!ok) dropped++;
    else if (!held[i]) memcpy(fa + ntr * d, a, sizeof(double) * d), memcpy(fb + ntr * d, b, sizeof(double) * d), won[ntr++] = 1;
  }
  al_cpm m = {0};
  const char **names = al_malloc(sizeof(char *) * d);
  for (int k = 0; k < d; k++) names[k] = F.f[k].name;
  if (!rc && ntr < 2) rc = al_fail(err, "%s: %ld training pairs have every feature read (need 2; %ld pairs left out for a "
                                        "rejected score, the first: %s)", c->data, ntr, dropped, st.first_rejection);
  if (!rc) rc = al_cpm_train(fa, fb, won, (int)ntr, d, names, &c->cpm, &m, err);
  for (long i = 0; i < n && !rc; i++) {
    const double *a = sc + (size_t)2 * i * d, *b = a + d;
    int ok = 1;
    for (int k = 0; k < d; k++) ok &= isfinite(a[k]) && isfinite(b[k]);
    if (!held[i] || !ok) continue;
    double z = al_cpm_reward(&m, a) - al_cpm_reward(&m, b);
    right += z == 0 ? 0.5 : z > 0, nte++;
  }
  json_t *results = NULL;
  if (!rc) {
    double acc = nte ? right / nte : NAN;
    char h[2][300];
    snprintf(h[0], sizeof h[0], "held-out accuracy %.3f over %ld pairs (%ld trained on; %ld left out for a rejected score)",
             acc, nte, ntr, dropped);
    snprintf(h[1], sizeof h[1], "%ld scores: %ld from log-probs (expected over 1-10), %ld greedy, %ld rejected", st.scores,
             st.expected, st.greedy, st.rejected);
    results = json_pack("{s:s, s:[s, s], s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:s}}", "command",
                        "cpm fit", "headline", h[0], h[1], "heldout_accuracy", isfinite(acc) ? json_real(acc) : json_null(),
                        "model", al_cpm_json(&m), "pairs", "read", (json_int_t)n, "train", (json_int_t)ntr, "heldout",
                        (json_int_t)nte, "left_out", (json_int_t)dropped, "extraction", "scores", (json_int_t)st.scores,
                        "expected", (json_int_t)st.expected, "greedy", (json_int_t)st.greedy, "rejected",
                        (json_int_t)st.rejected, "first_rejection", st.first_rejection);
    rc = al_run_save_json(&run, "results.json", results, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc && results_out) *results_out = json_incref(results);
  json_decref(results), json_decref(config);
  al_cpm_free(&m);
  free(names), free(fa), free(fb), free(won), free(perm), free(held), free(sc), free(me), free(ctx), free(resp);
  al_cpm_features_free(&F), al_pref_set_free(&set);
  return rc;
}
