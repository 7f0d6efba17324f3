/* Best-of-n: the all-subsets estimator against exhaustive enumeration
 * (exact) and against brute-force resampling of random n-subsets (within 4
 * standard errors of the resampled mean); KL(best-of-n || policy) = log n -
 * (n-1)/n against a Monte-Carlo estimate on a categorical policy, whose
 * exact KL approaches the formula from below as its outcomes get finer. */
#include "alab/bon.h"
#include "test.h"

/* Mean gold of the best-by-proxy pick over every n-subset of N (ties: the
 * mean gold of the tied best). */
static double enumerate(const double *proxy, const double *gold, int N, int n) {
  double sum = 0;
  long count = 0;
  for (unsigned mask = 0; mask < (1u << N); mask++) {
    if (__builtin_popcount(mask) != n) continue;
    double best = -INFINITY, g = 0;
    int ties = 0;
    for (int i = 0; i < N; i++) {
      if (!(mask >> i & 1)) continue;
      if (proxy[i] > best) best = proxy[i], g = gold[i], ties = 1;
      else if (proxy[i] == best) g += gold[i], ties++;
    }
    sum += g / ties;
    count++;
  }
  return sum / (double)count;
}

static void exact(void) {
  al_rng r;
  al_rng_seed(&r, 3);
  enum { N = 12 };
  double proxy[N], gold[N];
  for (int i = 0; i < N; i++) {
    gold[i] = al_rng_normal(&r);
    proxy[i] = i % 4 == 0 ? 0.5 : gold[i] + al_rng_normal(&r); /* three ties at 0.5 */
  }
  al_err err;
  for (int n = 1; n <= N; n++) {
    double eg, ep, w[N], wsum = 0;
    CHECK_OK(al_bon_estimate(proxy, gold, N, n, &eg, &ep, &err), err);
    double want = enumerate(proxy, gold, N, n), want_p = enumerate(proxy, proxy, N, n);
    CHECK(fabs(eg - want) < 1e-12 && fabs(ep - want_p) < 1e-12, "n=%d: gold %.15g vs %.15g, proxy %.15g vs %.15g", n,
          eg, want, ep, want_p);
    CHECK_OK(al_bon_weights(N, n, w, &err), err);
    for (int i = 0; i < N; i++) wsum += w[i];
    CHECK(fabs(wsum - 1) < 1e-12, "weights of n=%d sum to %.15g", n, wsum);
  }
  double e;
  CHECK_FAILS_WITH(al_bon_estimate(proxy, gold, N, 0, &e, &e, &err), err, "n = 0 is outside [1, 12]");
  CHECK_FAILS_WITH(al_bon_estimate(proxy, gold, N, 13, &e, &e, &err), err, "n = 13 is outside [1, 12]");
  gold[5] = NAN;
  CHECK_FAILS_WITH(al_bon_estimate(proxy, gold, N, 2, &e, &e, &err), err, "sample 5 has a non-finite gold score");
}

/* Random n-subsets of 64 samples (partial Fisher-Yates), M of them. */
static void resampling(void) {
  enum { N = 64, M = 20000 };
  al_rng r;
  al_rng_seed(&r, 5);
  double proxy[N], gold[N];
  for (int i = 0; i < N; i++) {
    proxy[i] = al_rng_normal(&r);
    gold[i] = proxy[i] - 0.3 * proxy[i] * proxy[i] + 0.5 * al_rng_normal(&r); /* gold rises, then falls */
  }
  int idx[N];
  al_err err;
  for (int n = 1; n <= N; n *= 2) {
    double sum = 0, sum2 = 0;
    for (int m = 0; m < M; m++) {
      for (int i = 0; i < N; i++) idx[i] = i;
      int best = -1;
      for (int k = 0; k < n; k++) {
        int j = k + (int)al_rng_below(&r, (uint64_t)(N - k)), t = idx[k];
        idx[k] = idx[j], idx[j] = t;
        if (best < 0 || proxy[idx[k]] > proxy[best]) best = idx[k];
      }
      sum += gold[best], sum2 += gold[best] * gold[best];
    }
    double mean = sum / M, var = (sum2 - M * mean * mean) / (M - 1), se = sqrt(fmax(var, 0) / M), eg;
    CHECK_OK(al_bon_estimate(proxy, gold, N, n, &eg, NULL, &err), err);
    CHECK(fabs(eg - mean) <= 4 * se + 1e-9, "n=%d: estimator %.5f, resampled %.5f +- %.5f", n, eg, mean, se);
  }
}

/* A categorical policy over K outcomes with rewards = their index (no
 * ties): the best of n i.i.d. draws is x with probability
 * q(x) = F(x)^n - F(x-1)^n, F the policy's CDF. */
static double exact_kl(const double *p, int K, int n, double *q) {
  double F = 0, kl = 0;
  for (int x = 0; x < K; x++) {
    q[x] = pow(F + p[x], n) - pow(F, n);
    F += p[x];
    if (q[x] > 0) kl += q[x] * log(q[x] / p[x]);
  }
  return kl;
}

static void kl(void) {
  al_rng r;
  al_rng_seed(&r, 9);
  double prev_gap[3] = {INFINITY, INFINITY, INFINITY};
  for (int K = 16; K <= 4096; K *= 16) {
    double *p = al_malloc(sizeof(double) * K), *q = al_malloc(sizeof(double) * K), *cdf = al_malloc(sizeof(double) * K), s = 0;
    for (int x = 0; x < K; x++) s += p[x] = 0.5 + al_rng_uniform(&r);
    for (int x = 0; x < K; x++) p[x] /= s, cdf[x] = (x ? cdf[x - 1] : 0) + p[x];
    int ns[3] = {2, 8, 64};
    for (int k = 0; k < 3; k++) {
      int n = ns[k];
      double want = exact_kl(p, K, n, q), formula = al_bon_kl(n);
      /* Monte Carlo: simulate best-of-n, average log q(x)/p(x) over the picks */
      enum { M = 40000 };
      double sum = 0, sum2 = 0;
      for (int m = 0; m < M; m++) {
        int best = -1;
        for (int j = 0; j < n; j++) {
          double u = al_rng_uniform(&r);
          int lo = 0, hi = K - 1;
          while (lo < hi) { int mid = (lo + hi) / 2; if (cdf[mid] > u) hi = mid; else lo = mid + 1; }
          if (lo > best) best = lo;
        }
        double v = log(q[best] / p[best]);
        sum += v, sum2 += v * v;
      }
      double mc = sum / M, se = sqrt(fmax(sum2 / M - mc * mc, 0) / (M - 1));
      CHECK(fabs(mc - want) <= 4 * se, "K=%d n=%d: Monte-Carlo KL %.5f +- %.5f, exact %.5f", K, n, mc, se, want);
      double gap = formula - want;
      CHECK(gap >= -1e-12 && gap < prev_gap[k], "K=%d n=%d: formula %.6f, exact %.6f: the gap must be >= 0 and shrink", K,
            n, formula, want);
      if (K == 4096) CHECK(gap < 1e-3 * formula, "K=4096 n=%d: formula %.6f vs exact %.6f", n, formula, want);
      if (K == 4096) CHECK(fabs(mc - formula) <= 4 * se + gap, "K=4096 n=%d: Monte-Carlo %.5f vs formula %.5f", n, mc, formula);
      prev_gap[k] = gap;
    }
    free(p), free(q), free(cdf);
  }
  CHECK(al_bon_kl(1) == 0 && isnan(al_bon_kl(0)), "KL of n=1 is 0, n=0 undefined");
}

int main(void) {
  exact();
  resampling();
  kl();
  return test_summary();
}
