/* `alab scaling`: a task over a family of models, the trend of its loss
 * against parameters or compute, labelled only where the data support it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/probes.h"
#include "alab/scaling.h"
#include "alab/table.h"
#include "cli/flags.h"

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Subfolders of dir that hold a model (config.json), sorted by name. */
static int family(const char *dir, char ***models, int *n, al_err *err) {
  DIR *d = opendir(dir);
  if (!d) return al_fail(err, "--family %s: cannot open the folder", dir);
  *models = NULL;
  *n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char *sub = al_path_join(dir, e->d_name), *cfg = al_path_join(sub, "config.json");
    if (al_file_exists(cfg)) {
      *models = al_realloc(*models, (size_t)(*n + 1) * sizeof **models);
      (*models)[(*n)++] = sub;
    } else free(sub);
    free(cfg);
  }
  closedir(d);
  if (!*n) return al_fail(err, "--family %s: no model folders (with config.json) inside", dir);
  qsort(*models, (size_t)*n, sizeof **models, by_name);
  return 0;
}

int cmd_scaling(int argc, char **argv) {
  const char *models_s = NULL, *fam = NULL, *task = NULL, *probe = NULL, *format = "auto", *out = "scaling";
  const char *x = "params", *xvals_s = NULL;
  int threads = 0, nboot = 1000, probe_n = 200, limit = 0, quiet = 0;
  double alpha = 0.05;
  int64_t seed = 1234;
  al_http_cfg http = al_http_cfg_default();
  const char *api_base = NULL, *api_key = NULL, *api_tok = NULL; /* env defaults read after parsing */
  int concurrency = http.concurrency;
  const flag_def flags[] = {
      {"models", FLAG_STRING, &models_s, "comma-separated model directories (or endpoint model names with --api-base)"},
      {"family", FLAG_STRING, &fam, "a folder of model directories (e.g. from alab ladder) instead of --models"},
      {"api-base", FLAG_STRING, &api_base, "OpenAI-compatible endpoint serving the models (default: env ALAB_API_BASE)"},
      {"api-key", FLAG_STRING, &api_key, "API key (default: env ALAB_API_KEY; never printed, logged or saved)"},
      {"api-tokenizer", FLAG_STRING, &api_tok, "tokenizer directory matching the endpoint's: score with token ids"},
      {"api-concurrency", FLAG_INT, &concurrency, "HTTP requests in flight at once"},
      {"task", FLAG_STRING, &task, "task file (.csv or .jsonl)"},
      {"probe", FLAG_STRING, &probe, "a built-in probe instead: memo-vs-instruction, distractor, misleading-fewshot"},
      {"probe-n", FLAG_INT, &probe_n, "examples in a generated probe"},
      {"format", FLAG_STRING, &format, "task format (auto from the columns)"},
      {"x", FLAG_STRING, &x, "params or compute (compute reads training.json written by alab ladder)"},
      {"x-values", FLAG_STRING, &xvals_s, "comma-separated x per model (needed for endpoint models)"},
      {"alpha", FLAG_DOUBLE, &alpha, "significance level of the trend tests"},
      {"out", FLAG_STRING, &out, "output folder: scaling.json, scaling.svg, one eval folder per model"},
      {"limit", FLAG_INT, &limit, "evaluate only the first N examples (0 = all)"},
      {"threads", FLAG_INT, &threads, "local provider: examples scored in parallel (0: OMP_NUM_THREADS if set, else all cores)"},
      {"bootstrap", FLAG_INT, &nboot, "bootstrap resamples"},
      {"seed", FLAG_I64, &seed, "seed"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  const flag_cmd cmd = {
      "alab scaling (--models M1,M2,... | --family DIR) (--task FILE | --probe NAME) [flags]",
      "Evaluates every model of a family on one task and fits the task's loss against log10(parameters or "
      "compute) by weighted least squares (weights 1/(se^2 + tau^2), tau^2 the between-model variance). A gate "
      "F-test (fit vs constant) must reject at alpha before any label; then U-shaped / inverted-U needs a significant "
      "x^2 term, the vertex inside the range and significant opposite end slopes (Lind-Mehlum); else standard / "
      "inverse by the slope's t-test; else \"no significant trend\". Every label must also show in the observed "
      "means. Labels describe performance (McKenzie et al. 2023). Prints scaling.json's trend.",
      flags, sizeof flags / sizeof flags[0]};
  int rc = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (rc) return rc > 0 ? 0 : 2;
  al_quiet = quiet;
  if (!api_base) api_base = http.base_url;
  if (!api_key) api_key = http.api_key;
  al_err err = {{0}};
  if (!models_s == !fam || !task == !probe) {
    fprintf(stderr, "alab scaling: give --models or --family, and --task or --probe (see --help)\n");
    return 2;
  }
  char **models = NULL, **xv = NULL;
  int n = 0, nx = 0;
  double xvalues[64];
  char *probe_path = NULL;
  al_task t = {0};
  rc = 2;
  if (models_s ? al_split_commas(models_s, &models, &n, "--models", &err) : family(fam, &models, &n, &err)) goto fail;
  if (xvals_s) {
    if (al_split_commas(xvals_s, &xv, &nx, "--x-values", &err)) goto fail;
    if (nx != n || n > 64) {
      al_fail(&err, "--x-values has %d values for %d models", nx, n);
      goto fail;
    }
    for (int i = 0; i < nx; i++) {
      char *end;
      xvalues[i] = strtod(xv[i], &end);
      if (*end || !(xvalues[i] > 0)) {
        al_fail(&err, "--x-values: '%s' is not a positive number", xv[i]);
        goto fail;
      }
    }
  }
  if (probe && al_probe_check(probe, probe_n, &err)) goto fail;
  rc = 1;
  if (probe && al_probe_prepare(probe, out, probe_n, (uint64_t)seed, &probe_path, &err)) goto fail;
  if (al_task_load(&t, probe ? probe_path : task, format, &err)) goto fail;
  al_scaling_cfg sc = al_scaling_cfg_default();
  sc.models = (const char *const *)models;
  sc.nmodels = n;
  sc.xvalues = xv ? xvalues : NULL;
  sc.x = x;
  http.base_url = api_base, http.api_key = api_key, http.tokenizer = api_tok, http.concurrency = concurrency;
  sc.http = api_base ? &http : NULL;
  sc.local.threads = threads;
  sc.eval.out_dir = out;
  sc.eval.seed = (uint64_t)seed;
  sc.eval.nboot = nboot;
  sc.eval.limit = limit;
  sc.alpha = alpha;
  al_trend_fit fit;
  if (al_scaling_run(&sc, &t, &fit, &err)) goto fail;
  json_t *j = al_trend_json(&fit);
  char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
  printf("%s\n", s);
  free(s);
  json_decref(j);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "alab scaling: %s\n", err.msg);
done:
  al_free_str_list(models, n);
  al_free_str_list(xv, nx);
  free(probe_path);
  al_task_free(&t);
  return rc;
}
