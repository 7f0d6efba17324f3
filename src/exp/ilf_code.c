/* `alab ilf code` (al_ilf_code_run in include/alab/ilf.h): ILF for code
 * with each role a model directory or an endpoint. Loads the tasks, opens
 * the roles (ilf_roles.c) and the sandbox, measures the policy's pass@k,
 * runs one round (ilf_code_round.c), finetunes a directory policy on the
 * kept refinements and measures it again: the paired difference over the
 * evaluation tasks of per-task pass@1, with its 95% t-interval. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/sandbox.h"
#include "exp/ilf_code_internal.h"

const char *const al_ilf_code_critic_template =
    "You are an expert Python programmer, and here is a task: {text} The code should pass these tests:\n\n{tests}"
    "Here is code for it, which does not pass them ({verdict}):\n[BEGIN]\n{program}\n[DONE]\n"
    "What is wrong with the code, in one sentence:";
const char *const al_ilf_code_refine_template =
    "You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n{tests}"
    "Here is code that does not pass them:\n[BEGIN]\n{program}\n[DONE]\nFeedback: {feedback}\n"
    "Here is the code rewritten to follow the feedback:\n[BEGIN]\n";

al_ilf_code_cfg al_ilf_code_defaults(void) {
  al_ilf_code_cfg c = {.temperature = 0.8, .ilf_steps = 40, .ilf_lr = 1e-3, .batch = 8, .refinements = 1,
                       .refine_temperature = 0.8};
  c.eval = al_code_eval_defaults();
  c.sandbox = al_sandbox_defaults();
  return c;
}

static int check(const al_ilf_code_cfg *c, al_err *err) {
  if (!c->policy || !c->refiner) return al_fail(err, "ilf code: --policy and --refiner are needed");
  if (!c->mbpp == !c->annotations) return al_fail(err, "ilf code: give one of --mbpp FILE or --annotations FILE");
  if (c->annotations && c->critic)
    return al_fail(err, "ilf code: --critic %s: with --annotations the feedback is the file's (give no --critic)", c->critic);
  if (c->ilf_steps < 1 || c->batch < 1 || c->limit < 0 || c->refinements < 1)
    return al_fail(err, "ilf code: --ilf-steps, --batch and --refinements must be positive");
  return al_code_template_check(c->critic_template ? c->critic_template : al_ilf_code_critic_template, "--critic-template", err) ||
         al_code_template_check(c->refine_template ? c->refine_template : al_ilf_code_refine_template, "--refine-template", err);
}

/* Per-task pass@1 (the share of its samples that pass) from eval records. */
static void per_task(json_t *recs, int tasks, int samples, double *p) {
  memset(p, 0, sizeof(double) * (size_t)tasks);
  for (size_t k = 0; k < json_array_size(recs) && (int)(k / samples) < tasks; k++)
    p[k / samples] += !strcmp(json_string_value(json_object_get(json_array_get(recs, k), "verdict")), "passed") / (double)samples;
}

static int save_records(const char *dir, const char *name, json_t *recs, al_err *err) {
  al_buf b = {0};
  for (size_t i = 0; i < json_array_size(recs); i++) {
    char *line = json_dumps(json_array_get(recs, i), JSON_COMPACT);
    if (line) al_buf_printf(&b, "%s\n", line);
    free(line);
  }
  int rc = ilf_write_text(dir, name, b.data ? b.data : "", err);
  al_buf_free(&b);
  return rc;
}

static void pass_lines(json_t *res, json_t *head, const char *key, const al_code_eval_cfg *e, const double *pass, const char *who,
                       int tasks) {
  json_t *o = json_object();
  for (int i = 0; i < e->nk; i++) {
    char k[32], line[512];
    snprintf(k, sizeof k, "pass@%d", e->ks[i]);
    json_object_set_new(o, k, json_real(pass[i]));
    snprintf(line, sizeof line, "%s of %s on %d tasks (%d samples each, temperature %g): %.4f", k, who, tasks, e->samples,
             e->temperature, pass[i]);
    json_array_append_new(head, json_string(line));
  }
  json_object_set_new(res, key, o);
}

int al_ilf_code_run(const al_ilf_code_cfg *c, const char *dir, al_err *err) {
  if (check(c, err)) return -1;
  al_mbpp tasks = {0}, held = {0};
  al_ilf_annotations ann = {0};
  int rc = c->mbpp ? al_mbpp_load(c->mbpp, &tasks, err) : al_annotations_load(c->annotations, &ann, err);
  if (!rc && c->annotations) al_mbpp_from_annotations(&ann, &tasks);
  int full = tasks.n, full_ann = ann.n; /* the frees below restore them: they free the first n */
  if (!rc && c->limit && c->limit < tasks.n) tasks.n = c->limit, ann.n = c->annotations ? c->limit : 0;
  if (!rc && c->eval_mbpp) rc = al_mbpp_load(c->eval_mbpp, &held, err);
  if (!rc && (!tasks.n || (c->eval_mbpp && !held.n)))
    rc = al_fail(err, "%s: no tasks", !tasks.n ? (c->mbpp ? c->mbpp : c->annotations) : c->eval_mbpp);
  if (rc) return tasks.n = full, ann.n = full_ann, al_mbpp_free(&tasks), al_mbpp_free(&held), al_annotations_free(&ann), -1;
  ilf_code_ctx x = {.c = c, .tasks = &tasks, .ann = c->annotations ? &ann : NULL, .gen = c->eval};
  x.critic_template = c->critic_template ? c->critic_template : al_ilf_code_critic_template;
  x.refine_template = c->refine_template ? c->refine_template : al_ilf_code_refine_template;
  x.gen.humaneval = c->annotations != NULL || c->eval.humaneval;
  x.gen.samples = 1, x.gen.ks[0] = 1, x.gen.nk = 1, x.gen.temperature = c->temperature, x.gen.seed = c->eval.seed + 11;
  al_code_eval_cfg ev = c->eval;
  if (!c->eval_mbpp) ev.humaneval = x.gen.humaneval; /* the ILF tasks' own format */
  const al_mbpp *E = c->eval_mbpp ? &held : &tasks;
  al_run run;
  rc = al_sandbox_open(&c->sandbox, &x.sb, err) || al_mkdir_p(dir, err) ||
       ilf_open_role(c->http, c->threads, "policy", c->policy, &x.policy, err) ||
       ilf_open_role(c->http, c->threads, "refiner", c->refiner, &x.refiner, err) ||
       ilf_open_role(c->http, c->threads, "critic", c->critic, &x.critic, err) || al_run_open(&run, dir, err);
  if (rc) {
    al_sandbox_close(x.sb), al_provider_free(x.policy), al_provider_free(x.refiner), al_provider_free(x.critic);
    tasks.n = full, ann.n = full_ann, al_mbpp_free(&tasks), al_mbpp_free(&held), al_annotations_free(&ann);
    return -1;
  }
  int local = !ilf_is_url(c->policy), T = E->n, S = ev.samples;
  json_t *ks = json_array();
  for (int i = 0; i < ev.nk; i++) json_array_append_new(ks, json_integer(ev.ks[i]));
  json_t *config = json_pack("{s:s, s:s?, s:s?, s:s?, s:i, s:s, s:s, s:s?, s:s, s:s, s:b, s:i, s:i, s:f, s:f, s:o, s:b, s:b, "
                             "s:I, s:f, s:i, s:I, s:f}",
                             "experiment", "ilf code (providers)", "mbpp", c->mbpp, "annotations", c->annotations, "eval_mbpp",
                             c->eval_mbpp, "limit", c->limit, "policy", c->policy, "refiner", c->refiner, "critic", c->critic,
                             "critic_template", x.critic_template, "refine_template", x.refine_template, "keep_all", c->keep_all,
                             "samples", S, "max_tokens", ev.max_tokens, "temperature", c->temperature, "eval_temperature",
                             ev.temperature, "ks", ks, "plain_prompt", ev.plain, "humaneval_prompt", ev.humaneval,
                             "ilf_steps", (json_int_t)c->ilf_steps, "ilf_lr", c->ilf_lr, "batch", c->batch, "seed",
                             (json_int_t)ev.seed, "timeout_s", c->sandbox.wall_s);
  json_object_set_new(config, "refinements", json_integer(c->refinements));
  json_object_set_new(config, "refine_temperature", json_real(c->refine_temperature));
  rc = al_run_save_json(&run, "config.json", config, err);
  json_decref(config);
  json_t *eb = json_array(), *ea = json_array();
  al_code_eval_res rb = {0}, ra = {0};
  ilf_code_round_res round = {0};
  ilf_tuned t = {0};
  double t0 = al_now();
  if (!rc) rc = al_code_eval_mbpp(x.policy, x.sb, E, &ev, &rb, eb, err) || save_records(dir, "eval_base.jsonl", eb, err);
  if (!rc) rc = ilf_code_round(&x, ev.seed + 11, &round, err) || ilf_write_text(dir, "ilf.jsonl", round.records.data ? round.records.data : "", err) ||
                ilf_write_text(dir, "keep.jsonl", round.keep.data ? round.keep.data : "", err) ||
                ilf_write_text(dir, "all.jsonl", round.all.data ? round.all.data : "", err);
  if (!rc && local && round.keep.data)
    rc = ilf_finetune_role(c->policy, round.keep.data, c->ilf_steps, c->ilf_lr, c->batch, ev.seed + 21, c->threads, dir, &t,
                           err) ||
         al_code_eval_mbpp(t.p, x.sb, E, &ev, &ra, ea, err) || save_records(dir, "eval_ilf.jsonl", ea, err);
  if (!rc) {
    json_t *res = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:b}", "experiment", "ilf code (providers)",
                            "ilf_tasks", round.attempted, "passed_first", round.passed_first, "failed", round.failed,
                            "with_feedback", round.with_feedback, "refined_passed", round.refined_passed, "kept", round.kept,
                            "eval_tasks", T, "eval_on_ilf_tasks", E == &tasks, "finetuned", t.p != NULL);
    /* pass@1 of the refinements (one greedy refinement per failure with feedback), and of the round */
    int R = c->refinements;
    json_object_set_new(res, "refinement_pass1", al_json_real_or_null(round.with_feedback ? (double)round.refinements_passed /
                                                                                             ((double)round.with_feedback * R) : NAN));
    json_object_set_new(res, "refinements_per_failure", json_integer(R));
    json_object_set_new(res, "failed_requests", json_integer(round.failed_requests));
    json_object_set_new(res, "round_pass1", json_real((double)(round.passed_first + round.refined_passed) / round.attempted));
    json_t *head = json_array();
    char line[512];
    snprintf(line, sizeof line, "ILF round on %d tasks: the %s programs pass %d; feedback on %d of %d failures; %d refinements "
             "pass their tests (%d kept); solved after refinement: %d of %d (%.4f, from %.4f)", round.attempted,
             c->annotations ? "file's original" : "policy's", round.passed_first, round.with_feedback, round.failed,
             round.refined_passed, round.kept, round.passed_first + round.refined_passed, round.attempted,
             round.attempted ? (double)(round.passed_first + round.refined_passed) / round.attempted : 0,
             round.attempted ? (double)round.passed_first / round.attempted : 0);
    json_array_append_new(head, json_string(line));
    pass_lines(res, head, "base", &ev, rb.pass_at, x.policy->model, T);
    if (t.p) {
      pass_lines(res, head, "ilf", &ev, ra.pass_at, "the policy after ILF", T);
      double *pb = al_calloc((size_t)T + 1, sizeof(double)), *pa = al_calloc((size_t)T + 1, sizeof(double));
      per_task(eb, T, S, pb), per_task(ea, T, S, pa);
      for (int i = 0; i < T; i++) pa[i] -= pb[i];
      al_stat d = al_stat_of(pa, T);
      json_object_set_new(res, "gain_pass1", json_pack("{s:f, s:o, s:o, s:i}", "mean", d.mean, "lo", al_json_real_or_null(d.lo),
                                                      "hi", al_json_real_or_null(d.hi), "tasks", T));
      snprintf(line, sizeof line, "pass@1 after ILF minus before: %+.4f [%+.4f, %+.4f] (paired over %d tasks%s)", d.mean, d.lo,
               d.hi, T, E == &tasks ? "; the ILF tasks themselves, not held out" : "");
      json_array_append_new(head, json_string(line));
      free(pb), free(pa);
    } else {
      json_array_append_new(head, json_string(local ? "no refinement was kept: nothing to finetune on"
                                                    : "the policy is an endpoint: not finetuned (give a model directory)"));
    }
    json_t *roles = json_pack("{s:s, s:s, s:s, s:s}", "policy", x.policy->kind, "refiner", x.refiner->kind, "critic",
                              c->annotations ? "annotations" : x.critic ? x.critic->kind : "exact", "selector",
                              c->keep_all ? "all" : "tests");
    al_provider *each[3] = {x.policy, x.refiner, x.critic};
    const char *names[3] = {"policy", "refiner", "critic"};
    rc = ilf_roles_finish(&run, rc, res, head, roles, each, names, 3, t0, err);
  } else {
    ilf_roles_finish(&run, rc, NULL, NULL, NULL, NULL, NULL, 0, t0, err);
  }
  ilf_tuned_free(&t), ilf_code_round_free(&round), json_decref(eb), json_decref(ea);
  al_sandbox_close(x.sb), al_provider_free(x.policy), al_provider_free(x.refiner), al_provider_free(x.critic);
  tasks.n = full, ann.n = full_ann, al_mbpp_free(&tasks), al_mbpp_free(&held), al_annotations_free(&ann);
  return rc;
}
