/* `alab ilf eval` (include/alab/ilf.h): pass@k of a model directory or an
 * endpoint on an MBPP file, or of its refinements from the feedback of an
 * annotation file; programs run in the sandbox. */
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/ilf.h"
#include "alab/json.h"
#include "alab/provider.h"

/* The tasks: MBPP or annotations, cut to the first c->limit. */
typedef struct {
  al_mbpp m;
  al_ilf_annotations a;
  int nread;
} inputs;

static int load(const al_ilf_eval_cfg *c, inputs *in, al_err *err) {
  memset(in, 0, sizeof *in);
  int *n = c->mbpp ? &in->m.n : &in->a.n;
  if (c->mbpp ? al_mbpp_load(c->mbpp, &in->m, err) : al_annotations_load(c->annotations, &in->a, err)) return -1;
  in->nread = *n; /* the free functions free every task read: n is restored before them */
  if (c->limit > 0 && c->limit < *n) *n = c->limit;
  return 0;
}

static void unload(inputs *in) {
  if (in->m.t) in->m.n = in->nread, al_mbpp_free(&in->m);
  if (in->a.a) in->a.n = in->nread, al_annotations_free(&in->a);
}

static json_t *pass_json(json_t *res, json_t *head, const al_code_eval_cfg *e, const double *pass_at, const char *what,
                         const char *model, int n) {
  for (int i = 0; i < e->nk; i++) {
    char key[32], line[300];
    snprintf(key, sizeof key, "pass@%d", e->ks[i]);
    json_object_set_new(res, key, json_real(pass_at[i]));
    snprintf(line, sizeof line, "%s of %s on %d %s (%d samples each, temperature %g): %.4f", key, model, n, what, e->samples,
             e->temperature, pass_at[i]);
    json_array_append_new(head, json_string(line));
  }
  return res;
}

int al_ilf_eval_run(const al_ilf_eval_cfg *c, const char *dir, al_err *err) {
  if (!c->mbpp == !c->annotations || (!c->model == !c->http))
    return al_fail(err, "ilf eval: one of an MBPP file or an annotation file, and one of a model directory or an endpoint, are needed");
  inputs in;
  if (load(c, &in, err)) return -1;
  al_sandbox *sb = NULL;
  al_provider *p = NULL;
  al_run run;
  int rc = al_sandbox_open(&c->sandbox, &sb, err) || al_mkdir_p(dir, err); /* the response cache lives in dir */
  if (!rc && c->model) {
    al_local_cfg lc = al_local_cfg_default();
    lc.threads = c->threads;
    rc = al_provider_local(&p, c->model, &lc, err);
    if (rc) al_fail_prefix(err, "--model %s", c->model);
  } else if (!rc) {
    rc = al_provider_http(&p, c->http, err);
  }
  if (!rc) rc = al_run_open(&run, dir, err);
  if (rc) {
    al_sandbox_close(sb), al_provider_free(p), unload(&in);
    return -1;
  }
  const al_code_eval_cfg *e = &c->eval;
  const al_http_cfg *h = c->http;
  json_t *config = json_pack("{s:s, s:s?, s:s?, s:i, s:s?, s:s?, s:s?, s:i, s:f, s:i, s:b, s:s, s:I, s:f, s:i}", "experiment",
                             "ilf eval", "mbpp", c->mbpp, "annotations", c->annotations, "limit", c->limit, "model", c->model,
                             "api_base", h ? h->base_url : NULL, "api_model", h ? h->model : NULL, "samples", e->samples,
                             "temperature", e->temperature, "max_tokens", e->max_tokens, "plain_prompt", e->plain, "prefix",
                             e->prefix ? e->prefix : "", "seed", (json_int_t)e->seed, "timeout_s", c->sandbox.wall_s,
                             "unsafe_no_sandbox", c->sandbox.unsafe_no_sandbox);
  rc = al_run_save_json(&run, "config.json", config, err);
  json_decref(config);
  json_t *recs = json_array(), *res = NULL, *head = json_array();
  double t0 = al_now();
  if (!rc && c->mbpp) {
    al_code_eval_res r;
    rc = al_code_eval_mbpp(p, sb, &in.m, e, &r, recs, err);
    if (!rc) {
      res = json_pack("{s:s, s:i, s:i, s:i, s:i}", "experiment", "ilf eval", "tasks", r.tasks, "samples", r.samples, "passed",
                      r.passed, "failed_requests", r.failed_requests);
      pass_json(res, head, e, r.pass_at, "MBPP tasks", p->model, r.tasks);
    }
  } else if (!rc) {
    al_refine_res r;
    rc = al_refine_annotations(p, sb, &in.a, e, &r, recs, err);
    if (!rc) {
      res = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "experiment", "ilf eval", "annotations", r.n, "samples", r.samples,
                      "passed", r.passed, "failed_requests", r.failed_requests, "original_passed", r.original_passed,
                      "human_refinement_passed", r.human_passed);
      pass_json(res, head, e, r.pass_at, "annotated programs refined from their feedback", p->model, r.n);
      char line[256];
      snprintf(line, sizeof line, "baselines in the file: the original programs pass %d of %d, the annotators' refinements %d",
               r.original_passed, r.n, r.human_passed);
      json_array_append_new(head, json_string(line));
    }
  }
  for (size_t i = 0; !rc && i < json_array_size(recs); i++) rc = al_run_metric(&run, json_incref(json_array_get(recs, i)), err);
  if (!rc) {
    long failed = (long)json_integer_value(json_object_get(res, "failed_requests"));
    if (failed) {
      char line[128];
      snprintf(line, sizeof line, "%ld requests failed (counted as failing samples; see metrics.jsonl)", failed);
      json_array_append_new(head, json_string(line));
    }
    json_object_set_new(res, "provider", json_pack("{s:s, s:s}", "kind", p->kind, "model", p->model));
    json_object_set_new(res, "seconds", json_real(al_now() - t0));
    json_object_set(res, "headline", head);
    rc = al_run_save_json(&run, "results.json", res, err);
  }
  json_decref(res), json_decref(head), json_decref(recs);
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  al_sandbox_close(sb), al_provider_free(p), unload(&in);
  return rc;
}
