/* GPT-2's activation buffers for training forward/backward, sized once per
 * (B, T). The heads' buffers (logits, losses) are in heads.h. */
#ifndef ALAB_MODEL_GPT2_ACTS_H
#define ALAB_MODEL_GPT2_ACTS_H
#include "alab/model.h"

typedef struct {
  float *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *att, *res2;
  float *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_gelu, *res3;
} gpt2_layer_acts;

typedef struct {
  float *block; /* one allocation holds every float buffer below */
  int32_t *inputs;
  float *encoded, *lnf, *lnf_mean, *lnf_rstd, *scratch;
  float *dres, *dbufC, *dbuf3, *dbuf4, *datt; /* backward scratch */
  gpt2_layer_acts *layer;
} gpt2_acts;

void *gpt2_acts_new(const al_model_config *c, int B, int T);
void gpt2_acts_free(void *acts);
#endif
