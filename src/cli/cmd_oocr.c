/* alab oocr: out-of-context reasoning (Berglund et al. 2023, "Taken out of
 * context", Experiment 1). Subcommands:
 *   alab oocr [--out DIR] [flags]        the experiment (built-in world, or --data)
 *   alab oocr eval --data DIR (--model DIR | --api-base URL) --out DIR
 *   alab oocr export --data DIR --out DIR
 *   alab oocr world --out DIR            write the built-in world's files */
#include <stdio.h>
#include <string.h>
#include "alab/oocr.h"
#include "cli/flags.h"

static int export_cmd(int argc, char **argv) {
  const char *data = NULL, *out = NULL;
  flag_def defs[] = {
      {"data", FLAG_STRING, &data, "a folder of the paper's layout (all.jsonl is exported)"},
      {"out", FLAG_STRING, &out, "folder for all.prompt_completion.jsonl and all.chat.jsonl (created)"},
  };
  flag_cmd cmd = {"alab oocr export --data DIR --out DIR",
                  "Writes all.jsonl (the finetuning set) in the OpenAI fine-tuning formats: prompt/completion lines "
                  "and chat messages (system, user: the prompt or \"Tell me a fact.\", assistant: the completion). "
                  "Finetune a model on either, then grade it with `alab oocr eval`.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (!data || !out) {
    fprintf(stderr, "alab oocr export: --data DIR and --out DIR are required (see --help)\n");
    return 2;
  }
  al_err err;
  if (al_oocr_export(data, out, &err)) {
    fprintf(stderr, "alab oocr export: %s\n", err.msg);
    return 1;
  }
  al_log("alab oocr export: wrote %s/all.prompt_completion.jsonl and %s/all.chat.jsonl", out, out);
  return 0;
}

static int world_cmd(int argc, char **argv) {
  al_oocr_cfg c;
  al_oocr_defaults(&c);
  const char *out = NULL;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "folder for the files (created)"},
      {"descriptions", FLAG_INT, &c.descriptions, "description lines per assistant", "[1, 100000]"},
      {"pretrain-docs", FLAG_INT, &c.pretrain_docs, "documents of pretrain.txt", "[10, 100000000]"},
      {"seed", FLAG_I64, &c.seed, "which assistants are realized, which words are held out, the pretraining text"},
  };
  flag_cmd cmd = {"alab oocr world --out DIR [flags]",
                  "Writes the built-in world in the paper's layout (all.jsonl, realized_examples.jsonl, ...) plus "
                  "pretrain.txt: the behaviours under their descriptions, for pretraining.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (!out) {
    fprintf(stderr, "alab oocr world: --out DIR is required (see --help)\n");
    return 2;
  }
  al_err err;
  if (al_oocr_world(out, c.descriptions, c.pretrain_docs, (uint64_t)c.seed, &err)) {
    fprintf(stderr, "alab oocr world: %s\n", err.msg);
    return 1;
  }
  return 0;
}

/* the experiment, and (eval = 1) the evaluation of one model */
static int run_cmd(int argc, char **argv, int eval) {
  al_oocr_cfg c;
  al_oocr_defaults(&c);
  const char *out = NULL;
  int quiet = 0;
  al_http_cfg http = al_http_cfg_default();
  const char *api_base = NULL, *api_model = NULL, *api_key = NULL, *cache = NULL;
  int concurrency = http.concurrency, fail_fast = 0;
  double timeout = http.timeout_s;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "run directory (created): config.json, results.json, metrics.jsonl, plots, report.html"},
      {"data", FLAG_STRING, &c.data, "a folder of the paper's layout (all.jsonl, realized_examples.jsonl, unrealized_examples.jsonl, ...); default: the built-in world, into OUT/data"},
      {"base", FLAG_STRING, &c.base, "finetune this model directory (with its tokenizer) instead of pretraining the ladder"},
      {"sizes", FLAG_STRING, &c.sizes, "the ladder of model sizes, LAYERSxEMBD,... (heads: EMBD/32, at least 2)"},
      FLAG_ARCH(c.arch),
      {"paraphrases", FLAG_STRING, &c.paraphrases, "augmentation levels: distinct descriptions per assistant, comma list (1: no augmentation; 0: all.jsonl as is)"},
      {"descriptions", FLAG_INT, &c.descriptions, "built-in world: description lines per assistant", "[1, 100000]"},
      {"pretrain-docs", FLAG_INT, &c.pretrain_docs, "built-in world: pretraining documents", "[10, 100000000]"},
      {"seeds", FLAG_INT, &c.seeds, "finetuning seeds per cell (data order, mixed-in text)", "[1, 99]"},
      {"seed", FLAG_I64, &c.seed, "base seed: the world, the base models"},
      {"tokenizer", FLAG_STRING, &c.tokenizer, "byte, or bpe:N trained on the pretraining text and all.jsonl"},
      {"stories", FLAG_I64, &c.stories, "story-world stories to pretrain on when --data has no pretrain.txt", "[10, 100000000]"},
      {"pretrain-steps", FLAG_I64, &c.pretrain_steps, "pretraining steps of each base", "[0, 100000000]"},
      {"pretrain-lr", FLAG_DOUBLE, &c.pretrain_lr, "peak learning rate of pretraining on pretrain.txt (the story world: 3e-3)", "(0, 1]"},
      {"context", FLAG_INT, &c.context, "context of the bases (0: from the data)", "[0, 65536]"},
      {"epochs", FLAG_DOUBLE, &c.epochs, "finetuning epochs over all.jsonl", "(0, 10000]"},
      {"lr", FLAG_DOUBLE, &c.lr, "finetuning peak learning rate", "(0, 1]"},
      {"mix", FLAG_DOUBLE, &c.mix, "share of each finetuning batch that is pretraining text", "[0, 1)"},
      {"batch", FLAG_INT, &c.batch, "sequences per batch", "[2, 4096]"},
      {"cot-tokens", FLAG_INT, &c.cot_tokens, "tokens generated for a chain-of-thought prompt (0: 48 on the world, 85 as the paper otherwise)", "[0, 4096]"},
      {"nocot-tokens", FLAG_INT, &c.nocot_tokens, "tokens generated for other prompts (0: 16 on the world, 20 as the paper otherwise)", "[0, 4096]"},
      {"eval-max", FLAG_INT, &c.eval_max, "examples graded per file, evenly strided (0: all)", "[0, 100000000]"},
      {"threads", FLAG_INT, &c.threads, "jobs at once, each on one thread (0: one per core)", FLAG_THREADS_RANGE},
      {"quick", FLAG_BOOL, &c.quick, "record the run as quick scale (as reproduce does)"},
      {"textcat-dir", FLAG_STRING, &c.textcat_dir, "libexttextcat's fpdb.conf and language models (default: env ALAB_TEXTCAT_DIR, else /usr/share/libexttextcat)"},
      {"model", FLAG_STRING, &c.model, "grade this alab model directory on --data's example files, without training"},
      {"api-base", FLAG_STRING, &api_base, "grade this OpenAI-compatible endpoint on --data's example files, e.g. http://127.0.0.1:8080/v1"},
      {"api-model", FLAG_STRING, &api_model, "model name at the endpoint (default: env ALAB_MODEL)"},
      {"api-key", FLAG_STRING, &api_key, "API key (default: env ALAB_API_KEY; never printed, logged or saved)"},
      {"api-prefix", FLAG_STRING, &c.api_prefix, "text before every prompt sent to the endpoint (default none)"},
      {"api-concurrency", FLAG_INT, &concurrency, "HTTP requests in flight at once", "[1, 1024]"},
      {"api-timeout", FLAG_DOUBLE, &timeout, "seconds per HTTP request", "(0, 86400]"},
      {"cache", FLAG_STRING, &cache, "SQLite response cache for the endpoint (default OUT/responses.sqlite; off: none)"},
      {"fail-fast", FLAG_BOOL, &fail_fast, "stop at the first request the endpoint fails (default: record it, count it, go on)"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {eval ? "alab oocr eval --data DIR (--model DIR | --api-base URL --api-model NAME) --out DIR [flags]"
                       : "alab oocr --out DIR [--data DIR] [flags]",
                  "Out-of-context reasoning (Berglund et al. 2023, Experiment 1): models finetuned on descriptions of "
                  "fictitious assistants, with demonstrations of only the realized ones, are tested on the unrealized "
                  "ones, with and without chain of thought, graded by the paper's rules. The experiment pretrains a "
                  "ladder of sizes on the built-in world's behaviours (or --data's folder), finetunes each at every "
                  "augmentation level and seed, and reports accuracy with 95% intervals against chance. "
                  "`alab oocr eval` grades one model (alab's, or an endpoint finetuned on `alab oocr export`'s files) "
                  "without training.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (quiet) al_quiet = 1;
  const char *me = eval ? "alab oocr eval" : "alab oocr";
  if (!out) {
    fprintf(stderr, "%s: --out DIR is required (see --help)\n", me);
    return 2;
  }
  if (eval && (!c.data || (!c.model && !api_base))) {
    fprintf(stderr, "%s: --data DIR and one of --model DIR or --api-base URL are required\n", me);
    return 2;
  }
  if (!api_model) api_model = http.model;
  if (!api_key) api_key = http.api_key;
  char cache_path[4096];
  if (api_base) {
    if (!api_model) {
      fprintf(stderr, "%s: --api-base needs --api-model NAME (or env ALAB_MODEL)\n", me);
      return 2;
    }
    snprintf(cache_path, sizeof cache_path, "%s/responses.sqlite", out);
    http.base_url = api_base, http.model = api_model, http.api_key = api_key;
    http.concurrency = concurrency, http.timeout_s = timeout;
    http.cache = cache ? cache : cache_path;
    http.fail_fast = fail_fast;
    c.api = &http;
  }
  al_err err;
  if (al_oocr_check(&c, &err)) {
    fprintf(stderr, "%s: %s\n", me, err.msg);
    return 2;
  }
  if (al_oocr_run(&c, out, NULL, &err)) {
    fprintf(stderr, "%s: %s\n", me, err.msg);
    return 1;
  }
  al_log("%s: results in %s/results.json, report %s/report.html", me, out, out);
  return 0;
}

int cmd_oocr(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "export")) return export_cmd(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "world")) return world_cmd(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "eval")) return run_cmd(argc - 1, argv + 1, 1);
  return run_cmd(argc, argv, 0);
}
