/* `alab ilf eval` (include/alab/ilf.h): pass@k of a model directory or an
 * endpoint on an MBPP file, programs run in the sandbox. */
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/ilf.h"
#include "alab/json.h"
#include "alab/provider.h"

int al_ilf_eval_run(const al_ilf_eval_cfg *c, const char *dir, al_err *err) {
  if (!c->mbpp || (!c->model == !c->http)) return al_fail(err, "ilf eval: an MBPP file and one of a model directory or an endpoint are needed");
  al_mbpp m;
  if (al_mbpp_load(c->mbpp, &m, err)) return -1;
  int nread = m.n; /* al_mbpp_free frees every task read: m.n is restored before it */
  if (c->limit > 0 && c->limit < m.n) m.n = c->limit;
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
    al_sandbox_close(sb), al_provider_free(p);
    m.n = nread;
    al_mbpp_free(&m);
    return -1;
  }
  const al_code_eval_cfg *e = &c->eval;
  const al_http_cfg *h = c->http;
  json_t *config = json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:s?, s:i, s:f, s:i, s:b, s:s, s:I, s:f, s:i}", "experiment",
                             "ilf eval", "mbpp", c->mbpp, "limit", c->limit, "model", c->model, "api_base",
                             h ? h->base_url : NULL, "api_model", h ? h->model : NULL, "samples", e->samples,
                             "temperature", e->temperature, "max_tokens", e->max_tokens, "plain_prompt", e->plain, "prefix",
                             e->prefix ? e->prefix : "", "seed", (json_int_t)e->seed, "timeout_s", c->sandbox.wall_s,
                             "unsafe_no_sandbox", c->sandbox.unsafe_no_sandbox);
  rc = al_run_save_json(&run, "config.json", config, err);
  json_decref(config);
  json_t *recs = json_array();
  al_code_eval_res r;
  double t0 = al_now();
  if (!rc) rc = al_code_eval_mbpp(p, sb, &m, e, &r, recs, err);
  for (size_t i = 0; !rc && i < json_array_size(recs); i++) rc = al_run_metric(&run, json_incref(json_array_get(recs, i)), err);
  if (!rc) {
    json_t *res = json_pack("{s:s, s:i, s:i, s:i, s:i, s:{s:s, s:s}, s:f}", "experiment", "ilf eval", "tasks", r.tasks,
                            "samples", r.samples, "passed", r.passed, "failed_requests", r.failed_requests, "provider",
                            "kind", p->kind, "model", p->model, "seconds", al_now() - t0);
    json_t *head = json_array();
    for (int i = 0; i < e->nk; i++) {
      char key[32], line[256];
      snprintf(key, sizeof key, "pass@%d", e->ks[i]);
      json_object_set_new(res, key, json_real(r.pass_at[i]));
      snprintf(line, sizeof line, "%s of %s on %d MBPP tasks (%d samples each, temperature %g): %.4f", key, p->model, r.tasks,
               e->samples, e->temperature, r.pass_at[i]);
      json_array_append_new(head, json_string(line));
    }
    if (r.failed_requests) {
      char line[128];
      snprintf(line, sizeof line, "%d requests failed (counted as failing samples; see samples.jsonl)", r.failed_requests);
      json_array_append_new(head, json_string(line));
    }
    json_object_set_new(res, "headline", head);
    rc = al_run_save_json(&run, "results.json", res, err);
    json_decref(res);
  }
  json_decref(recs);
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  al_sandbox_close(sb), al_provider_free(p);
  m.n = nread;
  al_mbpp_free(&m);
  return rc;
}
