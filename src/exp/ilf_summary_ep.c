/* `alab ilf summaries` (al_ilf_sum_ep_run in include/alab/ilf.h): the
 * summaries loop with each role an alab model directory or an
 * OpenAI-compatible endpoint (include/alab/provider.h): the policy
 * summarises n_ilf stories of the story world, the critic (exact, or a
 * model prompted to critique) writes feedback, the refiner refines, the
 * selector (exact, or a judge answering Yes/No with log-probs) keeps the
 * refinements that incorporate the feedback (ilf_summary_loop.c). The base
 * policy's fact accuracy is measured on n_eval fresh stories; when the
 * policy is a model directory it is finetuned on the kept refinements
 * (saved as policy_ilf/) and measured again, with the paired difference
 * over stories and its 95% t-interval.
 *
 * Run directory: config.json, ilf.jsonl, keep.jsonl, eval_base.jsonl,
 * eval_ilf.jsonl and policy_ilf/ (a local policy), results.json. */
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "exp/ilf_internal.h"

/* Per-story mean accuracy from evaluation records (story, score lines). */
static void per_story(const char *records, const ilf_facts *facts, int n, int samples, double *acc) {
  int k = 0;
  memset(acc, 0, sizeof(double) * (size_t)n);
  for (const char *p = records; p && *p; k++) {
    const char *nl = strchr(p, '\n');
    json_t *o = json_loadb(p, nl ? (size_t)(nl - p) : strlen(p), 0, NULL);
    int s = k / samples;
    if (s < n) acc[s] += (double)json_integer_value(json_object_get(o, "score")) / ilf_facts_count(&facts[s]) / samples;
    json_decref(o);
    p = nl ? nl + 1 : p + strlen(p);
  }
}

int al_ilf_sum_ep_run(const al_ilf_sum_ep_cfg *c, const char *dir, al_err *err) {
  if (!c->policy || !c->refiner) return al_fail(err, "ilf summaries: a policy and a refiner are needed");
  if (c->n_ilf < 1 || c->n_eval < 1 || c->samples < 1 || c->ilf_steps < 1)
    return al_fail(err, "ilf summaries: the story, sample and step counts must be positive");
  int n = c->n_eval, S = c->samples, local_policy = !ilf_is_url(c->policy);
  al_provider *pol = NULL, *ref = NULL, *cri = NULL, *jud = NULL;
  al_run run;
  if (al_mkdir_p(dir, err) || /* the response cache may live in dir */
      ilf_open_role(c->http, c->threads, "policy", c->policy, &pol, err) || ilf_open_role(c->http, c->threads, "refiner", c->refiner, &ref, err) ||
      ilf_open_role(c->http, c->threads, "critic", c->critic, &cri, err) || ilf_open_role(c->http, c->threads, "selector", c->judge && strcmp(c->judge, "all") ? c->judge : NULL, &jud, err) || al_run_open(&run, dir, err)) {
    al_provider_free(pol), al_provider_free(ref), al_provider_free(cri), al_provider_free(jud);
    return -1;
  }
  json_t *config = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:i, s:i, s:i, s:f, s:I, s:f, s:i, s:I}", "experiment",
                             "ilf summaries (providers)", "policy", c->policy, "refiner", c->refiner, "critic", c->critic,
                             "judge", c->judge, "n_ilf", c->n_ilf, "n_eval", n, "samples", S, "temperature", c->temperature,
                             "ilf_steps", (json_int_t)c->ilf_steps, "ilf_lr", c->ilf_lr, "batch", c->batch, "seed",
                             (json_int_t)c->seed);
  int rc = al_run_save_json(&run, "config.json", config, err);
  json_decref(config);
  char **ti = al_calloc((size_t)c->n_ilf, sizeof(char *)), **te = al_calloc((size_t)n, sizeof(char *));
  ilf_facts *fi = al_calloc((size_t)c->n_ilf, sizeof *fi), *fe = al_calloc((size_t)n, sizeof *fe);
  ilf_sum_stories(c->seed, 404, c->n_ilf, c->names, ti, fi), ilf_sum_stories(c->seed, 303, n, c->names, te, fe);
  int all = c->judge && !strcmp(c->judge, "all");
  ilf_sum_roles roles = {.policy = pol, .refiner = ref, .critic = cri, .judge = jud, .keep_all = all,
                         .temperature = c->temperature, .max_tokens = 48};
  ilf_sum_round round = {0};
  al_buf eb = {0}, ea = {0};
  double acc[2] = {0, 0}, exact[2] = {0, 0}, t0 = al_now();
  double *pb = al_calloc((size_t)n, sizeof(double)), *pa = al_calloc((size_t)n, sizeof(double));
  if (!rc) rc = ilf_sum_evaluate(pol, &roles, te, fe, n, S, c->seed + 31, &acc[0], &exact[0], &eb, err) ||
                ilf_write_text(dir, "eval_base.jsonl", eb.data ? eb.data : "", err);
  if (!rc) rc = ilf_sum_collect(&roles, ti, fi, c->n_ilf, c->seed + 11, &round, err) ||
                ilf_write_text(dir, "ilf.jsonl", round.records.data ? round.records.data : "", err) ||
                ilf_write_text(dir, "keep.jsonl", round.keep.data ? round.keep.data : "", err);
  ilf_tuned t = {0};
  if (!rc && local_policy && round.keep.data) /* finetune the policy on the kept refinements */
    rc = ilf_finetune_role(c->policy, round.keep.data, c->ilf_steps, c->ilf_lr, c->batch, c->seed + 21, c->threads, dir, &t,
                           err) ||
         ilf_sum_evaluate(t.p, &roles, te, fe, n, S, c->seed + 31, &acc[1], &exact[1], &ea, err) ||
         ilf_write_text(dir, "eval_ilf.jsonl", ea.data ? ea.data : "", err);
  al_provider *tuned = t.p;
  if (!rc) {
    json_t *res = json_pack("{s:s, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:b}", "experiment", "ilf summaries (providers)",
                            "acc_base", acc[0], "exact_base", exact[0], "ilf_attempted", round.attempted, "with_feedback",
                            round.with_feedback, "selected", round.selected, "improved", round.improved, "selected_improved",
                            round.selected_improved, "finetuned", tuned != NULL);
    json_object_set_new(res, "selected_exact", json_integer(round.selected_exact));
    json_object_set_new(res, "unchanged", json_integer(round.unchanged));
    json_t *head = json_array();
    char line[400];
    snprintf(line, sizeof line, "fact accuracy of %s on %d stories (%d summaries each, temperature %g): %.4f; %d of %d "
             "refinements kept (%d of them score higher than the summary)", pol->model, n, S, c->temperature, acc[0],
             round.selected, round.with_feedback, round.selected_improved);
    json_array_append_new(head, json_string(line));
    if (tuned) {
      per_story(eb.data, fe, n, S, pb), per_story(ea.data, fe, n, S, pa);
      for (int i = 0; i < n; i++) pa[i] -= pb[i];
      al_stat d = al_stat_of(pa, n);
      json_object_set_new(res, "acc_ilf", json_real(acc[1]));
      json_object_set_new(res, "exact_ilf", json_real(exact[1]));
      json_object_set_new(res, "gain", json_pack("{s:f, s:o, s:o, s:i}", "mean", d.mean, "lo", al_json_real_or_null(d.lo), "hi",
                                                 al_json_real_or_null(d.hi), "stories", n));
      snprintf(line, sizeof line, "after ILF on the kept refinements: %.4f; gain %+.4f [%+.4f, %+.4f] (paired over stories)",
               acc[1], d.mean, d.lo, d.hi);
      json_array_append_new(head, json_string(line));
    } else {
      json_array_append_new(head, json_string(local_policy ? "no refinement was kept: nothing to finetune on"
                                                           : "the policy is an endpoint: not finetuned (give a model directory)"));
    }
    json_t *roles = json_pack("{s:s, s:s, s:s, s:s}", "policy", pol->kind, "refiner", ref->kind, "critic",
                              cri ? cri->kind : "exact", "selector", all ? "all" : jud ? "judge" : "exact");
    al_provider *each[4] = {pol, ref, cri, jud};
    const char *names[4] = {"policy", "refiner", "critic", "selector"};
    rc = ilf_roles_finish(&run, rc, res, head, roles, each, names, 4, t0, err);
  } else {
    ilf_roles_finish(&run, rc, NULL, NULL, NULL, NULL, NULL, 0, t0, err);
  }
  ilf_tuned_free(&t);
  al_provider_free(pol), al_provider_free(ref), al_provider_free(cri), al_provider_free(jud);
  ilf_sum_round_free(&round), al_buf_free(&eb), al_buf_free(&ea);
  ilf_free_strs(ti, (size_t)c->n_ilf), ilf_free_strs(te, (size_t)n), free(fi), free(fe), free(pb), free(pa);
  return rc;
}
