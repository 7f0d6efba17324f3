/* The built-in RL experiment (include/alab/rl_exp.h, docs/rl.md): four
 * conditions per seed from one pretrained policy, every batch's gold, proxy
 * score and KL across seeds, the findings with 95% intervals, plots. */
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/overopt.h"
#include "alab/report.h"
#include "alab/reward.h"
#include "alab/rl.h"
#include "alab/rl_world.h"
#include "alab/sweep.h"
#include "exp/rl_exp_internal.h"

void al_rl_exp_defaults(al_rl_exp_cfg *c) {
  memset(c, 0, sizeof *c);
  c->seeds = 5;
  c->seed = 1;
  c->arch = "gpt2";
  c->layers = 2, c->heads = 2, c->embd = 32, c->pretrain_steps = 150;
  c->iters = 300;
  c->prompts_per_iter = 8, c->k = 4, c->rloo_epochs = AL_RLOO_TRL_EPOCHS;
  c->lr = 1e-3, c->proxy_lr = 1e-4, c->beta_lo = 0.05, c->beta_hi = 0.5;
  c->proxy_pairs = 512, c->proxy_steps = 200, c->bt_scale = RLW_LEN;
  c->window = 10;
  c->fixed_len = 1;
}

json_t *al_rl_exp_config_json(const al_rl_exp_cfg *c, al_err *err) {
  if (c->seeds < 2 || c->seeds > 99) return al_fail(err, "--seeds must be 2..99 for an interval (got %d)", c->seeds), NULL;
  if (c->window < 2 || c->iters < 2 * c->window)
    return al_fail(err, "--iters (%d) must hold two windows of --window (%d) batches, the window at least 2", c->iters,
                   c->window), NULL;
  if (c->proxy_pairs < 16 || c->proxy_steps < 1) return al_fail(err, "--proxy-pairs must be >= 16 and --proxy-steps >= 1"), NULL;
  if (!(c->beta_hi > c->beta_lo && c->beta_lo >= 0)) return al_fail(err, "need 0 <= --beta-lo < --beta-hi"), NULL;
  if (c->fixed_len != 0 && c->fixed_len != 1) return al_fail(err, "--fixed-len must be 0 or 1 (got %d)", c->fixed_len), NULL;
  if (c->rloo_epochs < 1 || c->rloo_epochs > 1000) return al_fail(err, "--rloo-epochs must be 1..1000 (got %d)", c->rloo_epochs), NULL;
  if (!(c->proxy_lr > 0 && isfinite(c->proxy_lr))) return al_fail(err, "--proxy-lr must be finite and > 0 (got %g)", c->proxy_lr), NULL;
  if (!(c->bt_scale > 0 && isfinite(c->bt_scale))) return al_fail(err, "--bt-scale must be finite and > 0 (got %g)", c->bt_scale), NULL;
  al_model_config arch;
  if (al_model_config_set_arch(&arch, c->arch, err)) return NULL;
  return json_pack("{s:s, s:s, s:i, s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:i, s:i, s:f, s:i, s:b, s:i}", "command", "rl",
                   "arch", c->arch, "seeds", c->seeds, "seed", (json_int_t)c->seed, "layers", c->layers, "heads", c->heads, "embd",
                   c->embd, "pretrain_steps", c->pretrain_steps, "iters", c->iters, "prompts_per_iter",
                   c->prompts_per_iter, "k", c->k, "rloo_epochs", c->rloo_epochs, "lr", c->lr, "proxy_lr", c->proxy_lr, "beta_lo", c->beta_lo, "beta_hi", c->beta_hi,
                   "proxy_pairs", c->proxy_pairs, "proxy_steps", c->proxy_steps, "bt_scale", c->bt_scale, "window", c->window, "quick", c->quick, "fixed_len", c->fixed_len);
}

enum { C_RLOO, C_PPO, C_PPO_HI, C_PROXY, NCOND };
static const char *COND[NCOND] = {"rloo", "ppo", "ppo_beta_hi", "ppo_proxy"};

typedef struct {
  al_series_stats gold[NCOND], kl[NCOND], score[NCOND], len[NCOND], na[NCOND];
  /* len: mean response tokens; na: mean number of 'a' in a response (al_rlw_a_count) */
} rlx_series;

/* one RL run of condition k, seed s: its per-batch gold, KL and score into the series */
static int run_one(const al_rl_exp_cfg *c, const al_model *base, const al_tok *tok, al_model *rm, int k, int s,
                   rlx_series *S, al_run *run, al_err *err) {
  al_rl_cfg r;
  al_rl_defaults(&r, k == C_RLOO ? AL_RL_RLOO : AL_RL_PPO);
  r.prompts_per_iter = c->prompts_per_iter, r.k = c->k;
  r.max_new = c->fixed_len ? RLW_LEN : RLW_LEN + 1, r.min_new = c->fixed_len ? RLW_LEN : 0;
  r.beta_kl = k == C_PPO_HI ? c->beta_hi : c->beta_lo;
  if (k == C_RLOO) r.epochs = c->rloo_epochs;
  r.seed = (uint64_t)c->seed + 1000 * (uint64_t)(s + 1);
  int np;
  const char *const *prompts = al_rlw_prompts(&np);
  al_bon_scorer gold = {NULL, NULL, al_rlw_gold}, proxy = {rm, tok, NULL}, na = {NULL, NULL, al_rlw_a_count};
  al_model pol, ref;
  al_rl_setup su = {&r, &ref, tok, prompts, np, k == C_PROXY ? &proxy : &gold, &gold};
  r.probe = &na;
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.lr = k == C_PROXY ? c->proxy_lr : c->lr, tc.warmup_steps = 0, tc.min_lr_frac = 1, tc.weight_decay = 0, tc.eval_every = 0, tc.save_final = 0;
  al_rl_run_cfg rc = {c->iters, 0};
  al_rl_log log = {0};
  int bad = al_model_alloc(&pol, &base->cfg, err) || al_model_alloc(&ref, &base->cfg, err);
  if (!bad) {
    memcpy(pol.params, base->params, sizeof(float) * base->nparams);
    memcpy(ref.params, base->params, sizeof(float) * base->nparams);
    bad = al_rl_train(&pol, &su, &tc, &rc, NULL, NULL, &log, err);
  }
  for (long i = 0; !bad && i < log.nbatches; i++) {
    size_t at = (size_t)log.batch[i] * c->seeds + s;
    S->gold[k].vals[at] = log.gold[i], S->kl[k].vals[at] = log.kl[i], S->score[k].vals[at] = log.scores[i];
    S->len[k].vals[at] = log.len[i], S->na[k].vals[at] = log.probe[i];
    bad = al_run_metric(run, json_pack("{s:s, s:i, s:I, s:o, s:o, s:o, s:o}", "condition", COND[k], "seed", s, "batch",
                                       (json_int_t)log.batch[i] + 1, "objective/gold", al_json_real_or_null(log.gold[i]),
                                       "objective/kl", al_json_real_or_null(log.kl[i]), "objective/scores",
                                       al_json_real_or_null(log.scores[i]), "response_tokens",
                                       al_json_real_or_null(log.len[i])),
                        err);
  }
  if (!bad)
    al_log("rl: %s seed %d: gold %.4f -> %.4f, KL %.3f (rollouts %.1f s, updates %.1f s)", COND[k], s, log.gold[0],
           log.gold[log.nbatches - 1], log.kl[log.nbatches - 1], log.rollout_s, log.update_s);
  al_rl_log_free(&log);
  al_model_free(&pol), al_model_free(&ref);
  return bad ? al_fail_prefix(err, "%s, seed %d", COND[k], s) : 0;
}

/* mean over batches [a, b) of seed s */
static double window_mean(const al_series_stats *x, int a, int b, int s) {
  double m = 0;
  for (int i = a; i < b; i++) m += x->vals[(size_t)i * x->seeds + s] / (b - a);
  return m;
}

/* mean over the batches of [a, b) with index parity `odd` of seed s */
static double parity_mean(const al_series_stats *x, int a, int b, int s, int odd) {
  double m = 0;
  int n = 0;
  for (int i = a; i < b; i++)
    if ((i & 1) == odd) m += x->vals[(size_t)i * x->seeds + s], n++;
  return n ? m / n : NAN;
}

static json_t *stat_json(const double *v, int n) {
  al_stat st = al_stat_of(v, n);
  json_t *seeds = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(seeds, al_json_real_or_null(v[i]));
  return json_pack("{s:o, s:o, s:o, s:o, s:o}", "mean", al_json_real_or_null(st.mean), "ci95_lo",
                   al_json_real_or_null(st.lo), "ci95_hi", al_json_real_or_null(st.hi), "se",
                   al_json_real_or_null(st.se), "seeds", seeds);
}

/* The findings into results (and their headline lines). */
static void findings(const al_rl_exp_cfg *c, rlx_series *S, double base_gold, json_t *results) {
  int n = c->seeds, W = c->window, I = c->iters;
  double rise[2][100], kl_lo[100], kl_hi[100], up[100], down[100], peak_at[100], prox[100], tok[3][100], na[4][100],
      naa[4][100];
  json_t *head = json_object_get(results, "headline");
  char line[512];
  for (int a = 0; a < 2; a++) {
    int k = a ? C_PPO : C_RLOO;
    for (int s = 0; s < n; s++) rise[a][s] = window_mean(&S->gold[k], I - W, I, s) - window_mean(&S->gold[k], 0, W, s);
    al_stat st = al_stat_of(rise[a], n);
    json_object_set_new(results, a ? "ppo_gold_rise" : "rloo_gold_rise", stat_json(rise[a], n));
    snprintf(line, sizeof line, "%s against the exact gold raises it by %+.4f [95%% CI %+.4f, %+.4f] (last %d batches "
             "minus first %d, %d seeds)", a ? "PPO" : "RLOO", st.mean, st.lo, st.hi, W, W, n);
    json_array_append_new(head, json_string(line));
  }
  for (int s = 0; s < n; s++) {
    kl_lo[s] = window_mean(&S->kl[C_PPO], I - W, I, s);
    kl_hi[s] = window_mean(&S->kl[C_PPO_HI], I - W, I, s);
    kl_lo[s] -= kl_hi[s]; /* the paired difference */
  }
  al_stat d = al_stat_of(kl_lo, n);
  json_object_set_new(results, "final_kl_beta_lo_minus_hi", stat_json(kl_lo, n));
  for (int s = 0; s < n; s++) kl_hi[s] = window_mean(&S->kl[C_PPO_HI], I - W, I, s);
  json_object_set_new(results, "final_kl_beta_hi", stat_json(kl_hi, n));
  for (int s = 0; s < n; s++) kl_hi[s] += kl_lo[s];
  json_object_set_new(results, "final_kl_beta_lo", stat_json(kl_hi, n));
  snprintf(line, sizeof line, "PPO's final KL with beta_kl %g exceeds that with %g by %+.3f nats [95%% CI %+.3f, %+.3f]",
           c->beta_lo, c->beta_hi, d.mean, d.lo, d.hi);
  json_array_append_new(head, json_string(line));
  /* Against the proxy: where the gold peaks is chosen on the even batches
   * (the W-batch window whose even batches' mean is highest) and measured on
   * the odd ones, as is the end window, so that the peak's height is not the
   * maximum of noise (a flat curve gives 0 on average). The start is the
   * initial policy's mean gold over the proxy's thousands of samples
   * (base_gold): the first W batches already climb. */
  for (int s = 0; s < n; s++) {
    const al_series_stats *g = &S->gold[C_PROXY];
    double best = -INFINITY;
    int at = 0;
    for (int i = 0; i + W <= I; i++) {
      double m = parity_mean(g, i, i + W, s, 0);
      if (m > best) best = m, at = i;
    }
    double peak = parity_mean(g, at, at + W, s, 1);
    up[s] = peak - base_gold, down[s] = peak - parity_mean(g, I - W, I, s, 1);
    peak_at[s] = at + W / 2.0;
    prox[s] = window_mean(&S->score[C_PROXY], I - W, I, s) - window_mean(&S->score[C_PROXY], 0, W, s);
    /* response length (tokens, end-of-text included) at the start, at the gold's lowest window from the peak on,
     * and at the end: what the policy changed to please the proxy */
    int low = at;
    for (int i = at; i + W <= I; i++)
      if (window_mean(g, i, i + W, s) < window_mean(g, low, low + W, s)) low = i;
    tok[0][s] = window_mean(&S->len[C_PROXY], 0, W, s), tok[1][s] = window_mean(&S->len[C_PROXY], low, low + W, s);
    tok[2][s] = window_mean(&S->len[C_PROXY], I - W, I, s);
    /* a's and touching pairs per response (#aa = (#a - RLW_LEN gold) / 2) at the start, the peak, the low, the end */
    int from[4] = {0, at, low, I - W};
    for (int j = 0; j < 4; j++) {
      na[j][s] = window_mean(&S->na[C_PROXY], from[j], from[j] + W, s);
      naa[j][s] = (na[j][s] - RLW_LEN * window_mean(g, from[j], from[j] + W, s)) / 2;
    }
  }
  json_t *letters = json_object();
  static const char *AT[4] = {"start", "gold_peak", "gold_low", "end"};
  for (int j = 0; j < 4; j++)
    json_object_set_new(letters, AT[j], json_pack("{s:o, s:o}", "a", stat_json(na[j], n), "aa", stat_json(naa[j], n)));
  json_object_set_new(results, "proxy_a_per_response", letters);
  json_object_set_new(results, "proxy_response_tokens", json_pack("{s:o, s:o, s:o}", "start", stat_json(tok[0], n),
                                                                   "gold_low", stat_json(tok[1], n), "end", stat_json(tok[2], n)));
  al_stat u = al_stat_of(up, n), v = al_stat_of(down, n), pr = al_stat_of(prox, n);
  json_object_set_new(results, "proxy_gold_peak_minus_start", stat_json(up, n));
  json_object_set_new(results, "proxy_gold_peak_minus_end", stat_json(down, n));
  json_object_set_new(results, "proxy_gold_peak_batch", stat_json(peak_at, n));
  json_object_set_new(results, "proxy_score_rise", stat_json(prox, n));
  snprintf(line, sizeof line, "Against the proxy reward model the proxy score rises by %+.3f [%+.3f, %+.3f]; the gold "
           "peaks %+.4f [%+.4f, %+.4f] above its start and %+.4f [%+.4f, %+.4f] above its end", pr.mean, pr.lo, pr.hi,
           u.mean, u.lo, u.hi, v.mean, v.lo, v.hi);
  json_array_append_new(head, json_string(line));
}

/* mean with its 95% band per batch, for each of the conditions listed */
static int plot(al_run *run, const char *name, const char *title, const char *ylabel, al_series_stats *const *x,
                const char *const *titles, int nx, al_err *err) {
  int I = x[0]->iters;
  double *buf = al_malloc(sizeof(double) * (size_t)I * 4 * nx);
  al_plot_series ser[NCOND];
  for (int j = 0; j < nx; j++) {
    double *bx = buf + (size_t)I * 4 * j, *y = bx + I, *lo = y + I, *hi = lo + I;
    al_series_finish(x[j]);
    for (int i = 0; i < I; i++) bx[i] = i + 1, y[i] = x[j]->stat[i].mean, lo[i] = x[j]->stat[i].lo, hi[i] = x[j]->stat[i].hi;
    ser[j] = (al_plot_series){titles[j], AL_PLOT_BAND, 0, I, bx, y, lo, hi};
  }
  al_plot p = {title, "batch of rollouts", ylabel, 0, 0};
  int rc = al_plot_svg(run->dir, name, &p, ser, nx, err) < 0 ? -1 : 0;
  free(buf);
  return rc;
}

static int plots(al_run *run, rlx_series *S, const al_rl_exp_cfg *c, al_err *err) {
  char hi[64], lo[64];
  snprintf(lo, sizeof lo, "PPO, beta_kl %g", c->beta_lo);
  snprintf(hi, sizeof hi, "PPO, beta_kl %g", c->beta_hi);
  al_series_stats *g[] = {&S->gold[C_RLOO], &S->gold[C_PPO], &S->gold[C_PPO_HI], &S->gold[C_PROXY]};
  const char *gt[] = {"RLOO (gold reward)", "PPO (gold reward)", hi, "PPO against the proxy"};
  al_series_stats *k[] = {&S->kl[C_PPO], &S->kl[C_PPO_HI]};
  const char *kt[] = {lo, hi};
  al_series_stats *pr[] = {&S->score[C_PROXY], &S->gold[C_PROXY]};
  const char *pt[] = {"proxy score", "gold"};
  if (plot(run, "gold", "Gold reward of the rollouts (mean, 95% CI over seeds)", "gold reward", g, gt, 4, err) ||
      plot(run, "kl", "KL(policy || reference) per response (k1)", "nats", k, kt, 2, err) ||
      plot(run, "proxy", "PPO against a small proxy reward model", "reward", pr, pt, 2, err))
    return -1;
  return 0;
}

/* The proxy run as Gao et al.'s curve (alab/overopt.h): per W-batch window
 * k (from the second), d = sqrt(max(KL, 0)) of the rollouts, the gold's and
 * the proxy score's gain over the first window, per seed; fitted with
 * R(d) = d (alpha - beta log d). Into results "proxy_curve" and the plots
 * overopt_gold_rl.svg, overopt_proxy_rl.svg. */
static int proxy_curve(const al_rl_exp_cfg *c, rlx_series *S, al_run *run, json_t *results, al_err *err) {
  int n = c->seeds, W = c->window, K = c->iters / W - 1;
  al_overopt_curve cv = {.optimiser = "rl", .proxy = "rl-proxy", .pairs = c->proxy_pairs, .form = AL_OVEROPT_FORM_RL,
                         .npts = K, .seeds = n, .x_name = "batch"};
  cv.d = al_malloc(sizeof(double) * (size_t)K * n), cv.gold = al_malloc(sizeof(double) * (size_t)K * n);
  cv.proxy_r = al_malloc(sizeof(double) * (size_t)K * n), cv.x = al_malloc(sizeof(double) * (size_t)K);
  for (int k = 0; k < K; k++) {
    int a = (k + 1) * W;
    cv.x[k] = a + W / 2.0;
    for (int s = 0; s < n; s++) {
      size_t at = (size_t)k * n + s;
      cv.d[at] = sqrt(fmax(window_mean(&S->kl[C_PROXY], a, a + W, s), 0));
      cv.gold[at] = window_mean(&S->gold[C_PROXY], a, a + W, s) - window_mean(&S->gold[C_PROXY], 0, W, s);
      cv.proxy_r[at] = window_mean(&S->score[C_PROXY], a, a + W, s) - window_mean(&S->score[C_PROXY], 0, W, s);
    }
  }
  json_object_set_new(results, "proxy_curve", al_overopt_curve_json(&cv));
  int rc = al_overopt_plot(run->dir, &cv, 1, err);
  free(cv.d), free(cv.gold), free(cv.proxy_r), free(cv.x);
  return rc;
}

int al_rl_exp_run(const al_rl_exp_cfg *c, const char *dir, al_err *err) {
  json_t *config = al_rl_exp_config_json(c, err);
  if (!config) return -1;
  al_run run;
  if (al_run_open(&run, dir, err)) {
    json_decref(config);
    return -1;
  }
  json_t *results = json_pack("{s:s, s:s, s:[]}", "experiment", "rl", "paper",
                              "RLOO (Ahmadian et al. 2024) and PPO (Schulman et al. 2017) with a KL penalty, as in TRL; "
                              "overoptimisation of a proxy reward (Gao et al. 2022)", "headline");
  rlx_series S;
  for (int k = 0; k < NCOND; k++) {
    al_series_init(&S.gold[k], c->iters, c->seeds, 0);
    al_series_init(&S.kl[k], c->iters, c->seeds, 0);
    al_series_init(&S.score[k], c->iters, c->seeds, 0);
    al_series_init(&S.len[k], c->iters, c->seeds, 0);
    al_series_init(&S.na[k], c->iters, c->seeds, 0);
  }
  al_model base = {0}, rm = {0};
  al_tok *tok = NULL;
  double t0 = al_now();
  rlx_proxy_info pi = {0};
  int rc = al_run_save_json(&run, "config.json", config, err);
  if (!rc) rc = al_rlw_pretrain_arch(&base, &tok, c->arch, c->layers, c->heads, c->embd, c->pretrain_steps, (uint64_t)c->seed, err);
  if (!rc) rc = rlx_train_proxy(&base, tok, c, &rm, &pi, err);
  if (!rc)
    al_log("rl: pretrained in %.1f s; proxy reward model: held-out accuracy %.3f, correlation with gold %.3f, raw sd %.4f "
           "(IQR %.4f; gold's %.4f, %.4f), gain %.3f; initial policy's gold %.4f", al_now() - t0, pi.accuracy, pi.corr,
           pi.sd_raw, pi.iqr_raw, pi.gold_sd, pi.gold_iqr, pi.gain, pi.base_gold);
  /* under mpirun run (seed s, condition k) = job s * NCOND + k runs on rank job mod R (include/alab/sweep.h);
   * the policy and the proxy are trained on every rank */
  al_sweep *sw = al_sweep_begin(c->seeds * NCOND, &run);
  size_t bytes = sizeof(double) * (size_t)c->iters * (size_t)c->seeds;
  for (int k = 0; k < NCOND; k++)
    al_sweep_share(sw, S.gold[k].vals, bytes), al_sweep_share(sw, S.kl[k].vals, bytes), al_sweep_share(sw, S.score[k].vals, bytes),
        al_sweep_share(sw, S.len[k].vals, bytes), al_sweep_share(sw, S.na[k].vals, bytes);
  for (int j = 0; j < c->seeds * NCOND && !rc; j++)
    if (al_sweep_mine(sw, j)) rc = run_one(c, &base, tok, &rm, j % NCOND, j / NCOND, &S, &run, err);
  rc = al_sweep_end(sw, rc, err);
  if (!rc) {
    findings(c, &S, pi.base_gold, results);
    json_object_set_new(results, "proxy_heldout_accuracy", al_json_real_or_null(pi.accuracy));
    json_object_set_new(results, "proxy_scale", al_json_real_or_null(pi.gain));
    json_object_set_new(results, "proxy_heldout", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "gold_correlation",
                        al_json_real_or_null(pi.corr), "raw_mean", al_json_real_or_null(pi.mean_raw), "raw_sd",
                        al_json_real_or_null(pi.sd_raw), "raw_iqr", al_json_real_or_null(pi.iqr_raw), "gold_sd",
                        al_json_real_or_null(pi.gold_sd), "gold_iqr", al_json_real_or_null(pi.gold_iqr), "gain",
                        al_json_real_or_null(pi.gain)));
    json_t *pb = json_array();
    for (int j = 0; j < RLX_PROBE_P; j++) {
      al_log("rl: proxy probe: letters 'a' with p %.3f: gold %+.4f (closed form %+.4f), proxy %+.3f", rlx_probe_pa[j],
             pi.probe_gold[j], pi.probe_gold_exact[j], pi.probe_proxy[j]);
      json_array_append_new(pb, json_pack("{s:f, s:i, s:o, s:f, s:o}", "p_a", rlx_probe_pa[j], "n", RLX_PROBE_M, "gold",
                                          al_json_real_or_null(pi.probe_gold[j]), "gold_closed_form", pi.probe_gold_exact[j],
                                          "proxy", al_json_real_or_null(pi.probe_proxy[j])));
    }
    json_object_set_new(results, "proxy_probe", pb);
    json_object_set_new(results, "initial_policy_gold", al_json_real_or_null(pi.base_gold));
    json_object_set_new(results, "gold_of_world", json_real(al_rlw_gold_base()));
    for (int k = 0; k < NCOND; k++) {
      json_t *o = json_object();
      al_series_finish(&S.gold[k]), al_series_finish(&S.kl[k]), al_series_finish(&S.score[k]), al_series_finish(&S.len[k]);
      al_series_finish(&S.na[k]);
      json_object_set_new(o, "gold", al_series_json(&S.gold[k]));
      json_object_set_new(o, "response_tokens", al_series_json(&S.len[k]));
      json_object_set_new(o, "a_per_response", al_series_json(&S.na[k]));
      json_object_set_new(o, "kl", al_series_json(&S.kl[k]));
      json_object_set_new(o, "scores", al_series_json(&S.score[k]));
      json_object_set_new(results, COND[k], o);
    }
    rc = plots(&run, &S, c, err);
    if (!rc) rc = proxy_curve(c, &S, &run, results, err);
  }
  if (!rc) {
    json_object_set_new(results, "seconds", json_real(al_now() - t0));
    rc = al_run_save_json(&run, "results.json", results, err);
  }
  if (!rc) {
    al_index_entry e = {.name = "rl", .subdir = "."};
    rc = al_report_index(run.dir, "alab rl", &e, 1, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc) rc = al_report_finish(dir, err);
  for (int k = 0; k < NCOND; k++)
    al_series_free(&S.gold[k]), al_series_free(&S.kl[k]), al_series_free(&S.score[k]), al_series_free(&S.len[k]),
        al_series_free(&S.na[k]);
  al_model_free(&base), al_model_free(&rm);
  al_tok_free(tok);
  json_decref(config), json_decref(results);
  return rc;
}

int al_rl_reproduce(const char *dir, int quick, al_err *err) {
  al_rl_exp_cfg c;
  al_rl_exp_defaults(&c);
  c.quick = quick;
  if (quick) c.seeds = 3, c.iters = 100;
  return al_rl_exp_run(&c, dir, err);
}
