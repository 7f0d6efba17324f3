/* Model collapse when fitting a Gaussian (the classic demonstration).
 *
 * Truth N(0, v0 I_d). Iteration 1 fits the maximum-likelihood mean m_1 and
 * covariance S_1 (divide by the count) to n real samples; iteration k+1 draws
 * n samples from N(m_k, S_k) (Cholesky, LAPACK dpotrf) and refits on
 *   replace               those n samples
 *   accumulate            all (k+1) n samples so far, real included
 *   accumulate-subsample  n drawn without replacement from those (k+1) n
 * Reported per iteration: v_k = tr(S_k)/d and KL(N(m_k,S_k) || N(0, v0 I)) =
 *   1/2 [tr S/v0 + |m|^2/v0 - d - ln det(S/v0)].
 *
 * Exact expectations (r = 1 - 1/n):
 *   replace:    E[S_k | S_{k-1}] = r S_{k-1}, so E[v_k] = v0 r^k;
 *               E|m_k|^2 = E|m_{k-1}|^2 + E tr S_{k-1}/n = v0 (d/n) sum_{j<k} r^j;
 *               ln det(n S_k / S_{k-1}) is a log Wishart(n-1) determinant with
 *               mean sum_{i<=d} psi((n-i)/2) + d ln 2, which gives E[KL_k].
 *   accumulate: with N_k = kn points, Q = sum x x', U = sum x: E[Q_k] = N_k v0 I
 *               (each batch adds n E[S_k + m_k m_k'] = n E[Q_k]/N_k), and
 *               c_k = E[U U']/N_k^2 obeys c_{k+1} = c_k + (v0 - c_k)/(n (k+1)^2),
 *               so E[v_k] = v0 - c_k = v0 prod_{j<=k} (1 - 1/(n j^2)), which
 *               stays above v0 sin(pi/sqrt n)/(pi/sqrt n) for ever. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/collapse.h"
#include "alab/report.h"

int al_gauss_check(const al_gauss_cfg *c, al_err *err) {
  if (c->d < 1 || c->d > 64) return al_fail(err, "gauss: d=%d must be in 1..64", c->d);
  if (c->n <= c->d) return al_fail(err, "gauss: n=%d samples must exceed d=%d (the fitted covariance must be full rank)", c->n, c->d);
  if (!(c->var0 > 0) || !isfinite(c->var0)) return al_fail(err, "gauss: var0=%g must be a finite number > 0", c->var0);
  if (c->iters < 1) return al_fail(err, "gauss: iters=%d: need at least 1 iteration", c->iters);
  if (c->seeds < 2) return al_fail(err, "gauss: seeds=%d: need at least 2 seeds for a confidence interval", c->seeds);
  if ((long long)c->iters * c->n * c->d > (1LL << 26))
    return al_fail(err, "gauss: iters*n*d=%lld samples is too many to accumulate (at most %lld)", (long long)c->iters * c->n * c->d, 1LL << 26);
  return 0;
}

static double digamma(double x) {
  double r = 0;
  while (x < 6) r -= 1 / x, x += 1;
  double f = 1 / (x * x);
  return r + log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

double al_gauss_var_closed_form(int policy, int n, double var0, int k) {
  if (policy == AL_POLICY_REPLACE) return var0 * pow(1 - 1.0 / n, k);
  if (policy == AL_POLICY_ACCUMULATE) {
    double v = var0;
    for (int j = 1; j <= k; j++) v *= 1 - 1.0 / (n * (double)j * j);
    return v;
  }
  return NAN;
}

double al_gauss_kl_closed_form(int policy, int d, int n, int k) {
  if (policy != AL_POLICY_REPLACE) return NAN;
  double r = 1 - 1.0 / n, tr = d * pow(r, k), msq = 0, step = d * log(2.0 / n);
  for (int j = 0; j < k; j++) msq += d * pow(r, j) / n;
  for (int i = 1; i <= d; i++) step += digamma((n - i) / 2.0);
  return 0.5 * (tr + msq - d - k * step);
}

/* MLE mean and covariance of the rows idx[0..m) of pool (or rows 0..m when
 * idx is NULL); S is d x d row-major. */
static void fit(const double *pool, const uint32_t *idx, int m, int d, double *mean, double *S) {
  memset(mean, 0, sizeof(double) * d);
  memset(S, 0, sizeof(double) * d * d);
  for (int i = 0; i < m; i++) {
    const double *x = pool + (size_t)(idx ? idx[i] : (uint32_t)i) * d;
    for (int a = 0; a < d; a++) mean[a] += x[a];
  }
  for (int a = 0; a < d; a++) mean[a] /= m;
  for (int i = 0; i < m; i++) {
    const double *x = pool + (size_t)(idx ? idx[i] : (uint32_t)i) * d;
    for (int a = 0; a < d; a++)
      for (int b = 0; b <= a; b++) S[a * d + b] += (x[a] - mean[a]) * (x[b] - mean[b]);
  }
  for (int a = 0; a < d; a++)
    for (int b = 0; b <= a; b++) S[b * d + a] = S[a * d + b] /= m;
}

typedef struct {
  double *pool, *mean, *S, *L; /* iters*n*d, d, d*d, d*d */
  uint32_t *idx;               /* iters*n */
} gauss_work;

static int gauss_policy(const al_gauss_cfg *c, int policy, uint64_t seed_index, gauss_work *w, double *var_out,
                        double *kl_out, al_err *err) {
  int d = c->d, n = c->n;
  al_rng draw, pick;
  al_rng_seed_stream(&draw, (uint64_t)c->seed ^ 0x64726177ULL, seed_index);
  al_rng_seed_stream(&pick, (uint64_t)c->seed ^ 0x7069636bULL, seed_index);
  for (int k = 1; k <= c->iters; k++) {
    /* pool rows [0, k n) hold the real block and k-1 synthetic blocks */
    if (policy == AL_POLICY_REPLACE) fit(w->pool + (size_t)(k - 1) * n * d, NULL, n, d, w->mean, w->S);
    else if (policy == AL_POLICY_ACCUMULATE) fit(w->pool, NULL, k * n, d, w->mean, w->S);
    else {
      uint32_t total = (uint32_t)k * n;
      for (uint32_t i = 0; i < total; i++) w->idx[i] = i;
      for (int i = 0; i < n; i++) {
        uint32_t j = i + (uint32_t)al_rng_below(&pick, total - i), t = w->idx[i];
        w->idx[i] = w->idx[j];
        w->idx[j] = t;
      }
      fit(w->pool, w->idx, n, d, w->mean, w->S);
    }
    memcpy(w->L, w->S, sizeof(double) * d * d);
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, w->L, d);
    if (info != 0)
      return al_fail(err, "gauss: the fitted covariance is not positive definite at iteration %d (dpotrf info=%d); "
                     "the variance collapsed to zero: use fewer iterations or more samples", k, (int)info);
    double tr = 0, msq = 0, logdet = 0;
    for (int a = 0; a < d; a++) {
      tr += w->S[a * d + a];
      msq += w->mean[a] * w->mean[a];
      logdet += 2 * log(w->L[a * d + a]);
    }
    var_out[k - 1] = tr / d;
    kl_out[k - 1] = 0.5 * (tr / c->var0 + msq / c->var0 - d - (logdet - d * log(c->var0)));
    if (k == c->iters) break;
    double *next = w->pool + (size_t)k * n * d, z[64];
    for (int i = 0; i < n; i++) {
      for (int a = 0; a < d; a++) z[a] = al_rng_normal(&draw);
      for (int a = 0; a < d; a++) {
        double v = w->mean[a];
        for (int b = 0; b <= a; b++) v += w->L[a * d + b] * z[b];
        next[(size_t)i * d + a] = v;
      }
    }
  }
  return 0;
}

int al_gauss_collapse(const al_gauss_cfg *c, const int *policies, int npol, al_series_stats *var, al_series_stats *kl,
                      al_err *err) {
  if (al_gauss_check(c, err)) return -1;
  int d = c->d, n = c->n, ni = c->iters;
  gauss_work w;
  w.pool = al_malloc(sizeof(double) * ni * n * d);
  w.mean = al_malloc(sizeof(double) * d);
  w.S = al_malloc(sizeof(double) * d * d);
  w.L = al_malloc(sizeof(double) * d * d);
  w.idx = al_malloc(sizeof(uint32_t) * ni * n);
  double *real = al_malloc(sizeof(double) * n * d), *v = al_malloc(sizeof(double) * ni), *q = al_malloc(sizeof(double) * ni);
  for (int p = 0; p < npol; p++) {
    int cf = policies[p] != AL_POLICY_ACCUMULATE_SUBSAMPLE;
    al_series_init(&var[p], ni, c->seeds, cf);
    al_series_init(&kl[p], ni, c->seeds, policies[p] == AL_POLICY_REPLACE);
    for (int k = 1; k <= ni; k++) {
      if (cf) var[p].closed_form[k - 1] = al_gauss_var_closed_form(policies[p], n, c->var0, k);
      if (kl[p].closed_form) kl[p].closed_form[k - 1] = al_gauss_kl_closed_form(policies[p], d, n, k);
    }
  }
  al_progress prog;
  al_progress_start(&prog, "collapse gauss", (uint64_t)c->seeds, "seed");
  int rc = 0;
  for (int s = 0; s < c->seeds && !rc; s++) {
    al_rng r;
    al_rng_seed_stream(&r, (uint64_t)c->seed ^ 0x7265616cULL, (uint64_t)s);
    double sd = sqrt(c->var0);
    for (int i = 0; i < n * d; i++) real[i] = sd * al_rng_normal(&r); /* shared by all policies */
    for (int p = 0; p < npol && !rc; p++) {
      memcpy(w.pool, real, sizeof(double) * n * d);
      rc = gauss_policy(c, policies[p], (uint64_t)s, &w, v, q, err);
      for (int k = 0; k < ni && !rc; k++) {
        var[p].vals[(size_t)k * c->seeds + s] = v[k];
        kl[p].vals[(size_t)k * c->seeds + s] = q[k];
      }
    }
    al_progress_update(&prog, s + 1);
  }
  al_progress_finish(&prog);
  for (int p = 0; p < npol; p++) {
    if (rc) al_series_free(&var[p]), al_series_free(&kl[p]);
    else al_series_finish(&var[p]), al_series_finish(&kl[p]);
  }
  free(w.pool), free(w.mean), free(w.S), free(w.L), free(w.idx), free(real), free(v), free(q);
  return rc;
}

/* ---- the Gaussian part of `alab collapse` ---- */

#define GAUSS_DEFAULT_SEEDS 500

static int gauss_cfg_of(const al_collapse_cfg *c, al_gauss_cfg *g, int *pol, int *npol, al_err *err) {
  *g = (al_gauss_cfg){.d = c->gauss_d, .n = c->gauss_n, .iters = c->gauss_iters, .var0 = c->gauss_var,
                      .seeds = c->seeds > 0 ? c->seeds : GAUSS_DEFAULT_SEEDS, .seed = (uint64_t)c->seed};
  if ((*npol = al_parse_policies(c->policies, pol, err)) < 0) return -1;
  return al_gauss_check(g, err);
}

int al_collapse_gauss_resolve(const al_collapse_cfg *c, json_t *config, al_err *err) {
  al_gauss_cfg g;
  int pol[AL_NPOLICIES], npol;
  if (gauss_cfg_of(c, &g, pol, &npol, err)) return -1;
  json_t *pl = json_array();
  for (int i = 0; i < npol; i++) json_array_append_new(pl, json_string(al_policy_names[pol[i]]));
  json_object_set_new(config, "gauss",
                      json_pack("{s:i, s:i, s:i, s:f, s:i, s:I, s:o, s:s}", "d", g.d, "n", g.n, "iters", g.iters, "var0",
                                g.var0, "seeds", g.seeds, "seed", (json_int_t)g.seed, "policies", pl, "fit",
                                "maximum likelihood mean and covariance (divide by the count)"));
  return 0;
}

int al_collapse_gauss_run(const al_collapse_cfg *c, al_run *run, json_t *results, al_err *err) {
  al_gauss_cfg g;
  int pol[AL_NPOLICIES], npol;
  if (gauss_cfg_of(c, &g, pol, &npol, err)) return -1;
  al_series_stats var[AL_NPOLICIES], kl[AL_NPOLICIES];
  if (al_gauss_collapse(&g, pol, npol, var, kl, err)) return -1;
  json_t *setting = json_pack("{s:s, s:i, s:i, s:f, s:i}", "part", "gauss", "d", g.d, "n", g.n, "var0", g.var0, "seeds", g.seeds);
  int rc = al_collapse_metrics(run, setting, "variance", pol, npol, var, err);
  if (!rc) rc = al_collapse_metrics(run, setting, "kl", pol, npol, kl, err);
  json_object_del(setting, "part");
  json_object_set_new(setting, "closed_form",
                      json_string("E[tr(S_k)/d] = var0 (1-1/n)^k (replace), var0 prod_{j<=k} (1 - 1/(n j^2)) (accumulate); "
                                  "E[KL_k] for replace from the log-Wishart determinant"));
  json_object_set_new(setting, "accumulate_variance_limit", json_real(g.var0 * sin(M_PI / sqrt(g.n)) / (M_PI / sqrt(g.n))));
  json_object_set_new(setting, "variance", al_collapse_series_json(pol, npol, var));
  json_object_set_new(setting, "kl", al_collapse_series_json(pol, npol, kl));
  json_object_set_new(results, "gauss", setting);
  char name[160], title[256];
  snprintf(name, sizeof name, "Gaussian d=%d n=%d", g.d, g.n);
  json_t *headline = json_object_get(results, "headline");
  al_collapse_headline(headline, name, "fitted variance", pol, npol, var);
  al_collapse_headline(headline, name, "KL(fit || truth)", pol, npol, kl);
  snprintf(title, sizeof title, "Gaussian d=%d n=%d: fitted variance tr(S)/d (mean, 95%% CI over %d seeds)", g.d, g.n, g.seeds);
  if (!rc) rc = al_collapse_plot(run, "gauss_variance", title, "fitted variance", pol, npol, var, err);
  snprintf(title, sizeof title, "Gaussian d=%d n=%d: KL(fit || truth) (mean, 95%% CI over %d seeds)", g.d, g.n, g.seeds);
  if (!rc) rc = al_collapse_plot(run, "gauss_kl", title, "KL (nats)", pol, npol, kl, err);
  for (int p = 0; p < npol; p++) al_series_free(&var[p]), al_series_free(&kl[p]);
  return rc;
}
