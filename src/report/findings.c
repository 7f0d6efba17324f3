/* The findings of each experiment, read from its results.json: for every
 * claim of the paper, the statistic this run measured, its 95% interval or
 * p-value, and whether that reproduces the claim. The rules:
 *   a difference between two conditions: a paired t-test over seeds (each
 *     seed shares its real data across conditions); reproduced when the 95%
 *     interval lies on the paper's side of 0;
 *   a closed form: reproduced when it lies in the mean's 95% interval;
 *   "at chance" or "no likelier": reproduced when the interval reaches
 *     chance (or 0), i.e. the run cannot tell the two apart. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report/report_internal.h"

void rp_paired(rp_finding *f, const double *a, const double *b, int n) {
  double *d = al_calloc(n + 1, sizeof(double));
  int m = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(a[i]) && isfinite(b[i])) d[m++] = a[i] - b[i];
  al_stat s = al_stat_of(d, m);
  free(d);
  f->est = s.mean, f->lo = s.lo, f->hi = s.hi;
  f->p = m >= 2 && s.se > 0 ? al_t_pvalue(s.mean / s.se, m - 1) : NAN;
}

static double num(const json_t *j) { return json_is_number(j) ? json_number_value(j) : NAN; }

/* The "seeds" of a series' last entry (collapse: [{iter, mean, ..., seeds}]),
 * freshly allocated, their count in *n. */
static double *last_seeds(const json_t *series, int *n) {
  const json_t *s = json_object_get(json_array_get(series, json_array_size(series) - 1), "seeds");
  double *out = al_calloc(json_array_size(s) + 1, sizeof(double));
  *n = (int)json_array_size(s);
  for (int i = 0; i < *n; i++) out[i] = num(json_array_get(s, i));
  return out;
}

/* a's last value above b's, paired over seeds. */
static int above(rp_finding *f, int max, const char *claim, const char *what, const json_t *a, const json_t *b) {
  if (max < 1 || !json_is_array(a) || !json_is_array(b) || !json_array_size(a)) return 0;
  int n, m;
  double *x = last_seeds(a, &n), *y = last_seeds(b, &m);
  memset(f, 0, sizeof *f);
  snprintf(f->claim, sizeof f->claim, "%s", claim);
  snprintf(f->test, sizeof f->test, "%s at the last step (%zu), paired t-test over %d seeds; reproduced when the 95%% CI is above 0",
           what, json_array_size(a), n < m ? n : m);
  rp_paired(f, x, y, n < m ? n : m);
  free(x), free(y);
  f->verdict = n < 2 || m < 2 || !isfinite(f->lo) ? RP_UNKNOWN : f->lo > 0;
  return 1;
}

/* The last mean of series against its closed form. */
static int closed_form(rp_finding *f, int max, const char *claim, const json_t *series) {
  const json_t *e = json_array_get(series, json_array_size(series) - 1);
  double cf = num(json_object_get(e, "closed_form"));
  if (max < 1 || !isfinite(cf)) return 0;
  memset(f, 0, sizeof *f);
  snprintf(f->claim, sizeof f->claim, "%s", claim);
  snprintf(f->test, sizeof f->test, "mean at the last step (%zu) with its 95%% t-interval over seeds; reproduced when "
           "the closed form %.4g lies inside", json_array_size(series), cf);
  f->est = num(json_object_get(e, "mean")), f->lo = num(json_object_get(e, "lo")), f->hi = num(json_object_get(e, "hi"));
  f->p = NAN;
  f->verdict = !isfinite(f->lo) || !isfinite(f->hi) ? RP_UNKNOWN : f->lo <= cf && cf <= f->hi;
  return 1;
}

int rp_collapse_findings(const json_t *r, rp_finding *f, int max) {
  int n = 0;
  char claim[200];
  const json_t *settings = json_object_get(json_object_get(r, "linear"), "settings"), *s;
  size_t i;
  json_array_foreach(settings, i, s) {
    const json_t *err = json_object_get(s, "error");
    const json_t *rep = json_object_get(err, "replace"), *acc = json_object_get(err, "accumulate");
    int d = (int)num(json_object_get(s, "d")), T = (int)num(json_object_get(s, "T"));
    snprintf(claim, sizeof claim, "linear d=%d T=%d: replacing data gives a larger test error than accumulating it", d, T);
    n += above(f + n, max - n, claim, "test error, replace - accumulate,", rep, acc);
    snprintf(claim, sizeof claim, "linear d=%d T=%d, replace: the test error grows linearly, as the closed form says", d, T);
    n += closed_form(f + n, max - n, claim, rep);
    snprintf(claim, sizeof claim, "linear d=%d T=%d, accumulate: the test error stays at the bounded closed form", d, T);
    n += closed_form(f + n, max - n, claim, acc);
  }
  const json_t *g = json_object_get(r, "gauss");
  if (g) {
    const json_t *v = json_object_get(g, "variance"), *kl = json_object_get(g, "kl");
    n += above(f + n, max - n, "Gaussian: replacing data shrinks the fitted variance below accumulating's",
               "fitted variance, accumulate - replace,", json_object_get(v, "accumulate"), json_object_get(v, "replace"));
    n += above(f + n, max - n, "Gaussian: replacing data moves the fit further from the truth (KL) than accumulating",
               "KL(fit || truth), replace - accumulate,", json_object_get(kl, "replace"), json_object_get(kl, "accumulate"));
    n += closed_form(f + n, max - n, "Gaussian, replace: the fitted variance decays as the closed form says",
                     json_object_get(v, "replace"));
  }
  const json_t *lm = json_object_get(json_object_get(json_object_get(r, "lm"), "quantities"), "test_nats_per_token");
  if (lm) {
    const json_t *rep = json_object_get(lm, "replace"), *acc = json_object_get(lm, "accumulate");
    n += above(f + n, max - n, "language models: replacing data gives a higher real-data test loss than accumulating",
               "test loss (nats/token), replace - accumulate,", rep, acc);
    /* replace's last generation against its own generation 0 */
    if (json_array_size(rep) > 1 && n < max) {
      json_t *first = json_array();
      json_array_append(first, json_array_get(rep, 0));
      n += above(f + n, max - n, "language models, replace: the test loss rises over generations",
                 "test loss, last generation - generation 0,", rep, first);
      json_decref(first);
    }
  }
  return n;
}

/* One slot's accuracy against chance, and its log-prob difference. */
static int reversal_slot(rp_finding *f, int max, const char *variant, const json_t *slots, const char *group) {
  char key[96];
  int n = 0;
  snprintf(key, sizeof key, "%s/trained/train_templates", group);
  const json_t *s = json_object_get(slots, key), *a = json_object_get(s, "accuracy");
  if (s && n < max) {
    rp_finding *x = &f[n++];
    memset(x, 0, sizeof *x);
    snprintf(x->claim, sizeof x->claim, "%s, %s: the facts are learnt in the trained order (a precondition)", variant, group);
    snprintf(x->test, sizeof x->test, "greedy accuracy on training templates, mean over seeds with its 95%% CI; "
             "reproduced when the mean is at least 90%%");
    x->est = num(json_object_get(a, "mean")), x->lo = num(json_object_get(a, "lo")), x->hi = num(json_object_get(a, "hi"));
    x->p = NAN;
    x->verdict = isfinite(x->est) ? x->est >= 0.9 : RP_UNKNOWN;
  }
  snprintf(key, sizeof key, "%s/reverse/heldout_templates", group);
  s = json_object_get(slots, key), a = json_object_get(s, "accuracy");
  if (!s) return n;
  double chance = num(json_object_get(s, "chance"));
  if (n < max) {
    rp_finding *x = &f[n++];
    memset(x, 0, sizeof *x);
    snprintf(x->claim, sizeof x->claim, "%s, %s: in reverse the answer is at chance", variant, group);
    snprintf(x->test, sizeof x->test, "greedy accuracy in reverse (held-out templates), 95%% CI over seeds; reproduced "
             "when the CI reaches chance (%.3g)", chance);
    x->est = num(json_object_get(a, "mean")), x->lo = num(json_object_get(a, "lo")), x->hi = num(json_object_get(a, "hi"));
    x->p = NAN;
    x->verdict = isfinite(x->lo) && isfinite(chance) ? x->lo <= chance : RP_UNKNOWN;
  }
  const json_t *d = json_object_get(s, "logprob_diff");
  if (d && n < max) {
    rp_finding *x = &f[n++];
    memset(x, 0, sizeof *x);
    snprintf(x->claim, sizeof x->claim, "%s, %s: in reverse the correct name is no likelier than a random one", variant, group);
    snprintf(x->test, sizeof x->test, "log p(correct) - log p(random) (nats), paired t-test over %d examples; reproduced "
             "when the 95%% CI reaches 0", (int)num(json_object_get(d, "n")));
    x->est = num(json_object_get(d, "mean")), x->lo = num(json_object_get(d, "lo")), x->hi = num(json_object_get(d, "hi"));
    x->p = num(json_object_get(d, "p"));
    x->verdict = isfinite(x->lo) ? x->lo <= 0 : RP_UNKNOWN;
  }
  return n;
}

int rp_reversal_findings(const json_t *r, rp_finding *f, int max) {
  const json_t *variants = json_object_get(r, "variants"), *v;
  const char *name;
  int n = 0;
  json_object_foreach((json_t *)variants, name, v) {
    const json_t *slots = json_object_get(v, "slots");
    n += reversal_slot(f + n, max - n, name, slots, "p2d");
    n += reversal_slot(f + n, max - n, name, slots, "d2p");
  }
  return n;
}

int rp_seeds_of(const json_t *o, const char *key, double *out, int max) {
  const json_t *s = json_object_get(json_object_get(o, key), "seeds");
  int n = 0;
  for (size_t i = 0; i < json_array_size(s) && n < max; i++) {
    const json_t *v = json_array_get(s, i);
    out[n++] = json_is_number(v) ? json_number_value(v) : NAN;
  }
  return n;
}
