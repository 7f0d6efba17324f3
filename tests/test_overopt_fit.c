/* Gao et al.'s forms and their fit (src/exp/overopt_fit.c):
 *  - points generated from known alpha, beta give them back (and the peak
 *    d* = alpha / (2 beta), R* = alpha^2 / (4 beta) for best-of-n;
 *    d* = exp(alpha / beta - 1), R* = beta d* for RL);
 *  - with noise, the fit equals the closed-form least squares of the 2 x 2
 *    normal equations (Cramer's rule), an independent computation;
 *  - Bradley-Terry labels come up with probability sigmoid(s (g_a - g_b)),
 *    within 4.5 standard errors over 200,000 draws per difference;
 *  - a curve's JSON: the per-seed fit, the empirical peak and proxy_rises. */
#include <jansson.h>
#include "alab/overopt.h"
#include "test.h"

/* least squares without intercept on regressors x1 = d, x2 = -d^2 (BON) or
 * -d log d (RL): solve [S11 S12; S12 S22] (a, b) = (S1y, S2y) */
static void normal_equations(al_overopt_form f, const double *d, const double *r, int n, double *a, double *b) {
  double s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0;
  for (int i = 0; i < n; i++) {
    double x1 = d[i], x2 = f == AL_OVEROPT_FORM_RL ? -d[i] * log(d[i]) : -d[i] * d[i];
    s11 += x1 * x1, s12 += x1 * x2, s22 += x2 * x2, s1y += x1 * r[i], s2y += x2 * r[i];
  }
  double det = s11 * s22 - s12 * s12;
  *a = (s1y * s22 - s12 * s2y) / det, *b = (s11 * s2y - s12 * s1y) / det;
}

int main(void) {
  al_err err;
  double d[12], r[12];
  int n = 12;
  for (int i = 0; i < n; i++) { /* best-of-n's d for n = 2, 4, ..., 4096 */
    double N = pow(2, i + 1);
    d[i] = sqrt(log(N) - (N - 1) / N);
  }
  for (int f = 0; f < 2; f++) {
    al_overopt_form form = f ? AL_OVEROPT_FORM_RL : AL_OVEROPT_FORM_BON;
    const double alpha = f ? 0.7 : 0.8, beta = f ? 0.45 : 0.3;
    for (int i = 0; i < n; i++) r[i] = d[i] * (alpha - beta * (f ? log(d[i]) : d[i]));
    al_overopt_fit_result fit;
    CHECK_OK(al_overopt_fit(form, d, r, n, &fit, &err), err);
    CHECK(fabs(fit.alpha - alpha) < 1e-10 && fabs(fit.beta - beta) < 1e-10, "form %d: alpha %.15g beta %.15g", f,
          fit.alpha, fit.beta);
    double dstar = f ? exp(alpha / beta - 1) : alpha / (2 * beta), rstar = f ? beta * dstar : alpha * alpha / (4 * beta);
    CHECK(fabs(fit.d_peak - dstar) < 1e-9 && fabs(fit.r_peak - rstar) < 1e-9, "form %d: peak (%g, %g), want (%g, %g)",
          f, fit.d_peak, fit.r_peak, dstar, rstar);
    CHECK(fit.rmse < 1e-12, "form %d: exact points leave no residual (%g)", f, fit.rmse);
    /* the peak is the maximum of R over a fine grid */
    double best = -1e9, at = 0;
    for (double x = 0.001; x < 10; x += 0.001) {
      double v = al_overopt_form_eval(form, alpha, beta, x);
      if (v > best) best = v, at = x;
    }
    CHECK(fabs(at - dstar) < 2e-3 && fabs(best - rstar) < 1e-6, "form %d: grid maximum (%g, %g)", f, at, best);
    /* noisy points: the closed-form least squares */
    al_rng rng;
    al_rng_seed(&rng, 11 + f);
    for (int i = 0; i < n; i++) r[i] += 0.05 * al_rng_normal(&rng);
    double a, b;
    normal_equations(form, d, r, n, &a, &b);
    CHECK_OK(al_overopt_fit(form, d, r, n, &fit, &err), err);
    CHECK(fabs(fit.alpha - a) < 1e-9 * fabs(a) && fabs(fit.beta - b) < 1e-9 * fabs(b), "form %d noisy: (%.12g, %.12g) "
          "vs normal equations (%.12g, %.12g)", f, fit.alpha, fit.beta, a, b);
  }
  /* no peak when beta <= 0; points with d <= 0 or NaN left out; too few refused */
  double dd[4] = {0, 0.5, 1, NAN}, rr[4] = {0, 0.5, 1, 1};
  al_overopt_fit_result fit;
  CHECK_OK(al_overopt_fit(AL_OVEROPT_FORM_BON, dd, rr, 4, &fit, &err), err);
  CHECK(fabs(fit.alpha - 1) < 1e-12 && fabs(fit.beta) < 1e-12 && isnan(fit.d_peak) && isnan(fit.r_peak),
        "a straight line has no peak (alpha %g beta %g d* %g)", fit.alpha, fit.beta, fit.d_peak);
  CHECK_FAILS_WITH(al_overopt_fit(AL_OVEROPT_FORM_BON, dd, rr, 2, &fit, &err), err, "at least 2 points");

  /* Bradley-Terry labels */
  const double diffs[] = {-1.0, -0.3, 0.0, 0.05, 0.2, 1.0};
  for (int k = 0; k < 6; k++) {
    al_rng rng;
    al_rng_seed(&rng, 100 + k);
    const int draws = 200000;
    const double scale = 4;
    long wins = 0;
    for (int i = 0; i < draws; i++) wins += al_overopt_bt_label(0.25 + diffs[k], 0.25, scale, &rng);
    double p = 1 / (1 + exp(-scale * diffs[k])), se = sqrt(p * (1 - p) / draws), got = (double)wins / draws;
    CHECK(fabs(got - p) < 4.5 * se, "difference %g: %.5f preferred, want %.5f (se %.5f)", diffs[k], got, p, se);
  }

  /* a curve: 3 seeds x 4 points, gold peaking at the second point */
  double cd[12], cg[12], cp[12], cx[4] = {1, 2, 4, 8};
  const double g[4] = {0, 0.3, 0.2, -0.4}, pr[4] = {0, 0.5, 0.9, 1.2};
  for (int k = 0; k < 4; k++)
    for (int s = 0; s < 3; s++) {
      cd[k * 3 + s] = sqrt(log(cx[k]) - (cx[k] - 1) / cx[k]);
      cg[k * 3 + s] = g[k] + 0.01 * s, cp[k * 3 + s] = pr[k] + 0.02 * s;
    }
  al_overopt_curve c = {.optimiser = "bon", .proxy = "test", .layers = 1, .pairs = 10, .params = 5, .form = AL_OVEROPT_FORM_BON,
                        .npts = 4, .seeds = 3, .d = cd, .gold = cg, .proxy_r = cp, .x = cx, .x_name = "n"};
  json_t *j = al_overopt_curve_json(&c);
  json_t *pk = json_object_get(j, "empirical_peak");
  CHECK(json_number_value(json_object_get(pk, "n")) == 2 && json_is_true(json_object_get(pk, "inside")) &&
        fabs(json_number_value(json_object_get(pk, "gold")) - 0.31) < 1e-12, "empirical peak at n = 2, gold 0.31");
  CHECK(json_is_true(json_object_get(j, "proxy_rises")), "proxy rises at every point");
  json_t *fs = json_object_get(json_object_get(j, "fit"), "per_seed");
  double mean_alpha = 0;
  for (int s = 0; s < 3; s++) {
    double ds[4], gs[4], a, b;
    for (int k = 0; k < 4; k++) ds[k] = cd[k * 3 + s], gs[k] = cg[k * 3 + s];
    normal_equations(AL_OVEROPT_FORM_BON, ds + 1, gs + 1, 3, &a, &b); /* the point at d = 0 adds nothing */
    json_t *one = json_array_get(fs, (size_t)s);
    CHECK(fabs(json_number_value(json_object_get(one, "alpha")) - a) < 1e-9 &&
          fabs(json_number_value(json_object_get(one, "beta")) - b) < 1e-9, "seed %d: fit alpha, beta", s);
    mean_alpha += a / 3;
  }
  CHECK(fabs(json_number_value(json_object_get(json_object_get(json_object_get(j, "fit"), "alpha"), "mean")) - mean_alpha) < 1e-9,
        "alpha's mean over seeds");
  json_decref(j);
  cp[3 * 3 + 1] = 0.1; /* one seed's proxy falls: the last mean, 0.847, is below the one before, 0.92 */
  j = al_overopt_curve_json(&c);
  CHECK(!json_is_true(json_object_get(j, "proxy_rises")), "a falling mean proxy is reported");
  json_decref(j);
  return test_summary();
}
