/* Scaling-trend labels from per-model losses with standard errors.
 *
 * Weighted least squares: beta = (X'WX)^-1 X'Wy with W = diag(1/se_i^2),
 * residual scale s^2 = sum w_i r_i^2 / (n - p), Cov(beta) = s^2 (X'WX)^-1,
 * t = beta_j / sqrt(Cov_jj) on n - p degrees of freedom. x is centred before
 * fitting (the quadratic term and the slopes do not change). The decision
 * procedure is documented in include/alab/eval.h. */
#include <math.h>
#include <string.h>
#include "alab/eval.h"

const char *al_trend_name(al_trend t) {
  static const char *n[] = {"no significant trend", "standard", "inverse", "U-shaped", "inverted-U"};
  return n[t];
}

/* Inverts the p x p symmetric positive definite matrix a (Gauss-Jordan with
 * partial pivoting). Returns -1 when singular. */
static int invert(double *a, double *inv, int p) {
  for (int i = 0; i < p * p; i++) inv[i] = (i / p == i % p);
  for (int c = 0; c < p; c++) {
    int piv = c;
    for (int r = c + 1; r < p; r++)
      if (fabs(a[r * p + c]) > fabs(a[piv * p + c])) piv = r;
    if (fabs(a[piv * p + c]) < 1e-300) return -1;
    for (int k = 0; k < p; k++) {
      double t = a[c * p + k]; a[c * p + k] = a[piv * p + k]; a[piv * p + k] = t;
      t = inv[c * p + k]; inv[c * p + k] = inv[piv * p + k]; inv[piv * p + k] = t;
    }
    double d = a[c * p + c];
    for (int k = 0; k < p; k++) a[c * p + k] /= d, inv[c * p + k] /= d;
    for (int r = 0; r < p; r++) {
      if (r == c) continue;
      double f = a[r * p + c];
      for (int k = 0; k < p; k++) a[r * p + k] -= f * a[c * p + k], inv[r * p + k] -= f * inv[c * p + k];
    }
  }
  return 0;
}

/* Polynomial WLS of degree p-1 in xc; beta[p], cov[p*p]. */
static int wls(const double *xc, const double *y, const double *w, int n, int p, double *beta, double *cov,
               double *rss_out) {
  double a[9] = {0}, inv[9], rhs[3] = {0};
  for (int i = 0; i < n; i++) {
    double f[3] = {1, xc[i], xc[i] * xc[i]};
    for (int j = 0; j < p; j++) {
      rhs[j] += w[i] * f[j] * y[i];
      for (int k = 0; k < p; k++) a[j * p + k] += w[i] * f[j] * f[k];
    }
  }
  if (invert(a, inv, p)) return -1;
  for (int j = 0; j < p; j++) {
    beta[j] = 0;
    for (int k = 0; k < p; k++) beta[j] += inv[j * p + k] * rhs[k];
  }
  double rss = 0;
  for (int i = 0; i < n; i++) {
    double f = beta[0] + beta[1] * xc[i] + (p > 2 ? beta[2] * xc[i] * xc[i] : 0);
    rss += w[i] * (y[i] - f) * (y[i] - f);
  }
  double s2 = rss / (n - p);
  *rss_out = rss;
  for (int i = 0; i < p * p; i++) cov[i] = s2 * inv[i];
  return 0;
}

/* Two-sided p of coef/se on df; a zero se (an exact fit) gives 0 or 1. */
static double pval2(double coef, double se, double df) {
  if (!(se > 0)) return coef == 0 ? 1.0 : 0.0;
  return al_t_pvalue(coef / se, df);
}

/* One-sided p for H1: sign(coef) == want (want = +1 or -1). */
static double pval1(double coef, double se, double df, int want, double *t) {
  *t = se > 0 ? coef / se : (coef == 0 ? 0 : copysign(INFINITY, coef));
  double two = se > 0 ? al_t_pvalue(*t, df) : (coef == 0 ? 1.0 : 0.0);
  return (*t) * want > 0 ? two / 2 : 1 - two / 2;
}

int al_fit_trend(const double *x, const double *y, const double *se, int n, double alpha, al_trend_fit *f,
                 al_err *err) {
  memset(f, 0, sizeof *f);
  f->n = n;
  f->alpha = alpha;
  f->label = AL_TREND_NONE;
  for (int i = 0; i < n; i++)
    if (!isfinite(x[i]) || !isfinite(y[i])) return al_fail(err, "trend: point %d is not finite (x %g, y %g)", i, x[i], y[i]);
  double xs[64], ws[64];
  if (n > 64) return al_fail(err, "trend: at most 64 models (got %d)", n);
  int weighted = se != NULL;
  for (int i = 0; i < n && weighted; i++) weighted = se[i] > 0 && isfinite(se[i]);
  f->weighted = weighted;
  double xm = 0, xmin = INFINITY, xmax = -INFINITY;
  for (int i = 0; i < n; i++) xm += x[i] / n, xmin = fmin(xmin, x[i]), xmax = fmax(xmax, x[i]);
  for (int i = 0; i < n; i++) xs[i] = x[i] - xm, ws[i] = weighted ? 1 / (se[i] * se[i]) : 1;
  snprintf(f->test, sizeof f->test,
           "%s least squares of loss on log10(x)%s; gate: F-test of the quadratic fit against a constant; then "
           "quadratic: t-test on the x^2 term (two-sided, df n-3), vertex "
           "inside the range, and Lind-Mehlum test of the end slopes (one-sided t each); else linear: two-sided "
           "t-test on the slope (df n-2); alpha %g",
           weighted ? "weighted (1/se^2)" : "ordinary", weighted ? " with the residual scale estimated" : "", alpha);
  f->lin_b_p = f->q_c_p = f->slope_lo_p = f->slope_hi_p = f->gate_p = 1;
  f->vertex = NAN;
  if (n < 3) {
    snprintf(f->reason, sizeof f->reason, "too few models (%d) to test a trend (3 needed)", n);
    return 0;
  }
  double b[3], cov[9], rss1, rss2 = 0, rss0 = 0, ym = 0, wsum = 0;
  if (wls(xs, y, ws, n, 2, b, cov, &rss1)) return al_fail(err, "trend: all models have the same x; nothing to fit");
  for (int i = 0; i < n; i++) ym += ws[i] * y[i], wsum += ws[i];
  ym /= wsum;
  for (int i = 0; i < n; i++) rss0 += ws[i] * (y[i] - ym) * (y[i] - ym);
  f->lin_a = b[0] - b[1] * xm;
  f->lin_b = b[1];
  f->lin_b_se = sqrt(fmax(cov[3], 0));
  f->lin_b_p = pval2(f->lin_b, f->lin_b_se, n - 2);
  /* the gate: any trend at all? F-test of the fit against a constant */
  int quad = n >= 4;
  double b2[3], cov2[9];
  if (quad && wls(xs, y, ws, n, 3, b2, cov2, &rss2)) quad = 0;
  if (quad) { /* F(2, n-3): P(F > f) = (d/(d + 2f))^(d/2) */
    double d = n - 3, F = rss2 > 0 ? ((rss0 - rss2) / 2) / (rss2 / d) : (rss0 > 0 ? INFINITY : 0);
    f->gate_p = isfinite(F) ? pow(d / (d + 2 * fmax(F, 0)), d / 2) : 0;
  } else { /* F(1, n-2) = t^2 of the slope */
    f->gate_p = f->lin_b_p;
  }
  (void)rss1;
  if (!(f->gate_p < alpha)) {
    snprintf(f->reason, sizeof f->reason,
             "no trend: %s against a constant p=%.3g; slope %.4g per decade (se %.3g, p=%.3g)",
             quad ? "quadratic F-test" : "slope t-test", f->gate_p, f->lin_b, f->lin_b_se, f->lin_b_p);
    return 0;
  }
  if (quad) {
    memcpy(b, b2, sizeof b);
    memcpy(cov, cov2, sizeof cov);
    double c = b[2], df = n - 3;
    f->q_c = c;
    f->q_b = b[1] - 2 * c * xm;
    f->q_a = b[0] - b[1] * xm + c * xm * xm;
    f->q_c_se = sqrt(fmax(cov[8], 0));
    f->q_c_p = pval2(c, f->q_c_se, df);
    f->vertex = c != 0 ? -b[1] / (2 * c) + xm : NAN;
    /* slope b + 2c x at the ends: var = var b + 4x^2 var c + 4x cov(b,c) */
    double lo = xmin - xm, hi = xmax - xm;
    double vlo = cov[4] + 4 * lo * lo * cov[8] + 4 * lo * cov[5], vhi = cov[4] + 4 * hi * hi * cov[8] + 4 * hi * cov[5];
    f->slope_lo = b[1] + 2 * c * lo;
    f->slope_hi = b[1] + 2 * c * hi;
    int cap = c < 0; /* loss rises then falls */
    f->slope_lo_p = pval1(f->slope_lo, sqrt(fmax(vlo, 0)), df, cap ? 1 : -1, &f->slope_lo_t);
    f->slope_hi_p = pval1(f->slope_hi, sqrt(fmax(vhi, 0)), df, cap ? -1 : 1, &f->slope_hi_t);
    int inside = isfinite(f->vertex) && f->vertex > xmin && f->vertex < xmax;
    if (f->q_c_p < alpha && inside && f->slope_lo_p < alpha && f->slope_hi_p < alpha) {
      f->label = cap ? AL_TREND_U : AL_TREND_INVERTED_U;
      snprintf(f->reason, sizeof f->reason,
               "loss %s then %s: x^2 term p=%.3g, vertex at %.3g inside [%.3g, %.3g], end slopes %.3g (p=%.3g) and "
               "%.3g (p=%.3g)",
               cap ? "rises" : "falls", cap ? "falls" : "rises", f->q_c_p, f->vertex, xmin, xmax, f->slope_lo,
               f->slope_lo_p, f->slope_hi, f->slope_hi_p);
      return 0;
    }
  }
  if (f->lin_b_p < alpha) {
    f->label = f->lin_b < 0 ? AL_TREND_STANDARD : AL_TREND_INVERSE;
    snprintf(f->reason, sizeof f->reason, "loss %s with scale: slope %.4g per decade (se %.3g, p=%.3g)",
             f->lin_b < 0 ? "falls" : "rises", f->lin_b, f->lin_b_se, f->lin_b_p);
  } else {
    snprintf(f->reason, sizeof f->reason,
             "some trend (F-test p=%.3g) but neither a significant slope (%.4g, p=%.3g) nor a significant U shape",
             f->gate_p, f->lin_b, f->lin_b_p);
  }
  return 0;
}

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

json_t *al_trend_json(const al_trend_fit *f) {
  json_t *o = json_object();
  json_object_set_new(o, "label", json_string(al_trend_name(f->label)));
  json_object_set_new(o, "reason", json_string(f->reason));
  json_object_set_new(o, "test", json_string(f->test));
  json_object_set_new(o, "alpha", num(f->alpha));
  json_object_set_new(o, "n", json_integer(f->n));
  json_object_set_new(o, "gate_p", num(f->gate_p));
  json_object_set_new(o, "linear", json_pack("{s:o,s:o,s:o,s:o}", "intercept", num(f->lin_a), "slope", num(f->lin_b),
                                             "slope_se", num(f->lin_b_se), "slope_p", num(f->lin_b_p)));
  json_object_set_new(o, "quadratic",
                      json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "a", num(f->q_a), "b", num(f->q_b), "c",
                                num(f->q_c), "c_se", num(f->q_c_se), "c_p", num(f->q_c_p), "vertex", num(f->vertex),
                                "slope_at_min", num(f->slope_lo), "slope_at_min_p", num(f->slope_lo_p), "slope_at_max",
                                num(f->slope_hi), "slope_at_max_p", num(f->slope_hi_p)));
  return o;
}
