/* results.json and plots of `alab cpm`: per n, each quantity's mean over
 * seeds with its 95% t-interval and every seed's value (al_series_json);
 * differences CPM - standard RM paired over seeds; the n where each kind's
 * mean gold peaks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/report.h"
#include "exp/cpm_internal.h"

static const char *const kind_names[CPM_KINDS] = {"cpm", "rm", "gold_bon"};

static json_t *series(const cpm_seed *S, int seeds, int which, int kind, al_series_stats *st) {
  al_series_init(st, S[0].nn, seeds, 0);
  for (int k = 0; k < S[0].nn; k++)
    for (int s = 0; s < seeds; s++)
      st->vals[k * seeds + s] = which == 0 ? S[s].agree[kind][k] : which == 1 ? S[s].gold[kind][k] : S[s].proxy[kind][k];
  al_series_finish(st);
  json_t *j = al_series_json(st);
  size_t i;
  json_t *e;
  json_array_foreach(j, i, e) json_object_set_new(e, "n", json_integer(S[0].n[i]));
  return j;
}

/* The n of the largest mean. */
static int peak(const al_series_stats *st, const int *n) {
  int best = 0;
  for (int k = 1; k < st->iters; k++)
    if (st->stat[k].mean > st->stat[best].mean) best = k;
  return n[best];
}

static al_stat diff_last(const al_series_stats *a, const al_series_stats *b) {
  int k = a->iters - 1, S = a->seeds;
  double *d = al_malloc(sizeof(double) * S);
  for (int s = 0; s < S; s++) d[s] = a->vals[k * S + s] - b->vals[k * S + s];
  al_stat st = al_stat_of(d, S);
  free(d);
  return st;
}

static json_t *stat_json(al_stat s, const double *vals, int n) {
  json_t *seeds = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(seeds, json_real(vals[i]));
  return json_pack("{s:f, s:f, s:f, s:o}", "mean", s.mean, "lo", s.lo, "hi", s.hi, "seeds", seeds);
}

json_t *cpm_results_json(const al_cpm_exp_cfg *c, const cpm_seed *S, double seconds) {
  int seeds = c->seeds, nn = S[0].nn;
  al_series_stats ag[2], gold[CPM_KINDS], proxy[CPM_KINDS];
  json_t *jag = json_object(), *jgold = json_object(), *jproxy = json_object(), *acc = json_object();
  for (int k = 0; k < 2; k++) json_object_set_new(jag, kind_names[k], series(S, seeds, 0, k, &ag[k]));
  for (int k = 0; k < CPM_KINDS; k++) {
    json_object_set_new(jgold, kind_names[k], series(S, seeds, 1, k, &gold[k]));
    json_object_set_new(jproxy, kind_names[k], series(S, seeds, 2, k, &proxy[k]));
  }
  al_stat a[2];
  for (int k = 0; k < 2; k++) {
    double v[64];
    for (int s = 0; s < seeds; s++) v[s] = S[s].acc[k];
    a[k] = al_stat_of(v, seeds);
    json_object_set_new(acc, kind_names[k], stat_json(a[k], v, seeds));
  }
  json_t *ns = json_array(), *kl = json_array(), *coef = json_array();
  for (int k = 0; k < nn; k++) json_array_append_new(ns, json_integer(S[0].n[k])), json_array_append_new(kl, json_real(al_bon_kl(S[0].n[k])));
  for (int s = 0; s < seeds; s++) json_array_append_new(coef, json_incref(S[s].coef));
  al_stat dag = diff_last(&ag[0], &ag[1]), dgold = diff_last(&gold[0], &gold[1]);
  int pk_cpm = peak(&gold[0], S[0].n), pk_rm = peak(&gold[1], S[0].n), N = S[0].n[nn - 1];
  const al_stat *gc = &gold[0].stat[nn - 1], *gr = &gold[1].stat[nn - 1];
  char h[4][400];
  snprintf(h[0], sizeof h[0], "held-out accuracy: CPM %.3f [%.3f, %.3f], standard RM %.3f [%.3f, %.3f] (%d seeds)",
           a[0].mean, a[0].lo, a[0].hi, a[1].mean, a[1].lo, a[1].hi, seeds);
  snprintf(h[1], sizeof h[1],
           "two halves pick the same best-of-%d sample: CPM %.3f [%.3f, %.3f], standard RM %.3f [%.3f, %.3f]; "
           "difference %.3f [%.3f, %.3f]",
           N, ag[0].stat[nn - 1].mean, ag[0].stat[nn - 1].lo, ag[0].stat[nn - 1].hi, ag[1].stat[nn - 1].mean,
           ag[1].stat[nn - 1].lo, ag[1].stat[nn - 1].hi, dag.mean, dag.lo, dag.hi);
  snprintf(h[2], sizeof h[2],
           "gold reward of the best-of-%d pick: CPM %.3f [%.3f, %.3f], standard RM %.3f [%.3f, %.3f]; difference "
           "%.3f [%.3f, %.3f]; ceiling (best-of-%d by gold) %.3f",
           N, gc->mean, gc->lo, gc->hi, gr->mean, gr->lo, gr->hi, dgold.mean, dgold.lo, dgold.hi, N,
           gold[2].stat[nn - 1].mean);
  snprintf(h[3], sizeof h[3], "mean gold peaks at n = %d for the CPM and n = %d for the standard RM (n = 1: %.3f)",
           pk_cpm, pk_rm, gold[0].stat[0].mean);
  json_t *headline = json_array();
  for (int i = 0; i < 4; i++) json_array_append_new(headline, json_string(h[i]));
  json_t *r = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:i}, s:{s:o, s:o}, s:o, s:f}",
                        "experiment", "cpm", "headline", headline, "n", ns, "kl", kl, "accuracy", acc, "agreement", jag,
                        "gold", jgold, "proxy", jproxy, "gold_peak_n", "cpm", pk_cpm, "rm", pk_rm, "difference_at_N",
                        "agreement", stat_json(dag, NULL, 0), "gold", stat_json(dgold, NULL, 0), "coefficients", coef,
                        "seconds", seconds);
  for (int k = 0; k < 2; k++) al_series_free(&ag[k]);
  for (int k = 0; k < CPM_KINDS; k++) al_series_free(&gold[k]), al_series_free(&proxy[k]);
  return r;
}

/* One plot of a quantity against x for the given kinds, bands over seeds. */
static int plot(const al_run *run, const char *name, const al_plot *p, const cpm_seed *S, int seeds, int which,
                int nkinds, const double *x, al_err *err) {
  static const char *const titles[CPM_KINDS] = {"compositional PM", "standard reward model", "best-of-n by gold (ceiling)"};
  al_series_stats st[CPM_KINDS];
  al_plot_series ps[CPM_KINDS];
  int nn = S[0].nn;
  double *mean = al_malloc(sizeof(double) * 3 * nn * CPM_KINDS);
  for (int k = 0; k < nkinds; k++) {
    json_decref(series(S, seeds, which, k, &st[k]));
    double *m = mean + (size_t)3 * nn * k;
    for (int i = 0; i < nn; i++) m[i] = st[k].stat[i].mean, m[nn + i] = st[k].stat[i].lo, m[2 * nn + i] = st[k].stat[i].hi;
    ps[k] = (al_plot_series){.title = titles[k], .style = k == 2 ? AL_PLOT_LINE : AL_PLOT_BAND, .n = nn, .x = x,
                             .y = m, .lo = m + nn, .hi = m + 2 * nn};
  }
  int rc = al_plot_svg(run->dir, name, p, ps, nkinds, err) < 0 ? -1 : 0;
  for (int k = 0; k < nkinds; k++) al_series_free(&st[k]);
  free(mean);
  return rc;
}

int cpm_plots(const al_run *run, const cpm_seed *S, int seeds, al_err *err) {
  int nn = S[0].nn;
  double *n = al_malloc(sizeof(double) * nn), *skl = al_malloc(sizeof(double) * nn);
  for (int k = 0; k < nn; k++) n[k] = S[0].n[k], skl[k] = sqrt(al_bon_kl(S[0].n[k]));
  al_plot pa = {"Robustness: two halves' models pick the same best-of-n sample", "n", "P(same pick)", 1, 0};
  al_plot pg = {"Gold reward of the best-of-n pick", "sqrt(KL(best-of-n || policy))", "gold reward", 0, 0};
  al_plot pp = {"Proxy reward of the best-of-n pick (each model's own scale)", "sqrt(KL(best-of-n || policy))",
                "proxy reward", 0, 0};
  int rc = plot(run, "agreement", &pa, S, seeds, 0, 2, n, err);
  if (!rc) rc = plot(run, "gold", &pg, S, seeds, 1, 3, skl, err);
  if (!rc) rc = plot(run, "proxy", &pp, S, seeds, 2, 2, skl, err);
  free(n), free(skl);
  return rc;
}
