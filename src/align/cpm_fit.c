/* Fitting a compositional preference model (alab/cpm.h): standardised
 * feature differences x_i,k = (fa_i,k - fb_i,k) / s_k, s_k the sample sd of
 * feature k over the 2n training responses; C by k-fold cross-validation on
 * mean held-out log-loss; coefficients' 95% intervals as the 2.5% and 97.5%
 * quantiles of refits on pairs resampled with replacement. */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <string.h>
#include "alab/cpm.h"

al_cpm_cfg al_cpm_defaults(void) {
  return (al_cpm_cfg){.penalty = AL_LR_L2, .folds = 5, .c_min = 1e-3, .c_max = 1e3, .nc = 13, .C = 1, .bootstrap = 200,
                      .eps = 1e-6, .seed = 1};
}

static void feature_scales(const double *fa, const double *fb, int n, int d, double *scale) {
  for (int k = 0; k < d; k++) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += fa[(size_t)i * d + k] + fb[(size_t)i * d + k];
    double mean = s / (2.0 * n);
    for (int i = 0; i < n; i++) {
      double u = fa[(size_t)i * d + k] - mean, v = fb[(size_t)i * d + k] - mean;
      ss += u * u + v * v;
    }
    double sd = n > 0 ? sqrt(ss / (2.0 * n - 1)) : 0;
    scale[k] = sd > 0 && isfinite(sd) ? sd : 1.0;
  }
}

/* Rows idx[0..m) of X, y copied to Xo, yo. */
static void take(const double *X, const int *y, int d, const int *idx, int m, double *Xo, int *yo) {
  for (int j = 0; j < m; j++) {
    memcpy(Xo + (size_t)j * d, X + (size_t)idx[j] * d, sizeof(double) * d);
    yo[j] = y[idx[j]];
  }
}

/* Mean held-out log-loss of C over folds; fold f holds the rows perm[j] with j % folds == f. */
static int cv_loss(const double *X, const int *y, int n, int d, const uint32_t *perm, const al_cpm_cfg *c, double C,
                   double *loss, al_err *err) {
  int *tr = al_malloc(sizeof(int) * n), *te = al_malloc(sizeof(int) * n), *ytr = al_malloc(sizeof(int) * n),
      *yte = al_malloc(sizeof(int) * n);
  double *Xtr = al_malloc(sizeof(double) * (size_t)n * d), *Xte = al_malloc(sizeof(double) * (size_t)n * d);
  double *w = al_malloc(sizeof(double) * d), sum = 0;
  int rc = 0;
  for (int f = 0; f < c->folds && !rc; f++) {
    int ntr = 0, nte = 0;
    for (int j = 0; j < n; j++) {
      if (j % c->folds == f) te[nte++] = (int)perm[j];
      else tr[ntr++] = (int)perm[j];
    }
    take(X, y, d, tr, ntr, Xtr, ytr);
    take(X, y, d, te, nte, Xte, yte);
    rc = al_lr_fit(Xtr, ytr, ntr, d, c->penalty, C, c->eps, w, err);
    if (!rc) sum += al_lr_logloss(Xte, yte, nte, d, w) * nte;
  }
  *loss = sum / n;
  free(tr), free(te), free(ytr), free(yte), free(Xtr), free(Xte), free(w);
  return rc;
}

static int bootstrap(const double *X, const int *y, int n, int d, const al_cpm_cfg *c, double C, al_cpm *m,
                     al_err *err) {
  int B = c->bootstrap, rc = 0;
  double *ws = al_malloc(sizeof(double) * (size_t)B * d), *Xb = al_malloc(sizeof(double) * (size_t)n * d);
  int *idx = al_malloc(sizeof(int) * n), *yb = al_malloc(sizeof(int) * n);
  al_rng r;
  al_rng_seed_stream(&r, c->seed, 2);
  for (int b = 0; b < B && !rc; b++) {
    for (int i = 0; i < n; i++) idx[i] = (int)al_rng_below(&r, (uint64_t)n);
    take(X, y, d, idx, n, Xb, yb);
    rc = al_lr_fit(Xb, yb, n, d, c->penalty, C, c->eps, ws + (size_t)b * d, err);
  }
  double *col = al_malloc(sizeof(double) * B);
  for (int k = 0; k < d && !rc; k++) {
    for (int b = 0; b < B; b++) col[b] = ws[(size_t)b * d + k];
    gsl_sort(col, 1, B);
    m->w_lo[k] = gsl_stats_quantile_from_sorted_data(col, 1, B, 0.025);
    m->w_hi[k] = gsl_stats_quantile_from_sorted_data(col, 1, B, 0.975);
  }
  free(ws), free(Xb), free(idx), free(yb), free(col);
  return rc;
}

int al_cpm_train(const double *fa, const double *fb, const int *a_won, int n, int d, const char *const *names,
                 const al_cpm_cfg *c, al_cpm *m, al_err *err) {
  memset(m, 0, sizeof(*m));
  if (n < 2 || d < 1) return al_fail(err, "cpm: %d pairs of %d features (need at least 2 pairs and 1 feature)", n, d);
  if (c->folds > n) return al_fail(err, "cpm: %d folds for %d pairs", c->folds, n);
  if (c->folds >= 2 && !(c->nc >= 1 && c->c_min > 0 && c->c_max >= c->c_min))
    return al_fail(err, "cpm: the C grid [%g, %g] x %d is empty or not positive", c->c_min, c->c_max, c->nc);
  for (size_t i = 0; i < (size_t)n * d; i++)
    if (!isfinite(fa[i]) || !isfinite(fb[i]))
      return al_fail(err, "cpm: pair %zu feature '%s' is not a finite number", i / d, names[i % d]);
  m->d = d;
  m->names = al_malloc(sizeof(char *) * d);
  for (int k = 0; k < d; k++) m->names[k] = al_strdup(names[k]);
  m->scale = al_malloc(sizeof(double) * d), m->w = al_malloc(sizeof(double) * d);
  m->w_lo = al_malloc(sizeof(double) * d), m->w_hi = al_malloc(sizeof(double) * d);
  for (int k = 0; k < d; k++) m->w_lo[k] = m->w_hi[k] = NAN;
  feature_scales(fa, fb, n, d, m->scale);
  double *X = al_malloc(sizeof(double) * (size_t)n * d);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++) X[(size_t)i * d + k] = (fa[(size_t)i * d + k] - fb[(size_t)i * d + k]) / m->scale[k];
  int rc = 0;
  m->C = c->C;
  if (c->folds >= 2) {
    uint32_t *perm = al_malloc(sizeof(uint32_t) * n);
    for (int i = 0; i < n; i++) perm[i] = (uint32_t)i;
    al_rng r;
    al_rng_seed_stream(&r, c->seed, 1);
    al_rng_shuffle_u32(&r, perm, (size_t)n);
    m->nc = c->nc;
    m->grid = al_malloc(sizeof(double) * c->nc), m->cv_logloss = al_malloc(sizeof(double) * c->nc);
    double best = INFINITY;
    for (int g = 0; g < c->nc && !rc; g++) {
      m->grid[g] = c->nc == 1 ? c->c_min : c->c_min * pow(c->c_max / c->c_min, (double)g / (c->nc - 1));
      rc = cv_loss(X, a_won, n, d, perm, c, m->grid[g], &m->cv_logloss[g], err);
      if (!rc && m->cv_logloss[g] < best) best = m->cv_logloss[g], m->C = m->grid[g];
    }
    free(perm);
  }
  if (!rc) rc = al_lr_fit(X, a_won, n, d, c->penalty, m->C, c->eps, m->w, err);
  if (!rc && c->bootstrap > 0) rc = bootstrap(X, a_won, n, d, c, m->C, m, err);
  if (!rc) {
    int right = 0;
    for (int i = 0; i < n; i++) {
      double z = 0;
      for (int k = 0; k < d; k++) z += m->w[k] * X[(size_t)i * d + k];
      right += (z > 0) == (a_won[i] == 1);
    }
    m->train_accuracy = (double)right / n;
  }
  free(X);
  if (rc) al_cpm_free(m);
  return rc;
}

double al_cpm_reward(const al_cpm *m, const double *f) {
  double r = 0;
  for (int k = 0; k < m->d; k++) r += m->w[k] * f[k] / m->scale[k];
  return r;
}

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

json_t *al_cpm_json(const al_cpm *m) {
  json_t *feats = json_array(), *cv = json_array();
  for (int k = 0; k < m->d; k++)
    json_array_append_new(feats, json_pack("{s:s, s:o, s:o, s:o, s:o}", "name", m->names[k], "coef", num(m->w[k]),
                                           "lo", num(m->w_lo[k]), "hi", num(m->w_hi[k]), "scale", num(m->scale[k])));
  for (int g = 0; g < m->nc; g++)
    json_array_append_new(cv, json_pack("{s:o, s:o}", "C", num(m->grid[g]), "logloss", num(m->cv_logloss[g])));
  return json_pack("{s:o, s:o, s:o, s:o}", "C", num(m->C), "train_accuracy", num(m->train_accuracy), "features", feats,
                   "cv", cv);
}

void al_cpm_free(al_cpm *m) {
  for (int k = 0; m->names && k < m->d; k++) free(m->names[k]);
  free(m->names), free(m->scale), free(m->w), free(m->w_lo), free(m->w_hi), free(m->grid), free(m->cv_logloss);
  memset(m, 0, sizeof(*m));
}
