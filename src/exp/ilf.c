/* `alab ilf` on the toy code world (include/alab/ilf.h): seeds in parallel
 * (c->threads at once, each single-threaded inside, so the numbers do not
 * depend on the thread count), one sandbox shared by all, then every seed,
 * the 95% intervals over seeds, the plot, results.json and the report. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "alab/sweep.h"
#include "exp/ilf_internal.h"

void al_ilf_defaults(al_ilf_cfg *c, int quick) {
  memset(c, 0, sizeof *c);
  c->seeds = 6; /* docs/ilf.md: the measured spread needs 5-6 seeds; 6 cost no more wall on 2 cores */
  c->n_policy = 3000, c->n_refiner = 3000;
  c->p_wrong[0] = 0.4, c->p_wrong[1] = 0.3, c->p_wrong[2] = 0.2;
  c->policy_steps = quick ? 300 : 500, c->refiner_steps = quick ? 300 : 500, c->ilf_steps = quick ? 60 : 100;
  c->lr = 3e-3, c->ilf_lr = 1e-3;
  c->n_ilf = quick ? 160 : 320;
  c->n_eval = quick ? 48 : 96, c->samples = quick ? 4 : 8;
  c->ntests = 3;
  c->arch = "gpt2";
  c->layers = 2, c->heads = 4, c->embd = 64, c->batch = 16;
  c->workers = 8;
  c->sandbox = al_sandbox_defaults();
  al_ilf_sum_defaults(&c->sum, quick);
}

static const char *POLICY_NAMES[3] = {"base", "ilf", "untested"};

static json_t *config_json(const al_ilf_cfg *c) {
  json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:[f,f,f], s:I, s:I, s:I, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}",
                        "experiment", "ilf", "seeds", c->seeds, "n_policy", c->n_policy, "n_refiner", c->n_refiner,
                        "p_wrong", c->p_wrong[0], c->p_wrong[1], c->p_wrong[2], "policy_steps", (json_int_t)c->policy_steps,
                        "refiner_steps", (json_int_t)c->refiner_steps, "ilf_steps", (json_int_t)c->ilf_steps, "lr", c->lr,
                        "ilf_lr", c->ilf_lr, "n_ilf", c->n_ilf, "n_eval", c->n_eval, "samples", c->samples, "ntests",
                        c->ntests, "layers", c->layers, "heads", c->heads, "embd", c->embd, "batch", c->batch, "threads",
                        c->threads, "workers", c->workers);
  json_object_set_new(j, "sandbox", json_pack("{s:f, s:f, s:i, s:i, s:I, s:i, s:b}", "wall_s", c->sandbox.wall_s, "cpu_s",
                                              c->sandbox.cpu_s, "mem_mb", c->sandbox.mem_mb, "max_procs", c->sandbox.max_procs,
                                              "max_output", (json_int_t)c->sandbox.max_output, "max_file_mb",
                                              c->sandbox.max_file_mb, "unsafe_no_sandbox", c->sandbox.unsafe_no_sandbox));
  json_object_set_new(j, "arch", json_string(c->arch));
  return j;
}

json_t *ilf_stat_json(const al_stat *st, const double *x, int n) {
  json_t *seeds = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(seeds, al_json_real_or_null(x[i]));
  return json_pack("{s:o, s:o, s:o, s:o}", "mean", al_json_real_or_null(st->mean), "lo", al_json_real_or_null(st->lo), "hi",
                   al_json_real_or_null(st->hi), "seeds", seeds);
}

int ilf_plot3(const char *dir, const char *name, const char *title, const char *ylabel, const char *const labels[3],
              const al_stat st[3], al_err *err) {
  double x[3] = {0, 1, 2}, m[3], lo[3], hi[3];
  for (int v = 0; v < 3; v++) m[v] = st[v].mean, lo[v] = st[v].lo, hi[v] = st[v].hi;
  char stitle[300], xlabel[200];
  snprintf(stitle, sizeof stitle, "%s (95%% CI over seeds): 0 %s, 1 %s, 2 %s", ylabel, labels[0], labels[1], labels[2]);
  snprintf(xlabel, sizeof xlabel, "policy (0 %s, 1 %s, 2 %s)", labels[0], labels[1], labels[2]);
  al_plot_series s = {.title = stitle, .style = AL_PLOT_BAND, .n = 3, .x = x, .y = m, .lo = lo, .hi = hi};
  al_plot p = {.title = title, .xlabel = xlabel, .ylabel = ylabel};
  return al_plot_svg(dir, name, &p, &s, 1, err) < 0 ? -1 : 0;
}

static int check(const al_ilf_cfg *c, al_err *err) {
  if (c->seeds < 1 || c->seeds > 99) return al_fail(err, "ilf: seeds %d is outside [1, 99]", c->seeds);
  if (c->n_policy < 1 || c->n_refiner < 1 || c->n_ilf < 1 || c->n_eval < 1 || c->samples < 1 || c->ntests < 1)
    return al_fail(err, "ilf: the example, task, sample and test counts must be positive");
  if (c->policy_steps < 1 || c->refiner_steps < 1 || c->ilf_steps < 1) return al_fail(err, "ilf: step counts must be positive");
  for (int i = 0; i < 3; i++)
    if (!(c->p_wrong[i] >= 0 && c->p_wrong[i] <= 1)) return al_fail(err, "ilf: p_wrong[%d] = %g is outside [0, 1]", i, c->p_wrong[i]);
  if (c->layers < 1 || c->heads < 1 || c->embd < c->heads || c->embd % c->heads || c->batch < 1 || c->workers < 1)
    return al_fail(err, "ilf: layers, heads, batch and workers must be positive and embd a multiple of heads");
  return c->sum.seeds > 0 ? ilf_sum_check(&c->sum, err) : 0;
}

int al_ilf_run(const al_ilf_cfg *c, const char *dir, al_ilf_result *res, al_err *err) {
  if (res) memset(res, 0, sizeof *res);
  if (check(c, err)) return -1;
  al_sandbox *sb;
  if (al_sandbox_open(&c->sandbox, &sb, err)) return al_fail_prefix(err, "ilf");
  al_run run;
  if (al_run_open(&run, dir, err)) return al_sandbox_close(sb), -1;
  json_t *config = config_json(c);
  int rc = al_run_save_json(&run, "config.json", config, err), S = c->seeds;
  json_decref(config);
  double t0 = al_now();
  al_ilf_result r = {.seeds = S, .s = al_calloc((size_t)S, sizeof(al_ilf_seed))};
  al_first_err first = {0};
  int threads = c->threads > 0 ? c->threads : al_default_threads();
  char *files = al_path_join(dir, "seed1");
  if (!rc) rc = al_mkdir_p(files, err);
  /* under mpirun seed s runs on rank s mod R, every rank then holding every seed's numbers (include/alab/sweep.h) */
  al_sweep *sw = al_sweep_begin(S, &run);
  al_sweep_share(sw, r.s, sizeof *r.s * (size_t)S);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int s = 0; s < S; s++) {
    if (rc || !al_sweep_mine(sw, s) || al_first_err_failed(&first)) continue;
    al_err e;
    int was = al_log_mute(1);
    int failed = ilf_run_seed(c, sb, (uint64_t)s + 1, s == 0 ? files : NULL, &r.s[s], &e);
    al_log_mute(was);
    if (failed) al_first_err_keep(&first, &e);
    else
      al_log("ilf: seed %d: pass@1 %.3f (base) -> %.3f (ILF), %.3f (untested); %d of %d refinements passed", s + 1,
             r.s[s].pass1[0], r.s[s].pass1[1], r.s[s].pass1[2], r.s[s].refined_passed, r.s[s].failed);
  }
  free(files);
  al_sandbox_close(sb);
  if (!rc && first.failed) *err = first.err, rc = -1;
  rc = al_sweep_end(sw, rc, err);
  json_t *sum_res = NULL; /* the summaries loop's results.json, into ours */
  if (!rc && c->sum.seeds > 0) {
    char *sd = al_path_join(dir, "summaries"), *sp = al_path_join(sd, "results.json");
    /* a follower rank (mpirun) writes no files: rank 0 alone reads the loop's back */
    rc = al_ilf_sum_run(&c->sum, threads, sd, &r.sum, err) || (!run.follower && al_json_load_file(sp, &sum_res, err));
    free(sd), free(sp);
  }
  double v[3][100], g[3][100];
  for (int s = 0; s < S && !rc; s++) {
    const al_ilf_seed *x = &r.s[s];
    for (int k = 0; k < 3; k++) v[k][s] = x->pass1[k];
    g[0][s] = x->pass1[1] - x->pass1[0], g[1][s] = x->pass1[2] - x->pass1[0], g[2][s] = x->pass1[1] - x->pass1[2];
    for (int k = 0; k < 3 && !rc; k++)
      rc = al_run_metric(&run, json_pack("{s:i, s:s, s:f, s:f, s:i, s:i, s:i, s:i}", "seed", s + 1, "policy", POLICY_NAMES[k],
                                         "pass@1", x->pass1[k], "pass@samples", x->passk[k], "ilf_attempted", x->attempted,
                                         "ilf_failed", x->failed, "refinements_parsed", x->parsed, "refinements_passed",
                                         x->refined_passed), err);
  }
  if (!rc) {
    for (int k = 0; k < 3; k++) r.pass1[k] = al_stat_of(v[k], S);
    r.gain_ilf = al_stat_of(g[0], S), r.gain_untested = al_stat_of(g[1], S), r.ilf_vs_untested = al_stat_of(g[2], S);
    char h[4][300];
    snprintf(h[0], sizeof h[0], "pass@1 on %d held-out tasks (%d samples each, temperature 1), base policy: %.3f [%.3f, %.3f] (%d seeds)",
             c->n_eval, c->samples, r.pass1[0].mean, r.pass1[0].lo, r.pass1[0].hi, S);
    snprintf(h[1], sizeof h[1], "after ILF on refinements that pass their tests: %.3f [%.3f, %.3f]; gain %+.3f [%+.3f, %+.3f]%s",
             r.pass1[1].mean, r.pass1[1].lo, r.pass1[1].hi, r.gain_ilf.mean, r.gain_ilf.lo, r.gain_ilf.hi,
             r.gain_ilf.lo > 0 ? " (CI excludes 0)" : " (CI includes 0)");
    snprintf(h[2], sizeof h[2], "ablation, every refinement kept untested: %.3f [%.3f, %.3f]; gain %+.3f [%+.3f, %+.3f]",
             r.pass1[2].mean, r.pass1[2].lo, r.pass1[2].hi, r.gain_untested.mean, r.gain_untested.lo, r.gain_untested.hi);
    snprintf(h[3], sizeof h[3], "ILF minus untested (paired by seed): %+.3f [%+.3f, %+.3f]", r.ilf_vs_untested.mean,
             r.ilf_vs_untested.lo, r.ilf_vs_untested.hi);
    json_t *per_seed = json_array();
    for (int s = 0; s < S; s++) {
      const al_ilf_seed *x = &r.s[s];
      json_array_append_new(per_seed, json_pack("{s:i, s:[f,f,f], s:[f,f,f], s:i, s:i, s:i, s:i}", "seed", s + 1, "pass@1",
                                                x->pass1[0], x->pass1[1], x->pass1[2], "pass@samples", x->passk[0], x->passk[1],
                                                x->passk[2], "ilf_attempted", x->attempted, "ilf_failed", x->failed,
                                                "refinements_parsed", x->parsed, "refinements_passed", x->refined_passed));
    }
    json_t *out = json_pack("{s:s, s:[s,s,s], s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:[s,s,s,s], s:f}", "experiment", "ilf",
                            "policies", "base", "ilf", "untested", "pass1_base", ilf_stat_json(&r.pass1[0], v[0], S), "pass1_ilf",
                            ilf_stat_json(&r.pass1[1], v[1], S), "pass1_untested", ilf_stat_json(&r.pass1[2], v[2], S), "gain_ilf",
                            ilf_stat_json(&r.gain_ilf, g[0], S), "gain_untested", ilf_stat_json(&r.gain_untested, g[1], S),
                            "ilf_minus_untested", ilf_stat_json(&r.ilf_vs_untested, g[2], S), "per_seed", per_seed, "headline",
                            h[0], h[1], h[2], h[3], "seconds", al_now() - t0);
    if (sum_res) {
      json_t *hl = json_object_get(out, "headline"), *sh = json_object_get(sum_res, "headline");
      for (size_t i = 0; i < json_array_size(sh); i++) json_array_append(hl, json_array_get(sh, i));
      json_object_set(out, "summaries", sum_res);
    }
    rc = al_run_save_json(&run, "results.json", out, err);
    json_decref(out);
    static const char *const labels[3] = {"base", "ILF (tested refinements)", "untested refinements"};
    if (!rc) rc = ilf_plot3(dir, "pass1", "ILF on the toy code world: pass@1 on held-out tasks", "pass@1", labels, r.pass1, err);
    if (!rc) {
      al_index_entry e = {.name = "ilf", .subdir = "."};
      rc = al_report_index(dir, "alab ilf", &e, 1, err);
    }
  }
  json_decref(sum_res);
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc) rc = al_report_finish(dir, err);
  if (res && !rc) *res = r;
  else free(r.s), free(r.sum.s);
  return rc;
}

void al_ilf_result_free(al_ilf_result *r) {
  if (r) free(r->s), free(r->sum.s), r->s = NULL, r->sum.s = NULL;
}

int al_ilf_reproduce(const char *dir, int quick, al_err *err) {
  al_ilf_cfg c;
  al_ilf_defaults(&c, quick);
  return al_ilf_run(&c, dir, NULL, err);
}
