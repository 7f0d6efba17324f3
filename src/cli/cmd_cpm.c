/* alab cpm: compositional preference models against standard reward models
 * (Go et al. 2023) on the story world. */
#include <stdio.h>
#include <string.h>
#include "alab/cpm_exp.h"
#include "cli/flags.h"

int cmd_cpm_fit(int argc, char **argv); /* cmd_cpm_fit.c */

int cmd_cpm(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "fit")) return cmd_cpm_fit(argc - 1, argv + 1);
  al_cpm_exp_cfg c;
  al_cpm_exp_defaults(&c);
  const char *out = NULL, *penalty = "l2";
  int quiet = 0, threads = 0;
  int64_t seed = (int64_t)c.seed, steps = c.steps;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "run directory (created): config.json, results.json, metrics.jsonl, plots, index.html, report.html"},
      {"seeds", FLAG_INT, &c.seeds, "seeds: each draws its own comparisons, models and best-of-n samples", "[2, 50]"},
      {"seed", FLAG_I64, &seed, "base seed"},
      {"pairs", FLAG_INT, &c.pairs, "training comparisons (split into two disjoint halves)", "[20, 1000000]"},
      {"heldout", FLAG_INT, &c.heldout, "held-out comparisons for accuracy", "[10, 1000000]"},
      {"beta", FLAG_DOUBLE, &c.beta, "label sharpness: P(A > B) = sigmoid(beta (gold(A) - gold(B)))", "(0, inf)"},
      {"corrupt", FLAG_DOUBLE, &c.corrupt, "the policy's chance of breaking a story (repeat, cut or swap)", "[0, 1]"},
      {"groups", FLAG_INT, &c.groups, "best-of-n sets of fresh samples", "[1, 100000]"},
      {"n", FLAG_INT, &c.N, "samples per set (best-of-n for n = 1, 2, 4, ..., N)", "[2, 4096]"},
      {"penalty", FLAG_STRING, &penalty, "CPM logistic regression penalty: l2 or l1"},
      {"folds", FLAG_INT, &c.cpm.folds, "CPM: cross-validation folds choosing C (0 or 1: use --C)", "[0, 100]"},
      {"C", FLAG_DOUBLE, &c.cpm.C, "CPM: the inverse regularisation strength without cross-validation", "(0, inf)"},
      {"bootstrap", FLAG_INT, &c.cpm.bootstrap, "CPM: bootstrap resamples for the coefficients' intervals", "[0, 100000]"},
      {"rm-steps", FLAG_I64, &steps, "standard reward model: training steps", "[1, 10000000]"},
      {"rm-batch", FLAG_INT, &c.batch, "standard reward model: pairs per step", "[1, 4096]"},
      {"rm-lr", FLAG_DOUBLE, &c.lr, "standard reward model: peak learning rate", "(0, 1]"},
      FLAG_ARCH(c.arch),
      {"rm-layers", FLAG_INT, &c.layers, "standard reward model: transformer blocks", "[1, 64]"},
      {"rm-heads", FLAG_INT, &c.heads, "standard reward model: attention heads", "[1, 64]"},
      {"rm-embd", FLAG_INT, &c.embd, "standard reward model: channels", "[8, 4096]"},
      {"rm-context", FLAG_INT, &c.context, "standard reward model: context (a longer text keeps its last tokens)", "[16, 8192]"},
      {"rm-init", FLAG_STRING, &c.rm_init, "standard reward model: start from this language model directory's trunk, tokenizer and context (default: from scratch)"},
      {"rm-vocab", FLAG_INT, &c.vocab, "standard reward model: BPE vocabulary trained on unlabelled samples", "[257, 65536]"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"quick", FLAG_BOOL, &c.quick, "record the run as quick scale (as reproduce does)"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab cpm --out DIR [flags]   |   alab cpm fit --help (a CPM on your pairs and endpoint)",
                  "Compositional preference models (Go et al. 2023) against standard reward models on the story world. "
                  "A policy writes stories, some broken; comparisons are labelled by Bradley-Terry on the exact gold "
                  "reward. On each of two disjoint halves of the comparisons a CPM (exact features: validity, "
                  "log-probability per word, length, repetition, sharing words; logistic regression by liblinear, C by "
                  "cross-validation, bootstrap intervals on the coefficients) and a standard reward model (GPT-2 with "
                  "a scalar head, Bradley-Terry) are trained. Reported over seeds with 95% intervals: held-out "
                  "accuracy, how often the two halves pick the same best-of-n sample, and the gold and proxy reward "
                  "of the best-of-n pick against n.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (!out) {
    fprintf(stderr, "alab cpm: --out DIR is required (see --help)\n");
    return 2;
  }
  if (strcmp(penalty, "l2") && strcmp(penalty, "l1")) {
    fprintf(stderr, "alab cpm: --penalty must be l2 or l1, got '%s'\n", penalty);
    return 2;
  }
  c.cpm.penalty = strcmp(penalty, "l1") ? AL_LR_L2 : AL_LR_L1;
  c.seed = (uint64_t)seed, c.steps = steps;
  if (quiet) al_quiet = 1;
  al_set_threads(threads);
  al_err err;
  if (al_cpm_exp_check(&c, &err)) {
    fprintf(stderr, "alab cpm: %s\n", err.msg);
    return 2;
  }
  if (al_cpm_exp_run(&c, out, NULL, &err)) {
    fprintf(stderr, "alab cpm: %s\n", err.msg);
    return 1;
  }
  al_log("alab cpm: results in %s/results.json, report %s/report.html", out, out);
  return 0;
}
