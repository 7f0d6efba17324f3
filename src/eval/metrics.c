/* Metrics as the papers define them, and their uncertainty.
 *
 * Classification (McKenzie et al. 2023, the Inverse Scaling Prize): given the
 * summed log-probs lp_i of each class string after the prompt,
 *   log p_i = lp_i - logsumexp_j lp_j,   loss = -log p_answer,
 *   correct = [argmax_i lp_i == answer].
 * Every summary is a mean over examples with its standard error, a 95%
 * t-interval, and a 95% bootstrap percentile interval. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include "alab/metrics.h"

static double logsumexp(const double *x, int n) {
  double m = -INFINITY;
  for (int i = 0; i < n; i++) m = fmax(m, x[i]);
  if (!isfinite(m)) return m;
  double s = 0;
  for (int i = 0; i < n; i++) s += exp(x[i] - m);
  return m + log(s);
}

al_cls_result al_classify(const double *lp, const int *nbytes, int k, int answer) {
  al_cls_result r = {0};
  double lse = logsumexp(lp, k);
  r.loss = -(lp[answer] - lse);
  r.p_answer = exp(lp[answer] - lse);
  double best = -INFINITY, best_norm = -INFINITY;
  for (int i = 0; i < k; i++) {
    if (lp[i] > best) best = lp[i], r.pred = i;
    double norm = lp[i] / (nbytes && nbytes[i] > 0 ? nbytes[i] : 1);
    if (norm > best_norm) best_norm = norm, r.pred_norm = i;
  }
  r.correct = r.pred == answer;
  r.correct_norm = r.pred_norm == answer;
  return r;
}

double al_logodds_difference(const double lp_prompt[2], const double lp_other[2], int answer) {
  /* normalising over the two classes leaves lp0 - lp1 unchanged */
  double d = (lp_prompt[0] - lp_prompt[1]) - (lp_other[0] - lp_other[1]);
  return answer == 1 ? -d : d;
}

/* [s, s+n) with surrounding whitespace removed */
static void trim(const char **s, size_t *n) {
  while (*n && isspace((unsigned char)**s)) (*s)++, (*n)--;
  while (*n && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

int al_match_target(al_match m, const char *output, const char *target, al_err *err) {
  if (m == AL_MATCH_REGEX) {
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)target, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
    if (!re) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(ec, msg, sizeof msg);
      return al_fail(err, "bad regex target '%.60s' at offset %zu: %s", target, (size_t)eo, (char *)msg);
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)output, strlen(output), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) return al_fail(err, "regex '%.60s': match failed (code %d)", target, rc);
    return rc >= 0;
  }
  const char *o = output, *t = target;
  size_t on = strlen(o), tn = strlen(t);
  trim(&o, &on);
  trim(&t, &tn);
  switch (m) {
    case AL_MATCH_EXACT: return on == tn && !memcmp(o, t, on);
    case AL_MATCH_PREFIX: return on >= tn && !memcmp(o, t, tn);
    default:
      if (!tn) return 1;
      for (size_t i = 0; i + tn <= on; i++)
        if (!memcmp(o + i, t, tn)) return 1;
      return 0;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

al_metric al_metric_of(const char *name, const double *x, int n, uint64_t seed, int nboot) {
  al_metric m;
  memset(&m, 0, sizeof m);
  snprintf(m.name, sizeof m.name, "%s", name);
  al_stat s = al_stat_of(x, n);
  m.n = n;
  m.mean = s.mean, m.se = s.se, m.lo = s.lo, m.hi = s.hi;
  m.boot_lo = m.boot_hi = s.mean;
  if (n < 2 || nboot < 10) return m;
  /* percentile bootstrap: resample n examples with replacement nboot times */
  double *means = al_malloc((size_t)nboot * sizeof *means);
  al_rng r;
  al_rng_seed(&r, seed);
  for (int b = 0; b < nboot; b++) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += x[al_rng_below(&r, (uint64_t)n)];
    means[b] = sum / n;
  }
  qsort(means, (size_t)nboot, sizeof *means, cmp_double);
  int lo = (int)floor(0.025 * (nboot - 1)), hi = (int)ceil(0.975 * (nboot - 1));
  m.boot_lo = means[lo];
  m.boot_hi = means[hi];
  free(means);
  return m;
}

/* JSON has no NaN or infinity: those become null. */
static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

json_t *al_metric_json(const al_metric *m) {
  json_t *o = json_object();
  json_object_set_new(o, "mean", num(m->mean));
  json_object_set_new(o, "se", num(m->se));
  json_object_set_new(o, "ci95_t", json_pack("[o,o]", num(m->lo), num(m->hi)));
  json_object_set_new(o, "ci95_bootstrap", json_pack("[o,o]", num(m->boot_lo), num(m->boot_hi)));
  json_object_set_new(o, "n", json_integer(m->n));
  return o;
}
