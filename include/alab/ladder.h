/* Training a family of models for scaling studies (src/exp/ladder.c). */
#ifndef ALAB_LADDER_H
#define ALAB_LADDER_H
#include <stdint.h>
#include "alab/base.h"

/* ---- a ladder: a family of models of increasing size on one corpus ----
 * Sizes (layers, width, heads): (1,24,2) (2,40,2) (2,64,4) (3,96,4)
 * (4,128,4) (6,192,6): with the byte tokenizer and context 128 the first five
 * span ~50x in parameters. Each size trains on tokens_per_param * params
 * tokens (at least min_tokens), batch x seq_len per step, warmup 5%, cosine
 * decay, lr 2e-3 * sqrt(64 / width) clamped to [1e-3, 3e-3]. Writes
 * out_dir/<size>/ (a model directory + training.json {params, tokens,
 * compute = 6 * params * tokens, steps, final_loss, val_loss, seconds}) and
 * out_dir/ladder.json. A size whose training.json exists is skipped, so a
 * killed ladder resumes where it stopped. */
typedef struct {
  const char *out_dir, *data, *tokenizer;
  const char *arch; /* gpt2 or llama (al_model_config_set_arch) */
  int nsizes, batch, seq_len;
  double tokens_per_param;
  long min_tokens;
  uint64_t seed;
} al_ladder_cfg;
al_ladder_cfg al_ladder_cfg_default(void); /* story:20000, byte, 5 sizes, 16 x 128, 20 tokens/param */
int al_ladder_run(const al_ladder_cfg *c, al_err *err);

#endif
