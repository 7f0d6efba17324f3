/* alab reversal: the reversal curse (Berglund et al. 2023, Experiment 1). */
#include <stdio.h>
#include "alab/reversal.h"
#include "cli/flags.h"

int cmd_reversal(int argc, char **argv) {
  al_rev_cfg c;
  al_rev_defaults(&c);
  const char *out = NULL, *generate = NULL;
  int quiet = 0;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "run directory (created): config.json, results.json, metrics.jsonl, plots, index.html, report.html"},
      {"data", FLAG_STRING, &c.data, "a folder in the paper's layout (all_prompts_train.jsonl, *_prompts_test.jsonl ...); default: generate into OUT/data"},
      {"generate", FLAG_STRING, &generate, "only write the generated facts to this folder (the paper's layout) and exit"},
      {"base", FLAG_STRING, &c.base, "finetune this model directory (with its tokenizer) instead of pretraining a base"},
      {"names", FLAG_STRING, &c.names_dir, "folder of name lists (first.txt, last.txt, roles.txt, title_adj.txt, title_noun.txt); default: alab's data/names"},
      {"per-group", FLAG_INT, &c.per_group, "people per group (p2d, d2p, both)"},
      {"train-templates", FLAG_INT, &c.train_templates, "paraphrase templates per order for training (1..30)"},
      {"test-templates", FLAG_INT, &c.test_templates, "held-out templates per order (1..10)"},
      {"seeds", FLAG_INT, &c.seeds, "finetuning seeds (data order and mixed-in text); the base is shared"},
      {"seed", FLAG_I64, &c.seed, "base seed: the facts, the base model, the random completions"},
      {"tokenizer", FLAG_STRING, &c.tokenizer, "byte, or bpe:N trained on the story text plus the training facts"},
      {"stories", FLAG_I64, &c.stories, "story-world stories to pretrain on (and to mix into finetuning)"},
      {"layers", FLAG_INT, &c.layers, "base model: transformer blocks"},
      {"heads", FLAG_INT, &c.heads, "base model: attention heads"},
      {"embd", FLAG_INT, &c.embd, "base model: channels"},
      {"context", FLAG_INT, &c.context, "base model: context and pretraining sequence length (0: the longest example rounded up to 16, at least 64)"},
      {"pretrain-steps", FLAG_I64, &c.pretrain_steps, "base model: pretraining steps on the story world (0: random init)"},
      {"epochs", FLAG_DOUBLE, &c.epochs, "finetuning epochs over the training examples"},
      {"lr", FLAG_DOUBLE, &c.lr, "finetuning peak learning rate"},
      {"mix", FLAG_DOUBLE, &c.mix, "share of each finetuning batch that is pretraining text"},
      {"batch", FLAG_INT, &c.batch, "sequences per batch"},
      {"augment", FLAG_INT, &c.augment, "1: paraphrase augmentation, 0: without (one template per fact), 2: both (the ablation)"},
      {"eval-max", FLAG_INT, &c.eval_max, "examples scored per slot, evenly strided (0: all)"},
      {"threads", FLAG_INT, &c.threads, "finetunes run at once, each single-threaded (0: one per core)"},
      {"quick", FLAG_BOOL, &c.quick, "record the run as quick scale (as reproduce does)"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab reversal --out DIR [--data DIR] [flags]",
                  "The reversal curse (Berglund et al. 2023, Experiment 1): fictitious people with unique descriptions, "
                  "in three groups (name -> description only, description -> name only, both), written in many "
                  "paraphrase templates; a base model finetuned on them is evaluated by greedy completion in the trained "
                  "order and in reverse, on training and held-out templates, and by the log-probability of the correct "
                  "completion against a random other person's (paired t-test). Runs with and without paraphrase "
                  "augmentation, over seeds, with 95% confidence intervals.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (quiet) al_quiet = 1;
  al_err err;
  if (generate) {
    al_rev_gen_cfg g = {c.per_group, c.train_templates, c.test_templates, (uint64_t)c.seed, c.names_dir};
    if (al_rev_generate(&g, generate, &err)) {
      fprintf(stderr, "alab reversal: %s\n", err.msg);
      return 1;
    }
    al_log("alab reversal: wrote %d people per group to %s", c.per_group, generate);
    return 0;
  }
  if (!out) {
    fprintf(stderr, "alab reversal: --out DIR is required (see --help)\n");
    return 2;
  }
  if (al_rev_check(&c, &err)) {
    fprintf(stderr, "alab reversal: %s\n", err.msg);
    return 2;
  }
  if (al_rev_run(&c, out, NULL, &err)) {
    fprintf(stderr, "alab reversal: %s\n", err.msg);
    return 1;
  }
  al_log("alab reversal: results in %s/results.json, report %s/report.html", out, out);
  return 0;
}
