/* Small statistics: mean with a 95% t-interval, Student t quantiles and
 * p-values. The distributions are GSL's (Debian libgsl-dev). GSL reports a
 * failure by calling a process-wide error handler that aborts by default, so
 * each wrapper keeps its arguments inside the domain where GSL's routines
 * were checked never to fail (df in [1, 1e30], any t, any p in (0, 1)) and
 * returns NAN outside it instead of changing that handler. */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include "alab/base.h"

static int df_ok(double df) { return df >= 1 && df <= 1e30; }

/* P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t^2), the regularized
 * incomplete beta (GSL's beta CDF). Near t = 0, x rounds to 1 and loses the
 * answer, so for t^2 < df the equal 2 Q(|t|) of GSL's t CDF is used. */
double al_t_pvalue(double t, double df) {
  if (isnan(t) || !df_ok(df)) return NAN;
  if (isinf(t)) return 0.0;
  double t2 = t * t;
  if (t2 < df) return 2 * gsl_cdf_tdist_Q(fabs(t), df);
  return gsl_cdf_beta_P(df / (df + t2), df / 2, 0.5);
}

/* The t with P(T <= t) = p. */
double al_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !df_ok(df)) return NAN;
  return gsl_cdf_tdist_Pinv(p, df);
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
