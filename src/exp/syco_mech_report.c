/* The sycophancy mechanism's results (src/exp/syco_mech.c): every seed's
 * numbers as metrics lines, the means over seeds with 95% t-intervals, the
 * rise of the sycophancy rate from n = 1 to n = N per condition, and the
 * plots of sycophancy and accuracy against n. results.json:
 *   {"experiment": "sycophancy", "headline": [...],
 *    "conditions": [{"p": .., "pm_prefers_sycophantic_heldout": {mean, lo, hi, seeds},
 *                    "pm_prefers_sycophantic_train": {..}, "sycophancy": [per n], "accuracy": [per n],
 *                    "rise": {mean, lo, hi, seeds}, "accuracy_change": {..}}, ...],
 *    "reproduced_best_of_n": bool, "reproduced_rl": bool or null without RL} */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/report.h"
#include "exp/syco_mech_internal.h"

static json_t *stat_json(const double *x, int n) {
  al_stat s = al_stat_of(x, n);
  json_t *seeds = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(seeds, al_json_real_or_null(x[i]));
  return json_pack("{s:o, s:o, s:o, s:o, s:o}", "mean", al_json_real_or_null(s.mean), "sd", al_json_real_or_null(s.sd),
                   "lo", al_json_real_or_null(s.lo), "hi", al_json_real_or_null(s.hi), "seeds", seeds);
}

/* x[s] = f(job of seed s) for the condition's jobs. */
static void gather(const mech_job *j, int seeds, double (*f)(const mech_job *, int), int arg, double *x) {
  for (int s = 0; s < seeds; s++) x[s] = f(&j[s], arg);
}
static double f_heldout(const mech_job *j, int a) { return (void)a, j->pm_syc_heldout; }
static double f_train(const mech_job *j, int a) { return (void)a, j->pm_syc_train; }
static double f_syc(const mech_job *j, int n) { return j->syc[n]; }
static double f_acc(const mech_job *j, int n) { return j->acc[n]; }
static double f_rl(const mech_job *j, int i) { return j->rl_syc[i]; }

static int plot(const al_syco_mech_cfg *c, al_run *run, const char *name, const char *ylabel, al_series_stats st[2],
                al_err *err) {
  int N = st[0].iters, rl = !strcmp(name, "rl");
  double *x = al_malloc(sizeof(double) * (size_t)N), *m = al_malloc(sizeof(double) * 6 * (size_t)N);
  for (int n = 0; n < N; n++) x[n] = n + 1;
  char t[2][64];
  al_plot_series ps[2];
  for (int k = 0; k < 2; k++) {
    double *y = m + (size_t)(3 * k) * N, *lo = y + N, *hi = lo + N;
    for (int n = 0; n < N; n++) y[n] = st[k].stat[n].mean, lo[n] = st[k].stat[n].lo, hi[n] = st[k].stat[n].hi;
    snprintf(t[k], sizeof t[k], k ? "labeller bias p = %g (control)" : "labeller bias p = %g", k ? c->p_control : c->p);
    ps[k] = (al_plot_series){.title = t[k], .style = AL_PLOT_BAND, .n = N, .x = x, .y = y, .lo = lo, .hi = hi};
  }
  char title[160];
  snprintf(title, sizeof title, "%s against the preference model: %s (mean, 95%% CI over %d seeds)",
           rl ? "RL (RLOO)" : "Best-of-n", ylabel, c->seeds);
  al_plot p = {.title = title, .xlabel = rl ? "batch of RL rollouts" : "n (responses sampled; the preference model picks one)",
               .ylabel = ylabel, .logx = !rl};
  int rc = al_plot_svg(run->dir, name, &p, ps, 2, err) < 0 ? -1 : 0;
  free(x), free(m);
  return rc;
}

int syco_mech_report(const al_syco_mech_cfg *c, al_run *run, const mech_job *jobs, json_t **results, al_err *err) {
  int S = c->seeds, N = c->N, rc = 0;
  for (int k = 0; k < 2 * S && !rc; k++) { /* every seed's numbers */
    const mech_job *j = &jobs[k];
    json_t *syc = json_array(), *acc = json_array();
    for (int n = 0; n < N; n++) json_array_append_new(syc, json_real(j->syc[n])), json_array_append_new(acc, json_real(j->acc[n]));
    json_t *rl = json_array();
    for (long i = 0; i < c->rl_iters; i++) json_array_append_new(rl, al_json_real_or_null(j->rl_syc[i]));
    rc = al_run_metric(run, json_pack("{s:f, s:i, s:f, s:f, s:f, s:i, s:f, s:o, s:o, s:o}", "p", k < S ? c->p : c->p_control,
                                      "seed", k % S, "pm_final_loss", j->final_loss, "pm_prefers_sycophantic_heldout",
                                      j->pm_syc_heldout, "pm_prefers_sycophantic_train", j->pm_syc_train, "labels_flipped",
                                      j->flipped, "pm_train_s", j->train_s, "sycophancy", syc, "accuracy", acc,
                                      "rl_sycophancy", rl),
                       err);
  }
  if (rc) return -1;
  al_series_stats syc[2], acc[2], rls[2];
  double rl_lo[2] = {NAN, NAN};
  memset(rls, 0, sizeof rls);
  json_t *conds = json_array(), *head = json_array();
  double *x = al_malloc(sizeof(double) * (size_t)S), rise_lo[2] = {0};
  for (int k = 0; k < 2; k++) {
    const mech_job *j = jobs + (size_t)k * S;
    double p = k ? c->p_control : c->p;
    al_series_init(&syc[k], N, S, 0), al_series_init(&acc[k], N, S, 0);
    for (int n = 0; n < N; n++) {
      gather(j, S, f_syc, n, syc[k].vals + (size_t)n * S);
      gather(j, S, f_acc, n, acc[k].vals + (size_t)n * S);
    }
    al_series_finish(&syc[k]), al_series_finish(&acc[k]);
    json_t *o = json_pack("{s:f}", "p", p);
    gather(j, S, f_heldout, 0, x);
    al_stat pm = al_stat_of(x, S);
    json_object_set_new(o, "pm_prefers_sycophantic_heldout", stat_json(x, S));
    gather(j, S, f_train, 0, x);
    json_object_set_new(o, "pm_prefers_sycophantic_train", stat_json(x, S));
    json_object_set_new(o, "sycophancy", al_series_json(&syc[k]));
    json_object_set_new(o, "accuracy", al_series_json(&acc[k]));
    for (int s = 0; s < S; s++) x[s] = j[s].syc[N - 1] - j[s].syc[0];
    al_stat rise = al_stat_of(x, S);
    rise_lo[k] = rise.lo;
    json_object_set_new(o, "rise", stat_json(x, S));
    for (int s = 0; s < S; s++) x[s] = j[s].acc[N - 1] - j[s].acc[0];
    al_stat dacc = al_stat_of(x, S);
    json_object_set_new(o, "accuracy_change", stat_json(x, S));
    json_t *rl_line = NULL;
    if (c->rl_iters > 0) { /* RL: each batch's sycophancy rate; the rise = the last 5 batches' mean - the first's */
      al_series_init(&rls[k], (int)c->rl_iters, S, 0);
      for (int i = 0; i < c->rl_iters; i++) gather(j, S, f_rl, i, rls[k].vals + (size_t)i * S);
      al_series_finish(&rls[k]);
      int last = c->rl_iters < 5 ? (int)c->rl_iters : 5;
      for (int s = 0; s < S; s++) {
        double m = 0;
        for (int i = (int)c->rl_iters - last; i < c->rl_iters; i++) m += j[s].rl_syc[i] / last;
        x[s] = m - j[s].rl_syc[0];
      }
      al_stat rr = al_stat_of(x, S);
      rl_lo[k] = rr.lo;
      json_object_set_new(o, "rl_sycophancy", al_series_json(&rls[k]));
      json_object_set_new(o, "rl_rise", stat_json(x, S));
      rl_line = json_sprintf("p = %g%s: RL (RLOO, %ld batches) sycophancy %.3f in the first batch, %.3f over the last "
                             "%d: rise %+.3f [%.3f, %.3f]; %d seeds",
                             p, k ? " (control)" : "", c->rl_iters, rls[k].stat[0].mean, rr.mean + rls[k].stat[0].mean,
                             last, rr.mean, rr.lo, rr.hi, S);
    }
    json_array_append_new(conds, o);
    json_array_append_new(head, json_sprintf("p = %g%s: the preference model prefers the sycophantic response on "
                                             "%.1f%% [%.1f, %.1f] of held-out prompts",
                                             p, k ? " (control)" : "", 100 * pm.mean, 100 * pm.lo, 100 * pm.hi));
    json_array_append_new(head, json_sprintf("p = %g%s: best-of-n sycophancy %.3f at n = 1, %.3f at n = %d: rise %+.3f "
                                             "[%.3f, %.3f]; accuracy %.3f -> %.3f (%+.3f [%.3f, %.3f]); %d seeds",
                                             p, k ? " (control)" : "", syc[k].stat[0].mean, syc[k].stat[N - 1].mean, N,
                                             rise.mean, rise.lo, rise.hi, acc[k].stat[0].mean, acc[k].stat[N - 1].mean,
                                             dacc.mean, dacc.lo, dacc.hi, S));
    if (rl_line) json_array_append_new(head, rl_line);
  }
  /* the paper's finding, per optimiser: the biased labeller's rise is above 0 (its interval), the control's is not */
  int bon_ok = rise_lo[0] > 0 && !(rise_lo[1] > 0), rl_ok = rl_lo[0] > 0 && !(rl_lo[1] > 0);
  json_array_append_new(head, json_sprintf("finding (optimising by best-of-n against a preference model trained on "
                                           "agreement-biased labels raises sycophancy; unbiased labels do not): %s",
                                           bon_ok ? "reproduced" : "not reproduced"));
  if (c->rl_iters > 0)
    json_array_append_new(head, json_sprintf("finding (the same by RL): %s", rl_ok ? "reproduced" : "not reproduced"));
  *results = json_pack("{s:s, s:o, s:o, s:b, s:o}", "experiment", "sycophancy", "headline", head, "conditions", conds,
                       "reproduced_best_of_n", bon_ok, "reproduced_rl", c->rl_iters > 0 ? json_boolean(rl_ok) : json_null());
  rc = plot(c, run, "sycophancy", "sycophancy rate", syc, err);
  if (!rc) rc = plot(c, run, "accuracy", "accuracy", acc, err);
  if (!rc && c->rl_iters > 0) rc = plot(c, run, "rl", "sycophancy rate", rls, err);
  for (int k = 0; k < 2; k++) al_series_free(&syc[k]), al_series_free(&acc[k]), al_series_free(&rls[k]);
  free(x);
  return rc;
}
