/* pass@k, the unbiased estimator of Chen et al. 2021.
 *
 * With n samples of which c are correct, the probability that k drawn
 * without replacement are all wrong is C(n-c, k) / C(n, k)
 *   = prod_{i=0..k-1} (n-c-i)/(n-i) = prod_{i=n-c+1..n} (1 - k/i),
 * the second form (numerically stable, no large binomials) from expanding
 * both binomials and cancelling. pass@k = 1 - that. */
#include <math.h>
#include "alab/code.h"

double al_pass_at_k(int n, int c, int k) {
  if (n < 1 || c < 0 || c > n || k < 1 || k > n) return NAN;
  if (n - c < k) return 1.0;
  double all_wrong = 1.0;
  for (int i = n - c + 1; i <= n; i++) all_wrong *= 1.0 - (double)k / i;
  return 1.0 - all_wrong;
}
