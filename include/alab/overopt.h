/* `alab overopt`: reward-model overoptimisation (Gao, Schulman and Hilton
 * 2022) in the story world, where the gold reward is exact (alab/gold.h).
 *
 * One run:
 *   policy    a GPT-2 trained on the story world (or --policy DIR), shared by
 *             every seed; its samples are whole stories after <|endoftext|>
 *   per seed  2 x max(pairs) policy samples make comparisons (sample 2k
 *             against 2k+1), each labelled by Bradley-Terry on gold, drawn:
 *               P(a preferred to b) = sigmoid(bt_scale (gold(a) - gold(b)))
 *             (al_overopt_bt_label); a proxy trained on P comparisons sees
 *             the first P, so more data is a superset of less;
 *             N further samples for best-of-n, scored by gold
 *   proxies   for each size (the policy trunk's first k layers, with a new
 *             scalar head) and each number of comparisons, a reward model
 *             trained with the Bradley-Terry loss (alab/reward.h);
 *   best-of-n every proxy's pick among n of the N samples, for n = 1, 2, 4,
 *             ..., N (the unbiased estimator of alab/bon.h), its expected
 *             gold and proxy reward as gains over n = 1 against
 *             d = sqrt(KL) = sqrt(log n - (n-1)/n);
 *   fit       per seed and proxy, Gao et al.'s functional form fitted to the
 *             gold gains by least squares (al_overopt_fit), then alpha, beta
 *             and the peak with 95% t-intervals over seeds.
 *
 * Curves are data, not code: an optimiser's result is a list of
 * al_overopt_curve (one per proxy), which the fit, results.json and the
 * plots take whatever produced them. Best-of-n's are made here; an RL curve
 * (RLOO from the policy against the same proxy, src/exp/overopt_rl.c) is a
 * curve with optimiser "rl", its d measured per seed on the rollouts,
 * fitted with AL_OVEROPT_FORM_RL. */
#ifndef ALAB_OVEROPT_H
#define ALAB_OVEROPT_H
#include <jansson.h>
#include "alab/base.h"

/* ---- functional forms, R(0) = 0 ----
 *   AL_OVEROPT_FORM_BON  R(d) = d (alpha - beta d)        peak at d* = alpha / (2 beta), R* = alpha^2 / (4 beta)
 *   AL_OVEROPT_FORM_RL   R(d) = d (alpha - beta log d)    peak at d* = exp(alpha / beta - 1), R* = beta d*
 * (a peak at d > 0 exists for beta > 0, and alpha > 0 for BON; otherwise d*
 * and R* are NAN). */
typedef enum { AL_OVEROPT_FORM_BON = 0, AL_OVEROPT_FORM_RL = 1 } al_overopt_form;

typedef struct {
  double alpha, beta;
  double d_peak, r_peak; /* NAN when beta <= 0 */
  double rmse;           /* root mean square residual */
} al_overopt_fit_result;

/* Least squares of R(d) over n points (d > 0; points with d <= 0 or a
 * non-finite value are left out) through GSL's linear least squares: R is
 * linear in (alpha, beta). Fails, saying how many usable points there were,
 * with fewer than 2. */
int al_overopt_fit(al_overopt_form form, const double *d, const double *r, int n, al_overopt_fit_result *out,
                   al_err *err);
/* R(d) of a form. */
double al_overopt_form_eval(al_overopt_form form, double alpha, double beta, double d);

/* ---- Bradley-Terry labels ----
 * 1 when a is preferred to b: drawn with probability
 * sigmoid(scale (gold_a - gold_b)) from rng (one uniform per call). */
int al_overopt_bt_label(double gold_a, double gold_b, double scale, al_rng *rng);

/* ---- curves ----
 * One proxy optimised by one optimiser: npts points per seed; point k of
 * seed s has d[k * seeds + s], the gold gain gold[...] and the proxy's gain
 * proxy[...] (each over the optimiser's start, so R(0) = 0). */
typedef struct {
  const char *optimiser; /* "bon", "rl" */
  const char *proxy;     /* the proxy's name ("L1-P400") */
  int layers, pairs;     /* the proxy's size and comparisons (0: unknown) */
  long params;
  al_overopt_form form;
  int npts, seeds;
  double *d, *gold, *proxy_r; /* [npts * seeds] each */
  double *x;                  /* optional [npts]: the optimiser's own axis (best-of-n's n, RL's step) */
  const char *x_name;         /* "n", "step" */
} al_overopt_curve;

/* The curve as JSON: points (d, gold, proxy: mean, sd, 95% CI, every
 * seed), the fit per seed and alpha, beta, d_peak, r_peak with 95%
 * t-intervals over seeds, the empirical peak (the point of highest mean
 * gold and whether it lies inside the sampled range) and whether the
 * proxy's mean gain rises at every point. */
json_t *al_overopt_curve_json(const al_overopt_curve *c);
/* Plots of every curve in dir: overopt_gold_OPT.svg (gold gain against d,
 * bands over seeds, the fitted form dashed, each proxy's peak marked) and
 * overopt_proxy_OPT.svg, one pair per optimiser present. */
int al_overopt_plot(const char *dir, const al_overopt_curve *c, int n, al_err *err);

/* ---- the experiment ---- */
enum { AL_OVEROPT_MAX_GRID = 8 };
typedef struct {
  int seeds;
  uint64_t seed;
  /* the policy */
  const char *policy;     /* a model directory with its tokenizer; NULL: train one */
  const char *tokenizer;  /* bpe:N trained on the stories */
  long stories;           /* story:N, the policy's training data */
  const char *arch; /* the policy and its proxies: gpt2 or llama (al_model_config_set_arch) */
  int layers, heads, embd, context, batch;
  long policy_steps;
  double policy_lr;
  /* the proxies */
  int rm_layers[AL_OVEROPT_MAX_GRID], n_rm_layers; /* sizes: the policy trunk's first k layers */
  int pairs[AL_OVEROPT_MAX_GRID], n_pairs;         /* comparisons per proxy */
  double bt_scale;
  double rm_epochs, rm_lr;
  int rm_batch;
  /* best-of-n */
  int N, max_new;
  double temperature;
  /* RL against every proxy (src/exp/overopt_rl.c): rl_iters batches of
   * rollouts (0: no RL), RLOO with k samples of each of the world's three
   * openings per batch, the KL penalty rl_beta_kl, learning rate rl_lr;
   * the curve's points are batch 0 (the initial policy, d = 0), then windows
   * of rl_window, 2 rl_window, 4 rl_window, ... batches (src/exp/overopt_rl.c) */
  int rl_iters, rl_window, rl_k;
  double rl_lr, rl_beta_kl;
  int threads; /* 0: al_default_threads() */
  int quick;   /* recorded only */
} al_overopt_cfg;

void al_overopt_defaults(al_overopt_cfg *c);
/* Checks the settings (each error names its flag). */
int al_overopt_check(const al_overopt_cfg *c, al_err *err);
/* Writes the run directory (include/alab/exp.h). */
int al_overopt_run(const al_overopt_cfg *c, const char *dir, al_err *err);
int al_overopt_reproduce(const char *dir, int quick, al_err *err);
#endif
