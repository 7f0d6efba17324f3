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
 * proxy score and the mean gold. Point 0 of the curve is the initial policy
 * (d = 0, gains 0): the start every gain is measured from, its gold and
 * proxy reward the mean over START_BATCHES batches' worth of the initial
 * policy's rollouts (START_BATCHES x k of each opening, drawn before RL and
 * scored as the rollouts are) together with batch 0 (sampled before the
 * first update, from the initial policy too): one batch alone (12
 * rollouts) gave starts 0.4 apart between seeds, noise that every gain of
 * the seed carried. After it the points are
 * windows whose lengths double, so that the early points lie at small KL
 * (the policy moves away fast: d = 1.5 after 4 to 8 batches at lr 1e-4,
 * docs/overopt.md) and the late ones still average many batches: with
 * W = rl_window, window j (point j + 1) is the W 2^j batches from
 * 1 + W (2^j - 1), the last one cut at rl_iters:
 *   W = 1: batches [1,2) [2,4) [4,8) [8,16) ...
 *   d_k    = sqrt(max(mean KL of the window, 0))
 *   gold_k = mean gold of the window - mean gold of batch 0   (likewise proxy) */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/gold.h"
#include "alab/reward.h"
#include "alab/rl.h"
#include "exp/overopt_internal.h"

int ov_rl_points(const al_overopt_cfg *c) {
  int n = 1;
  for (long a = 1, len = c->rl_window; a < c->rl_iters; a += len, len *= 2) n++;
  return n;
}

void ov_rl_span(const al_overopt_cfg *c, int k, long *a, long *b) {
  *a = 0, *b = 1;
  for (long len = c->rl_window, j = 1; j <= k; j++, len *= 2) *a = *b, *b = *a + len;
  if (*b > c->rl_iters) *b = c->rl_iters;
}

static const char *const OPENINGS[] = {"Once upon a time, there was", "Long ago, there was", "There once was"};
enum { N_OPENINGS = 3, START_BATCHES = 16 };

/* The initial policy's mean gold and proxy reward over n samples of each
 * opening (opening o's from the stream (seed, 2^40 + o), apart from RL's
 * streams (seed, batch x 3 + slot)), each prompt + response (end-of-text
 * dropped) scored as RL's rollouts are. */
static int start_rewards(const ov_job *j, al_model *rm, int n, uint64_t seed, double *gold, double *proxy, double *tokens,
                         al_err *err) {
  const al_overopt_cfg *c = j->c;
  int eot = al_tok_eot(j->tok), rc = 0, *lens = al_malloc(sizeof(int) * (size_t)n);
  int32_t *out = al_malloc(sizeof(int32_t) * (size_t)n * c->max_new), *ids = NULL;
  char **texts = al_calloc((size_t)n, sizeof(char *));
  float *pr = al_malloc(sizeof(float) * (size_t)n);
  al_sample_cfg sc = {1, 1, 0};
  *gold = *proxy = *tokens = 0;
  for (int o = 0; o < N_OPENINGS && !rc; o++) {
    size_t np = 0, cap = 0;
    al_rng r;
    al_rng_seed_stream(&r, seed, ((uint64_t)1 << 40) + (uint64_t)o);
    if (al_tok_encode(j->tok, OPENINGS[o], strlen(OPENINGS[o]), 0, &ids, &np, &cap, err) < 0 ||
        al_bon_sample(j->policy, ids, (int)np, n, c->max_new, &sc, al_rng_u64(&r), eot, out, lens, err)) {
      rc = al_fail_prefix(err, "the initial policy's samples of \"%s\"", OPENINGS[o]);
      break;
    }
    free(ids), ids = NULL;
    for (int i = 0; i < n && !rc; i++) {
      *tokens += lens[i] / ((double)n * N_OPENINGS); /* as al_rl_log.len: the end-of-text included */
      int len = lens[i] > 0 && out[(size_t)i * c->max_new + lens[i] - 1] == eot ? lens[i] - 1 : lens[i];
      char *resp;
      size_t bytes;
      rc = al_tok_decode(j->tok, out + (size_t)i * c->max_new, (size_t)len, &resp, &bytes, err);
      if (rc) break;
      al_buf b = {0};
      al_buf_printf(&b, "%s%s", OPENINGS[o], resp);
      free(resp), free(texts[i]);
      texts[i] = b.data;
      *gold += al_gold_story(texts[i], strlen(texts[i])) / ((double)n * N_OPENINGS);
    }
    if (!rc) rc = al_rm_score_texts(rm, j->tok, (const char *const *)texts, n, pr, err);
    for (int i = 0; i < n && !rc; i++) *proxy += pr[i] / ((double)n * N_OPENINGS);
  }
  for (int i = 0; i < n; i++) free(texts[i]);
  free(texts), free(ids), free(out), free(lens), free(pr);
  return rc;
}

/* mean of x[a..b) */
static double span_mean(const double *x, long a, long b) {
  double m = 0;
  for (long i = a; i < b; i++) m += x[i] / (double)(b - a);
  return m;
}

int ov_rl_curve(const ov_job *j, al_model *rm, uint64_t seed, double *d, double *gold_gain, double *proxy_gain,
                double *start_gold, double *resp_tokens, al_err *err) {
  const al_overopt_cfg *c = j->c;
  al_rl_cfg r;
  al_rl_defaults(&r, AL_RL_RLOO);
  r.prompts_per_iter = N_OPENINGS, r.k = c->rl_k, r.max_new = c->max_new, r.beta_kl = c->rl_beta_kl, r.seed = seed;
  al_bon_scorer gold = {NULL, NULL, al_gold_story}, proxy = {rm, j->tok, NULL};
  al_model pol, ref;
  al_rl_setup su = {.rl = &r, .ref = &ref, .tok = j->tok, .prompts = OPENINGS, .nprompts = N_OPENINGS, .reward = &proxy, .gold = &gold};
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
  int nstart = START_BATCHES * c->rl_k;
  double sg, sp, st;
  bad = start_rewards(j, rm, nstart, seed, &sg, &sp, &st, err);
  if (!bad) bad = al_rl_train(&pol, &su, &tc, &rc, NULL, NULL, &log, err);
  int K = ov_rl_points(c);
  if (!bad && log.nbatches != c->rl_iters)
    bad = al_fail(err, "RL logged %ld batches of rollouts, expected %d", log.nbatches, c->rl_iters);
  if (!bad) {
    /* the start: the start sample and batch 0 (k of each opening), weighted by their sizes */
    double w = (double)nstart / (nstart + c->rl_k), g0 = w * sg + (1 - w) * log.gold[0], p0 = w * sp + (1 - w) * log.scores[0];
    *start_gold = g0;
    d[0] = gold_gain[0] = proxy_gain[0] = 0, resp_tokens[0] = w * st + (1 - w) * log.len[0];
    for (int k = 1; k < K; k++) {
      long a, b;
      ov_rl_span(c, k, &a, &b);
      d[k] = sqrt(fmax(span_mean(log.kl, a, b), 0));
      gold_gain[k] = span_mean(log.gold, a, b) - g0, proxy_gain[k] = span_mean(log.scores, a, b) - p0;
      resp_tokens[k] = span_mean(log.len, a, b);
    }
  }
  al_rl_log_free(&log);
  al_model_free(&pol), al_model_free(&ref);
  return bad ? al_fail_prefix(err, "RL against %d-layer proxy of %d comparisons", j->layers, j->npairs) : 0;
}
