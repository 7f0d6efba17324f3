/* `alab data synth`: writes stories of the built-in story world (see
 * include/alab/synth.h) and reports their exact log-probabilities. */
#include <stdio.h>
#include <string.h>
#include "alab/synth.h"
#include "cli/data_cmds.h"
#include "cli/flags.h"

int cmd_data_synth(int argc, char **argv) {
  const char *out = NULL, *format = "text";
  int64_t n = 10000, seed = 1;
  const flag_def flags[] = {
      {"out", FLAG_STRING, &out, "file to write (atomically)"},
      {"n", FLAG_I64, &n, "number of stories"},
      {"seed", FLAG_I64, &seed, "seed; story i depends only on (seed, i)"},
      {"format", FLAG_STRING, &format, "text (stories each followed by " AL_SYNTH_SEP ") or jsonl ({\"text\", \"logprob\"} per line)"},
  };
  const flag_cmd cmd = {"alab data synth --out FILE [--n N] [--seed S] [--format text|jsonl]",
                        "Writes N short stories from the story world's probabilistic grammar, deterministic "
                        "in the seed, and prints the exact log-probability of the corpus under the grammar: "
                        "total, mean per story, and nats per byte (separators included) and per word, the "
                        "true entropy a model's loss can be compared with.",
                        flags, sizeof flags / sizeof flags[0]};
  int rc = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (rc) return rc > 0 ? 0 : 2;
  if (!out) {
    fprintf(stderr, "alab data synth: --out is required (see --help)\n");
    return 2;
  }
  if (n < 0) {
    fprintf(stderr, "alab data synth: --n must be >= 0, got %lld\n", (long long)n);
    return 2;
  }
  al_synth_format fmt;
  if (!strcmp(format, "text")) fmt = AL_SYNTH_TEXT;
  else if (!strcmp(format, "jsonl")) fmt = AL_SYNTH_JSONL;
  else {
    fprintf(stderr, "alab data synth: --format must be text or jsonl, got '%s'\n", format);
    return 2;
  }
  al_err err = {{0}};
  al_synth_entropy e;
  double t0 = al_now();
  if (al_synth_write(out, (uint64_t)seed, (long)n, fmt, &e, &err)) {
    fprintf(stderr, "alab data synth: %s\n", err.msg);
    return 1;
  }
  printf("wrote %ld stories (%llu bytes, %llu words) to %s in %.2f s\n", e.nstories, (unsigned long long)e.nbytes,
         (unsigned long long)e.nwords, out, al_now() - t0);
  printf("log-probability: total %.6f nats, mean %.6f nats per story (sd %.3f)\n", -e.nll, -e.per_story, e.sd_story);
  printf("entropy: %.6f nats/byte (separators included), %.6f nats/word, %.1f bytes and %.1f words per story\n",
         e.per_byte, e.per_word, e.mean_bytes, e.mean_words);
  return 0;
}
