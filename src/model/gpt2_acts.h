/* Activation buffers for training forward/backward, sized once per (B, T). */
#ifndef ALAB_MODEL_ACTS_H
#define ALAB_MODEL_ACTS_H
#include "alab/model.h"

typedef struct {
  float *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *att, *res2;
  float *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_gelu, *res3;
} al_layer_acts;

struct al_acts {
  float *block; /* one allocation holds every float buffer below */
  int32_t *inputs, *targets;
  float *encoded, *lnf, *lnf_mean, *lnf_rstd, *logits, *losses, *scratch;
  float *dres, *dlnf, *dbufC, *dbuf3, *dbuf4, *datt; /* backward scratch */
  al_layer_acts *layer;
  int have_targets, counted;
};

al_acts *al_acts_new(const al_gpt2_config *c, int B, int T);
void al_acts_free(al_acts *a);
#endif
