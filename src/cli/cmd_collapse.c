/* alab collapse: model collapse under replaced vs accumulated data. */
#include <stdio.h>
#include "alab/collapse.h"
#include "cli/flags.h"

int cmd_collapse(int argc, char **argv) {
  al_collapse_cfg c;
  al_collapse_defaults(&c);
  const char *out = NULL;
  int quiet = 0, threads = 0;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "run directory (created): config.json, results.json, metrics.jsonl, plots, index.html, report.html"},
      {"part", FLAG_STRING, &c.parts, "which parts: all, or a list of linear, gauss, lm"},
      {"policies", FLAG_STRING, &c.policies, "list of replace, accumulate, accumulate-subsample"},
      {"seeds", FLAG_INT, &c.seeds, "seeds per setting for every part (0: each part's default: linear 600, gauss 500, lm 3)"},
      {"seed", FLAG_I64, &c.seed, "base random seed"},
      {"d", FLAG_STRING, &c.d, "linear: dimension(s), a comma list sweeps"},
      {"T", FLAG_STRING, &c.T, "linear: sample count(s), each > d+1; a comma list sweeps"},
      {"sigma2", FLAG_STRING, &c.sigma2, "linear: label noise variance(s) >= 0; a comma list sweeps"},
      {"iters", FLAG_INT, &c.iters, "linear: iterations (model fits)"},
      {"gauss-d", FLAG_INT, &c.gauss_d, "gauss: dimension"},
      {"gauss-n", FLAG_INT, &c.gauss_n, "gauss: samples per iteration (> gauss-d)"},
      {"gauss-iters", FLAG_INT, &c.gauss_iters, "gauss: iterations (fits)"},
      {"gauss-var", FLAG_DOUBLE, &c.gauss_var, "gauss: the true variance of each coordinate"},
      {"lm-data", FLAG_STRING, &c.lm_data, "lm: real data: story (the built-in story world, with exact entropy) or a text/JSONL corpus"},
      {"lm-tokenizer", FLAG_STRING, &c.lm_tokenizer, "lm: bpe:N (trained once on the real data, shared by every generation), byte, or a directory"},
      {"lm-tokens", FLAG_I64, &c.lm_tokens, "lm: N, real tokens of generation 0 and sampled tokens per generation"},
      {"lm-gens", FLAG_INT, &c.lm_gens, "lm: generations, 0 included (>= 2)"},
      FLAG_ARCH(c.arch),
      {"lm-layers", FLAG_INT, &c.lm_layers, "lm: transformer blocks of every model"},
      {"lm-heads", FLAG_INT, &c.lm_heads, "lm: attention heads"},
      {"lm-embd", FLAG_INT, &c.lm_embd, "lm: channels (divisible by lm-heads)"},
      {"lm-context", FLAG_INT, &c.lm_context, "lm: context = training sequence length"},
      {"lm-batch", FLAG_INT, &c.lm_batch, "lm: sequences per step"},
      {"lm-lr", FLAG_DOUBLE, &c.lm_lr, "lm: peak learning rate"},
      {"lm-epochs", FLAG_DOUBLE, &c.lm_epochs, "lm: passes over each generation's data (accumulate's data grows, so do its steps)"},
      {"lm-steps", FLAG_I64, &c.lm_steps, "lm: > 0: every generation trains this many steps instead of lm-epochs"},
      {"lm-temperature", FLAG_DOUBLE, &c.lm_temperature, "lm: sampling temperature (1: the model's own distribution)"},
      {"lm-heldout", FLAG_I64, &c.lm_heldout, "lm: real held-out tokens every generation is tested on"},
      {"lm-max-story", FLAG_INT, &c.lm_max_story, "lm: a sampled story is cut at this many tokens"},
      {"threads", FLAG_INT, &threads, "threads (0: OMP_NUM_THREADS if set, else all cores); the lm part trains one model per thread"},
      {"quick", FLAG_BOOL, &c.quick, "record the run as quick scale (as reproduce does)"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab collapse --out DIR [flags]",
                  "Model collapse (Gerstgrasser et al. 2024): each model is fitted to the previous model's outputs, and the "
                  "data is replaced or accumulated. Linear regression (against the closed forms), a fitted Gaussian "
                  "(variance and KL per iteration) and GPT-2 (or, with --arch llama, Llama) language models trained from scratch, each generation on the "
                  "stories sampled from the last (test loss on real held-out data, its excess over the story world's "
                  "exact entropy, and the samples' diversity and validity under the grammar). Every setting runs several seeds; "
                  "results report the mean and a 95% confidence interval per iteration.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (!out) {
    fprintf(stderr, "alab collapse: --out DIR is required (see --help)\n");
    return 2;
  }
  al_err err;
  if (al_collapse_check(&c, &err)) {
    fprintf(stderr, "alab collapse: %s\n", err.msg);
    return 2;
  }
  if (quiet) al_quiet = 1;
  al_set_threads(threads);
  if (al_collapse_run(&c, out, &err)) {
    fprintf(stderr, "alab collapse: %s\n", err.msg);
    return 1;
  }
  al_log("alab collapse: results in %s/results.json, report %s/report.html", out, out);
  return 0;
}
