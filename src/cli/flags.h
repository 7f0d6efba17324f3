/* Declarative command-line flags: each command lists its flags once, and
 * parsing, validation and --help all come from that one table. */
#ifndef ALAB_CLI_FLAGS_H
#define ALAB_CLI_FLAGS_H
#include <stdint.h>
#include <jansson.h>

/* A table row may leave its last columns out (a flag without a range): they
 * are zero, as C says, and GCC's -Wextra warning about it is off where the
 * tables are written. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

typedef enum { FLAG_INT, FLAG_I64, FLAG_DOUBLE, FLAG_STRING, FLAG_BOOL } flag_type;

typedef struct {
  const char *name; /* without the leading "--" */
  flag_type type;
  void *ptr;        /* int*, int64_t*, double*, const char**, int* (bool) */
  const char *help; /* one line; the default is appended from *ptr */
  /* Numeric flags: NULL (any finite value), or the interval a value must lie
   * in, "[lo, hi]" with "(" or ")" for an open end and inf allowed: "(0, inf)",
   * "[0, 1]". Checked when parsed, shown in --help. */
  const char *range;
} flag_def;

typedef struct {
  const char *usage;   /* "alab train [flags]" */
  const char *summary; /* what the command does, one paragraph */
  const flag_def *flags;
  int nflags;
} flag_cmd;

/* Parses argv[1..argc) into the table. Returns 0 to go on, 1 when --help was
 * printed (the caller exits 0), -1 on a bad flag (message printed, exit 2).
 * Positional arguments are not allowed unless `positional` is non-NULL, in
 * which case they are collected there (at most max_positional). */
int flags_parse(const flag_cmd *cmd, int argc, char **argv, const char **positional, int max_positional, int *npositional);
void flags_help(const flag_cmd *cmd);
/* Every flag's current value as a JSON object {name: value} (strings not set
 * are null), except the names listed in skip (NULL-terminated; may be NULL). */
json_t *flags_to_json(const flag_cmd *cmd, const char *const *skip);

/* The training loop's flags of the commands that fine-tune a model (sft,
 * dpo, rm train): accumulation, steps, learning rate and warmup, AdamW's
 * decay, clipping, evaluation and checkpoint intervals, into the
 * al_train_cfg tc and the int64_t steps and warmup; W prefixes each help
 * ("" or "with --data: "). */
#define FLAGS_TRAIN_LOOP(tc, steps, warmup, W)                                                                 \
  {"accum", FLAG_INT, &(tc).grad_accum, W "micro-batches per optimizer step", "[1, inf)"},                       \
  {"steps", FLAG_I64, &(steps), W "optimizer steps", "[1, inf)"},                                                \
  {"lr", FLAG_DOUBLE, &(tc).lr, W "peak learning rate", "(0, inf)"},                                              \
  {"warmup", FLAG_I64, &(warmup), W "linear warmup steps", "[0, inf)"},                                          \
  {"weight-decay", FLAG_DOUBLE, &(tc).weight_decay, W "AdamW weight decay (matrices only)", "[0, inf)"},          \
  {"grad-clip", FLAG_DOUBLE, &(tc).grad_clip, W "clip the global gradient norm to this (0: off)", "[0, inf)"},    \
  {"eval-every", FLAG_INT, &(tc).eval_every, W "held-out evaluation every N steps (and after the last)", "[1, inf)"}, \
  {"ckpt-every", FLAG_INT, &(tc).ckpt_every, W "checkpoint every N steps (0: only at the end)", "[0, inf)"}

/* The --precision flag of the commands that train or decode (include/alab/nn.h). */
#define FLAG_PRECISION_HELP                                                                                       \
  "fp32, or bf16: matrix products on bf16 inputs with fp32 accumulation (training keeps fp32 master weights and " \
  "AdamW state; decoding reads half the bytes per token); needs oneDNN and a CPU with AVX-512 BF16"

/* The --threads flag of every command that runs a model. */
#define FLAG_THREADS_HELP "threads (0: OMP_NUM_THREADS if set, else all cores)"
#define FLAG_THREADS_RANGE "[0, 4096]"

/* The --arch flag of every experiment that trains models from scratch
 * (checked by al_model_config_set_arch). */
#define FLAG_ARCH(ptr) \
  {"arch", FLAG_STRING, &(ptr), "architecture of the models trained from scratch: gpt2, or llama (RMSNorm, rotary positions, SwiGLU, untied head)"}
#endif
