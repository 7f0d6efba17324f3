/* The best-of-n estimator over all size-n subsets of N samples and the KL of
 * best-of-n to its policy (the math is in include/alab/bon.h). */
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_sf_gamma.h>
#include "alab/bon.h"

double al_bon_kl(int n) { return n < 1 ? NAN : log((double)n) - (double)(n - 1) / n; }

int al_bon_weights(int N, int n, double *w, al_err *err) {
  if (N < 1) return al_fail(err, "best-of-n needs at least one sample (N = %d)", N);
  if (n < 1 || n > N) return al_fail(err, "best-of-n: n = %d is outside [1, %d] (the samples drawn)", n, N);
  double lnorm = gsl_sf_lnchoose((unsigned)N, (unsigned)n);
  for (int i = 1; i <= N; i++) w[i - 1] = i < n ? 0.0 : exp(gsl_sf_lnchoose((unsigned)(i - 1), (unsigned)(n - 1)) - lnorm);
  return 0;
}

typedef struct { double proxy, gold; } scored;

static int by_proxy(const void *a, const void *b) {
  double x = ((const scored *)a)->proxy, y = ((const scored *)b)->proxy;
  return (x > y) - (x < y);
}

int al_bon_estimate(const double *proxy, const double *gold, int N, int n, double *e_gold, double *e_proxy,
                    al_err *err) {
  for (int i = 0; i < N; i++)
    if (!isfinite(proxy[i]) || (gold && !isfinite(gold[i])))
      return al_fail(err, "best-of-n: sample %d has a non-finite %s score", i, !isfinite(proxy[i]) ? "proxy" : "gold");
  double *w = al_malloc(sizeof(double) * (size_t)(N > 0 ? N : 1));
  if (al_bon_weights(N, n, w, err)) {
    free(w);
    return -1;
  }
  scored *s = al_malloc(sizeof *s * (size_t)N);
  for (int i = 0; i < N; i++) s[i] = (scored){proxy[i], gold ? gold[i] : 0};
  qsort(s, (size_t)N, sizeof *s, by_proxy);
  double eg = 0, ep = 0;
  for (int i = 0; i < N;) { /* a run of tied proxies shares its mean gold */
    int j = i;
    double g = 0, wsum = 0;
    while (j < N && s[j].proxy == s[i].proxy) g += s[j].gold, wsum += w[j], j++;
    eg += wsum * g / (j - i);
    ep += wsum * s[i].proxy;
    i = j;
  }
  if (e_gold) *e_gold = gold ? eg : NAN;
  if (e_proxy) *e_proxy = ep;
  free(s);
  free(w);
  return 0;
}
