/* Model collapse (Gerstgrasser et al. 2024): each model is fitted to data
 * produced by the previous one, and the data is either replaced by the new
 * synthetic data or accumulated with all earlier data (real included).
 *
 * Parts: "linear" (linear regression, exact closed forms), "gauss" (fitting a
 * Gaussian, exact expectations of the fitted variance), "lm" (GPT-2 language
 * models trained from scratch on the story world or a corpus, each generation
 * on the previous one's sampled stories: src/exp/collapse_lm*.c).
 * Each part validates and records its settings in config.json before
 * anything runs, then adds one key to results.json and draws its plots. */
#ifndef ALAB_COLLAPSE_H
#define ALAB_COLLAPSE_H

#include <jansson.h>
#include <stdint.h>
#include "alab/exp.h"

/* What happens to the training data between iterations. */
enum {
  AL_POLICY_REPLACE,              /* synthetic data of the last model only */
  AL_POLICY_ACCUMULATE,           /* all real and synthetic data so far */
  AL_POLICY_ACCUMULATE_SUBSAMPLE, /* all data so far, subsampled to the real data's size */
  AL_NPOLICIES
};
extern const char *const al_policy_names[AL_NPOLICIES];
/* "replace,accumulate" -> policy ids; unknown names fail with the list of known ones. */
int al_parse_policies(const char *s, int *policies, al_err *err);

/* ---- linear regression ----
 * w* ~ N(0, I_d); fixed design X (T x d, rows ~ N(0, I_d)); y = X w* + sigma eps.
 * Iteration 1 fits OLS (LAPACK dgels) on the real labels; iteration n+1 fits on
 * labels X w_n + sigma eps' (fresh noise), replacing or stacked under the
 * earlier data. Error_n = ||w_n - w*||^2. */
typedef struct {
  int d, T, iters, seeds;
  double sigma2;
  uint64_t seed;
} al_linreg_cfg;
int al_linreg_check(const al_linreg_cfg *c, al_err *err);
/* E[error_n]: sigma^2 d/(T-d-1) * n (replace), * sum_{i<=n} 1/i^2 (accumulate);
 * NAN for policies without a closed form. */
double al_linreg_closed_form(int policy, int d, int T, double sigma2, int n);
/* Fills out[p] (al_series_init'ed here; free with al_series_free) for each of
 * the npol policies. Seeds share w*, X and the real labels across policies. */
int al_linreg_collapse(const al_linreg_cfg *c, const int *policies, int npol, al_series_stats *out, al_err *err);

/* ---- Gaussian ----
 * True distribution N(0, var0 I_d). Iteration 1 fits the maximum-likelihood
 * mean and covariance to n real samples; iteration k+1 draws n samples from
 * fit k and refits (replace: on them; accumulate: on everything so far). */
typedef struct {
  int d, n, iters, seeds;
  double var0;
  uint64_t seed;
} al_gauss_cfg;
int al_gauss_check(const al_gauss_cfg *c, al_err *err);
/* E[tr(Sigma_k)/d] after k fits: var0 (1-1/n)^k (replace),
 * var0 prod_{j<=k} (1 - 1/(n j^2)) (accumulate); NAN otherwise. */
double al_gauss_var_closed_form(int policy, int n, double var0, int k);
/* E[KL(fit_k || truth)] for replace; NAN otherwise. */
double al_gauss_kl_closed_form(int policy, int d, int n, int k);
/* var[p] (mean per-dimension fitted variance) and kl[p] for each policy. */
int al_gauss_collapse(const al_gauss_cfg *c, const int *policies, int npol, al_series_stats *var,
                      al_series_stats *kl, al_err *err);

/* ---- the experiment ---- */
typedef struct {
  const char *parts;    /* "all" or a list of linear,gauss,lm */
  const char *policies; /* list of replace,accumulate,accumulate-subsample */
  int seeds;            /* every part's seed count; 0 = each part's default */
  int64_t seed;         /* base seed */
  /* linear: sweeps over the product of the lists */
  const char *d, *T, *sigma2;
  int iters;
  /* gauss */
  int gauss_d, gauss_n, gauss_iters;
  double gauss_var;
  /* lm: generation 0 trains on lm_tokens real tokens; generation k+1 on
   * lm_tokens tokens of whole stories sampled from generation k (plus, for
   * the accumulate policies, everything before) */
  const char *lm_data;      /* "story" (the built-in story world) or a text/JSONL corpus */
  const char *lm_tokenizer; /* bpe:N (trained once on the real data), byte, or a directory */
  int64_t lm_tokens;        /* N */
  int lm_gens;              /* generations, 0 included */
  const char *arch;         /* architecture of every model: gpt2 or llama (al_model_config_set_arch) */
  int lm_layers, lm_heads, lm_embd, lm_context;
  int lm_batch;
  double lm_lr, lm_epochs;  /* every generation trains lm_epochs passes over its data */
  int64_t lm_steps;         /* > 0: every generation trains this many steps instead */
  double lm_temperature;
  int64_t lm_heldout;       /* real held-out tokens (the same for every generation) */
  int lm_max_story;         /* tokens per sampled story, at most */
  int quick; /* reproduce's scale */
} al_collapse_cfg;
void al_collapse_defaults(al_collapse_cfg *c);
/* Validates the settings (parts, policies, each part's values) without
 * running or writing anything: a failure is a usage error. */
int al_collapse_check(const al_collapse_cfg *c, al_err *err);
/* The config.json a run of c writes (every part's settings resolved), or NULL
 * when c is invalid (err, when not NULL, says why). The report compares a
 * run's config.json with that of the defaults. */
json_t *al_collapse_config_json(const al_collapse_cfg *c, al_err *err);
/* Validates everything, writes config.json, runs the parts, writes
 * results.json, metrics.jsonl, the plots and index.html into dir. */
int al_collapse_run(const al_collapse_cfg *c, const char *dir, al_err *err);
/* reproduce's entry: the defaults at quick scale. */
int al_collapse_reproduce(const char *dir, int quick, al_err *err);

/* A part: resolve() validates c and adds the part's resolved settings to
 * config (under its name); run() adds the part's results to results (under
 * its name), streams metrics into run and draws plots there. */
typedef struct {
  const char *name;
  int (*resolve)(const al_collapse_cfg *c, json_t *config, al_err *err);
  int (*run)(const al_collapse_cfg *c, al_run *run, json_t *results, al_err *err);
} al_collapse_part;
/* Shared by the parts: one quantity's series for each policy.
 * Draws name.svg: a band (mean, 95% CI) per policy and its closed form dashed. */
int al_collapse_plot(al_run *run, const char *name, const char *title, const char *ylabel, const int *policies, int npol,
                     const al_series_stats *st, al_err *err);
/* The x axis of a series: index i is at x = first + i, named `name` in plots
 * and metrics lines ("iteration" from 1, or "generation" from 0); ref_title
 * (if non-NULL) draws the level ref as a dashed reference line. */
typedef struct {
  const char *name;
  int first;
  const char *ref_title;
  double ref;
} al_collapse_axis;
int al_collapse_plot_axis(al_run *run, const char *name, const char *title, const char *ylabel, const al_collapse_axis *ax,
                          const int *policies, int npol, const al_series_stats *st, al_err *err);
/* One metrics line per policy and iteration: the fields of `setting` (not
 * released) plus policy, iter, quantity, mean, lo, hi and closed_form. */
int al_collapse_metrics(al_run *run, const json_t *setting, const char *quantity, const int *policies, int npol,
                        const al_series_stats *st, al_err *err);
/* The same with the axis's name and x in place of "iter". */
int al_collapse_metrics_axis(al_run *run, const json_t *setting, const char *quantity, const al_collapse_axis *ax,
                             const int *policies, int npol, const al_series_stats *st, al_err *err);
/* {"replace": [per-iteration stats], ...} */
json_t *al_collapse_series_json(const int *policies, int npol, const al_series_stats *st);
/* A one-line summary of the last iteration of each policy into headline[]. */
void al_collapse_headline(json_t *headline, const char *setting, const char *quantity, const int *policies, int npol,
                          const al_series_stats *st);

int al_collapse_linear_resolve(const al_collapse_cfg *c, json_t *config, al_err *err);
int al_collapse_linear_run(const al_collapse_cfg *c, al_run *run, json_t *results, al_err *err);
int al_collapse_gauss_resolve(const al_collapse_cfg *c, json_t *config, al_err *err);
int al_collapse_gauss_run(const al_collapse_cfg *c, al_run *run, json_t *results, al_err *err);
int al_collapse_lm_resolve(const al_collapse_cfg *c, json_t *config, al_err *err);
int al_collapse_lm_run(const al_collapse_cfg *c, al_run *run, json_t *results, al_err *err);

#endif
