/* alab reversal: the reversal curse (Berglund et al. 2023, Experiment 1). */
#include <stdio.h>
#include "alab/reversal.h"
#include "cli/flags.h"

int cmd_reversal(int argc, char **argv) {
  al_rev_cfg c;
  al_rev_defaults(&c);
  const char *out = NULL, *generate = NULL;
  int quiet = 0;
  al_http_cfg http = al_http_cfg_default();
  /* endpoint settings default to the environment, read after parsing (so --help never prints a key) */
  const char *api_base = NULL, *api_model = NULL, *api_key = NULL;
  int concurrency = http.concurrency;
  double timeout = http.timeout_s;
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
      FLAG_ARCH(c.arch),
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
      {"threads", FLAG_INT, &c.threads, "threads: finetunes run one per thread; the base, or a single finetune, gets them all (0: one per core)"},
      {"quick", FLAG_BOOL, &c.quick, "record the run as quick scale (as reproduce does)"},
      {"save-models", FLAG_BOOL, &c.save_models, "save each finetuned model as OUT/models/VARIANT-seedS (a model directory: serve it, evaluate it)"},
      {"model", FLAG_STRING, &c.model, "evaluate this alab model directory on the test files (--data, or generated), without training"},
      {"api-base", FLAG_STRING, &api_base, "evaluate this OpenAI-compatible endpoint on the test files, without training, e.g. http://127.0.0.1:8080/v1"},
      {"api-model", FLAG_STRING, &api_model, "model name at the endpoint (default: env ALAB_MODEL)"},
      {"api-key", FLAG_STRING, &api_key, "API key (default: env ALAB_API_KEY; never printed, logged or saved)"},
      {"api-tokenizer", FLAG_STRING, &c.api_tokenizer, "tokenizer directory matching the endpoint's: score with token ids, generate completion tokens + 4 (else its bytes + 4)"},
      {"api-prefix", FLAG_STRING, &c.api_prefix, "text before every prompt sent to the endpoint (default none; '<|endoftext|>' for an alab model behind alab serve, as it was trained)"},
      {"api-concurrency", FLAG_INT, &concurrency, "HTTP requests in flight at once"},
      {"api-timeout", FLAG_DOUBLE, &timeout, "seconds per HTTP request"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab reversal --out DIR [--data DIR] [--model DIR | --api-base URL --api-model NAME] [flags]",
                  "The reversal curse (Berglund et al. 2023, Experiment 1): fictitious people with unique descriptions, "
                  "in three groups (name -> description only, description -> name only, both), written in many "
                  "paraphrase templates; a base model finetuned on them is evaluated by greedy completion in the trained "
                  "order and in reverse, on training and held-out templates, and by the log-probability of the correct "
                  "completion against a random other person's (paired t-test). Runs with and without paraphrase "
                  "augmentation, over seeds, with 95% confidence intervals. With --model or --api-base nothing is "
                  "trained: that model is evaluated on the test files (the paper's evaluation of existing models).",
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
  if (!api_model) api_model = http.model;
  if (!api_key) api_key = http.api_key;
  if (api_base) {
    if (!api_model) {
      fprintf(stderr, "alab reversal: --api-base needs --api-model NAME (or env ALAB_MODEL)\n");
      return 2;
    }
    if (!(timeout > 0) || concurrency < 1 || concurrency > 1024) {
      fprintf(stderr, "alab reversal: --api-timeout > 0 and --api-concurrency 1..1024\n");
      return 2;
    }
    http.base_url = api_base, http.model = api_model, http.api_key = api_key;
    http.concurrency = concurrency, http.timeout_s = timeout;
    c.api = &http;
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
