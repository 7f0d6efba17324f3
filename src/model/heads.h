/* The heads over the final hidden state h [N = B*T, C]: the LM head (tied
 * output embedding, softmax cross-entropy) and the scalar head (score.weight). */
#ifndef ALAB_MODEL_HEADS_H
#define ALAB_MODEL_HEADS_H
#include "alab/model.h"

struct al_head_acts {
  const float *hidden; /* the trunk's output of the last forward */
  float *dhidden;      /* [N, C] */
  float *logits;       /* [N, V], allocated on the first LM forward */
  float *losses;       /* [N] */
  int32_t *targets;    /* [N] */
  int32_t *pos;        /* [B] positions the scalar head read */
  int have_targets, counted;
};

al_head_acts *heads_new(const al_model_config *c, int B, int T);
void heads_free(al_head_acts *h);
/* logits = h @ E^T; with targets, per-row losses and the mean over counted rows */
float lm_head_forward(al_model *m, const int32_t *targets);
/* d(mean loss)/dh * grad_scale into dhidden, d/dE into grads; 0 when no row counted */
int lm_head_backward(al_model *m, float grad_scale);
/* d(sum_n w[n] * CE_n)/dh into dhidden, d/dE into grads (rows whose target
 * is negative get none); 0 when the last forward had no targets */
int lm_head_backward_rows(al_model *m, const float *w);
/* values[b] = score . h[b, pos[b]] */
void scalar_head_forward(al_model *m, const int32_t *pos, float *values);
/* dhidden = dvalues[b] * score at (b, pos[b]), 0 elsewhere; d(score) += dvalues[b] * h[b, pos[b]] */
void scalar_head_backward(al_model *m, const float *dvalues);
#endif
