/* How often two reward models pick the same sample under best-of-n
 * (alab/cpm.h, al_bon_agreement). For a uniformly random n-subset S of the
 * N samples, P(both pick i) = P(i in S and every other member of S lies
 * strictly below i under both models), so
 *   P(agree) = sum_i C(c_i, n-1) / C(N, n),
 *   c_i = #{j != i : a_j < a_i and b_j < b_i}.
 * A tie with i under either model keeps j out of c_i: the probability is
 * exact when neither model has ties, and otherwise the chance of agreeing
 * when every tie is broken against agreement. */
#include <math.h>
#include "alab/cpm.h"

static double lchoose(int n, int k) { return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0); }

int al_bon_agreement(const double *a, const double *b, int N, int n, double *p, al_err *err) {
  if (N < 1 || n < 1 || n > N) return al_fail(err, "best-of-n agreement: n = %d with %d samples (need 1 <= n <= N)", n, N);
  for (int i = 0; i < N; i++)
    if (!isfinite(a[i]) || !isfinite(b[i]))
      return al_fail(err, "best-of-n agreement: sample %d has a non-finite score (%g, %g)", i, a[i], b[i]);
  double s = 0, lall = lchoose(N, n);
  for (int i = 0; i < N; i++) {
    int c = 0;
    for (int j = 0; j < N; j++) c += j != i && a[j] < a[i] && b[j] < b[i];
    if (c >= n - 1) s += exp(lchoose(c, n - 1) - lall);
  }
  *p = s;
  return 0;
}
