/* The small proxy reward model of the built-in RL experiment
 * (include/alab/rl_exp.h, docs/rl.md "The proxy and its spurious feature"):
 * a reward model made from the pretrained policy (al_rm_from_lm) and
 * trained with the Bradley-Terry loss on comparisons of the policy's own
 * responses to one prompt, labelled as `alab overopt` labels its proxies'
 * comparisons: drawn, P(a preferred to b) = sigmoid(bt_scale (gold(a) -
 * gold(b))) (al_overopt_bt_label). With bt_scale = RLW_LEN the logit is the
 * difference of the world's integer score #a - 2 #aa. Under the initial
 * policy adjacent a's are rare, so "more a" carries almost all of the
 * labels' signal; "not two in a row" is seen in few comparisons, and the
 * proxy can learn the first without the second: the spurious feature.
 * On as many held-out comparisons we measure its accuracy (against the
 * gold's order, pairs of equal gold left out), its correlation with the
 * gold and the spread of its scores, and normalise it as Ziegler et al.
 * 2019 (and TRL's "N implementation details") normalise a reward model: a
 * gain on the score so that it has standard deviation 1 on the initial
 * policy's samples. The initial policy's mean gold over every response
 * sampled here is the proxy run's start. */
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/overopt.h"
#include "alab/reward.h"
#include "alab/rl_world.h"
#include "exp/rl_exp_internal.h"

/* n comparisons (stream offset `first`) of prompt + response texts, the
 * preferred first: with labels (rng) drawn by Bradley-Terry on the gold at
 * `scale`, or, without rng, the higher gold first (the gold of both in
 * g[2i], g[2i + 1]). The gold of every response is added to *gold_sum. */
static int sample_pairs(const al_model *pol, const al_tok *tok, uint64_t seed, uint64_t first, int n, double scale,
                        al_rng *rng, char **texts, double *g, double *gold_sum, long *gold_n, al_err *err) {
  int np, eot = al_tok_eot(tok);
  const char *const *prompts = al_rlw_prompts(&np);
  al_sample_cfg sc = {1, 1, 0};
  int32_t out[2 * (RLW_LEN + 1)], pid[3];
  int lens[2];
  for (int k = 0; k < n; k++) {
    uint64_t i = first + (uint64_t)k;
    const char *p = prompts[i % (uint64_t)np];
    for (int t = 0; t < 3; t++) pid[t] = (unsigned char)p[t];
    if (al_bon_sample(pol, pid, 3, 2, RLW_LEN + 1, &sc, seed + i, eot, out, lens, err)) return -1;
    char *tx[2];
    double gg[2];
    for (int j = 0; j < 2; j++) {
      int L = lens[j] - (lens[j] > 0 && out[j * (RLW_LEN + 1) + lens[j] - 1] == eot);
      char *resp;
      size_t len;
      if (al_tok_decode(tok, out + j * (RLW_LEN + 1), (size_t)L, &resp, &len, err)) return -1;
      al_buf b = {0};
      al_buf_printf(&b, "%s%s", p, resp);
      free(resp);
      tx[j] = b.data;
      gg[j] = al_rlw_gold(b.data, strlen(b.data));
      *gold_sum += gg[j], ++*gold_n;
    }
    int first_wins = rng ? al_overopt_bt_label(gg[0], gg[1], scale, rng) : gg[0] >= gg[1];
    texts[2 * k] = tx[!first_wins], texts[2 * k + 1] = tx[first_wins];
    g[2 * k] = gg[!first_wins], g[2 * k + 1] = gg[first_wins];
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

const double rlx_probe_pa[RLX_PROBE_P] = {0.125, 0.2, 0.27, 0.35, 0.5, 0.65, 0.8, 0.95};

/* What the proxy rewards that the gold does not: responses of RLW_LEN
 * letters, each 'a' with probability q, else one of "bcdefgh". Their gold
 * in closed form: E[#a] = L q, E[#aa] = (L - 1) q^2, so E[gold] =
 * (L q - 2 (L - 1) q^2) / L, highest at q = L / (4 (L - 1)) = 0.27. A
 * proxy that learned "more a" without "not two in a row" keeps rising past
 * it. q = 1/8 is the world's own letter distribution. */
static int probe(al_model *rm, const al_tok *tok, uint64_t seed, rlx_proxy_info *info, al_err *err) {
  int np;
  const char *const *prompts = al_rlw_prompts(&np);
  char buf[RLX_PROBE_M][4 + RLW_LEN];
  const char *texts[RLX_PROBE_M];
  float r[RLX_PROBE_M];
  for (int j = 0; j < RLX_PROBE_P; j++) {
    double q = rlx_probe_pa[j], g = 0, p = 0, L = RLW_LEN;
    al_rng rng;
    al_rng_seed_stream(&rng, seed, 0x70726f6265ull + (uint64_t)j); /* "probe" */
    for (int i = 0; i < RLX_PROBE_M; i++) {
      memcpy(buf[i], prompts[i % np], 3);
      for (int t = 0; t < RLW_LEN; t++)
        buf[i][3 + t] = al_rng_uniform(&rng) < q ? 'a' : "bcdefgh"[(int)(al_rng_uniform(&rng) * 7)];
      buf[i][3 + RLW_LEN] = 0;
      texts[i] = buf[i];
      g += al_rlw_gold(buf[i], 3 + RLW_LEN);
    }
    if (al_rm_score_texts(rm, tok, texts, RLX_PROBE_M, r, err)) return -1;
    for (int i = 0; i < RLX_PROBE_M; i++) p += r[i];
    info->probe_gold[j] = g / RLX_PROBE_M, info->probe_proxy[j] = p / RLX_PROBE_M;
    info->probe_gold_exact[j] = (L * q - 2 * (L - 1) * q * q) / L;
  }
  return 0;
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
  uint64_t stream = (uint64_t)c->seed * 7919 + 17;
  al_rng labels;
  al_rng_seed_stream(&labels, (uint64_t)c->seed, 0x6c6162656cull); /* "label" */
  double *gv = al_malloc(sizeof(double) * 4 * (size_t)n), *pv = al_malloc(sizeof(double) * 2 * (size_t)n);
  if (!rc) rc = sample_pairs(base, tok, stream, 0, n, c->bt_scale, &labels, texts, gv, &gold_sum, &gold_n, err);
  /* held-out: n more comparisons, the higher gold first */
  if (!rc) rc = sample_pairs(base, tok, stream, (uint64_t)n, n, 0, NULL, texts + 2 * n, gv + 2 * n, &gold_sum, &gold_n, err);
  if (!rc) rc = tokenize(tok, texts, n, &train, err);
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = 16, tc.seq_len = 3 + RLW_LEN, tc.steps = c->proxy_steps, tc.warmup_steps = c->proxy_steps / 10;
  tc.lr = 1e-3, tc.eval_every = 0, tc.save_final = 0, tc.seed = (uint64_t)c->seed;
  if (!rc) rc = al_objective_rm(&o, rm, &tc, &train, NULL, 0, err);
  if (!rc) rc = al_train_objective(rm, &tc, &o, tok, NULL, err);
  float *r = al_alloc_floats((size_t)2 * n);
  if (!rc) rc = al_rm_score_texts(rm, tok, (const char *const *)texts + 2 * n, 2 * n, r, err);
  int right = 0, differ = 0;
  for (int i = 0; !rc && i < n; i++)
    if (gv[2 * n + 2 * i] != gv[2 * n + 2 * i + 1]) differ++, right += r[2 * i] > r[2 * i + 1];
  info->accuracy = rc || !differ ? NAN : (double)right / differ;
  info->base_gold = gold_n ? gold_sum / (double)gold_n : NAN;
  for (int i = 0; !rc && i < 2 * n; i++) pv[i] = r[i];
  if (!rc) {
    describe(pv, gv + 2 * n, 2 * n, info);
    /* score' = gain * score: sd 1 on these samples of the initial policy (the
     * scalar head has no bias; a constant shift of every score moves no
     * RLOO advantage, and PPO's whitened advantages and value head absorb it) */
    info->gain = info->sd_raw > 0 ? 1 / info->sd_raw : 1;
    for (int i = 0; i < rm->cfg.n_embd; i++) rm->score[i] *= (float)info->gain;
    rc = probe(rm, tok, (uint64_t)c->seed, info, err);
  }
  free(pv), free(gv);
  free(r);
  al_objective_free(&o);
  al_rm_data_free(&train);
  for (int i = 0; i < 4 * n; i++) free(texts[i]);
  free(texts);
  return rc ? al_fail_prefix(err, "the proxy reward model") : 0;
}
