/* The findings of `alab ilf` (Chen et al. 2023; Scheurer et al. 2023) from
 * its results.json: finetuning on refinements that pass their tests raises
 * pass@1 above the base policy's, and by more than finetuning on every
 * refinement untested (both paired over seeds); on summaries ("summaries"
 * in results.json), finetuning on refinements that incorporate the
 * feedback raises fact accuracy above the base summariser's. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report/report_internal.h"

int rp_ilf_findings(const json_t *r, rp_finding *f, int max) {
  double base[100], ilf[100], untested[100];
  int n = rp_seeds_of(r, "pass1_base", base, 100);
  if (n < 1 || rp_seeds_of(r, "pass1_ilf", ilf, 100) != n || rp_seeds_of(r, "pass1_untested", untested, 100) != n || max < 2) return 0;
  memset(f, 0, 2 * sizeof *f);
  snprintf(f[0].claim, sizeof f[0].claim, "Finetuning on refinements written from feedback that pass their tests raises pass@1");
  snprintf(f[0].test, sizeof f[0].test, "pass@1 after ILF minus the base policy's on held-out tasks, paired t-test over %d "
           "seeds; reproduced when the 95%% CI is above 0", n);
  rp_paired(&f[0], ilf, base, n);
  f[0].verdict = n < 2 || !isfinite(f[0].lo) ? RP_UNKNOWN : f[0].lo > 0;
  snprintf(f[1].claim, sizeof f[1].claim, "Selecting the refinements that pass the tests gains more than keeping every refinement");
  snprintf(f[1].test, sizeof f[1].test, "pass@1 after ILF minus after finetuning on every refinement untested, paired "
           "t-test over %d seeds; reproduced when the 95%% CI is above 0", n);
  rp_paired(&f[1], ilf, untested, n);
  f[1].verdict = n < 2 || !isfinite(f[1].lo) ? RP_UNKNOWN : f[1].lo > 0;
  const json_t *sum = json_object_get(r, "summaries");
  int m = rp_seeds_of(sum, "acc_base", base, 100);
  if (max < 3 || m < 1 || rp_seeds_of(sum, "acc_ilf", ilf, 100) != m) return 2;
  memset(&f[2], 0, sizeof f[2]);
  snprintf(f[2].claim, sizeof f[2].claim, "Finetuning a summariser on refinements that incorporate feedback raises its "
           "summaries' quality");
  snprintf(f[2].test, sizeof f[2].test, "fact accuracy after ILF minus the base summariser's on held-out stories, paired "
           "t-test over %d seeds; reproduced when the 95%% CI is above 0", m);
  rp_paired(&f[2], ilf, base, m);
  f[2].verdict = m < 2 || !isfinite(f[2].lo) ? RP_UNKNOWN : f[2].lo > 0;
  return 3;
}
