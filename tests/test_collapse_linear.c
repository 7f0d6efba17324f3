/* Model collapse in linear regression against the closed forms of
 * Gerstgrasser et al. 2024: E[error_n] = sigma^2 d/(T-d-1) * n (replace) and
 * * sum_{i<=n} 1/i^2 (accumulate), for d=10, T=100, sigma^2=1, 10 iterations.
 *
 * Seed count. w_n - w* is Gaussian with covariance c (X'X)^-1 given X, so
 * error_n = c z'(X'X)^-1 z and Var/E^2 = 2 tr(M^2)/tr(M)^2 >= 2/d = 0.2 with
 * M = (X'X)^-1, plus the variation of tr(M) over X: the relative sd of one
 * seed's error is about 0.5 at every iteration of both policies (measured:
 * 0.52). With 600 seeds the relative standard error of the mean is
 * 0.52/sqrt(600) = 2.1%, so the 10% bound is 4.7 standard errors: a correct
 * simulation fails one of the 20 comparisons with probability ~1e-5, while a
 * wrong recursion (e.g. accumulate without the real data, or a 1/n instead of
 * 1/n^2 weight) is off by far more than 10% by iteration 3. The test also
 * measures the relative standard error and checks it is below 2.5%. */
#include "alab/collapse.h"
#include "test.h"

int main(void) {
  double t0 = al_now();
  al_quiet = 1;
  al_err err;
  al_linreg_cfg c = {.d = 10, .T = 100, .sigma2 = 1, .iters = 10, .seeds = 600, .seed = 1};
  int pol[3] = {AL_POLICY_REPLACE, AL_POLICY_ACCUMULATE, AL_POLICY_ACCUMULATE_SUBSAMPLE};
  al_series_stats st[3];
  CHECK_OK(al_linreg_collapse(&c, pol, 3, st, &err), err);
  double first = 1.0 * 10 / (100 - 10 - 1);
  for (int p = 0; p < 2; p++)
    for (int n = 1; n <= c.iters; n++) {
      const al_stat *s = &st[p].stat[n - 1];
      double cf = st[p].closed_form[n - 1];
      double want = p == 0 ? first * n : 0;
      if (p == 1)
        for (int i = 1; i <= n; i++) want += first / ((double)i * i);
      CHECK(fabs(cf - want) < 1e-12, "closed form %s n=%d: %g vs %g", al_policy_names[pol[p]], n, cf, want);
      CHECK(fabs(s->mean / cf - 1) < 0.10, "%s iteration %d: mean error %.5f vs closed form %.5f (%.1f%% off)",
            al_policy_names[pol[p]], n, s->mean, cf, 100 * (s->mean / cf - 1));
      CHECK(s->se / s->mean < 0.025, "%s iteration %d: relative SE %.3f too large for a fair 10%% bound",
            al_policy_names[pol[p]], n, s->se / s->mean);
      printf("%-10s n=%2d mean %.5f [%.5f, %.5f] closed form %.5f (%+.1f%%)\n", al_policy_names[pol[p]], n, s->mean, s->lo,
             s->hi, cf, 100 * (s->mean / cf - 1));
    }
  /* The same real data goes into iteration 1 of every policy (subsample
   * takes the same T rows in another order, so QR rounds differently). */
  for (int s = 0; s < c.seeds; s++) {
    CHECK(st[0].vals[s] == st[1].vals[s], "iteration 1 differs between replace and accumulate, seed %d", s);
    CHECK(rel_err(st[1].vals[s], st[2].vals[s]) < 1e-9, "iteration 1 of subsample differs, seed %d: %.17g vs %.17g", s,
          st[1].vals[s], st[2].vals[s]);
  }
  double r1 = st[0].stat[0].mean, r10 = st[0].stat[9].mean, a1 = st[1].stat[0].mean, a10 = st[1].stat[9].mean;
  CHECK(r10 > 5 * r1, "replace: iteration 10 error %g is not > 5x iteration 1 (%g)", r10, r1);
  CHECK(a10 < M_PI * M_PI / 6 * a1 * 1.10, "accumulate: iteration 10 error %g exceeds pi^2/6 x iteration 1 (%g) + 10%%", a10, a1);
  CHECK(st[0].stat[9].lo > st[1].stat[9].hi, "replace and accumulate are not separated at iteration 10");
  CHECK(st[2].closed_form == NULL, "accumulate-subsample has no closed form");
  printf("replace n=10/n=1 = %.2f; accumulate n=10/n=1 = %.3f (pi^2/6 = %.3f); subsample n=10 mean %.4f\n", r10 / r1,
         a10 / a1, M_PI * M_PI / 6, st[2].stat[9].mean);

  /* Same seed, same numbers. */
  al_series_stats again[1];
  CHECK_OK(al_linreg_collapse(&c, pol + 1, 1, again, &err), err);
  CHECK(!memcmp(again[0].vals, st[1].vals, sizeof(double) * c.iters * c.seeds), "accumulate is not deterministic");
  al_series_free(&again[0]);
  for (int p = 0; p < 3; p++) al_series_free(&st[p]);

  /* No noise: every fit recovers w* exactly (up to rounding). */
  al_linreg_cfg z = {.d = 5, .T = 20, .sigma2 = 0, .iters = 4, .seeds = 3, .seed = 7};
  CHECK_OK(al_linreg_collapse(&z, pol, 3, st, &err), err);
  for (int p = 0; p < 3; p++) {
    for (int k = 0; k < z.iters * z.seeds; k++) CHECK(st[p].vals[k] < 1e-20, "sigma=0: error %g", st[p].vals[k]);
    al_series_free(&st[p]);
  }

  /* Bad input. */
  al_linreg_cfg bad = c;
  bad.T = 11;
  CHECK_FAILS_WITH(al_linreg_collapse(&bad, pol, 1, st, &err), err, "T=11 must exceed d+1=11");
  bad = c, bad.sigma2 = -1;
  CHECK_FAILS_WITH(al_linreg_collapse(&bad, pol, 1, st, &err), err, "sigma2=-1");
  bad = c, bad.sigma2 = NAN;
  CHECK_FAILS_WITH(al_linreg_check(&bad, &err), err, "sigma2");
  bad = c, bad.iters = 0;
  CHECK_FAILS_WITH(al_linreg_collapse(&bad, pol, 1, st, &err), err, "iters=0");
  bad = c, bad.seeds = 1;
  CHECK_FAILS_WITH(al_linreg_check(&bad, &err), err, "at least 2 seeds");
  bad = c, bad.d = 0;
  CHECK_FAILS_WITH(al_linreg_check(&bad, &err), err, "d=0");
  bad = c, bad.T = 1 << 20, bad.iters = 1000;
  CHECK_FAILS_WITH(al_linreg_check(&bad, &err), err, "too large");
  int pp[3];
  CHECK_FAILS_WITH(al_parse_policies("replace,bogus", pp, &err), err, "unknown policy 'bogus'");
  CHECK_FAILS_WITH(al_parse_policies("", pp, &err), err, "empty");
  CHECK_FAILS_WITH(al_parse_policies("replace,replace", pp, &err), err, "twice");
  CHECK(al_parse_policies("accumulate-subsample,replace", pp, &err) == 2 && pp[0] == 2 && pp[1] == 0, "policy list");
  printf("test_collapse_linear: %.2f s\n", al_now() - t0);
  return test_summary();
}
