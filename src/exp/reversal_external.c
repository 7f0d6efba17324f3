/* `alab reversal --model DIR` and `alab reversal --api-base URL`: the
 * paper's evaluation of an existing model, without training. The test files
 * of --data (or of facts generated with --seed into DIR/data) are scored once
 * through a provider, by the same code that evaluates the training run's
 * models (reversal_eval.c):
 *   --model     the local engine on an alab model directory; each prompt
 *               after the model's <|endoftext|> (alab's models train on
 *               EOT prompt completion EOT), one example per call, so the
 *               numbers are those the training run measured for that model.
 *   --api-base  an OpenAI-compatible endpoint; each prompt after --api-prefix
 *               (default none, as the paper queries existing models); a
 *               slot's requests go at once (the provider's concurrency).
 * results.json has the training run's shape with one variant, "evaluated",
 * and one "seed", plus "provider" (kind, model, endpoint, prefix, requests). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/report.h"
#include "exp/reversal_internal.h"

static const char *const evaluated_names[2] = {"evaluated", "evaluated"};

/* The provider, and the tokenizer and context that size generations. */
static int open_provider(const al_rev_cfg *c, al_model *m, al_tok **tok, al_provider **p, char **prefix, al_err *err) {
  if (c->model) {
    if (al_model_load_dir(m, c->model, err)) return al_fail_prefix(err, "--model %s", c->model);
    if (al_tok_load(tok, c->model, err)) {
      al_model_free(m);
      return al_fail_prefix(err, "--model %s", c->model);
    }
    al_local_cfg lc = al_local_cfg_default();
    lc.threads = 1;
    if (al_provider_local_wrap(p, m, *tok, c->model, &lc, err)) return -1;
    *prefix = rev_eot_text(*tok);
    return 0;
  }
  al_http_cfg h = *c->api;
  h.tokenizer = c->api_tokenizer;
  h.fail_fast = 1;
  *prefix = al_strdup(c->api_prefix ? c->api_prefix : "");
  if (c->api_tokenizer) {
    if (al_tok_load(tok, c->api_tokenizer, err)) return al_fail_prefix(err, "--api-tokenizer %s", c->api_tokenizer);
    al_err e1, e2;
    int32_t *ids = NULL;
    size_t n = 0, cap = 0;
    long a = al_tok_encode(*tok, *prefix, strlen(*prefix), 1, &ids, &n, &cap, &e1);
    n = 0;
    long b = al_tok_encode(*tok, *prefix, strlen(*prefix), 0, &ids, &n, &cap, &e2);
    free(ids);
    if (a != b)
      return al_fail(err, "--api-prefix '%s' holds a special token, which token-id mode (--api-tokenizer) sends as "
                          "plain text; leave out --api-tokenizer so the endpoint reads the prefix as text", *prefix);
  }
  return al_provider_http(p, &h, err);
}

static json_t *provider_json(const al_rev_cfg *c, const al_provider *p, const char *prefix) {
  json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:s}", "kind", p->kind, "model", p->model, "api_base",
                        c->api ? c->api->base_url : NULL, "api_tokenizer", c->api_tokenizer, "prompt_prefix", prefix);
  al_http_stats hs;
  if (!al_provider_http_stats(p, &hs))
    json_object_set_new(j, "requests", json_pack("{s:I, s:I, s:I, s:I}", "sent", (json_int_t)hs.requests, "retries",
                                                 (json_int_t)hs.retries, "failed", (json_int_t)hs.failures,
                                                 "cache_hits", (json_int_t)hs.cache_hits));
  return j;
}

int rev_run_external(const al_rev_cfg *c, const char *dir, json_t **results_out, al_err *err) {
  al_run run;
  if (al_run_open(&run, dir, err)) return -1;
  double t_start = al_now();
  char *data_dir = c->data ? al_strdup(c->data) : al_run_path(&run, "data");
  json_t *config = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:I, s:i, s:b}", "experiment",
                             "reversal", "data", data_dir, "model", c->model, "api_base",
                             c->api ? c->api->base_url : NULL, "api_model", c->api ? c->api->model : NULL,
                             "api_tokenizer", c->api_tokenizer, "api_prefix", c->api_prefix, "per_group",
                             c->data ? json_null() : json_integer(c->per_group), "train_templates",
                             c->data ? json_null() : json_integer(c->train_templates), "test_templates",
                             c->data ? json_null() : json_integer(c->test_templates), "seed", (json_int_t)c->seed,
                             "eval_max", c->eval_max, "quick", c->quick);
  int rc = al_run_save_json(&run, "config.json", config, err);
  al_rev_data d;
  memset(&d, 0, sizeof d);
  if (!rc) rc = rev_prepare_data(c, data_dir, &d, err);
  al_model m;
  memset(&m, 0, sizeof m);
  al_tok *tok = NULL;
  al_provider *p = NULL;
  char *prefix = NULL;
  if (!rc) rc = open_provider(c, &m, &tok, &p, &prefix, err);
  rev_results R;
  rev_results_init(&R, &d, 1);
  R.vnames = evaluated_names;
  R.ran[0] = 1;
  R.loss[0][0] = NAN; /* nothing trained */
  json_t *recs = json_array(), *results = NULL, *info = json_object();
  if (!rc) {
    al_log("reversal: evaluating %s (%s) on %s", p->model, p->kind, data_dir);
    al_rev_evaluator ev = {.p = p, .tok = tok, .context = c->model ? m.cfg.n_positions : 0, .prefix = prefix,
                           .batch = c->model ? 1 : 0};
    double t0 = al_now();
    rc = rev_eval_slots(&ev, c->model ? &m : NULL, &d, c->eval_max, 0, 0, &R, recs, err);
    R.secs[0][0] = al_now() - t0;
  }
  size_t i;
  json_t *r;
  json_array_foreach(recs, i, r) if (!rc) rc = al_run_metric(&run, json_incref(r), err);
  if (!rc) {
    int per[AL_REV_NGROUPS] = {0};
    for (int k = 0; k < d.npeople; k++) per[d.group[k]]++;
    json_object_set_new(info, "people", json_integer(d.npeople));
    json_object_set_new(info, "people_per_group", json_pack("{s:i, s:i, s:i}", "p2d", per[0], "d2p", per[1], "both", per[2]));
    json_object_set_new(info, "eval_s", json_real(R.secs[0][0]));
    results = rev_results_json(c, &d, &R, info, al_now() - t_start);
    json_object_set_new(results, "provider", provider_json(c, p, prefix));
    rc = al_run_save_json(&run, "results.json", results, err);
    if (!rc) rc = rev_plots(c, &run, &d, &R, err);
    if (!rc) {
      al_index_entry e = {.name = "reversal", .subdir = "."};
      rc = al_report_index(run.dir, "alab reversal", &e, 1, err);
    }
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc && results_out) *results_out = json_incref(results);
  json_decref(results), json_decref(info), json_decref(recs), json_decref(config);
  rev_results_free(&R);
  al_provider_free(p);
  if (c->model && tok) al_model_free(&m);
  if (tok) al_tok_free(tok);
  free(prefix);
  al_rev_free(&d);
  free(data_dir);
  return rc;
}
