/* alab collapse: model collapse under replaced vs accumulated data. */
#include <stdio.h>
#include "alab/collapse.h"
#include "cli/flags.h"

int cmd_collapse(int argc, char **argv) {
  al_collapse_cfg c;
  al_collapse_defaults(&c);
  const char *out = NULL;
  int quiet = 0;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "run directory (created): config.json, results.json, metrics.jsonl, plots, index.html"},
      {"part", FLAG_STRING, &c.parts, "which parts: all, or a list of linear, gauss, lm"},
      {"policies", FLAG_STRING, &c.policies, "list of replace, accumulate, accumulate-subsample"},
      {"seeds", FLAG_INT, &c.seeds, "seeds per setting for every part (0: each part's default: linear 600, gauss 500)"},
      {"seed", FLAG_I64, &c.seed, "base random seed"},
      {"d", FLAG_STRING, &c.d, "linear: dimension(s), a comma list sweeps"},
      {"T", FLAG_STRING, &c.T, "linear: sample count(s), each > d+1; a comma list sweeps"},
      {"sigma2", FLAG_STRING, &c.sigma2, "linear: label noise variance(s) >= 0; a comma list sweeps"},
      {"iters", FLAG_INT, &c.iters, "linear: iterations (model fits)"},
      {"gauss-d", FLAG_INT, &c.gauss_d, "gauss: dimension"},
      {"gauss-n", FLAG_INT, &c.gauss_n, "gauss: samples per iteration (> gauss-d)"},
      {"gauss-iters", FLAG_INT, &c.gauss_iters, "gauss: iterations (fits)"},
      {"gauss-var", FLAG_DOUBLE, &c.gauss_var, "gauss: the true variance of each coordinate"},
      {"quick", FLAG_BOOL, &c.quick, "record the run as quick scale (as reproduce does)"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab collapse --out DIR [flags]",
                  "Model collapse (Gerstgrasser et al. 2024): each model is fitted to the previous model's outputs, and the "
                  "data is replaced or accumulated. Linear regression (against the closed forms), a fitted Gaussian "
                  "(variance and KL per iteration) and, when built, language models. Every setting runs several seeds; "
                  "results report the mean and a 95% confidence interval per iteration.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (!out) {
    fprintf(stderr, "alab collapse: --out DIR is required (see --help)\n");
    return 2;
  }
  if (quiet) al_quiet = 1;
  al_err err;
  if (al_collapse_run(&c, out, &err)) {
    fprintf(stderr, "alab collapse: %s\n", err.msg);
    return 1;
  }
  al_log("alab collapse: results in %s/results.json, report %s/index.html", out, out);
  return 0;
}
