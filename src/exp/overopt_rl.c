/* RL against one proxy in `alab overopt` (include/alab/overopt.h): the
 * policy optimised by RLOO (include/alab/rl.h, h15's library) against a
 * trained proxy reward model, its gold and proxy reward measured on its own
 * rollouts as it moves away from the initial policy.
 *
 * Prompts are the story world's three openings ("Once upon a time, there
 * was", "Long ago, there was", "There once was": every story starts with
 * one), one of each per batch of rollouts, k samples each; prompt + response
 * is then a whole story, scored as best-of-n's samples are (the proxy at its
 * last token; gold by al_gold_story). The reference is the initial policy.
 *
 * Per batch b the loop logs the rollouts' KL(policy || initial) (TRL's k1:
 * the mean over responses of sum_t log pi(y_t) - log ref(y_t)), the mean
 * proxy score and the mean gold. In windows of W batches, window 0 is the
 * start (one update away from the initial policy at most); point k of the
 * curve is window k + 1:
 *   d_k    = sqrt(max(mean KL of the window, 0))
 *   gold_k = mean gold of the window - mean gold of window 0   (likewise proxy)
 * as alab rl's proxy curve (src/exp/rl_exp.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/gold.h"
#include "alab/rl.h"
#include "exp/overopt_internal.h"

static const char *const OPENINGS[] = {"Once upon a time, there was", "Long ago, there was", "There once was"};
enum { N_OPENINGS = 3 };

/* mean of x[a..b) */
static double span_mean(const double *x, long a, long b) {
  double m = 0;
  for (long i = a; i < b; i++) m += x[i] / (double)(b - a);
  return m;
}

int ov_rl_curve(const ov_job *j, al_model *rm, uint64_t seed, double *d, double *gold_gain, double *proxy_gain,
                double *start_gold, al_err *err) {
  const al_overopt_cfg *c = j->c;
  al_rl_cfg r;
  al_rl_defaults(&r, AL_RL_RLOO);
  r.prompts_per_iter = N_OPENINGS, r.k = c->rl_k, r.max_new = c->max_new, r.beta_kl = c->rl_beta_kl, r.seed = seed;
  al_bon_scorer gold = {NULL, NULL, al_gold_story}, proxy = {rm, j->tok, NULL};
  al_model pol, ref;
  al_rl_setup su = {&r, &ref, j->tok, OPENINGS, N_OPENINGS, &proxy, &gold};
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.lr = c->rl_lr, tc.warmup_steps = 0, tc.min_lr_frac = 1, tc.weight_decay = 0, tc.eval_every = 0, tc.save_final = 0;
  tc.seed = seed;
  al_rl_run_cfg rc = {c->rl_iters, 0};
  al_rl_log log = {0};
  int bad = al_model_alloc(&pol, &j->policy->cfg, err);
  if (!bad && (bad = al_model_alloc(&ref, &j->policy->cfg, err))) al_model_free(&pol);
  if (bad) return -1;
  memcpy(pol.params, j->policy->params, sizeof(float) * j->policy->nparams);
  memcpy(ref.params, j->policy->params, sizeof(float) * j->policy->nparams);
  bad = al_rl_train(&pol, &su, &tc, &rc, NULL, NULL, &log, err);
  int W = c->rl_window, K = c->rl_iters / W - 1;
  if (!bad && log.nbatches != c->rl_iters)
    bad = al_fail(err, "RL logged %ld batches of rollouts, expected %d", log.nbatches, c->rl_iters);
  if (!bad) {
    double g0 = span_mean(log.gold, 0, W), p0 = span_mean(log.scores, 0, W);
    *start_gold = g0;
    for (int k = 0; k < K; k++) {
      long a = (long)(k + 1) * W, b = a + W;
      d[k] = sqrt(fmax(span_mean(log.kl, a, b), 0));
      gold_gain[k] = span_mean(log.gold, a, b) - g0, proxy_gain[k] = span_mean(log.scores, a, b) - p0;
    }
  }
  al_rl_log_free(&log);
  al_model_free(&pol), al_model_free(&ref);
  return bad ? al_fail_prefix(err, "RL against %d-layer proxy of %d comparisons", j->layers, j->npairs) : 0;
}
