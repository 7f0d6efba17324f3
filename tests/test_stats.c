/* Student t p-values and quantiles (src/base/stats.c, on GSL) against closed
 * forms (df 1 and 2) and against mpmath's regularized incomplete beta at 40
 * digits (Debian python3-mpmath), over t from 1e-8 to 1e3 and df from 1 to
 * 1e5; and the 95% interval of al_stat_of. */
#include "test.h"

/* df = 1 (Cauchy): P(|T| > t) = 1 - (2/pi) atan|t| = (2/pi) atan(1/|t|),
 * quantile tan(pi (p - 1/2)). df = 2: P(|T| > t) = 1 - |t| / sqrt(2 + t^2)
 * = 2 / (r (r + |t|)) with r = sqrt(2 + t^2), quantile (2p - 1) / sqrt(2p(1-p)).
 * (The second forms avoid cancellation in the tail.) */
static void closed_forms(void) {
  const double ts[] = {0, 1e-8, 0.3, 1, 2.5, 12.7, 300};
  for (int i = 0; i < 7; i++) {
    double t = ts[i];
    double r = sqrt(2 + t * t), p1 = t > 0 ? 2 / M_PI * atan(1 / t) : 1, p2 = 2 / (r * (r + t));
    CHECK(rel_err(al_t_pvalue(t, 1), p1) < 1e-13 && rel_err(al_t_pvalue(-t, 1), p1) < 1e-13, "df 1 t %g: %.17g vs %.17g",
          t, al_t_pvalue(t, 1), p1);
    CHECK(rel_err(al_t_pvalue(t, 2), p2) < 1e-13, "df 2 t %g: %.17g vs %.17g", t, al_t_pvalue(t, 2), p2);
  }
  for (double p = 0.51; p < 0.9999; p += 0.0611) {
    double q1 = tan(M_PI * (p - 0.5)), q2 = (2 * p - 1) / sqrt(2 * p * (1 - p));
    CHECK(rel_err(al_t_quantile(p, 1), q1) < 1e-13, "df 1 p %g: %.17g vs %.17g", p, al_t_quantile(p, 1), q1);
    CHECK(rel_err(al_t_quantile(p, 2), q2) < 1e-13, "df 2 p %g: %.17g vs %.17g", p, al_t_quantile(p, 2), q2);
    CHECK(rel_err(al_t_quantile(1 - p, 2), -q2) < 1e-12, "df 2 lower tail p %g", 1 - p);
  }
  CHECK(al_t_pvalue(INFINITY, 3) == 0 && isnan(al_t_pvalue(NAN, 3)), "infinite and NaN t");
  CHECK(isnan(al_t_pvalue(1, 0)) && isnan(al_t_quantile(0.975, 0.5)) && isnan(al_t_quantile(1, 5)) &&
            isnan(al_t_quantile(0, 5)),
        "outside the domain: NaN, not an abort");
}

/* mpmath prints "df t p" and "df q" lines; each is checked to 1e-12. */
static void against_mpmath(void) {
  const char *py =
      "import mpmath as mp\n"
      "mp.mp.dps = 40\n"
      "P = lambda t, df: mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True)\n"
      "for df in [1, 3, 7, 10, 29, 99, 999, 10000, 100000]:\n"
      "    df = mp.mpf(df)\n"
      "    for t in ['1e-8', '0.01', '0.5', '1.96', '3', '10', '40']:\n"
      "        print('p', mp.nstr(df, 10), t, mp.nstr(P(mp.mpf(t), df), 30))\n"
      "    print('q', mp.nstr(df, 10), mp.nstr(mp.findroot(lambda x: P(x, df) - mp.mpf('0.05'), 2), 30))\n";
  char *dir = test_tmpdir("stats"), path[600], cmd[800];
  snprintf(path, sizeof path, "%s/ref.py", dir);
  al_err err;
  CHECK_OK(al_write_file_atomic(path, py, strlen(py), &err), err);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s'", path);
  char *out;
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "mpmath oracle failed (rc %d): is python3-mpmath installed?", rc);
  int np = 0, nq = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    double df, t, want;
    if (sscanf(line, "p %lf %lf %lf", &df, &t, &want) == 3) {
      double got = al_t_pvalue(t, df);
      CHECK(rel_err(got, want) < 1e-12, "p-value df %g t %g: %.17g, mpmath %.17g", df, t, got, want);
      np++;
    } else if (sscanf(line, "q %lf %lf", &df, &want) == 2) {
      double got = al_t_quantile(0.975, df);
      CHECK(rel_err(got, want) < 1e-12, "t_0.975 df %g: %.17g, mpmath %.17g", df, got, want);
      nq++;
    }
  }
  CHECK(np == 63 && nq == 9, "read %d p-values and %d quantiles from mpmath", np, nq);
  free(out);
  free(dir);
}

/* mean +- t_{0.975, n-1} sd / sqrt(n), by hand for 1..5. */
static void interval(void) {
  const double x[] = {1, 2, 3, 4, 5};
  al_stat s = al_stat_of(x, 5);
  double half = al_t_quantile(0.975, 4) * sqrt(2.5) / sqrt(5);
  CHECK(s.n == 5 && s.mean == 3 && fabs(s.sd - sqrt(2.5)) < 1e-15, "mean %g sd %g", s.mean, s.sd);
  CHECK(fabs(s.lo - (3 - half)) < 1e-14 && fabs(s.hi - (3 + half)) < 1e-14, "interval [%g, %g]", s.lo, s.hi);
  al_stat one = al_stat_of(x, 1);
  CHECK(one.lo == 1 && one.hi == 1 && one.se == 0, "one value: no interval");
}

int main(void) {
  closed_forms();
  against_mpmath();
  interval();
  return test_summary();
}
