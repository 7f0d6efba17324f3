/* `alab oocr --model DIR` and `alab oocr eval --api-base URL`: the paper's
 * evaluation of a model finetuned elsewhere (on `alab oocr export`'s files,
 * say), without training. Every example file of --data is generated for
 * once, greedily, through a provider, and graded by the paper's rules (the
 * code that grades the training run's models, oocr_eval.c):
 *   --model     the local engine on an alab model directory, each prompt
 *               after the model's <|endoftext|>;
 *   --api-base  an OpenAI-compatible endpoint (/v1/completions), each
 *               prompt after --api-prefix (default none); a file's requests
 *               go at once (the provider's concurrency, retries and cache).
 * metrics.jsonl holds one line per example (file, line, task, completion,
 * correct; or the error of a request the endpoint gave up on); results.json
 * {"experiment": "oocr", "headline", "provider": {...}, "files": {FILE:
 * {"accuracy", "correct", "n", "ungraded", "failed", "per_task"}}}. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/report.h"
#include "exp/oocr_internal.h"
#include "exp/reversal_internal.h"

static int open_provider(const al_oocr_cfg *c, al_provider **p, char **prefix, al_err *err) {
  if (c->model) {
    al_local_cfg lc = al_local_cfg_default();
    lc.threads = c->threads;
    if (al_provider_local(p, c->model, &lc, err)) return al_fail_prefix(err, "--model %s", c->model);
    *prefix = al_strdup("<|endoftext|>"); /* the local provider reads it as the model's EOT token */
    return 0;
  }
  *prefix = al_strdup(c->api_prefix ? c->api_prefix : "");
  return al_provider_http(p, c->api, err);
}

static json_t *provider_json(const al_oocr_cfg *c, const al_provider *p, const char *prefix) {
  json_t *j = json_pack("{s:s, s:s, s:s?, s:s}", "kind", p->kind, "model", p->model, "api_base",
                        c->api ? c->api->base_url : NULL, "prompt_prefix", prefix);
  al_http_stats hs;
  if (!al_provider_http_stats(p, &hs))
    json_object_set_new(j, "requests", json_pack("{s:I, s:I, s:I, s:I}", "sent", (json_int_t)hs.requests, "retries",
                                                 (json_int_t)hs.retries, "failed", (json_int_t)hs.failures,
                                                 "cache_hits", (json_int_t)hs.cache_hits));
  return j;
}

int oocr_run_external(const al_oocr_cfg *c, const char *dir, json_t **results_out, al_err *err) {
  if (!c->data) return al_fail(err, "--data DIR (a folder of the paper's layout) is needed to evaluate a model");
  al_run run;
  if (al_run_open(&run, dir, err)) return -1;
  double t0 = al_now();
  json_t *config = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:i}", "experiment", "oocr", "data",
                             c->data, "model", c->model, "api_base", c->api ? c->api->base_url : NULL, "api_model",
                             c->api ? c->api->model : NULL, "api_prefix", c->api_prefix, "cot_tokens",
                             c->cot_tokens ? c->cot_tokens : 85, "nocot_tokens", c->nocot_tokens ? c->nocot_tokens : 20,
                             "eval_max", c->eval_max);
  int rc = al_run_save_json(&run, "config.json", config, err);
  al_oocr_data d;
  memset(&d, 0, sizeof d);
  if (!rc) rc = al_oocr_read(&d, c->data, err);
  al_provider *p = NULL;
  al_oocr_grader *g = NULL;
  char *prefix = NULL;
  if (!rc) rc = al_oocr_grader_new(&g, c->textcat_dir, err);
  if (!rc) rc = open_provider(c, &p, &prefix, err);
  json_t *files = json_object(), *head = json_array(), *recs = json_array(), *results = NULL;
  oocr_evaluator ev = {p, prefix, c->cot_tokens ? c->cot_tokens : 85, c->nocot_tokens ? c->nocot_tokens : 20, g};
  for (int k = 0; k < 5 && !rc; k++) {
    const al_oocr_set *s = &d.set[oocr_eval_files[k]];
    if (!s->n) continue;
    oocr_score sc;
    rc = oocr_eval_set(&ev, s, c->eval_max, &sc, recs, err);
    if (rc) break;
    double acc = sc.n ? (double)sc.correct / sc.n : NAN;
    json_object_set_new(files, al_oocr_file_names[oocr_eval_files[k]],
                        json_pack("{s:o, s:i, s:i, s:i, s:i, s:O}", "accuracy", rev_num(acc), "correct", sc.correct, "n",
                                  sc.n, "ungraded", sc.ungraded, "failed", sc.failed, "per_task", sc.per_task));
    char line[512];
    snprintf(line, sizeof line, "%s: %d of %d correct (%.3f)%s", al_oocr_file_names[oocr_eval_files[k]], sc.correct,
             sc.n, acc, sc.failed ? ", some requests failed (see metrics.jsonl)" : "");
    json_array_append_new(head, json_string(line));
    oocr_score_free(&sc);
  }
  size_t i;
  json_t *r;
  json_array_foreach(recs, i, r) if (!rc) rc = al_run_metric(&run, json_incref(r), err);
  if (!rc) {
    results = json_pack("{s:s, s:O, s:o, s:O, s:f}", "experiment", "oocr", "headline", head, "provider",
                        provider_json(c, p, prefix), "files", files, "seconds", al_now() - t0);
    rc = al_run_save_json(&run, "results.json", results, err);
    al_index_entry e = {.name = "oocr", .subdir = "."};
    if (!rc) rc = al_report_index(run.dir, "alab oocr", &e, 1, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc && results_out) *results_out = json_incref(results);
  json_decref(results), json_decref(files), json_decref(head), json_decref(recs), json_decref(config);
  al_provider_free(p);
  al_oocr_grader_free(g);
  free(prefix);
  al_oocr_free(&d);
  return rc;
}
