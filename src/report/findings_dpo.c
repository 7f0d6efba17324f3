/* The findings of `alab dpo` (Rafailov et al. 2023) from its results.json:
 * DPO raises the rate of the preferred behaviour on held-out prompts above
 * the SFT model's (paired over seeds), and above 90%; and (when the run has
 * the arm) so does DPO with TRL's rpo_alpha NLL term on the chosen. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report/report_internal.h"

/* "After <what> the policy shows the preferred behaviour on more than 90%": reproduced when the 95% CI is above 0.9. */
static void above_90(rp_finding *f, const char *what, const double *x, int n) {
  al_stat s = al_stat_of(x, n);
  snprintf(f->claim, sizeof f->claim, "After %s the policy shows the preferred behaviour on more than 90%% of held-out prompts", what);
  snprintf(f->test, sizeof f->test, "mean rate after %s over %d seeds, 95%% t-interval; reproduced when it is above 0.9", what, n);
  f->est = s.mean, f->lo = s.lo, f->hi = s.hi;
  f->p = n >= 2 && s.se > 0 ? al_t_pvalue((s.mean - 0.9) / s.se, n - 1) : NAN;
  f->verdict = n < 2 || !isfinite(s.lo) ? RP_UNKNOWN : s.lo > 0.9;
}

int rp_dpo_findings(const json_t *r, rp_finding *f, int max) {
  double sft[100], dpo[100], nll[100];
  int n = rp_seeds_of(r, "sft_rate", sft, 100), m = rp_seeds_of(r, "dpo_rate", dpo, 100), k = 0;
  if (n < 1 || m != n || max < 2) return 0;
  memset(f, 0, 2 * sizeof *f);
  snprintf(f[0].claim, sizeof f[0].claim, "DPO on preference pairs raises the rate of the preferred behaviour above the SFT model's");
  snprintf(f[0].test, sizeof f[0].test, "rate after DPO minus rate of the SFT model on held-out prompts, paired t-test over "
           "%d seeds; reproduced when the 95%% CI is above 0", n);
  rp_paired(&f[0], dpo, sft, n);
  f[0].verdict = n < 2 || !isfinite(f[0].lo) ? RP_UNKNOWN : f[0].lo > 0;
  k++;
  above_90(&f[k++], "DPO", dpo, n);
  if (max >= 3 && rp_seeds_of(r, "dpo_nll_rate", nll, 100) == n) {
    memset(&f[k], 0, sizeof f[k]);
    above_90(&f[k++], "DPO + NLL of the chosen (TRL's rpo_alpha)", nll, n);
  }
  return k;
}
