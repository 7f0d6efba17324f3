/* The findings of `alab overopt` (include/alab/overopt.h) from its
 * results.json: for each proxy reward model's best-of-n curve ("curves",
 * points at n = 1, 2, 4, ..., N, each with every seed's gold and proxy
 * gain), Gao et al.'s three observations as paired differences over seeds:
 *   the proxy rises:   proxy(n = N) - proxy(n = 1)
 *   gold rises ...:    gold(n*) - gold(n = 1)
 *   ... then falls:    gold(n*) - gold(n = N)
 * where n* is the point of the highest mean gold (the empirical peak the
 * experiment reports). Choosing n* on the same seeds biases both gold
 * differences upward a little; with n* at an end of the range one of them
 * is 0 and the finding is not reproduced. Each is reproduced when its 95%
 * t-interval lies above 0. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report/report_internal.h"

/* Every seed's value of points[k].what, into v (at most max); returns the count. */
static int seeds_at(const json_t *points, size_t k, const char *what, double *v, int max) {
  const json_t *s = json_object_get(json_object_get(json_array_get(points, k), what), "seeds");
  int n = 0;
  for (size_t i = 0; i < json_array_size(s) && n < max; i++) {
    const json_t *x = json_array_get(s, i);
    v[n++] = json_is_number(x) ? json_number_value(x) : NAN;
  }
  return n;
}

static int finding(rp_finding *f, const double *a, const double *b, int n, const char *claim, const char *test) {
  memset(f, 0, sizeof *f);
  snprintf(f->claim, sizeof f->claim, "%.199s", claim);
  snprintf(f->test, sizeof f->test, "%.120s, paired over %d seeds; reproduced when the 95%% CI is above 0", test, n);
  rp_paired(f, a, b, n);
  f->verdict = n < 2 || !isfinite(f->lo) ? RP_UNKNOWN : f->lo > 0;
  return 1;
}

int rp_overopt_findings(const json_t *r, rp_finding *f, int max) {
  const json_t *curves = json_object_get(r, "curves");
  int k = 0;
  for (size_t c = 0; c < json_array_size(curves) && k + 3 <= max; c++) {
    const json_t *cv = json_array_get(curves, c), *pts = json_object_get(cv, "points");
    size_t np = json_array_size(pts);
    if (np < 2) continue;
    size_t peak = 0;
    double best = -INFINITY;
    for (size_t i = 0; i < np; i++) {
      double m = json_number_value(json_object_get(json_object_get(json_array_get(pts, i), "gold"), "mean"));
      if (m > best) best = m, peak = i;
    }
    double p1[64], pN[64], g1[64], gN[64], gp[64];
    int n = seeds_at(pts, 0, "proxy", p1, 64);
    if (n < 1 || seeds_at(pts, np - 1, "proxy", pN, 64) != n || seeds_at(pts, 0, "gold", g1, 64) != n ||
        seeds_at(pts, np - 1, "gold", gN, 64) != n || seeds_at(pts, peak, "gold", gp, 64) != n)
      continue;
    char claim[200], test[200];
    const char *name = json_string_value(json_object_get(cv, "proxy"));
    long pairs = (long)json_integer_value(json_object_get(cv, "pairs"));
    int layers = (int)json_integer_value(json_object_get(cv, "layers"));
    snprintf(claim, sizeof claim, "%s (%d layers, %ld comparisons): best-of-n raises the proxy reward it optimises",
             name ? name : "proxy", layers, pairs);
    k += finding(&f[k], pN, p1, n, claim, "proxy gain at the largest n minus at n = 1");
    snprintf(claim, sizeof claim, "%s: the gold reward first rises with n", name ? name : "proxy");
    k += finding(&f[k], gp, g1, n, claim, "gold at the peak n (highest mean) minus at n = 1");
    snprintf(claim, sizeof claim, "%s: ... then falls as n grows past the peak (Gao et al. 2022)", name ? name : "proxy");
    snprintf(test, sizeof test, "gold at the peak n (highest mean) minus at the largest n");
    k += finding(&f[k], gp, gN, n, claim, test);
  }
  return k;
}
