/* Agreement of two reward models under best-of-n (al_bon_agreement),
 * against enumeration of every n-subset: for N = 10 and 12 samples, with and
 * without ties, agreement = share of subsets with a member strictly above
 * every other member under both models (1e-12). Closed cases: one model
 * twice (no ties) agrees always; n = 1 always; models in opposite orders
 * agree only at n = 1. */
#include "alab/cpm.h"
#include "test.h"

static double brute(const double *a, const double *b, int N, int n) {
  long hits = 0, total = 0;
  for (unsigned S = 0; S < (1u << N); S++) {
    if (__builtin_popcount(S) != n) continue;
    total++;
    for (int i = 0; i < N; i++) {
      if (!(S >> i & 1)) continue;
      int best = 1;
      for (int j = 0; j < N && best; j++)
        if (j != i && (S >> j & 1) && !(a[j] < a[i] && b[j] < b[i])) best = 0;
      if (best) { hits++; break; }
    }
  }
  return (double)hits / total;
}

int main(void) {
  al_rng r;
  al_rng_seed(&r, 5);
  al_err err;
  for (int trial = 0; trial < 6; trial++) {
    int N = trial < 3 ? 10 : 12, ties = trial % 2;
    double a[12], b[12];
    for (int i = 0; i < N; i++) {
      a[i] = ties ? (double)al_rng_below(&r, 4) : al_rng_normal(&r);
      b[i] = 0.5 * a[i] + (ties ? (double)al_rng_below(&r, 3) : al_rng_normal(&r));
    }
    double maxd = 0;
    for (int n = 1; n <= N; n++) {
      double p;
      CHECK_OK(al_bon_agreement(a, b, N, n, &p, &err), err);
      maxd = fmax(maxd, fabs(p - brute(a, b, N, n)));
    }
    printf("trial %d (N %d, %s): max |exact - enumeration| = %.1e\n", trial, N, ties ? "ties" : "no ties", maxd);
    CHECK(maxd < 1e-12, "trial %d: %g", trial, maxd);
  }
  double a[64], neg[64];
  for (int i = 0; i < 64; i++) a[i] = al_rng_normal(&r), neg[i] = -a[i];
  for (int n = 1; n <= 64; n *= 2) {
    double same, opp;
    CHECK_OK(al_bon_agreement(a, a, 64, n, &same, &err), err);
    CHECK_OK(al_bon_agreement(a, neg, 64, n, &opp, &err), err);
    CHECK(fabs(same - 1) < 1e-12, "n %d: one model twice agrees %g", n, same);
    CHECK(n == 1 ? fabs(opp - 1) < 1e-12 : opp == 0, "n %d: opposite models agree %g", n, opp);
  }
  double p;
  CHECK_FAILS_WITH(al_bon_agreement(a, a, 64, 65, &p, &err), err, "n = 65");
  a[3] = NAN;
  CHECK_FAILS_WITH(al_bon_agreement(a, neg, 64, 2, &p, &err), err, "sample 3");
  return test_summary();
}
