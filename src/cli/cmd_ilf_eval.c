/* alab ilf eval: pass@k of a model directory or an OpenAI-compatible
 * endpoint on an MBPP file, every program run in the sandbox
 * (al_ilf_eval_run in include/alab/ilf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/ilf.h"
#include "cli/flags.h"
#include "cli/ilf_flags.h"

int ilf_parse_ks(const char *me, const char *ks, al_code_eval_cfg *e) {
  e->nk = 0;
  for (const char *p = ks; *p;) {
    char *end;
    long k = strtol(p, &end, 10);
    if (end == p || k < 1 || k > e->samples || e->nk == 4 || (*end && *end != ','))
      return fprintf(stderr, "%s: --k '%s': give up to 4 integers in [1, --samples = %d], comma-separated\n", me, ks, e->samples),
             -1;
    e->ks[e->nk++] = (int)k;
    p = *end ? end + 1 : end;
  }
  return 0;
}

void ilf_endpoint_apply(ilf_endpoint_flags *ef, const char *out, al_http_cfg *http) {
  snprintf(ef->cache_path, sizeof ef->cache_path, "%s/responses.sqlite", out);
  if (ef->api_model) http->model = ef->api_model;
  if (ef->api_key) http->api_key = ef->api_key;
  http->cache = ef->cache ? ef->cache : ef->cache_path;
}

int cmd_ilf_eval(int argc, char **argv) {
  al_ilf_eval_cfg c = {0};
  c.eval = al_code_eval_defaults();
  c.sandbox = al_sandbox_defaults();
  al_http_cfg http = al_http_cfg_default();
  const char *out = NULL, *api_base = NULL, *ks = "1,10";
  ilf_endpoint_flags ef = {0};
  int64_t seed = 1;
  int quiet = 0;
  flag_def f[] = {
      {"out", FLAG_STRING, &out, "the run directory"},
      {"mbpp", FLAG_STRING, &c.mbpp, "MBPP tasks (JSONL: task_id, text or prompt, code, test_list, test_setup_code)"},
      {"annotations", FLAG_STRING, &c.annotations, "instead of --mbpp: the ILF-for-code annotation file (surge_annotations.jsonl): "
                                                   "pass@k of the model's refinements of each original program from its feedback"},
      {"limit", FLAG_INT, &c.limit, "only the first N tasks (0: all)", "[0, 1000000]"},
      {"model", FLAG_STRING, &c.model, "an alab model directory"},
      {"api-base", FLAG_STRING, &api_base, "an OpenAI-compatible endpoint (/v1/completions), e.g. http://127.0.0.1:8080/v1"},
      ILF_ENDPOINT_FLAGS(ef, http),
      {"samples", FLAG_INT, &c.eval.samples, "completions per task (n of pass@k)", "[1, 10000]"},
      {"k", FLAG_STRING, &ks, "the k of pass@k, comma-separated, each <= --samples (at most 4)"},
      {"temperature", FLAG_DOUBLE, &c.eval.temperature, "sampling temperature", "[0, 10]"},
      {"max-tokens", FLAG_INT, &c.eval.max_tokens, "tokens per completion at most", "[1, 1000000]"},
      {"plain-prompt", FLAG_BOOL, &c.eval.plain, "send the task's text and a newline as is, not Austin et al.'s prompt"},
      {"prefix", FLAG_STRING, &c.eval.prefix, "text before every prompt"},
      {"seed", FLAG_I64, &seed, "sample j of a task uses seed + j", "[0, inf)"},
      {"workers", FLAG_INT, &c.eval.workers, "sandboxed programs run at once", "[1, 256]"},
      {"timeout", FLAG_DOUBLE, &c.sandbox.wall_s, "wall-clock limit per program, seconds (MBPP's harness: 3)", "(0, 3600]"},
      {"unsafe-no-sandbox", FLAG_BOOL, &c.sandbox.unsafe_no_sandbox,
       "run programs without namespaces where bubblewrap cannot create them (resource limits only)"},
      {"threads", FLAG_INT, &c.threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab ilf eval (--mbpp FILE | --annotations FILE) (--model DIR | --api-base URL --api-model NAME) --out DIR [flags]",
                  "pass@k (the unbiased estimator of Chen et al. 2021) of a model on MBPP, or of its refinements from the "
                  "feedback of the ILF-for-code annotation file (Chen et al. 2023): --samples completions per task, each "
                  "program run with the task's tests in the sandbox.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  const char *me = "alab ilf eval";
  if (!out || !c.mbpp == !c.annotations)
    return fprintf(stderr, "%s: --out and one of --mbpp or --annotations are required (see --help)\n", me), 2;
  if (!c.model == !api_base) return fprintf(stderr, "%s: give one of --model DIR or --api-base URL\n", me), 2;
  if (ilf_parse_ks(me, ks, &c.eval)) return 2;
  c.eval.seed = (uint64_t)seed;
  if (api_base) {
    ilf_endpoint_apply(&ef, out, &http);
    if (!http.model) return fprintf(stderr, "%s: --api-base needs --api-model NAME (or env ALAB_MODEL)\n", me), 2;
    http.base_url = api_base;
    c.http = &http;
  }
  al_quiet = quiet;
  al_err err;
  if (al_ilf_eval_run(&c, out, &err)) return fprintf(stderr, "%s: %s\n", me, err.msg), 1;
  printf("ilf eval: results in %s/results.json\n", out);
  return 0;
}
