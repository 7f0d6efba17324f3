/* The findings of `alab cpm` (Go et al. 2023) from its results.json: the
 * differences CPM - standard reward model at the largest n, each seed's
 * values paired (cpm_results.c writes them). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report/report_internal.h"

static double num(const json_t *j) { return json_is_number(j) ? json_number_value(j) : NAN; }

/* Seeds of the last entry of results[what][kind]. */
static int last_seeds(const json_t *r, const char *what, const char *kind, double *out, int max) {
  const json_t *s = json_object_get(json_object_get(r, what), kind);
  const json_t *seeds = json_object_get(json_array_get(s, json_array_size(s) - 1), "seeds");
  int n = 0;
  for (size_t i = 0; i < json_array_size(seeds) && n < max; i++) out[n++] = num(json_array_get(seeds, i));
  return n;
}

static int paired(rp_finding *f, const json_t *r, const char *what, const char *claim, const char *quantity) {
  double a[64], b[64];
  int n = last_seeds(r, what, "cpm", a, 64), m = last_seeds(r, what, "rm", b, 64);
  if (n < 1 || m != n) return 0;
  memset(f, 0, sizeof *f);
  snprintf(f->claim, sizeof f->claim, "%s", claim);
  snprintf(f->test, sizeof f->test,
           "%s at the largest n, CPM minus standard reward model, paired t-test over %d seeds; reproduced when the 95%% "
           "CI is above 0", quantity, n);
  rp_paired(f, a, b, n);
  f->verdict = n < 2 || !isfinite(f->lo) ? RP_UNKNOWN : f->lo > 0;
  return 1;
}

int rp_cpm_findings(const json_t *r, rp_finding *f, int max) {
  int k = 0;
  if (k < max)
    k += paired(f + k, r, "agreement",
                "Two compositional preference models trained on disjoint halves of the data pick the same best-of-n "
                "response more often than two standard reward models", "P(same pick)");
  if (k < max)
    k += paired(f + k, r, "gold",
                "Best-of-n against a compositional preference model overoptimises less: its picks have higher gold "
                "reward at large n", "gold reward of the pick");
  return k;
}
