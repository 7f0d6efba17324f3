/* Small statistics: mean with a 95% t-interval, Student t quantiles and
 * p-values, via the regularized incomplete beta function. */
#include <math.h>
#include "alab/base.h"

/* Continued fraction for I_x(a, b) (modified Lentz). */
static double beta_cf(double a, double b, double x) {
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 500; m++) {
    double m2 = 2 * m, aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1) < 1e-15) break;
  }
  return h;
}

/* Regularized incomplete beta I_x(a, b). */
static double beta_inc(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return exp(lbt) * beta_cf(a, b, x) / a;
  return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

/* P(|T| > |t|) for Student t with df degrees of freedom. */
double al_t_pvalue(double t, double df) {
  if (!isfinite(t)) return isnan(t) ? NAN : 0.0;
  return beta_inc(df / 2, 0.5, df / (df + t * t));
}

/* The t with P(T <= t) = p, by bisection on the CDF (p in (0.5, 1)). */
double al_t_quantile(double p, double df) {
  double tail = 2 * (1 - p); /* two-sided tail mass beyond t */
  double lo = 0, hi = 1;
  while (al_t_pvalue(hi, df) > tail) hi *= 2;
  for (int i = 0; i < 200; i++) {
    double mid = 0.5 * (lo + hi);
    if (al_t_pvalue(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

al_stat al_stat_of(const double *x, int n) {
  al_stat s = {0};
  s.n = n;
  if (n <= 0) return s;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += x[i];
  s.mean = sum / n;
  double ss = 0;
  for (int i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
  s.sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
  s.se = n > 1 ? s.sd / sqrt(n) : 0;
  double half = n > 1 ? al_t_quantile(0.975, n - 1) * s.se : 0;
  s.lo = s.mean - half;
  s.hi = s.mean + half;
  return s;
}
