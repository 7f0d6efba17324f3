/* The small proxy reward model of the built-in RL experiment
 * (include/alab/rl_exp.h): a reward model made from the pretrained policy
 * (al_rm_from_lm) and trained with the Bradley-Terry loss on pairs of the
 * policy's own responses to one prompt, the one with the higher gold
 * chosen (pairs with equal gold are skipped). On as many held-out pairs'
 * responses we measure its accuracy, its correlation with the gold and the
 * spread of its scores, and normalise it as Ziegler et al. 2019 (and TRL's
 * "N implementation details") normalise a reward model: a gain on the score
 * so that it has standard deviation 1 on the initial policy's samples. The initial policy's mean gold over every response
 * sampled here (pairs with equal gold included) is the proxy run's start. */
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/reward.h"
#include "alab/rl_world.h"
#include "exp/rl_exp_internal.h"

/* n pairs (stream offset `first`) of prompt + response texts, chosen first;
 * the gold of every response sampled, kept or not, is added to *gold_sum. */
static int sample_pairs(const al_model *pol, const al_tok *tok, uint64_t seed, uint64_t first, int n, char **texts,
                        double *gold_sum, long *gold_n, al_err *err) {
  int np, eot = al_tok_eot(tok), got = 0;
  const char *const *prompts = al_rlw_prompts(&np);
  al_sample_cfg sc = {1, 1, 0};
  int32_t out[2 * (RLW_LEN + 1)], pid[3];
  int lens[2];
  for (uint64_t i = first; got < n; i++) {
    const char *p = prompts[i % (uint64_t)np];
    for (int t = 0; t < 3; t++) pid[t] = (unsigned char)p[t];
    if (al_bon_sample(pol, pid, 3, 2, RLW_LEN + 1, &sc, seed + i, eot, out, lens, err)) return -1;
    char *tx[2];
    double g[2];
    for (int j = 0; j < 2; j++) {
      int L = lens[j] - (lens[j] > 0 && out[j * (RLW_LEN + 1) + lens[j] - 1] == eot);
      char *resp;
      size_t len;
      if (al_tok_decode(tok, out + j * (RLW_LEN + 1), (size_t)L, &resp, &len, err)) return -1;
      al_buf b = {0};
      al_buf_printf(&b, "%s%s", p, resp);
      free(resp);
      tx[j] = b.data;
      g[j] = al_rlw_gold(b.data, strlen(b.data));
      *gold_sum += g[j], ++*gold_n;
    }
    if (g[0] == g[1]) {
      free(tx[0]), free(tx[1]);
      continue;
    }
    texts[2 * got] = g[0] > g[1] ? tx[0] : tx[1];
    texts[2 * got + 1] = g[0] > g[1] ? tx[1] : tx[0];
    got++;
  }
  return 0;
}

static int tokenize(const al_tok *tok, char **texts, int n, al_rm_data *d, al_err *err) {
  memset(d, 0, sizeof *d);
  d->n = n, d->pad = al_tok_eot(tok);
  d->off = al_calloc((size_t)2 * n + 1, sizeof(size_t));
  d->margin = al_calloc((size_t)n, sizeof(float));
  d->line = al_calloc((size_t)n, sizeof(long));
  size_t len = 0, cap = 0;
  for (int i = 0; i < 2 * n; i++) {
    if (al_tok_encode(tok, texts[i], strlen(texts[i]), 0, &d->ids, &len, &cap, err) < 0) return -1;
    d->off[i + 1] = len;
  }
  for (int i = 0; i < n; i++) d->line[i] = i + 1;
  return 0;
}

/* The q-quantile of x[0..n) (sorted in place; nearest rank). */
static double quantile(double *x, int n, double q) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && x[j - 1] > x[j]; j--) {
      double t = x[j];
      x[j] = x[j - 1], x[j - 1] = t;
    }
  return x[(int)(q * (n - 1) + 0.5)];
}

/* What the held-out responses say of the proxy (scores p, gold g, m of
 * each): Pearson correlation, the interquartile ranges (the sd of p can be
 * set by a few outliers while typical responses score alike). */
static void describe(const double *p, const double *g, int m, rlx_proxy_info *info) {
  al_stat sp = al_stat_of(p, m), sg = al_stat_of(g, m);
  double sxy = 0;
  for (int i = 0; i < m; i++) sxy += (p[i] - sp.mean) * (g[i] - sg.mean);
  info->corr = sp.sd > 0 && sg.sd > 0 ? sxy / ((m - 1) * sp.sd * sg.sd) : NAN;
  info->sd_raw = sp.sd, info->gold_sd = sg.sd, info->mean_raw = sp.mean;
  double *x = al_malloc(sizeof(double) * (size_t)m);
  memcpy(x, p, sizeof(double) * (size_t)m);
  info->iqr_raw = quantile(x, m, 0.75) - quantile(x, m, 0.25);
  memcpy(x, g, sizeof(double) * (size_t)m);
  info->gold_iqr = quantile(x, m, 0.75) - quantile(x, m, 0.25);
  free(x);
}

int rlx_train_proxy(const al_model *base, const al_tok *tok, const al_rl_exp_cfg *c, al_model *rm, rlx_proxy_info *info,
                    al_err *err) {
  int n = c->proxy_pairs;
  char **texts = al_calloc((size_t)4 * n, sizeof(char *));
  al_rm_data train = {0};
  al_objective o = {0};
  double gold_sum = 0;
  long gold_n = 0;
  memset(info, 0, sizeof *info);
  int rc = al_rm_from_lm(rm, base, (uint64_t)c->seed, err);
  if (!rc) rc = sample_pairs(base, tok, (uint64_t)c->seed * 7919 + 17, 0, 2 * n, texts, &gold_sum, &gold_n, err);
  if (!rc) rc = tokenize(tok, texts, n, &train, err);
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = 16, tc.seq_len = 3 + RLW_LEN, tc.steps = c->proxy_steps, tc.warmup_steps = c->proxy_steps / 10;
  tc.lr = 1e-3, tc.eval_every = 0, tc.save_final = 0, tc.seed = (uint64_t)c->seed;
  if (!rc) rc = al_objective_rm(&o, rm, &tc, &train, NULL, 0, err);
  if (!rc) rc = al_train_objective(rm, &tc, &o, tok, NULL, err);
  /* held-out: the second n pairs */
  float *r = al_alloc_floats((size_t)2 * n);
  if (!rc) rc = al_rm_score_texts(rm, tok, (const char *const *)texts + 2 * n, 2 * n, r, err);
  int right = 0;
  for (int i = 0; !rc && i < n; i++) right += r[2 * i] > r[2 * i + 1];
  info->accuracy = rc ? NAN : (double)right / n;
  info->base_gold = gold_n ? gold_sum / (double)gold_n : NAN;
  double *pv = al_malloc(sizeof(double) * 2 * (size_t)n), *gv = al_malloc(sizeof(double) * 2 * (size_t)n);
  for (int i = 0; !rc && i < 2 * n; i++) pv[i] = r[i], gv[i] = al_rlw_gold(texts[2 * n + i], strlen(texts[2 * n + i]));
  if (!rc) {
    describe(pv, gv, 2 * n, info);
    /* score' = gain * score: sd 1 on these samples of the initial policy (the
     * scalar head has no bias; a constant shift of every score moves no
     * RLOO advantage, and PPO's whitened advantages and value head absorb it) */
    info->gain = info->sd_raw > 0 ? 1 / info->sd_raw : 1;
    for (int i = 0; i < rm->cfg.n_embd; i++) rm->score[i] *= (float)info->gain;
  }
  free(pv), free(gv);
  free(r);
  al_objective_free(&o);
  al_rm_data_free(&train);
  for (int i = 0; i < 4 * n; i++) free(texts[i]);
  free(texts);
  return rc ? al_fail_prefix(err, "the proxy reward model") : 0;
}
