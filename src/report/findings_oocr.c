/* The findings of `alab oocr` (Berglund et al. 2023, "Taken out of
 * context") from its results.json: models finetuned only on descriptions
 * of an assistant behave as described (accuracy on the unrealized
 * assistants above chance, at the largest size and most paraphrases), this
 * needs augmentation (most minus fewest paraphrases above 0, paired over
 * seeds, at the largest size), and it grows with size (largest minus
 * smallest above 0 at the most paraphrases). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "report/report_internal.h"

static double num(const json_t *o, const char *k) {
  const json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* the last entry of a comparison array (the largest size, the most paraphrases) */
static void diff_finding(rp_finding *f, const json_t *a) {
  const json_t *e = json_array_get(a, json_array_size(a) - 1);
  f->est = num(e, "diff"), f->lo = num(e, "lo"), f->hi = num(e, "hi"), f->p = num(e, "p");
  f->verdict = isfinite(f->lo) ? f->lo > 0 : RP_UNKNOWN;
}

int rp_oocr_findings(const json_t *r, rp_finding *f, int max) {
  const json_t *cells = json_object_get(r, "cells"), *best = NULL;
  double chance = num(json_object_get(r, "chance"), "unrealized_examples");
  long long bp = -1, bl = -1;
  for (size_t i = 0; i < json_array_size(cells); i++) { /* the largest size, then the most paraphrases */
    const json_t *c = json_array_get(cells, i);
    long long p = (long long)num(c, "parameters"), l = (long long)num(c, "paraphrases");
    if (p > bp || (p == bp && l > bl)) best = c, bp = p, bl = l;
  }
  if (!best || max < 3) return 0;
  memset(f, 0, 3 * sizeof *f);
  const json_t *u = json_object_get(best, "unrealized_examples");
  int k = 0;
  snprintf(f[k].claim, sizeof f[k].claim, "Finetuned only on descriptions, a model behaves as an unrealized assistant "
           "is described (%lldx%lld, %lld paraphrases)", (long long)num(best, "layers"), (long long)num(best, "embd"), bl);
  snprintf(f[k].test, sizeof f[k].test, "accuracy on unrealized assistants with chain of thought, 95%% t-interval over "
           "seeds; reproduced when above chance (%.3f)", chance);
  f[k].est = num(u, "mean"), f[k].lo = num(u, "lo"), f[k].hi = num(u, "hi"), f[k].p = NAN;
  f[k].verdict = isfinite(f[k].lo) && isfinite(chance) ? f[k].lo > chance : RP_UNKNOWN;
  k++;
  const json_t *aug = json_object_get(r, "augmentation"), *size = json_object_get(r, "size");
  if (json_array_size(aug)) {
    snprintf(f[k].claim, sizeof f[k].claim, "Out-of-context behaviour needs augmentation (paraphrased descriptions)");
    snprintf(f[k].test, sizeof f[k].test, "unrealized accuracy with the most minus the fewest paraphrases at the largest "
             "size, paired t-test over seeds; reproduced when the 95%% CI is above 0");
    diff_finding(&f[k++], aug);
  }
  if (json_array_size(size)) {
    snprintf(f[k].claim, sizeof f[k].claim, "Out-of-context behaviour improves with model size");
    snprintf(f[k].test, sizeof f[k].test, "unrealized accuracy of the largest minus the smallest size at the most "
             "paraphrases, paired over seeds; reproduced when the 95%% CI is above 0");
    diff_finding(&f[k++], size);
  }
  return k;
}
