/* The claims `alab overopt` reports (src/report/findings_overopt.c) read
 * from curves whose truth is known: each seed's gold gain is Gao et al.'s
 * form plus noise drawn per seed, so the verdicts are known in advance.
 *   best-of-n, R(d) = d (1 - 0.5 d) over n = 1..256 (peak d* = 1 inside
 *   the range): proxy rises, gold rises, then falls: all three reproduced;
 *   best-of-n with flat gold (noise only), 400 draws: the proxy rises in
 *   all, gold "rises" or "falls" in at most 1/16 of them (each test is
 *   one-sided at 2.5%; an empirical peak chosen for each seed on the
 *   other seeds made "rises" pass on 43 of 400);
 *   RL, R(d) = d (0.5 - 0.5 log d) (peak at d* = exp(0) = 1), points from
 *   d = 0.4 to 3 without d = 0 (gains over the first window): all three
 *   reproduced, the rise measured from the start (0), not from the first
 *   point; the same RL curve cut at d = 1 (the peak at its end): "then
 *   falls" not reproduced; an RL curve with its start as point 0 (d = 0,
 *   gains 0, as runs now write them), R(d) as above: all three reproduced.
 * How the peak moves between two proxies ("peak_moves": each seed's own
 * peak, to minus from): a planted move from d* = 0.8 (height 0.32) to
 * d* = 1.5 (height 0.75) is reproduced as "to a larger KL" and "raises
 * it"; between two flat-gold curves of independent noise, 400 draws, each
 * passes in at most 1/16 of them (the 2.5% level of a one-sided test).
 * And the fit inside each curve's JSON finds the planted peak within 0.15. */
#include <jansson.h>
#include "alab/bon.h"
#include "alab/overopt.h"
#include "report/report_internal.h"
#include "test.h"

enum { S = 4 };

/* curve of npts points per seed: gold = R(d) + noise, proxy = 2 d + noise */
static json_t *make(const char *opt, al_overopt_form form, double alpha, double beta, const double *d, int npts,
                    double noise, uint64_t seed) {
  double *dd = malloc(sizeof(double) * npts * S), *g = malloc(sizeof(double) * npts * S),
         *p = malloc(sizeof(double) * npts * S), *x = malloc(sizeof(double) * npts);
  al_rng r;
  al_rng_seed(&r, seed);
  for (int k = 0; k < npts; k++) {
    x[k] = k;
    for (int s = 0; s < S; s++) {
      size_t at = (size_t)k * S + s;
      int zero = d[k] == 0; /* n = 1: gains 0 exactly */
      dd[at] = d[k];
      g[at] = zero ? 0 : al_overopt_form_eval(form, alpha, beta, d[k]) + noise * (al_rng_uniform(&r) - 0.5);
      p[at] = zero ? 0 : 2 * d[k] + 0.01 * (al_rng_uniform(&r) - 0.5);
    }
  }
  al_overopt_curve c = {.optimiser = opt, .proxy = opt, .layers = 1, .pairs = 100, .form = form, .npts = npts,
                        .seeds = S, .d = dd, .gold = g, .proxy_r = p, .x = x, .x_name = "x"};
  json_t *j = al_overopt_curve_json(&c);
  free(dd), free(g), free(p), free(x);
  return j;
}

static int verdicts(json_t *curve, int *v) {
  json_t *r = json_pack("{s:[o]}", "curves", curve);
  rp_finding f[RP_MAX_FINDINGS];
  int n = rp_overopt_findings(r, f, RP_MAX_FINDINGS);
  for (int i = 0; i < n && i < 3; i++) v[i] = f[i].verdict;
  json_decref(r);
  return n;
}

/* seed s's highest gold point of a curve's JSON: its d and gold */
static void peak_of(const json_t *curve, int s, double *d, double *g) {
  const json_t *pts = json_object_get(curve, "points");
  *g = -INFINITY;
  for (size_t k = 0; k < json_array_size(pts); k++) {
    const json_t *pt = json_array_get(pts, k);
    double gk = json_number_value(json_array_get(json_object_get(json_object_get(pt, "gold"), "seeds"), (size_t)s));
    if (gk > *g) *g = gk, *d = json_number_value(json_array_get(json_object_get(json_object_get(pt, "d"), "seeds"), (size_t)s));
  }
}

/* verdicts of the two move claims from curve a to curve b (both freed) */
static int move_verdicts(json_t *a, json_t *b, int *v) {
  json_t *dd = json_array(), *gg = json_array();
  for (int s = 0; s < S; s++) {
    double da, ga, db, gb;
    peak_of(a, s, &da, &ga), peak_of(b, s, &db, &gb);
    json_array_append_new(dd, json_real(db - da)), json_array_append_new(gg, json_real(gb - ga));
  }
  json_t *r = json_pack("{s:[], s:[{s:s, s:s, s:s, s:{s:o}, s:{s:o}}]}", "curves", "peak_moves", "direction", "size",
                        "from", "a", "to", "b", "peak_d", "seeds", dd, "peak_gold", "seeds", gg);
  rp_finding f[RP_MAX_FINDINGS];
  int n = rp_overopt_findings(r, f, RP_MAX_FINDINGS);
  for (int i = 0; i < n && i < 2; i++) v[i] = f[i].verdict;
  json_decref(r), json_decref(a), json_decref(b);
  return n;
}

static double fitted_peak(json_t *curve) {
  return json_number_value(json_object_get(json_object_get(json_object_get(curve, "fit"), "d_peak"), "mean"));
}

int main(void) {
  double dbon[9], drl[8];
  for (int k = 0; k < 9; k++) dbon[k] = sqrt(fmax(al_bon_kl(1 << k), 0)); /* n = 1 .. 256 */
  for (int k = 0; k < 8; k++) drl[k] = 0.4 + k * (3.0 - 0.4) / 7;
  int v[3];

  json_t *c = make("bon", AL_OVEROPT_FORM_BON, 1, 0.5, dbon, 9, 0.05, 1);
  CHECK(fabs(fitted_peak(c) - 1) < 0.15, "best-of-n fit: d* %g, planted 1", fitted_peak(c));
  CHECK(verdicts(c, v) == 3 && v[0] == RP_REPRODUCED && v[1] == RP_REPRODUCED && v[2] == RP_REPRODUCED,
        "best-of-n rise then fall: %d %d %d", v[0], v[1], v[2]);

  /* flat gold: a claim reproduced on noise alone is a false positive; each
   * test is one-sided at 2.5%, so over 400 draws about 10 of each */
  int fp[3] = {0, 0, 0}, runs = 400;
  for (int i = 0; i < runs; i++) {
    c = make("bon", AL_OVEROPT_FORM_BON, 0, 0, dbon, 9, 0.05, 100 + (uint64_t)i);
    if (verdicts(c, v) == 3)
      for (int k = 0; k < 3; k++) fp[k] += v[k] == RP_REPRODUCED;
  }
  CHECK(fp[0] == runs, "flat gold: the proxy still rises (%d of %d)", fp[0], runs);
  CHECK(fp[1] <= runs / 16 && fp[2] <= runs / 16, "flat gold: rises %d, falls %d false positives of %d (2.5%% expected)",
        fp[1], fp[2], runs);

  c = make("rl", AL_OVEROPT_FORM_RL, 0.5, 0.5, drl, 8, 0.05, 3);
  CHECK(fabs(fitted_peak(c) - 1) < 0.15, "RL fit: d* %g, planted 1", fitted_peak(c));
  CHECK(verdicts(c, v) == 3 && v[0] == RP_REPRODUCED && v[1] == RP_REPRODUCED && v[2] == RP_REPRODUCED,
        "RL rise (from the start) then fall: %d %d %d", v[0], v[1], v[2]);

  c = make("rl", AL_OVEROPT_FORM_RL, 0.5, 0.5, drl, 3, 0.05, 4); /* d = 0.4, 0.77, 1.14: gold still near its top */
  CHECK(verdicts(c, v) == 3 && v[1] == RP_REPRODUCED && v[2] == RP_NOT_REPRODUCED,
        "RL cut near its peak: rises, does not fall: %d %d", v[1], v[2]);
  double drl0[9] = {0};
  for (int k = 1; k < 9; k++) drl0[k] = drl[k - 1];
  c = make("rl", AL_OVEROPT_FORM_RL, 0.5, 0.5, drl0, 9, 0.05, 5); /* the start as point 0 */
  CHECK(verdicts(c, v) == 3 && v[0] == RP_REPRODUCED && v[1] == RP_REPRODUCED && v[2] == RP_REPRODUCED,
        "RL with its start as point 0: %d %d %d", v[0], v[1], v[2]);

  /* the peak moves out and up: d (1.25 - 0.78 d) peaks at 0.8 (0.5), d (1 - 0.33 d) at 1.5 (0.75) */
  CHECK(move_verdicts(make("bon", AL_OVEROPT_FORM_BON, 0.8, 0.5, dbon, 9, 0.05, 6),
                      make("bon", AL_OVEROPT_FORM_BON, 1, 1 / 3.0, dbon, 9, 0.05, 7), v) == 2 &&
            v[0] == RP_REPRODUCED && v[1] == RP_REPRODUCED,
        "a planted move of the peak out and up: %d %d", v[0], v[1]);
  int mfp[2] = {0, 0};
  for (int i = 0; i < runs; i++) {
    if (move_verdicts(make("bon", AL_OVEROPT_FORM_BON, 0, 0, dbon, 9, 0.05, 1000 + 2 * (uint64_t)i),
                      make("bon", AL_OVEROPT_FORM_BON, 0, 0, dbon, 9, 0.05, 1001 + 2 * (uint64_t)i), v) == 2)
      mfp[0] += v[0] == RP_REPRODUCED, mfp[1] += v[1] == RP_REPRODUCED;
  }
  CHECK(mfp[0] <= runs / 16 && mfp[1] <= runs / 16, "flat gold on both: the peak moves out %d, up %d of %d (2.5%% expected)",
        mfp[0], mfp[1], runs);
  /* the agreement finding: there when the move records it, reproduced when
   * every seed's agreement rises (+0.03 to +0.05), not when it is flat */
  for (int up = 0; up < 2; up++) {
    json_t *ag = up ? json_pack("[f, f, f, f, f, f]", 0.03, 0.04, 0.05, 0.035, 0.045, 0.04)
                    : json_pack("[f, f, f, f, f, f]", 0.01, -0.02, 0.015, -0.01, 0.0, -0.005);
    json_t *r = json_pack("{s:[], s:[{s:s, s:s, s:s, s:{s:[f, f, f, f, f, f]}, s:{s:[f, f, f, f, f, f]}, s:{s:o}}]}", "curves",
                          "peak_moves", "direction", "comparisons", "from", "a", "to", "b", "peak_d", "seeds", 0.1, 0.2, -0.1,
                          0.3, 0.0, 0.1, "peak_gold", "seeds", 0.0, 0.1, 0.05, -0.02, 0.1, 0.0, "gold_agreement", "seeds", ag);
    rp_finding f[RP_MAX_FINDINGS];
    int n = rp_overopt_findings(r, f, RP_MAX_FINDINGS);
    CHECK(n == 3 && strstr(f[2].claim, "orders more sample pairs") && f[2].verdict == (up ? RP_REPRODUCED : RP_NOT_REPRODUCED),
          "agreement %s: %d findings, verdict %d", up ? "up" : "flat", n, n == 3 ? f[2].verdict : -1);
    json_decref(r);
  }
  return test_summary();
}
