/* Model collapse in linear regression (Gerstgrasser et al. 2024, section 3).
 *
 * Per seed: w* ~ N(0, I_d), a fixed design X (T x d, rows ~ N(0, I_d)) and
 * real labels y_1 = X w* + sigma eps_1. Iteration n fits OLS with LAPACK
 * (dgels, QR) and iteration n+1 labels the same X with the last fit:
 * y_{n+1} = X w_n + sigma eps_{n+1}. The policies differ in what is fitted:
 *   replace               (X, y_n)                      T rows
 *   accumulate            X stacked n times, y_1..y_n   nT rows
 *   accumulate-subsample  T rows drawn without replacement from those nT
 * Error_n = ||w_n - w*||^2.
 *
 * Closed forms. With A = (X'X)^-1 X', replace gives w_n = w_{n-1} + sigma A eps_n,
 * so e_n = w_n - w* is a sum of n independent terms. Accumulate gives
 * w_n = (1/n) sum_{i<=n} (w_{i-1} + sigma A eps_i) (w_0 = w*): subtracting the
 * same identity at n-1 leaves e_n = e_{n-1} + sigma A eps_n / n. Since
 * E||A eps||^2 = tr((X'X)^-1) and E tr((X'X)^-1) = d/(T-d-1) (inverse Wishart),
 *   E[error_n] = sigma^2 d/(T-d-1) * n                 (replace)
 *   E[error_n] = sigma^2 d/(T-d-1) * sum_{i<=n} 1/i^2  (accumulate, < pi^2/6 x the first). */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/collapse.h"
#include "alab/json.h"
#include "alab/report.h"

const char *const al_policy_names[AL_NPOLICIES] = {"replace", "accumulate", "accumulate-subsample"};

int al_parse_policies(const char *s, int *policies, al_err *err) {
  int n = 0;
  const char *p = s ? s : "", *item;
  size_t len;
  if (!*p) return al_fail(err, "--policies: empty list (known: replace, accumulate, accumulate-subsample)");
  while (al_comma_next(&p, &item, &len)) {
    int found = -1;
    for (int k = 0; k < AL_NPOLICIES; k++)
      if (al_item_is(item, len, al_policy_names[k])) found = k;
    if (found < 0)
      return al_fail(err, "--policies: unknown policy '%.*s' (known: replace, accumulate, accumulate-subsample)", (int)len,
                     item);
    for (int k = 0; k < n; k++)
      if (policies[k] == found) return al_fail(err, "--policies: '%s' given twice", al_policy_names[found]);
    policies[n++] = found;
  }
  return n;
}

/* The stacked design of accumulate holds iters*T rows of d+1 doubles, twice. */
#define LINREG_MAX_DOUBLES (1LL << 27)

int al_linreg_check(const al_linreg_cfg *c, al_err *err) {
  if (c->d < 1) return al_fail(err, "linear: d=%d must be at least 1", c->d);
  if (c->T <= c->d + 1)
    return al_fail(err, "linear: T=%d must exceed d+1=%d (OLS and the closed form d/(T-d-1) need T > d+1)", c->T, c->d + 1);
  if (!(c->sigma2 >= 0) || !isfinite(c->sigma2)) return al_fail(err, "linear: sigma2=%g must be a finite number >= 0", c->sigma2);
  if (c->iters < 1) return al_fail(err, "linear: iters=%d: need at least 1 iteration", c->iters);
  if (c->seeds < 2) return al_fail(err, "linear: seeds=%d: need at least 2 seeds for a confidence interval", c->seeds);
  if ((long long)c->iters * c->T * (c->d + 1) * 2 > LINREG_MAX_DOUBLES)
    return al_fail(err, "linear: iters*T*(d+1)=%lld is too large for the stacked accumulate design (at most %lld)",
                   (long long)c->iters * c->T * (c->d + 1), LINREG_MAX_DOUBLES / 2);
  return 0;
}

double al_linreg_closed_form(int policy, int d, int T, double sigma2, int n) {
  double first = sigma2 * d / (T - d - 1.0);
  if (policy == AL_POLICY_REPLACE) return first * n;
  if (policy == AL_POLICY_ACCUMULATE) {
    double h = 0;
    for (int i = 1; i <= n; i++) h += 1.0 / ((double)i * i);
    return first * h;
  }
  return NAN;
}

/* OLS of b on A (m x d, row-major), via QR; A and b are overwritten, the
 * coefficients are left in b[0..d). */
static int ols(double *A, double *b, int m, int d, al_err *err) {
  lapack_int info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', m, d, 1, A, d, b, 1);
  if (info > 0) return al_fail(err, "linear: the design is rank deficient (dgels info=%d)", (int)info);
  if (info < 0) return al_fail(err, "linear: dgels rejected argument %d", (int)-info);
  return 0;
}

typedef struct {
  double *X, *wstar, *w, *ynew; /* T*d, d, d, T */
  double *ylab;                 /* iters*T: the label blocks y_1..y_n */
  double *A, *b;                /* iters*T*d, iters*T: the fit's copies */
  uint32_t *idx;                /* iters*T: subsample indices */
} linreg_work;

/* Runs one policy on one seed: fills err_n for n = 1..iters. */
static int linreg_policy(const al_linreg_cfg *c, int policy, uint64_t seed_index, linreg_work *w, double *err_out,
                         al_err *err) {
  int d = c->d, T = c->T;
  double sigma = sqrt(c->sigma2);
  /* Fresh noise is the same stream for every policy (common random numbers). */
  al_rng noise, pick;
  al_rng_seed_stream(&noise, (uint64_t)c->seed ^ 0x6e6f697365ULL, seed_index);
  al_rng_seed_stream(&pick, (uint64_t)c->seed ^ 0x7069636bULL, seed_index);
  for (int n = 1; n <= c->iters; n++) {
    double *block = w->ylab + (size_t)(n - 1) * T; /* y_n */
    if (n > 1)
      for (int t = 0; t < T; t++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += w->X[(size_t)t * d + j] * w->w[j];
        block[t] = s + sigma * al_rng_normal(&noise);
      }
    int m;
    if (policy == AL_POLICY_REPLACE) {
      m = T;
      memcpy(w->A, w->X, sizeof(double) * T * d);
      memcpy(w->b, block, sizeof(double) * T);
    } else if (policy == AL_POLICY_ACCUMULATE) {
      m = n * T;
      for (int k = 0; k < n; k++) memcpy(w->A + (size_t)k * T * d, w->X, sizeof(double) * T * d);
      memcpy(w->b, w->ylab, sizeof(double) * m);
    } else { /* accumulate-subsample: T of the nT rows, without replacement */
      m = T;
      uint32_t pool = (uint32_t)n * T;
      for (uint32_t i = 0; i < pool; i++) w->idx[i] = i;
      for (int i = 0; i < T; i++) {
        uint32_t j = i + (uint32_t)al_rng_below(&pick, pool - i), tmp = w->idx[i];
        w->idx[i] = w->idx[j];
        w->idx[j] = tmp;
        uint32_t r = w->idx[i];
        memcpy(w->A + (size_t)i * d, w->X + (size_t)(r % T) * d, sizeof(double) * d);
        w->b[i] = w->ylab[r];
      }
    }
    if (ols(w->A, w->b, m, d, err)) return -1;
    double e = 0;
    for (int j = 0; j < d; j++) {
      w->w[j] = w->b[j];
      e += (w->w[j] - w->wstar[j]) * (w->w[j] - w->wstar[j]);
    }
    err_out[n - 1] = e;
  }
  return 0;
}

int al_linreg_collapse(const al_linreg_cfg *c, const int *policies, int npol, al_series_stats *out, al_err *err) {
  if (al_linreg_check(c, err)) return -1;
  int d = c->d, T = c->T, ni = c->iters;
  linreg_work w;
  w.X = al_malloc(sizeof(double) * T * d);
  w.wstar = al_malloc(sizeof(double) * d);
  w.w = al_malloc(sizeof(double) * d);
  w.ynew = al_malloc(sizeof(double) * T);
  w.ylab = al_malloc(sizeof(double) * ni * T);
  w.A = al_malloc(sizeof(double) * ni * T * d);
  w.b = al_malloc(sizeof(double) * ni * T);
  w.idx = al_malloc(sizeof(uint32_t) * ni * T);
  double *e = al_malloc(sizeof(double) * ni);
  for (int p = 0; p < npol; p++) {
    int cf = !isnan(al_linreg_closed_form(policies[p], d, T, c->sigma2, 1));
    al_series_init(&out[p], ni, c->seeds, cf);
    for (int n = 1; cf && n <= ni; n++) out[p].closed_form[n - 1] = al_linreg_closed_form(policies[p], d, T, c->sigma2, n);
  }
  al_progress prog;
  al_progress_start(&prog, "collapse linear", (uint64_t)c->seeds, "seed");
  int rc = 0;
  double sigma = sqrt(c->sigma2);
  for (int s = 0; s < c->seeds && !rc; s++) {
    al_rng r;
    al_rng_seed_stream(&r, (uint64_t)c->seed, (uint64_t)s);
    for (int j = 0; j < d; j++) w.wstar[j] = al_rng_normal(&r);
    for (size_t k = 0; k < (size_t)T * d; k++) w.X[k] = al_rng_normal(&r);
    for (int t = 0; t < T; t++) { /* y_1, shared by all policies */
      double v = 0;
      for (int j = 0; j < d; j++) v += w.X[(size_t)t * d + j] * w.wstar[j];
      w.ynew[t] = v + sigma * al_rng_normal(&r);
    }
    for (int p = 0; p < npol && !rc; p++) {
      memcpy(w.ylab, w.ynew, sizeof(double) * T);
      rc = linreg_policy(c, policies[p], (uint64_t)s, &w, e, err);
      for (int n = 0; n < ni && !rc; n++) out[p].vals[(size_t)n * c->seeds + s] = e[n];
    }
    al_progress_update(&prog, s + 1);
  }
  al_progress_finish(&prog);
  for (int p = 0; p < npol; p++) {
    if (rc) al_series_free(&out[p]);
    else al_series_finish(&out[p]);
  }
  free(w.X), free(w.wstar), free(w.w), free(w.ynew), free(w.ylab), free(w.A), free(w.b), free(w.idx), free(e);
  return rc;
}

/* ---- the linear part of `alab collapse` ---- */

#define MAX_SWEEP 16
#define LINEAR_DEFAULT_SEEDS 600

typedef struct {
  int d[MAX_SWEEP], T[MAX_SWEEP], nd, nT, ns, npol, policies[AL_NPOLICIES];
  double sigma2[MAX_SWEEP];
  al_linreg_cfg base;
} linear_sweep;

static int linear_sweep_of(const al_collapse_cfg *c, linear_sweep *sw, al_err *err) {
  if ((sw->nd = al_parse_int_list(c->d, sw->d, MAX_SWEEP, "--d", err)) < 0) return -1;
  if ((sw->nT = al_parse_int_list(c->T, sw->T, MAX_SWEEP, "--T", err)) < 0) return -1;
  if ((sw->ns = al_parse_double_list(c->sigma2, sw->sigma2, MAX_SWEEP, "--sigma2", err)) < 0) return -1;
  if ((sw->npol = al_parse_policies(c->policies, sw->policies, err)) < 0) return -1;
  sw->base = (al_linreg_cfg){.iters = c->iters, .seeds = c->seeds > 0 ? c->seeds : LINEAR_DEFAULT_SEEDS, .seed = (uint64_t)c->seed};
  for (int a = 0; a < sw->nd; a++)
    for (int b = 0; b < sw->nT; b++)
      for (int k = 0; k < sw->ns; k++) {
        al_linreg_cfg s = sw->base;
        s.d = sw->d[a], s.T = sw->T[b], s.sigma2 = sw->sigma2[k];
        if (al_linreg_check(&s, err)) return -1;
      }
  return 0;
}

int al_collapse_linear_resolve(const al_collapse_cfg *c, json_t *config, al_err *err) {
  linear_sweep sw;
  if (linear_sweep_of(c, &sw, err)) return -1;
  json_t *o = json_object(), *d = json_array(), *T = json_array(), *s2 = json_array(), *pol = json_array();
  for (int i = 0; i < sw.nd; i++) json_array_append_new(d, json_integer(sw.d[i]));
  for (int i = 0; i < sw.nT; i++) json_array_append_new(T, json_integer(sw.T[i]));
  for (int i = 0; i < sw.ns; i++) json_array_append_new(s2, json_real(sw.sigma2[i]));
  for (int i = 0; i < sw.npol; i++) json_array_append_new(pol, json_string(al_policy_names[sw.policies[i]]));
  json_object_set_new(o, "d", d);
  json_object_set_new(o, "T", T);
  json_object_set_new(o, "sigma2", s2);
  json_object_set_new(o, "iters", json_integer(sw.base.iters));
  json_object_set_new(o, "seeds", json_integer(sw.base.seeds));
  json_object_set_new(o, "seed", json_integer((json_int_t)sw.base.seed));
  json_object_set_new(o, "policies", pol);
  json_object_set_new(o, "fit", json_string("ordinary least squares, LAPACK dgels (QR), double precision"));
  json_object_set_new(config, "linear", o);
  return 0;
}

/* Results, metrics and the plot of one (d, T, sigma2) setting. */
static int linear_report(const al_linreg_cfg *s, const linear_sweep *sw, const al_series_stats *st, al_run *run,
                         json_t *settings, json_t *headline, al_err *err) {
  json_t *o = json_pack("{s:s, s:i, s:i, s:f, s:i, s:i}", "part", "linear", "d", s->d, "T", s->T, "sigma2", s->sigma2,
                        "iters", s->iters, "seeds", s->seeds);
  int rc = al_collapse_metrics(run, o, "error", sw->policies, sw->npol, st, err);
  json_t *dev = json_object();
  for (int p = 0; p < sw->npol; p++) {
    double m = al_series_max_rel_dev(&st[p]);
    json_object_set_new(dev, al_policy_names[sw->policies[p]], al_json_real_or_null(m));
  }
  json_object_del(o, "part");
  json_object_set_new(o, "error", al_collapse_series_json(sw->policies, sw->npol, st));
  json_object_set_new(o, "max_rel_dev_from_closed_form", dev);
  json_array_append_new(settings, o);
  char name[128], title[256], setting[128];
  snprintf(setting, sizeof setting, "linear d=%d T=%d sigma^2=%g", s->d, s->T, s->sigma2);
  al_collapse_headline(headline, setting, "test error ||w_n - w*||^2", sw->policies, sw->npol, st);
  snprintf(name, sizeof name, "linear_d%d_T%d_sigma2_%g", s->d, s->T, s->sigma2);
  snprintf(title, sizeof title, "Linear regression d=%d T=%d sigma^2=%g: test error (mean, 95%% CI over %d seeds)", s->d,
           s->T, s->sigma2, s->seeds);
  if (!rc && al_collapse_plot(run, name, title, "||w_n - w*||^2", sw->policies, sw->npol, st, err) < 0) rc = -1;
  return rc;
}

int al_collapse_linear_run(const al_collapse_cfg *c, al_run *run, json_t *results, al_err *err) {
  linear_sweep sw;
  if (linear_sweep_of(c, &sw, err)) return -1;
  json_t *o = json_object(), *settings = json_array();
  json_t *headline = json_object_get(results, "headline");
  json_object_set_new(o, "closed_form",
                      json_string("E[error_n] = sigma^2 d/(T-d-1) * n (replace); sigma^2 d/(T-d-1) * sum_{i<=n} 1/i^2 (accumulate)"));
  json_object_set_new(o, "settings", settings);
  json_object_set_new(results, "linear", o);
  int rc = 0;
  for (int a = 0; a < sw.nd && !rc; a++)
    for (int b = 0; b < sw.nT && !rc; b++)
      for (int k = 0; k < sw.ns && !rc; k++) {
        al_linreg_cfg s = sw.base;
        s.d = sw.d[a], s.T = sw.T[b], s.sigma2 = sw.sigma2[k];
        al_series_stats st[AL_NPOLICIES];
        if ((rc = al_linreg_collapse(&s, sw.policies, sw.npol, st, err))) break;
        rc = linear_report(&s, &sw, st, run, settings, headline, err);
        for (int p = 0; p < sw.npol; p++) al_series_free(&st[p]);
      }
  return rc;
}
