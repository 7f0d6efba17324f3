/* Model collapse when fitting a Gaussian: the fitted variance and KL against
 * their exact expectations (derived in src/exp/collapse_gauss.c).
 *
 * Seed count. Under replace v_k/v_{k-1} ~ chi2_{n-1}/n independently, so
 * E[v_k^2]/E[v_k]^2 = (1 + 2/(n-1) + ...)^k: for n=50 and 20 iterations the
 * relative sd of one seed is 1.1 at the last iteration, and 3000 seeds make the
 * relative standard error 2.0% (checked below: under 2.5%), so 10% is 5
 * standard errors.
 * Accumulate's spread is smaller (its fit sees all k n points). */
#include "alab/collapse.h"
#include "test.h"

static void check_series(const char *what, const char *pol, const al_series_stats *s, double bound) {
  for (int k = 0; k < s->iters; k++) {
    const al_stat *a = &s->stat[k];
    double cf = s->closed_form[k];
    CHECK(fabs(a->mean / cf - 1) < bound, "%s %s iteration %d: mean %.5f vs closed form %.5f (%.1f%% off)", what, pol, k + 1,
          a->mean, cf, 100 * (a->mean / cf - 1));
    CHECK(a->se / a->mean < bound / 4, "%s %s iteration %d: relative SE %.3f too large for the bound", what, pol, k + 1,
          a->se / a->mean);
    if (k == 0 || k == 4 || k == s->iters - 1)
      printf("%-8s %-10s k=%2d mean %.5f [%.5f, %.5f] closed form %.5f (%+.1f%%)\n", what, pol, k + 1, a->mean, a->lo, a->hi,
             cf, 100 * (a->mean / cf - 1));
  }
}

int main(void) {
  double t0 = al_now();
  al_quiet = 1;
  al_err err;
  int pol[3] = {AL_POLICY_REPLACE, AL_POLICY_ACCUMULATE, AL_POLICY_ACCUMULATE_SUBSAMPLE};
  al_series_stats var[3], kl[3];

  al_gauss_cfg c = {.d = 1, .n = 50, .iters = 20, .seeds = 3000, .var0 = 1, .seed = 3};
  CHECK_OK(al_gauss_collapse(&c, pol, 3, var, kl, &err), err);
  check_series("variance", "replace", &var[0], 0.10);
  check_series("variance", "accumulate", &var[1], 0.10);
  check_series("KL", "replace", &kl[0], 0.10);
  /* replace's variance falls beyond its confidence intervals */
  CHECK(var[0].stat[19].hi < var[0].stat[0].lo, "replace: variance at 20 [%g, %g] not below iteration 1 [%g, %g]",
        var[0].stat[19].lo, var[0].stat[19].hi, var[0].stat[0].lo, var[0].stat[0].hi);
  CHECK(kl[0].stat[19].lo > kl[0].stat[0].hi, "replace: KL does not grow");
  /* accumulate's stays within its interval: E[v_k] lies in (v0 sinc(1/sqrt n), v0)
   * for every k (the product never falls below its infinite limit). At every
   * iteration the mean must not be below the limit by more than 4 standard
   * errors, nor its 95% CI above v0. */
  double lim = c.var0 * sin(M_PI / sqrt(c.n)) / (M_PI / sqrt(c.n));
  for (int k = 0; k < c.iters; k++) {
    const al_stat *a = &var[1].stat[k];
    CHECK(a->mean + 4 * a->se >= lim && a->lo <= c.var0, "accumulate iteration %d: mean %g (se %g) outside [%g, %g]", k + 1,
          a->mean, a->se, lim, c.var0);
    CHECK(var[1].closed_form[k] > lim && var[1].closed_form[k] < c.var0, "closed form out of its range");
  }
  CHECK(var[1].stat[19].lo > var[0].stat[19].hi, "accumulate's variance is not above replace's at iteration 20");
  CHECK(kl[1].stat[19].hi < kl[0].stat[19].lo, "accumulate's KL is not below replace's at iteration 20");
  printf("accumulate variance at 20: %.4f (limit for ever %.4f); subsample %.4f; KL at 20: replace %.4f accumulate %.4f\n",
         var[1].stat[19].mean, lim, var[2].stat[19].mean, kl[0].stat[19].mean, kl[1].stat[19].mean);
  for (int p = 0; p < 3; p++) al_series_free(&var[p]), al_series_free(&kl[p]);

  /* Several dimensions: the covariance is fitted and sampled through Cholesky. */
  al_gauss_cfg m = {.d = 4, .n = 20, .iters = 8, .seeds = 1500, .var0 = 2.5, .seed = 5};
  CHECK_OK(al_gauss_collapse(&m, pol, 2, var, kl, &err), err);
  check_series("variance", "replace", &var[0], 0.10);
  check_series("variance", "accumulate", &var[1], 0.10);
  check_series("KL", "replace", &kl[0], 0.10);
  for (int p = 0; p < 2; p++) al_series_free(&var[p]), al_series_free(&kl[p]);

  /* Bad input. */
  al_gauss_cfg bad = c;
  bad.n = 1;
  CHECK_FAILS_WITH(al_gauss_check(&bad, &err), err, "must exceed d");
  bad = c, bad.var0 = -1;
  CHECK_FAILS_WITH(al_gauss_collapse(&bad, pol, 1, var, kl, &err), err, "var0=-1");
  bad = c, bad.iters = 0;
  CHECK_FAILS_WITH(al_gauss_check(&bad, &err), err, "iters=0");
  bad = c, bad.d = 0;
  CHECK_FAILS_WITH(al_gauss_check(&bad, &err), err, "d=0");
  bad = c, bad.seeds = 0;
  CHECK_FAILS_WITH(al_gauss_check(&bad, &err), err, "seeds=0");
  printf("test_collapse_gauss: %.2f s\n", al_now() - t0);
  return test_summary();
}
