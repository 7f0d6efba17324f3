/* The findings of `alab overopt` (include/alab/overopt.h) from its
 * results.json: for each proxy reward model's best-of-n curve ("curves",
 * points at n = 1, 2, 4, ..., N, each with every seed's gold and proxy
 * gain), Gao et al.'s three observations as paired differences over seeds,
 * on spans fixed before looking at the data:
 *   the proxy rises:   proxy(last point) - proxy(start)
 *   gold rises ...:    gold(early) - gold(start)
 *   ... then falls:    gold(early) - gold(last point)
 * where gold(early) is the seed's mean gold gain over the first half of the
 * points after the start (n = 2 up to the middle of the range). Each is
 * reproduced when its 95% t-interval lies above 0; seeds are independent,
 * so the test holds its level (tests/test_overopt_claims.c: about 2.5% of
 * flat curves plus noise pass each gold test). The empirical peak (the
 * point of highest mean gold, chosen on the same seeds) is reported in
 * results.json but not tested: chosen on the same seeds it biases both
 * gold differences upward, and even chosen for each seed on the other seeds
 * (the seeds' differences are then dependent) "rises" passed on 43 of 400
 * flat curves. A curve that rises to its last point is "rises" without
 * "falls". RL curves (optimiser "rl") are read the same way: their point 0
 * is the start (batch 0 of rollouts, from the initial policy; gains 0), the
 * others windows of rollouts. RL curves of earlier runs had no start point
 * (gains over a first window that was not a point: first point's gold not
 * 0): there the start's gain is 0 and the first half counts from point 0. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report/report_internal.h"

/* ... of points[k].what */
static int seeds_at(const json_t *points, size_t k, const char *what, double *v, int max) {
  return rp_seeds_of(json_array_get(points, k), what, v, max);
}

static int finding(rp_finding *f, const double *a, const double *b, int n, const char *claim, const char *test) {
  memset(f, 0, sizeof *f);
  snprintf(f->claim, sizeof f->claim, "%.199s", claim);
  snprintf(f->test, sizeof f->test, "%.120s, paired over %d seeds; reproduced when the 95%% CI is above 0", test, n);
  rp_paired(f, a, b, n);
  f->verdict = n < 2 || !isfinite(f->lo) ? RP_UNKNOWN : f->lo > 0;
  return 1;
}

/* The three claims of one curve into f[0..3); returns how many (0 for a
 * curve it cannot read). */
static int curve_findings(const json_t *cv, rp_finding *f) {
  int k = 0;
  const json_t *pts = json_object_get(cv, "points");
  size_t np = json_array_size(pts);
  if (np < 2 || np > 256) return 0;
  double p1[64], pN[64], g1[64], gN[64], gp[64], gold[256][64];
  int n = seeds_at(pts, 0, "proxy", p1, 64), ok = n > 0;
  for (size_t i = 0; i < np && ok; i++) ok = seeds_at(pts, i, "gold", gold[i], 64) == n;
  if (!ok || seeds_at(pts, np - 1, "proxy", pN, 64) != n) return 0;
  const char *opt = json_string_value(json_object_get(cv, "optimiser"));
  int rl = opt && !strcmp(opt, "rl"), no_start = 0;
  for (int s = 0; rl && s < n; s++) no_start |= gold[0][s] != 0;
  int lo = no_start ? 0 : 1, half = lo + ((int)np - lo) / 2;
  if (half <= lo) half = lo + 1;
  for (int s = 0; s < n; s++) {
    gp[s] = 0;
    for (int i = lo; i < half; i++) gp[s] += gold[i][s] / (half - lo);
    g1[s] = no_start ? 0 : gold[0][s], gN[s] = gold[np - 1][s];
    if (no_start) p1[s] = 0; /* gains over the start */
  }
  char claim[200], test[200];
  const char *name = json_string_value(json_object_get(cv, "proxy"));
  long pairs = (long)json_integer_value(json_object_get(cv, "pairs"));
  int layers = (int)json_integer_value(json_object_get(cv, "layers"));
  const char *x = rl ? "step" : "n", *start = rl ? "the start" : "n = 1";
  snprintf(claim, sizeof claim, "%s (%d layers, %ld comparisons): %s raises the proxy reward it optimises",
           name ? name : "proxy", layers, pairs, rl ? "RL (RLOO)" : "best-of-n");
  snprintf(test, sizeof test, "proxy gain at the largest %s minus at %s", x, start);
  k += finding(&f[k], pN, p1, n, claim, test);
  snprintf(claim, sizeof claim, "%s, %s: the gold reward first rises with %s", name ? name : "proxy", rl ? "RL" : "best-of-n",
           rl ? "KL" : "n");
  snprintf(test, sizeof test, "mean gold over the first half of the %ss minus at %s", x, start);
  k += finding(&f[k], gp, g1, n, claim, test);
  snprintf(claim, sizeof claim, "%s, %s: ... then falls as %s grows past the peak (Gao et al. 2022)", name ? name : "proxy",
           rl ? "RL" : "best-of-n", rl ? "KL" : "n");
  snprintf(test, sizeof test, "mean gold over the first half of the %ss minus at the largest %s", x, x);
  k += finding(&f[k], gp, gN, n, claim, test);
  return k;
}

/* Gao et al.'s ordering, for each adjacent pair of proxies in the grid
 * ("peak_moves": more comparisons, or a larger proxy): the peak moves to a
 * larger KL (each seed's peak d, to minus from) and rises (each seed's peak
 * gold). Each seed's peak is the highest of its points, chosen the same way
 * on both curves, so with proxies of equal quality the difference is
 * symmetric about 0 and the paired t-test holds its level. Where the move
 * records each seed's change in the proxies' agreement with gold, a third
 * finding says whether the larger or better-fed proxy is better at all:
 * the ordering is only expected where it is. Returns how many (2 or 3). */
static int move_findings(const json_t *m, rp_finding *f) {
  double d[64], g[64], zero[64] = {0};
  int n = rp_seeds_of(m, "peak_d", d, 64);
  if (n < 1 || rp_seeds_of(m, "peak_gold", g, 64) != n) return 0;
  const char *dir = json_string_value(json_object_get(m, "direction")), *from = json_string_value(json_object_get(m, "from")),
             *to = json_string_value(json_object_get(m, "to"));
  char claim[200];
  snprintf(claim, sizeof claim, "%s (%s -> %s) moves best-of-n's gold peak to a larger KL (Gao et al. 2022)",
           dir && !strcmp(dir, "size") ? "a larger proxy" : "more comparisons", from ? from : "?", to ? to : "?");
  finding(&f[0], d, zero, n, claim, "each seed's peak d (its highest gold point), to minus from");
  snprintf(claim, sizeof claim, "%s (%s -> %s) raises best-of-n's gold peak (Gao et al. 2022)",
           dir && !strcmp(dir, "size") ? "a larger proxy" : "more comparisons", from ? from : "?", to ? to : "?");
  finding(&f[1], g, zero, n, claim, "each seed's peak gold gain, to minus from");
  if (rp_seeds_of(m, "gold_agreement", d, 64) != n) return 2;
  snprintf(claim, sizeof claim, "%s (%s -> %s) orders more sample pairs as gold does (what the ordering presumes)",
           dir && !strcmp(dir, "size") ? "a larger proxy" : "more comparisons", from ? from : "?", to ? to : "?");
  finding(&f[2], d, zero, n, claim, "each seed's agreement with gold, to minus from");
  return 3;
}

/* best-of-n's curves, then how the peak moves across the grid, then RL's
 * curves (as many as fit in max) */
int rp_overopt_findings(const json_t *r, rp_finding *f, int max) {
  const json_t *curves = json_object_get(r, "curves"), *moves = json_object_get(r, "peak_moves");
  int k = 0;
  for (int pass = 0; pass < 3; pass++) {
    if (pass == 1) {
      for (size_t i = 0; i < json_array_size(moves) && k + 3 <= max; i++) k += move_findings(json_array_get(moves, i), &f[k]);
      continue;
    }
    for (size_t c = 0; c < json_array_size(curves) && k + 3 <= max; c++) {
      const json_t *cv = json_array_get(curves, c);
      const char *opt = json_string_value(json_object_get(cv, "optimiser"));
      if ((opt && !strcmp(opt, "rl")) == (pass == 0)) continue;
      k += curve_findings(cv, &f[k]);
    }
  }
  return k;
}
