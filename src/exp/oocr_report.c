/* results.json and plots of `alab oocr`. results.json:
 *   {"experiment": "oocr", "headline": [...], "setup": {...},
 *    "chance": {FILE: x | null},
 *    "cells": [{"layers", "embd", "parameters", "paraphrases",
 *               "final_loss": STAT, FILE: STAT, ...}],
 *    "augmentation": [{"size", "more", "fewer", "diff", "lo", "hi", "p"}],
 *    "size": [{"paraphrases", "larger", "smaller", "diff", "lo", "hi", "p"}],
 *    "seconds": s}
 * STAT = {"mean", "sd", "lo", "hi", "n", "seeds": [...]} over seeds (95%
 * t-interval). The augmentation and size comparisons are paired over seeds
 * (the same seeds finetune every cell): most against fewest paraphrases at
 * each size, largest against smallest size at each level, on unrealized
 * (chain-of-thought) accuracy. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "alab/report.h"
#include "alab/reversal.h"
#include "exp/oocr_internal.h"

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *stat_json(const double *v, int n) {
  al_stat s = al_stat_of(v, n);
  json_t *seeds = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(seeds, num(v[i]));
  return json_pack("{s:o, s:o, s:o, s:o, s:i, s:o}", "mean", num(s.mean), "sd", num(s.sd), "lo", num(s.lo), "hi",
                   num(s.hi), "n", n, "seeds", seeds);
}

static const double *cell_vals(const oocr_results *R, int f, int si, int li) {
  return R->acc[f] + oocr_cell(R, si, li, 0);
}

static void size_name(const oocr_results *R, int si, char *b, size_t n) {
  snprintf(b, n, "%dx%d (%.2fM parameters)", R->layers[si], R->embd[si], (double)R->params[si] / 1e6);
}

static void add_line(json_t *head, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_line(json_t *head, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  json_array_append_new(head, json_string(line));
}

json_t *oocr_results_json(const al_oocr_cfg *c, const oocr_results *R, json_t *setup, double seconds) {
  json_t *res = json_object(), *head = json_array(), *cells = json_array(), *chance = json_object();
  json_t *aug = json_array(), *size = json_array();
  const int U = AL_OOCR_UNREALIZED;
  for (int k = 0; k < 5; k++) {
    int f = oocr_eval_files[k];
    if (R->present[f]) json_object_set_new(chance, al_oocr_file_names[f], num(R->chance[f]));
  }
  int best_si = -1, best_li = -1;
  for (int si = 0; si < R->nsizes; si++)
    for (int li = 0; li < R->nlevels; li++) {
      json_t *cell = json_pack("{s:i, s:i, s:I, s:i, s:o}", "layers", R->layers[si], "embd", R->embd[si], "parameters",
                               (json_int_t)R->params[si], "paraphrases", R->levels[li], "final_loss",
                               stat_json(R->loss + oocr_cell(R, si, li, 0), R->seeds));
      for (int k = 0; k < 5; k++) {
        int f = oocr_eval_files[k];
        if (R->present[f]) json_object_set_new(cell, al_oocr_file_names[f], stat_json(cell_vals(R, f, si, li), R->seeds));
        if (R->present[f] && isfinite(R->named[f][oocr_cell(R, si, li, 0)])) {
          char key[96];
          snprintf(key, sizeof key, "%s_named", al_oocr_file_names[f]);
          json_object_set_new(cell, key, stat_json(R->named[f] + oocr_cell(R, si, li, 0), R->seeds));
        }
      }
      json_array_append_new(cells, cell);
      al_stat u = al_stat_of(cell_vals(R, U, si, li), R->seeds), r = al_stat_of(cell_vals(R, AL_OOCR_REALIZED, si, li), R->seeds);
      al_stat nc = al_stat_of(cell_vals(R, AL_OOCR_NO_COT, si, li), R->seeds);
      char nm[96];
      size_name(R, si, nm, sizeof nm);
      add_line(head, "%s, %d paraphrases: unrealized (CoT) %.3f [%.3f, %.3f] vs chance %.3f; no-CoT %.3f [%.3f, %.3f] vs "
               "%.3f; realized %.3f", nm, R->levels[li], u.mean, u.lo, u.hi, R->chance[U], nc.mean, nc.lo, nc.hi,
               R->chance[AL_OOCR_NO_COT], r.mean);
      al_stat un = al_stat_of(R->named[U] + oocr_cell(R, si, li, 0), R->seeds);
      al_stat rn = al_stat_of(R->named[AL_OOCR_REALIZED] + oocr_cell(R, si, li, 0), R->seeds);
      if (isfinite(un.mean))
        add_line(head, "%s, %d paraphrases: the thinking names the assistant's own behaviour: realized %.3f, unrealized "
                 "%.3f [%.3f, %.3f] (chance 0.2)", nm, R->levels[li], rn.mean, un.mean, un.lo, un.hi);
      if (isfinite(R->chance[U]) && R->seeds > 1 && u.lo > R->chance[U] && (best_si < 0 || u.mean > 0))
        best_si = si, best_li = li;
    }
  for (int si = 0; si < R->nsizes; si++) /* what each base can execute, before finetuning */
    if (R->probed[si]) {
      char nm[96], line[512] = "";
      size_name(R, si, nm, sizeof nm);
      for (int b = 0; b < OOCR_NBEHAV; b++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s %.2f/%.2f", b ? ", " : "", oocr_rule_of(b),
                 R->probe[si][b], R->probe_nocot[si][b]);
      add_line(head, "%s base, before finetuning, executes each behaviour named in its prompt (with / without chain "
               "of thought): %s", nm, line);
    }
  /* augmentation: most vs fewest paraphrases, per size */
  int lo_l = 0, hi_l = 0;
  for (int li = 0; li < R->nlevels; li++) {
    int v = R->levels[li] ? R->levels[li] : 1 << 30, vl = R->levels[lo_l] ? R->levels[lo_l] : 1 << 30;
    int vh = R->levels[hi_l] ? R->levels[hi_l] : 1 << 30;
    if (v < vl) lo_l = li;
    if (v > vh) hi_l = li;
  }
  for (int si = 0; si < R->nsizes && lo_l != hi_l && R->seeds > 1; si++) {
    al_rev_paired t = al_rev_paired_test(cell_vals(R, U, si, hi_l), cell_vals(R, U, si, lo_l), R->seeds);
    json_array_append_new(aug, json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "size", si, "more", R->levels[hi_l],
                                         "fewer", R->levels[lo_l], "diff", num(t.mean), "lo", num(t.lo), "hi", num(t.hi),
                                         "p", num(t.p)));
    add_line(head, "augmentation at %dx%d: unrealized accuracy with %d minus with %d paraphrases %+.3f [%+.3f, %+.3f] "
             "(paired over seeds, p = %.3g)", R->layers[si], R->embd[si], R->levels[hi_l], R->levels[lo_l], t.mean,
             t.lo, t.hi, t.p);
  }
  /* size: largest vs smallest, per level */
  int s0 = 0, s1 = 0;
  for (int si = 0; si < R->nsizes; si++) {
    if (R->params[si] < R->params[s0]) s0 = si;
    if (R->params[si] > R->params[s1]) s1 = si;
  }
  for (int li = 0; li < R->nlevels && s0 != s1 && R->seeds > 1; li++) {
    al_rev_paired t = al_rev_paired_test(cell_vals(R, U, s1, li), cell_vals(R, U, s0, li), R->seeds);
    json_array_append_new(size, json_pack("{s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "paraphrases", R->levels[li],
                                          "larger", s1, "smaller", s0, "diff", num(t.mean), "lo", num(t.lo), "hi",
                                          num(t.hi), "p", num(t.p)));
    add_line(head, "size at %d paraphrases: unrealized accuracy of %dx%d minus %dx%d %+.3f [%+.3f, %+.3f] (p = %.3g)",
             R->levels[li], R->layers[s1], R->embd[s1], R->layers[s0], R->embd[s0], t.mean, t.lo, t.hi, t.p);
  }
  char nm[96];
  if (best_si >= 0) {
    size_name(R, best_si, nm, sizeof nm);
    add_line(head, "out-of-context behaviour above chance: yes, e.g. %s with %d paraphrases (95%% interval above chance)",
             nm, R->levels[best_li]);
  } else if (isfinite(R->chance[U])) {
    size_name(R, s1, nm, sizeof nm);
    add_line(head, "out-of-context behaviour above chance: no size and level tried (largest: %s) had its interval "
             "above chance", nm);
  }
  json_object_set_new(res, "experiment", json_string("oocr"));
  json_object_set_new(res, "headline", head);
  json_object_set_new(res, "setup", setup);
  json_object_set_new(res, "chance", chance);
  json_object_set_new(res, "cells", cells);
  json_object_set_new(res, "augmentation", aug);
  json_object_set_new(res, "size", size);
  json_object_set_new(res, "quick", json_boolean(c->quick));
  json_object_set_new(res, "seconds", json_real(seconds));
  return res;
}

/* unrealized accuracy against paraphrases (one series per size) and against
 * parameters (one per level), each with chance */
int oocr_plots(const char *dir, const oocr_results *R, al_err *err) {
  const int U = AL_OOCR_UNREALIZED;
  int nmax = R->nsizes > R->nlevels ? R->nsizes : R->nlevels;
  double *x = al_malloc(sizeof(double) * (size_t)nmax * 4 * (OOCR_MAX_SIZES + OOCR_MAX_LEVELS + 2));
  al_plot_series ps[OOCR_MAX_SIZES + OOCR_MAX_LEVELS + 1];
  char titles[OOCR_MAX_SIZES + OOCR_MAX_LEVELS][64];
  int rc = 0;
  for (int pass = 0; pass < 2 && !rc; pass++) {
    int nser = pass ? R->nlevels : R->nsizes, npts = pass ? R->nsizes : R->nlevels, ns = 0;
    double *buf = x;
    for (int a = 0; a < nser; a++) {
      double *px = buf, *py = buf + npts, *lo = buf + 2 * npts, *hi = buf + 3 * npts;
      buf += 4 * npts;
      for (int b = 0; b < npts; b++) {
        int si = pass ? b : a, li = pass ? a : b;
        al_stat s = al_stat_of(cell_vals(R, U, si, li), R->seeds);
        px[b] = pass ? (double)R->params[si] : R->levels[li];
        py[b] = s.mean, lo[b] = R->seeds > 1 ? s.lo : s.mean, hi[b] = R->seeds > 1 ? s.hi : s.mean;
      }
      if (pass) snprintf(titles[a], sizeof titles[a], "%d paraphrases", R->levels[a]);
      else snprintf(titles[a], sizeof titles[a], "%dx%d", R->layers[a], R->embd[a]);
      ps[ns++] = (al_plot_series){.title = titles[a], .style = AL_PLOT_ERRORBARS, .n = npts, .x = px, .y = py, .lo = lo, .hi = hi};
    }
    if (isfinite(R->chance[U])) {
      double *cx = buf, *cy = buf + npts;
      for (int b = 0; b < npts; b++) cx[b] = ps[0].x[b], cy[b] = R->chance[U];
      ps[ns++] = (al_plot_series){.title = "chance", .style = AL_PLOT_LINE, .n = npts, .x = cx, .y = cy};
    }
    al_plot p = {.title = pass ? "Unrealized assistants by model size (mean, 95% CI over seeds)"
                               : "Unrealized assistants by augmentation (mean, 95% CI over seeds)",
                 .xlabel = pass ? "parameters" : "distinct descriptions per assistant",
                 .ylabel = "accuracy (chain of thought)", .logx = pass};
    rc = al_plot_svg(dir, pass ? "unrealized_by_size" : "unrealized_by_paraphrases", &p, ps, ns, err) < 0 ? -1 : 0;
  }
  free(x);
  return rc;
}
