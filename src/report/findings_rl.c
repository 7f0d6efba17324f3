/* The findings of `alab rl` (include/alab/rl_exp.h) from its results.json:
 * each a per-seed difference (computed by the experiment) whose 95%
 * t-interval must lie above 0. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report/report_internal.h"

static int one(const json_t *r, const char *key, rp_finding *f, const char *claim, const char *test) {
  const json_t *s = json_object_get(json_object_get(r, key), "seeds");
  double v[100];
  int n = 0;
  for (size_t i = 0; i < json_array_size(s) && n < 100; i++) {
    const json_t *x = json_array_get(s, i);
    v[n++] = json_is_number(x) ? json_number_value(x) : NAN;
  }
  if (n < 1) return 0;
  memset(f, 0, sizeof *f);
  snprintf(f->claim, sizeof f->claim, "%s", claim);
  snprintf(f->test, sizeof f->test, "%s, over %d seeds; reproduced when the 95%% CI is above 0", test, n);
  al_stat st = al_stat_of(v, n);
  f->est = st.mean, f->lo = st.lo, f->hi = st.hi;
  f->p = n >= 2 && st.se > 0 ? al_t_pvalue(st.mean / st.se, n - 1) : NAN;
  f->verdict = n < 2 || !isfinite(st.lo) ? RP_UNKNOWN : st.lo > 0;
  return 1;
}

int rp_rl_findings(const json_t *r, rp_finding *f, int max) {
  static const struct { const char *key, *claim, *test; } rows[] = {
      {"rloo_gold_rise", "RLOO against the reward raises the exact gold reward from the pretrained policy's",
       "gold of the last W batches of rollouts minus the first W"},
      {"ppo_gold_rise", "PPO against the reward raises the exact gold reward from the same start",
       "gold of the last W batches of rollouts minus the first W"},
      {"final_kl_beta_lo_minus_hi", "A larger KL penalty (beta_kl) ends at a smaller KL from the reference",
       "PPO's KL over the last W batches at the smaller beta_kl minus at the larger, paired by seed"},
      {"proxy_gold_peak_minus_start", "Optimising a small proxy reward model first raises the gold",
       "gold at its peak window (chosen on even batches, measured on odd) minus the initial policy's mean gold"},
      {"proxy_gold_peak_minus_end", "... and then lowers it again (overoptimisation, Gao et al. 2022)",
       "gold at its peak window (chosen on even batches, measured on odd) minus the last window"},
  };
  int k = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0] && k < max; i++)
    k += one(r, rows[i].key, &f[k], rows[i].claim, rows[i].test);
  return k;
}
