/* Scaling-trend labels from per-model losses with standard errors.
 *
 * Weighted least squares: beta = (X'WX)^-1 X'Wy with W = diag(1/se_i^2),
 * residual scale s^2 = sum w_i r_i^2 / (n - p), Cov(beta) = s^2 (X'WX)^-1,
 * t = beta_j / sqrt(Cov_jj) on n - p degrees of freedom. x is centred before
 * fitting (the quadratic term and the slopes do not change). The decision
 * procedure is documented in include/alab/trend.h. */
#include <math.h>
#include <string.h>
#include "alab/trend.h"

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

/* Between-model variance tau^2 (the DerSimonian-Laird moment estimator for
 * meta-regression): with fixed weights w_i = 1/se_i^2 and the degree p-1 fit,
 * Q = sum w_i r_i^2 has expectation (n - p) + tau^2 tr(P), where
 * P = W - W X (X'WX)^-1 X'W, so tr(P) = sum w_i (1 - h_i) with h_i the
 * leverages; tau^2 = max(0, (Q - (n - p)) / tr(P)). Models then weigh
 * 1/(se_i^2 + tau^2): a model whose standard error is tiny next to how far
 * the models scatter around the curve no longer decides the fit alone.
 * Computed from the Householder QR of Z = W^1/2 X (n x p), Z = QR, so that
 * nothing cancels when the weights span many orders of magnitude: Q is the
 * product of the reflections, Q't's last n - p entries give Q, and
 * 1 - h_i is the squared norm of row i of Q's last n - p columns. */
static double between_model_var(const double *xc, const double *y, const double *w, int n, int p) {
  if (n <= p || n > 64) return 0;
  double z[64 * 3], t[64], q[64 * 64], v[64];
  for (int i = 0; i < n; i++) {
    double sw = sqrt(w[i]), f[3] = {1, xc[i], xc[i] * xc[i]};
    for (int j = 0; j < p; j++) z[i * p + j] = sw * f[j];
    t[i] = sw * y[i];
    for (int j = 0; j < n; j++) q[i * n + j] = i == j;
  }
  for (int c = 0; c < p; c++) {
    double norm = 0;
    for (int i = c; i < n; i++) norm += z[i * p + c] * z[i * p + c];
    norm = sqrt(norm);
    if (!(norm > 0)) return 0;
    double alpha = z[c * p + c] > 0 ? -norm : norm, vv = 0;
    for (int i = c; i < n; i++) v[i] = z[i * p + c] - (i == c ? alpha : 0), vv += v[i] * v[i];
    if (!(vv > 0)) continue;
    /* H = I - 2 v v' / v'v on rows c..n-1: Z and t from the left, Q from the right */
    for (int j = c; j < p; j++) {
      double d = 0;
      for (int i = c; i < n; i++) d += v[i] * z[i * p + j];
      for (int i = c; i < n; i++) z[i * p + j] -= 2 * d / vv * v[i];
    }
    double d = 0;
    for (int i = c; i < n; i++) d += v[i] * t[i];
    for (int i = c; i < n; i++) t[i] -= 2 * d / vv * v[i];
    for (int r = 0; r < n; r++) {
      double e = 0;
      for (int i = c; i < n; i++) e += q[r * n + i] * v[i];
      for (int i = c; i < n; i++) q[r * n + i] -= 2 * e / vv * v[i];
    }
  }
  double Q = 0, trp = 0;
  for (int i = p; i < n; i++) Q += t[i] * t[i];
  for (int i = 0; i < n; i++) {
    double m = 0; /* 1 - h_i */
    for (int j = p; j < n; j++) m += q[i * n + j] * q[i * n + j];
    trp += w[i] * m;
  }
  return trp > 0 && Q > n - p ? (Q - (n - p)) / trp : 0;
}

/* Do the observed means show the shape? Points in x order; y at the smallest
 * and largest x (means over ties). U (loss cap): the largest mean lies at an
 * interior x and above both ends; inverted-U: the smallest mean, below both
 * ends; standard: the end falls below the start; inverse: rises above it. */
static int shape_visible(al_trend label, const double *x, const double *y, int n, double xmin, double xmax) {
  double y0 = 0, y1 = 0, ext = label == AL_TREND_U ? -INFINITY : INFINITY;
  int n0 = 0, n1 = 0, inner = 0;
  for (int i = 0; i < n; i++) {
    if (x[i] == xmin) y0 += y[i], n0++;
    else if (x[i] == xmax) y1 += y[i], n1++;
    else inner = 1, ext = label == AL_TREND_U ? fmax(ext, y[i]) : fmin(ext, y[i]);
  }
  y0 /= n0, y1 /= n1;
  switch (label) {
    case AL_TREND_STANDARD: return y1 < y0;
    case AL_TREND_INVERSE: return y1 > y0;
    case AL_TREND_U: return inner && ext > y0 && ext > y1;
    case AL_TREND_INVERTED_U: return inner && ext < y0 && ext < y1;
    default: return 1;
  }
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
  if (weighted && xmax > xmin) {
    f->tau2 = between_model_var(xs, y, ws, n, n >= 4 ? 3 : 2);
    for (int i = 0; i < n; i++) ws[i] = 1 / (se[i] * se[i] + f->tau2);
  }
  snprintf(f->test, sizeof f->test,
           "%s least squares of loss on log10(x)%s; gate: F-test of the quadratic fit against a constant; then "
           "quadratic: t-test on the x^2 term (two-sided, df n-3), vertex "
           "inside the range, and Lind-Mehlum test of the end slopes (one-sided t each); else linear: two-sided "
           "t-test on the slope (df n-2); a label also needs its shape in the observed means; alpha %g",
           weighted ? "weighted (1/(se^2 + tau^2), tau^2 the between-model variance)" : "ordinary",
           weighted ? " with the residual scale estimated" : "", alpha);
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
    al_trend shape = cap ? AL_TREND_U : AL_TREND_INVERTED_U;
    if (f->q_c_p < alpha && inside && f->slope_lo_p < alpha && f->slope_hi_p < alpha &&
        shape_visible(shape, x, y, n, xmin, xmax)) {
      f->label = shape;
      snprintf(f->reason, sizeof f->reason,
               "loss %s then %s: x^2 term p=%.3g, vertex at %.3g inside [%.3g, %.3g], end slopes %.3g (p=%.3g) and "
               "%.3g (p=%.3g)",
               cap ? "rises" : "falls", cap ? "falls" : "rises", f->q_c_p, f->vertex, xmin, xmax, f->slope_lo,
               f->slope_lo_p, f->slope_hi, f->slope_hi_p);
      return 0;
    }
  }
  al_trend line = f->lin_b < 0 ? AL_TREND_STANDARD : AL_TREND_INVERSE;
  if (f->lin_b_p < alpha && shape_visible(line, x, y, n, xmin, xmax)) {
    f->label = line;
    snprintf(f->reason, sizeof f->reason, "loss %s with scale: slope %.4g per decade (se %.3g, p=%.3g)",
             f->lin_b < 0 ? "falls" : "rises", f->lin_b, f->lin_b_se, f->lin_b_p);
  } else if (f->lin_b_p < alpha) {
    snprintf(f->reason, sizeof f->reason,
             "the fitted slope %.4g per decade (p=%.3g) says loss %s, but the largest model's mean does not %s the "
             "smallest's",
             f->lin_b, f->lin_b_p, f->lin_b < 0 ? "falls" : "rises", f->lin_b < 0 ? "fall below" : "rise above");
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
  json_object_set_new(o, "between_model_variance", num(f->tau2));
  json_object_set_new(o, "linear", json_pack("{s:o,s:o,s:o,s:o}", "intercept", num(f->lin_a), "slope", num(f->lin_b),
                                             "slope_se", num(f->lin_b_se), "slope_p", num(f->lin_b_p)));
  json_object_set_new(o, "quadratic",
                      json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "a", num(f->q_a), "b", num(f->q_b), "c",
                                num(f->q_c), "c_se", num(f->q_c_se), "c_p", num(f->q_c_p), "vertex", num(f->vertex),
                                "slope_at_min", num(f->slope_lo), "slope_at_min_p", num(f->slope_lo_p), "slope_at_max",
                                num(f->slope_hi), "slope_at_max_p", num(f->slope_hi_p)));
  return o;
}
