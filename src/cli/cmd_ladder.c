/* `alab ladder`: trains a family of models of increasing size on one corpus. */
#include <stdio.h>
#include "alab/ladder.h"
#include "cli/flags.h"

int cmd_ladder(int argc, char **argv) {
  al_ladder_cfg c = al_ladder_cfg_default();
  int64_t seed = (int64_t)c.seed, min_tokens = c.min_tokens;
  int quiet = 0, quick = 0;
  const flag_def flags[] = {
      {"out", FLAG_STRING, &c.out_dir, "the family folder: one model directory per size, ladder.json"},
      {"data", FLAG_STRING, &c.data, "dataset: story:N[:SEED] (the story world), token shards, or a text/JSONL corpus"},
      {"tokenizer", FLAG_STRING, &c.tokenizer, "byte, bpe:N (trained on --data) or a tokenizer directory"},
      FLAG_ARCH(c.arch),
      {"sizes", FLAG_INT, &c.nsizes, "how many sizes of the built-in ladder (1..6; 5 span ~50x parameters)"},
      {"tokens-per-param", FLAG_DOUBLE, &c.tokens_per_param, "token budget per parameter (20 = Chinchilla)"},
      {"min-tokens", FLAG_I64, &min_tokens, "token budget at least this for every size"},
      {"batch", FLAG_INT, &c.batch, "sequences per step"},
      {"seq-len", FLAG_INT, &c.seq_len, "context length (and the models' n_positions)"},
      {"seed", FLAG_I64, &seed, "initialisation and data-order seed"},
      {"quick", FLAG_BOOL, &quick, "quick scale: 4 tokens per parameter, at least 100k tokens per size"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  const flag_cmd cmd = {"alab ladder [--out DIR] [flags]",
                        "Trains a family of GPT-2 (or --arch llama) models of increasing size (same corpus, tokenizer and recipe; "
                        "token budget proportional to parameters) into one folder, for `alab scaling --family DIR`. "
                        "Sizes already trained are skipped, so a killed ladder resumes.",
                        flags, sizeof flags / sizeof flags[0]};
  int rc = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (rc) return rc > 0 ? 0 : 2;
  al_quiet = quiet;
  c.seed = (uint64_t)seed;
  c.min_tokens = (long)min_tokens;
  if (quick) c.tokens_per_param = 4, c.min_tokens = 100000;
  al_err err = {{0}};
  if (al_ladder_run(&c, &err)) {
    fprintf(stderr, "alab ladder: %s\n", err.msg);
    return 1;
  }
  printf("ladder of %d sizes in %s (see %s/ladder.json)\n", c.nsizes, c.out_dir, c.out_dir);
  return 0;
}
