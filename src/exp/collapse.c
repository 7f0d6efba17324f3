/* `alab collapse`: the parts table, config.json / results.json of the run,
 * and the helpers the parts share (plots, metrics lines, headlines). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/collapse.h"
#include "alab/json.h"
#include "alab/report.h"

/* The parts, in the order they run. A part whose functions are NULL is not
 * built yet: "all" skips it and naming it is an error. Each records its
 * settings under config[name], its results under results[name], metrics
 * lines with "part": name, and plots name_*.svg. */
static const al_collapse_part parts[] = {
    {"linear", al_collapse_linear_resolve, al_collapse_linear_run},
    {"gauss", al_collapse_gauss_resolve, al_collapse_gauss_run},
    {"lm", al_collapse_lm_resolve, al_collapse_lm_run},
};
#define NPARTS (int)(sizeof parts / sizeof parts[0])

void al_collapse_defaults(al_collapse_cfg *c) {
  memset(c, 0, sizeof *c);
  c->parts = "all";
  c->policies = "replace,accumulate,accumulate-subsample";
  c->seeds = 0;
  c->seed = 1;
  c->d = "10";
  c->T = "100";
  c->sigma2 = "1";
  c->iters = 10;
  c->gauss_d = 1;
  c->gauss_n = 50;
  c->gauss_iters = 50;
  c->gauss_var = 1;
  /* lm: quick scale (3 seeds of 13 models each in a few minutes on 2 cores) */
  c->lm_data = "story";
  c->lm_tokenizer = "bpe:512";
  c->lm_tokens = 40000;
  c->lm_gens = 5;
  c->arch = "gpt2";
  c->lm_layers = 2;
  c->lm_heads = 4;
  c->lm_embd = 64;
  c->lm_context = 64;
  c->lm_batch = 8;
  c->lm_lr = 1e-2;
  c->lm_epochs = 8;
  c->lm_steps = 0;
  c->lm_temperature = 1;
  c->lm_heldout = 16384;
  c->lm_max_story = 1024;
}

/* Which parts run: chosen[k] for parts[k]. */
static int parse_parts(const char *s, int *chosen, al_err *err) {
  memset(chosen, 0, sizeof(int) * NPARTS);
  if (!s || !strcmp(s, "all")) {
    for (int k = 0; k < NPARTS; k++) chosen[k] = parts[k].run != NULL;
    return 0;
  }
  const char *item;
  size_t len;
  for (const char *p = s; al_comma_next(&p, &item, &len);) {
    int found = -1;
    for (int k = 0; k < NPARTS; k++)
      if (al_item_is(item, len, parts[k].name)) found = k;
    if (found < 0) return al_fail(err, "--part: unknown part '%.*s' (known: linear, gauss, lm, all)", (int)len, item);
    if (!parts[found].run)
      return al_fail(err, "--part: the '%s' part is not built yet in this alab (it needs src/exp/collapse_%s.c)",
                     parts[found].name, parts[found].name);
    chosen[found] = 1;
  }
  return 0;
}

/* config.json of the run: every part's settings, validated; NULL on error.
 * chosen[k] says which parts run. */
static json_t *resolve_config(const al_collapse_cfg *c, int *chosen, al_err *err) {
  if (parse_parts(c->parts, chosen, err)) return NULL;
  int pol[AL_NPOLICIES];
  if (al_parse_policies(c->policies, pol, err) < 0) return NULL;
  json_t *config = json_pack("{s:s, s:I, s:b}", "experiment", "collapse", "seed", (json_int_t)c->seed, "quick", c->quick);
  json_t *plist = json_array();
  json_object_set_new(config, "parts", plist);
  for (int k = 0; k < NPARTS; k++) {
    if (!chosen[k]) continue;
    json_array_append_new(plist, json_string(parts[k].name));
    if (parts[k].resolve(c, config, err)) {
      json_decref(config);
      al_fail_prefix(err, "collapse");
      return NULL;
    }
  }
  return config;
}

int al_collapse_check(const al_collapse_cfg *c, al_err *err) {
  int chosen[NPARTS];
  json_t *config = resolve_config(c, chosen, err);
  int ok = config != NULL;
  json_decref(config);
  return ok ? 0 : -1;
}

json_t *al_collapse_config_json(const al_collapse_cfg *c, al_err *err) {
  al_err e;
  int chosen[NPARTS];
  return resolve_config(c, chosen, err ? err : &e);
}

int al_collapse_run(const al_collapse_cfg *c, const char *dir, al_err *err) {
  int chosen[NPARTS];
  json_t *config = resolve_config(c, chosen, err); /* everything is validated before anything is written */
  if (!config) return -1;
  al_run run;
  if (al_run_open(&run, dir, err)) {
    json_decref(config);
    return -1;
  }
  json_t *results = json_pack("{s:s, s:s, s:[]}", "experiment", "collapse", "paper",
                              "Gerstgrasser et al. 2024, Is Model Collapse Inevitable? Breaking the Curse of Recursion "
                              "by Accumulating Real and Synthetic Data",
                              "headline");
  int rc = al_run_save_json(&run, "config.json", config, err);
  double t0 = al_now();
  for (int k = 0; k < NPARTS && !rc; k++) {
    if (!chosen[k]) continue;
    double t = al_now();
    if ((rc = parts[k].run(c, &run, results, err))) break;
    al_log("collapse: %s part took %.1f s", parts[k].name, al_now() - t);
  }
  if (!rc) {
    json_object_set_new(results, "seconds", json_real(al_now() - t0));
    rc = al_run_save_json(&run, "results.json", results, err);
  }
  if (!rc) {
    al_index_entry e = {.name = "collapse", .subdir = "."}; /* the summary is the registry's */
    rc = al_report_index(run.dir, "alab collapse", &e, 1, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc) rc = al_report_finish(dir, err); /* report.html, once metrics.jsonl is in place */
  json_decref(config);
  json_decref(results);
  return rc;
}

int al_collapse_reproduce(const char *dir, int quick, al_err *err) {
  al_collapse_cfg c;
  al_collapse_defaults(&c);
  c.quick = quick;
  if (!quick) { /* full scale: the linear closed forms over a sweep of d and T (minutes) */
    c.d = "10,50";
    c.T = "100,1000";
    c.iters = 20;
    c.lm_tokens = 100000; /* language models: 2.5x the data, twice the depth (estimated 5x the quick time) */
    c.lm_layers = 4;
  }
  return al_collapse_run(&c, dir, err);
}

/* ---- helpers shared by the parts ---- */

int al_collapse_plot(al_run *run, const char *name, const char *title, const char *ylabel, const int *policies, int npol,
                     const al_series_stats *st, al_err *err) {
  al_collapse_axis ax = {.name = "iteration", .first = 1};
  return al_collapse_plot_axis(run, name, title, ylabel, &ax, policies, npol, st, err);
}

int al_collapse_plot_axis(al_run *run, const char *name, const char *title, const char *ylabel, const al_collapse_axis *ax,
                          const int *policies, int npol, const al_series_stats *st, al_err *err) {
  int ni = st[0].iters, ns = 0;
  al_plot_series ps[2 * AL_NPOLICIES + 1];
  char cf_title[AL_NPOLICIES][64];
  double *buf = al_malloc(sizeof(double) * (size_t)ni * (2 + 3 * npol)), *x = buf, *ref = buf + (size_t)ni * (1 + 3 * npol);
  for (int n = 0; n < ni; n++) x[n] = ax->first + n, ref[n] = ax->ref;
  for (int p = 0; p < npol; p++) {
    double *mean = buf + (size_t)ni * (1 + 3 * p), *lo = mean + ni, *hi = lo + ni;
    for (int n = 0; n < ni; n++) mean[n] = st[p].stat[n].mean, lo[n] = st[p].stat[n].lo, hi[n] = st[p].stat[n].hi;
    const char *pname = al_policy_names[policies[p]];
    ps[ns++] = (al_plot_series){.title = pname, .style = AL_PLOT_BAND, .color = p + 1, .n = ni, .x = x, .y = mean, .lo = lo, .hi = hi};
    if (st[p].closed_form) {
      snprintf(cf_title[p], sizeof cf_title[p], "%s: closed form", pname);
      ps[ns++] = (al_plot_series){.title = cf_title[p], .style = AL_PLOT_LINE, .color = p + 1, .n = ni, .x = x, .y = st[p].closed_form};
    }
  }
  if (ax->ref_title)
    ps[ns++] = (al_plot_series){.title = ax->ref_title, .style = AL_PLOT_LINE, .color = npol + 1, .n = ni, .x = x, .y = ref};
  al_plot pl = {.title = title, .xlabel = ax->name, .ylabel = ylabel};
  int rc = al_plot_svg(run->dir, name, &pl, ps, ns, err);
  free(buf);
  return rc < 0 ? -1 : 0;
}


int al_collapse_metrics(al_run *run, const json_t *setting, const char *quantity, const int *policies, int npol,
                        const al_series_stats *st, al_err *err) {
  al_collapse_axis ax = {.name = "iter", .first = 1};
  return al_collapse_metrics_axis(run, setting, quantity, &ax, policies, npol, st, err);
}

int al_collapse_metrics_axis(al_run *run, const json_t *setting, const char *quantity, const al_collapse_axis *ax,
                             const int *policies, int npol, const al_series_stats *st, al_err *err) {
  for (int p = 0; p < npol; p++)
    for (int n = 0; n < st[p].iters; n++) {
      json_t *rec = json_deep_copy(setting);
      json_object_set_new(rec, "policy", json_string(al_policy_names[policies[p]]));
      json_object_set_new(rec, ax->name, json_integer(ax->first + n));
      json_object_set_new(rec, "quantity", json_string(quantity));
      json_object_set_new(rec, "mean", al_json_real_or_null(st[p].stat[n].mean));
      json_object_set_new(rec, "lo", al_json_real_or_null(st[p].stat[n].lo));
      json_object_set_new(rec, "hi", al_json_real_or_null(st[p].stat[n].hi));
      json_object_set_new(rec, "closed_form",
                          st[p].closed_form ? al_json_real_or_null(st[p].closed_form[n]) : json_null());
      if (al_run_metric(run, rec, err)) return -1;
    }
  return 0;
}

json_t *al_collapse_series_json(const int *policies, int npol, const al_series_stats *st) {
  json_t *o = json_object();
  for (int p = 0; p < npol; p++) json_object_set_new(o, al_policy_names[policies[p]], al_series_json(&st[p]));
  return o;
}

void al_collapse_headline(json_t *headline, const char *setting, const char *quantity, const int *policies, int npol,
                          const al_series_stats *st) {
  for (int p = 0; p < npol; p++) {
    int last = st[p].iters - 1;
    const al_stat *a = &st[p].stat[0], *z = &st[p].stat[last];
    char line[600];
    int len = snprintf(line, sizeof line, "%s, %d seeds, %s: %s at iteration %d = %.4g [95%% CI %.4g, %.4g], %.3gx iteration 1",
                       setting, st[p].seeds, al_policy_names[policies[p]], quantity, last + 1, z->mean, z->lo, z->hi,
                       z->mean / a->mean);
    if (st[p].closed_form && len > 0 && len < (int)sizeof line)
      snprintf(line + len, sizeof line - len, "; closed form %.4g, largest deviation over iterations %.1f%%",
               st[p].closed_form[last], 100 * al_series_max_rel_dev(&st[p]));
    json_array_append_new(headline, json_string(line));
  }
}
