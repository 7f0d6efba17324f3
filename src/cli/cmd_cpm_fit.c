/* alab cpm fit: a compositional preference model on a preference file, its
 * features scored by an OpenAI-compatible endpoint or a local model. */
#include <stdio.h>
#include <string.h>
#include "alab/cpm_exp.h"
#include "cli/flags.h"

int cmd_cpm_fit(int argc, char **argv) {
  al_cpm_fit_cfg c = {.heldout = 0.2, .cpm = al_cpm_defaults(), .extract = al_cpm_extract_defaults(NULL)};
  al_http_cfg http = al_http_cfg_default();
  const char *out = NULL, *penalty = "l2", *model = NULL, *api_base = NULL, *api_model = NULL, *api_key = NULL,
             *cache = NULL, *features = NULL;
  int quiet = 0, completions = 0, no_logprobs = 0, concurrency = http.concurrency;
  int64_t seed = (int64_t)c.cpm.seed;
  flag_def defs[] = {
      {"data", FLAG_STRING, &c.data, "preference pairs (JSONL: TRL explicit/implicit, HH-RLHF, Stanford SHP)"},
      {"features", FLAG_STRING, &features, "features file ({\"features\": [{\"name\", \"prompt\"}]}): alab's data/cpm_features.json holds the paper's 13"},
      {"out", FLAG_STRING, &out, "run directory (created): config.json, metrics.jsonl (each pair's scores), results.json"},
      {"api-base", FLAG_STRING, &api_base, "the feature scorer: an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1"},
      {"api-model", FLAG_STRING, &api_model, "model name at the endpoint (default: env ALAB_MODEL)"},
      {"api-key", FLAG_STRING, &api_key, "API key (default: env ALAB_API_KEY; never printed, logged or saved)"},
      {"api-concurrency", FLAG_INT, &concurrency, "HTTP requests in flight at once", "[1, 1024]"},
      {"cache", FLAG_STRING, &cache, "SQLite response cache: FILE or off (default: OUT/responses.sqlite)"},
      {"model", FLAG_STRING, &model, "the feature scorer: a local model directory instead of an endpoint"},
      {"completions", FLAG_BOOL, &completions, "send each prompt as a completion (default: one user chat message)"},
      {"no-logprobs", FLAG_BOOL, &no_logprobs, "read the reply's text only (default: the expected score from the first token's top log-probs when given)"},
      {"heldout", FLAG_DOUBLE, &c.heldout, "share of pairs held out for accuracy", "[0, 1)"},
      {"seed", FLAG_I64, &seed, "the split, folds and bootstrap"},
      {"penalty", FLAG_STRING, &penalty, "l2 or l1"},
      {"folds", FLAG_INT, &c.cpm.folds, "cross-validation folds choosing C (0 or 1: use --C)", "[0, 100]"},
      {"C", FLAG_DOUBLE, &c.cpm.C, "the inverse regularisation strength without cross-validation", "(0, inf)"},
      {"bootstrap", FLAG_INT, &c.cpm.bootstrap, "bootstrap resamples for the coefficients' intervals", "[0, 100000]"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab cpm fit --data PAIRS.jsonl --features FILE (--api-base URL --api-model NAME | --model DIR) --out DIR [flags]",
                  "A compositional preference model (Go et al. 2023) on a preference file: every response scored 1-10 "
                  "on every feature by the given model (cached; the expected score over 1..10 where the endpoint gives "
                  "log-probs), then a logistic regression on the standardised differences (liblinear, C by "
                  "cross-validation), with bootstrap intervals on the coefficients and the held-out accuracy.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (!c.data || !out || !features) {
    fprintf(stderr, "alab cpm fit: --data, --features and --out are required (see --help)\n");
    return 2;
  }
  if (!!model + !!api_base != 1) {
    fprintf(stderr, "alab cpm fit: give the feature scorer: --api-base URL or --model DIR (one of them)\n");
    return 2;
  }
  if (strcmp(penalty, "l2") && strcmp(penalty, "l1")) {
    fprintf(stderr, "alab cpm fit: --penalty must be l2 or l1, got '%s'\n", penalty);
    return 2;
  }
  if (!api_model) api_model = http.model;
  if (api_base && !api_model) {
    fprintf(stderr, "alab cpm fit: --api-base needs --api-model NAME (or env ALAB_MODEL)\n");
    return 2;
  }
  c.features = features;
  c.cpm.penalty = strcmp(penalty, "l1") ? AL_LR_L2 : AL_LR_L1;
  c.cpm.seed = (uint64_t)seed;
  c.extract.chat = !completions, c.extract.use_logprobs = !no_logprobs;
  if (quiet) al_quiet = 1;
  al_err err;
  al_provider *p = NULL;
  char *cache_path = al_path_join(out, "responses.sqlite");
  int rc = 0;
  if (api_base) {
    http.base_url = api_base, http.model = api_model, http.api_key = api_key ? api_key : http.api_key;
    http.concurrency = concurrency, http.cache = cache ? cache : cache_path;
    rc = al_mkdir_p(out, &err) || al_provider_http(&p, &http, &err);
  } else {
    al_local_cfg lc = al_local_cfg_default();
    rc = al_provider_local(&p, model, &lc, &err);
  }
  if (!rc) rc = al_cpm_fit_pairs(&c, p, out, NULL, &err);
  if (p) al_provider_free(p);
  free(cache_path);
  if (rc) {
    fprintf(stderr, "alab cpm fit: %s\n", err.msg);
    return 1;
  }
  al_log("alab cpm fit: results in %s/results.json", out);
  return 0;
}
