/* Gao et al.'s functional forms of gold reward against d = sqrt(KL), their
 * least-squares fit, Bradley-Terry labels, and a curve (one proxy under one
 * optimiser, over seeds) as JSON (include/alab/overopt.h).
 *
 * Both forms are linear in (alpha, beta):
 *   BON  R(d) = alpha d - beta d^2
 *   RL   R(d) = alpha d - beta d log d
 * so the fit is ordinary least squares without intercept on the two
 * regressors (d, -d^2) or (d, -d log d), solved by GSL (gsl_multifit_linear,
 * SVD). The peak: dR/dd = 0 gives d* = alpha / (2 beta) (BON) or
 * log d* = alpha / beta - 1 (RL), when beta > 0 (and, for BON, alpha > 0:
 * a peak at d > 0). */
#include <gsl/gsl_multifit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/overopt.h"
#include "overopt_internal.h"

double al_overopt_form_eval(al_overopt_form form, double alpha, double beta, double d) {
  if (d <= 0) return 0;
  return form == AL_OVEROPT_FORM_RL ? d * (alpha - beta * log(d)) : d * (alpha - beta * d);
}

int al_overopt_fit(al_overopt_form form, const double *d, const double *r, int n, al_overopt_fit_result *out,
                   al_err *err) {
  memset(out, 0, sizeof *out);
  int m = 0;
  for (int i = 0; i < n; i++) m += d[i] > 0 && isfinite(d[i]) && isfinite(r[i]);
  if (m < 2) return al_fail(err, "fitting R(d) needs at least 2 points with d > 0 and finite values (got %d of %d)", m, n);
  gsl_matrix *X = gsl_matrix_alloc((size_t)m, 2), *cov = gsl_matrix_alloc(2, 2);
  gsl_vector *y = gsl_vector_alloc((size_t)m), *c = gsl_vector_alloc(2);
  gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc((size_t)m, 2);
  for (int i = 0, k = 0; i < n; i++) {
    if (!(d[i] > 0 && isfinite(d[i]) && isfinite(r[i]))) continue;
    gsl_matrix_set(X, (size_t)k, 0, d[i]);
    gsl_matrix_set(X, (size_t)k, 1, form == AL_OVEROPT_FORM_RL ? -d[i] * log(d[i]) : -d[i] * d[i]);
    gsl_vector_set(y, (size_t)k++, r[i]);
  }
  double chisq;
  int st = gsl_multifit_linear(X, y, c, cov, &chisq, w);
  out->alpha = gsl_vector_get(c, 0), out->beta = gsl_vector_get(c, 1);
  out->rmse = sqrt(chisq / m);
  gsl_matrix_free(X), gsl_matrix_free(cov), gsl_vector_free(y), gsl_vector_free(c), gsl_multifit_linear_free(w);
  if (st || !isfinite(out->alpha) || !isfinite(out->beta)) return al_fail(err, "fitting R(d): the least squares failed");
  out->d_peak = out->r_peak = NAN;
  if (out->beta > 0 && (form == AL_OVEROPT_FORM_RL || out->alpha > 0)) {
    out->d_peak = form == AL_OVEROPT_FORM_RL ? exp(out->alpha / out->beta - 1) : out->alpha / (2 * out->beta);
    out->r_peak = al_overopt_form_eval(form, out->alpha, out->beta, out->d_peak);
  }
  return 0;
}

int al_overopt_bt_label(double gold_a, double gold_b, double scale, al_rng *rng) {
  double p = 1 / (1 + exp(-scale * (gold_a - gold_b)));
  return al_rng_uniform(rng) < p;
}

/* {"mean", "sd", "lo", "hi", "seeds": [...]} of x[0..n) */
json_t *ov_stat_json(const double *x, int n) {
  al_stat s = al_stat_of(x, n);
  json_t *seeds = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(seeds, al_json_real_or_null(x[i]));
  return json_pack("{s:o, s:o, s:o, s:o, s:o}", "mean", al_json_real_or_null(s.mean), "sd", al_json_real_or_null(s.sd),
                   "lo", al_json_real_or_null(s.lo), "hi", al_json_real_or_null(s.hi), "seeds", seeds);
}

json_t *al_overopt_curve_json(const al_overopt_curve *c) {
  int S = c->seeds, P = c->npts;
  json_t *pts = json_array();
  double *mean_gold = al_malloc(sizeof(double) * (size_t)P), *mean_proxy = al_malloc(sizeof(double) * (size_t)P);
  for (int k = 0; k < P; k++) {
    json_t *pt = json_object();
    if (c->x) json_object_set_new(pt, c->x_name ? c->x_name : "x", json_real(c->x[k]));
    json_object_set_new(pt, "d", ov_stat_json(c->d + (size_t)k * S, S));
    json_object_set_new(pt, "gold", ov_stat_json(c->gold + (size_t)k * S, S));
    json_object_set_new(pt, "proxy", ov_stat_json(c->proxy_r + (size_t)k * S, S));
    mean_gold[k] = al_stat_of(c->gold + (size_t)k * S, S).mean;
    mean_proxy[k] = al_stat_of(c->proxy_r + (size_t)k * S, S).mean;
    json_array_append_new(pts, pt);
  }
  /* the fit of each seed, then its parameters over seeds */
  double *v[4];
  for (int j = 0; j < 4; j++) v[j] = al_malloc(sizeof(double) * (size_t)S);
  double *dd = al_malloc(sizeof(double) * (size_t)P), *rr = al_malloc(sizeof(double) * (size_t)P);
  json_t *fits = json_array();
  for (int s = 0; s < S; s++) {
    for (int k = 0; k < P; k++) dd[k] = c->d[(size_t)k * S + s], rr[k] = c->gold[(size_t)k * S + s];
    al_overopt_fit_result f;
    al_err e;
    if (al_overopt_fit(c->form, dd, rr, P, &f, &e)) f.alpha = f.beta = f.d_peak = f.r_peak = f.rmse = NAN;
    v[0][s] = f.alpha, v[1][s] = f.beta, v[2][s] = f.d_peak, v[3][s] = f.r_peak;
    json_array_append_new(fits, json_pack("{s:o, s:o, s:o, s:o, s:o}", "alpha", al_json_real_or_null(f.alpha), "beta",
                                          al_json_real_or_null(f.beta), "d_peak", al_json_real_or_null(f.d_peak),
                                          "r_peak", al_json_real_or_null(f.r_peak), "rmse", al_json_real_or_null(f.rmse)));
  }
  int best = 0, rises = 1;
  for (int k = 1; k < P; k++) {
    if (mean_gold[k] > mean_gold[best]) best = k;
    if (!(mean_proxy[k] > mean_proxy[k - 1])) rises = 0;
  }
  json_t *peak = json_pack("{s:o, s:o, s:b}", "d", al_json_real_or_null(al_stat_of(c->d + (size_t)best * S, S).mean),
                           "gold", al_json_real_or_null(mean_gold[best]), "inside", best > 0 && best < P - 1);
  if (c->x) json_object_set_new(peak, c->x_name ? c->x_name : "x", json_real(c->x[best]));
  json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:I, s:s, s:o, s:{s:o, s:o, s:o, s:o, s:o}, s:o, s:b}", "optimiser",
                        c->optimiser, "proxy", c->proxy, "layers", c->layers, "pairs", c->pairs, "params",
                        (json_int_t)c->params, "form", c->form == AL_OVEROPT_FORM_RL ? "d (alpha - beta log d)" : "d (alpha - beta d)",
                        "points", pts, "fit", "alpha", ov_stat_json(v[0], S), "beta", ov_stat_json(v[1], S), "d_peak",
                        ov_stat_json(v[2], S), "r_peak", ov_stat_json(v[3], S), "per_seed", fits, "empirical_peak", peak,
                        "proxy_rises", rises);
  for (int i = 0; i < 4; i++) free(v[i]);
  free(dd), free(rr), free(mean_gold), free(mean_proxy);
  return j;
}
