/* `alab eval`: one task (a file in the papers' formats, or a built-in probe)
 * on one model (a local directory or an OpenAI-compatible endpoint). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/eval.h"
#include "alab/probes.h"
#include "alab/json.h"
#include "alab/model_card.h"
#include "cli/flags.h"

int cmd_eval(int argc, char **argv) {
  const char *model = NULL, *task = NULL, *probe = NULL, *format = "auto", *out = NULL, *match = NULL;
  const char *write_probes = NULL;
  int limit = 0, batch = 64, threads = 0, naive = 0, nboot = 1000, probe_n = 200, chat = 0, quiet = 0, samples = 10;
  int64_t seed = 1234;
  al_http_cfg http = al_http_cfg_default();
  /* endpoint settings default to the environment, read after parsing (so --help never prints a key) */
  const char *api_base = NULL, *api_model = NULL, *api_key = NULL, *api_tok = NULL, *cache = NULL, *chat_tpl = NULL;
  int concurrency = http.concurrency, retries = http.max_retries, max_tokens = 64, cache_all = 0, fail_fast = 0;
  int resume = 0;
  double timeout = http.timeout_s, temperature = -1, backoff = http.backoff_s;
  const flag_def flags[] = {
      {"model", FLAG_STRING, &model, "model directory (local provider)"},
      {"api-base", FLAG_STRING, &api_base, "OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (default: env ALAB_API_BASE)"},
      {"api-model", FLAG_STRING, &api_model, "model name at the endpoint (default: env ALAB_MODEL)"},
      {"api-key", FLAG_STRING, &api_key, "API key (default: env ALAB_API_KEY; never printed, logged or saved)"},
      {"api-tokenizer", FLAG_STRING, &api_tok, "tokenizer directory matching the endpoint's: score with token ids"},
      {"api-concurrency", FLAG_INT, &concurrency, "HTTP requests in flight at once (libcurl multi; results stay in input order)",
       "[1, 1024]"},
      {"api-retries", FLAG_INT, &retries, "retries of a request on 429, 5xx, transport errors and non-JSON answers",
       "[0, 100]"},
      {"api-backoff", FLAG_DOUBLE, &backoff, "seconds before the first retry; doubles each retry (x 0.5-1 jitter, at "
                                              "most 30 s), never before the server's Retry-After", "[0, 3600]"},
      {"api-timeout", FLAG_DOUBLE, &timeout, "seconds per HTTP request", "(0, 86400]"},
      {"api-chat-template", FLAG_STRING, &chat_tpl, "the endpoint's chat template, for an assistant prefill sent to "
                                                    "/v1/completions: alab (alab serve's) or a Jinja file"},
      {"cache", FLAG_STRING, &cache, "SQLite response cache: FILE, or off (default: OUT/responses.sqlite with --out, "
                                     "else off); only deterministic requests (temperature 0 or a seed) are cached"},
      {"cache-all", FLAG_BOOL, &cache_all, "also cache non-deterministic requests"},
      {"resume", FLAG_BOOL, &resume, "continue an interrupted eval: answers in the cache are not asked again "
                                     "(needs the cache)"},
      {"fail-fast", FLAG_BOOL, &fail_fast, "stop at the first failed example, exit 1 (default: record the example as failed, "
                                           "with the reason, and go on)"},
      {"task", FLAG_STRING, &task, "task file: .csv or .jsonl (classification, sequence_prob, logodds, generation, reversal)"},
      {"probe", FLAG_STRING, &probe, "a built-in probe instead of --task: memo-vs-instruction, distractor, misleading-fewshot"},
      {"probe-n", FLAG_INT, &probe_n, "examples in a generated probe"},
      {"write-probes", FLAG_STRING, &write_probes, "write every built-in probe as a task CSV into this folder and exit"},
      {"format", FLAG_STRING, &format, "auto, classification, sequence_prob, logodds, generation, reversal (the celebrity "
                                       "test in the paper's protocol) or reversal-generation (bare question, one generation)"},
      {"match", FLAG_STRING, &match, "generation scoring: exact, prefix, contains or regex (default: the format's)"},
      {"max-tokens", FLAG_INT, &max_tokens, "generation: new tokens at most"},
      {"temperature", FLAG_DOUBLE, &temperature, "sampling temperature (0 = greedy; -1: the task's default, 0 for "
                                                 "generation, 1 for the celebrity test's chat samples)"},
      {"chat", FLAG_BOOL, &chat, "generation: send each prompt as a chat message; reversal: the chat protocol (sampled "
                                 "replies) instead of the base-model one (log-probability)"},
      {"samples", FLAG_INT, &samples, "reversal with --chat: replies sampled per question"},
      {"out", FLAG_STRING, &out, "folder for results.json + examples.jsonl (the summary is printed either way)"},
      {"limit", FLAG_INT, &limit, "evaluate only the first N examples (0 = all)"},
      {"batch", FLAG_INT, &batch, "examples per provider call"},
      {"threads", FLAG_INT, &threads, "local provider: examples scored in parallel (0: OMP_NUM_THREADS if set, else all cores)"},
      {"naive", FLAG_BOOL, &naive, "local provider: one full forward pass per class, one example at a time"},
      {"bootstrap", FLAG_INT, &nboot, "bootstrap resamples for the 95% intervals"},
      {"seed", FLAG_I64, &seed, "bootstrap and sampling seed"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  const flag_cmd cmd = {
      "alab eval (--model DIR | --api-base URL --api-model NAME) (--task FILE | --probe NAME) [flags]",
      "Evaluates a model on a task read unchanged from the papers' formats (Inverse Scaling Prize classification, "
      "sequence_prob, logodds; generation; the reversal curse's celebrity CSV), with metrics as the papers define "
      "them, standard errors and bootstrap intervals. Prints results.json to stdout; with --out also writes it and "
      "one record per example (examples.jsonl).",
      flags, sizeof flags / sizeof flags[0]};
  int rc = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (rc) return rc > 0 ? 0 : 2;
  al_quiet = quiet;
  if (samples < 1 || samples > 1000) {
    fprintf(stderr, "alab eval: --samples must be 1..1000 (got %d)\n", samples);
    return 2;
  }
  if (!api_base && !model) api_base = http.base_url; /* --model wins over the environment */
  if (!api_model) api_model = http.model;
  if (!api_key) api_key = http.api_key;
  al_err err = {{0}};
  if ((write_probes || probe) && al_probe_check(probe ? probe : al_probe_names[0], probe_n, &err)) {
    fprintf(stderr, "alab eval: %s\n", err.msg);
    return 2;
  }
  if (write_probes) {
    for (int i = 0; i < al_nprobes; i++) {
      char *path;
      if (al_probe_prepare(al_probe_names[i], write_probes, probe_n, (uint64_t)seed, &path, &err)) {
        fprintf(stderr, "alab eval: %s\n", err.msg);
        return 1;
      }
      printf("%s\n", path);
      free(path);
    }
    return 0;
  }
  if (!out && !cache) cache = "off";
  if (resume && cache && !strcmp(cache, "off")) { /* the cache is off: given so, or no --out to hold it */
    fprintf(stderr, "alab eval: --resume needs the response cache: give --out DIR (its responses.sqlite) or --cache FILE\n");
    return 2;
  }
  if (!model == !api_base) {
    fprintf(stderr, "alab eval: give --model DIR or --api-base URL (with --api-model), not both (see --help)\n");
    return 2;
  }
  if (!task == !probe) {
    fprintf(stderr, "alab eval: give --task FILE or --probe NAME (see --help)\n");
    return 2;
  }
  char *probe_path = NULL;
  if (probe && al_probe_prepare(probe, out ? out : ".", probe_n, (uint64_t)seed, &probe_path, &err)) {
    fprintf(stderr, "alab eval: %s\n", err.msg);
    return 1;
  }
  al_task t;
  if (al_task_load(&t, probe ? probe_path : task, format, &err)) {
    fprintf(stderr, "alab eval: %s\n", err.msg);
    free(probe_path);
    return 1;
  }
  free(probe_path);
  if (match && al_match_parse(match, &t.match, &err)) {
    fprintf(stderr, "alab eval: --match: %s\n", err.msg);
    al_task_free(&t);
    return 2;
  }
  http.base_url = api_base, http.model = api_model, http.api_key = api_key, http.tokenizer = api_tok;
  http.concurrency = concurrency, http.max_retries = retries, http.timeout_s = timeout, http.backoff_s = backoff;
  char *cache_path = cache ? NULL : al_path_join(out, "responses.sqlite");
  http.cache = cache ? cache : cache_path, http.cache_all = cache_all;
  http.fail_fast = 0; /* failures come back per example; the eval stops at the first one under --fail-fast */
  http.chat_template = chat_tpl;
  if (out && !cache && al_mkdir_p(out, &err)) {
    fprintf(stderr, "alab eval: %s\n", err.msg);
    free(cache_path);
    al_task_free(&t);
    return 1;
  }
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = naive ? 1 : threads;
  lc.reuse_cache = !naive;
  al_provider *p;
  int orc = al_provider_open(&p, model ? model : api_model, model ? NULL : &http, &lc, &err);
  free(cache_path);
  if (orc) {
    fprintf(stderr, "alab eval: %s\n", err.msg);
    al_task_free(&t);
    return 1;
  }
  al_eval_cfg ec = al_eval_cfg_default();
  ec.out_dir = out;
  ec.seed = (uint64_t)seed;
  ec.nboot = nboot;
  ec.batch = naive ? 1 : batch;
  ec.limit = limit;
  ec.fail_fast = fail_fast;
  ec.chat = chat;
  ec.samples = samples;
  ec.gen.max_tokens = max_tokens;
  ec.gen.temperature = temperature;
  ec.gen.seed = (uint64_t)seed;
  al_eval_result r;
  rc = al_eval_task(p, &t, &ec, &r, &err);
  if (rc) fprintf(stderr, "alab eval: %s\n", err.msg);
  else {
    json_t *m = json_object();
    for (int i = 0; i < r.nm; i++) json_object_set_new(m, r.m[i].name, al_metric_json(&r.m[i]));
    json_t *sum = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:f, s:{s:i, s:i}, s:i}", "provider", p->kind, "model",
                            p->model, "task", t.path, "sha256", t.sha256, "n", limit > 0 && limit < t.n ? limit : t.n,
                            "main_metric", r.main_metric, "metrics", m, "examples_per_s", r.examples_per_s, "truncation",
                            "examples_cut", r.truncated, "logodds_invalid", r.invalid, "failed_examples", r.failed);
    al_http_stats hs;
    if (!al_provider_http_stats(p, &hs))
      json_object_set_new(sum, "requests", json_pack("{s:I, s:I, s:I, s:I}", "sent", (json_int_t)hs.requests, "retries",
                                                     (json_int_t)hs.retries, "failed", (json_int_t)hs.failures,
                                                     "cache_hits", (json_int_t)hs.cache_hits));
    char *s = json_dumps(sum, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    printf("%s\n", s);
    free(s);
    if (model) { /* the evaluation goes into the model directory's disclosure card */
      json_t *ev = json_pack("{s:s, s:s, s:O, s:s, s:O, s:o}", "task", t.path, "task_sha256", t.sha256, "n",
                             json_object_get(sum, "n"), "main_metric", r.main_metric, "metrics", m, "run_dir",
                             out ? json_string(out) : json_null());
      if (al_card_append_eval(model, ev, &err))
        fprintf(stderr, "alab eval: warning: the result was not added to %s's model card: %s\n", model, err.msg);
      json_decref(ev);
    }
    json_decref(sum);
  }
  al_provider_free(p);
  al_task_free(&t);
  return rc ? 1 : 0;
}
