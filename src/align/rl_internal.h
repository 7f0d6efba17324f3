/* The RL objective's state, shared by its rollout (rl_rollout.c) and its
 * optimizer steps (rl_objective.c). */
#ifndef ALAB_RL_INTERNAL_H
#define ALAB_RL_INTERNAL_H
#include "alab/rl.h"

/* the metrics of a batch of rollouts, logged with every step of it */
enum { RM_KL, RM_ENT, RM_NONSCORE, RM_SCORES, RM_RLHF, RM_GOLD, RM_NROLL };

typedef struct {
  al_rl_cfg rl;
  al_rl_setup s;
  int P, k, n, R, T, mb, spi; /* prompts, samples each, sequences, response max, row length, minibatch rows, steps per batch */
  int V;
  int32_t **pids;             /* tokenized prompts */
  int *plen;
  long cur_iter;              /* the batch of rollouts held (-1: none) */
  uint64_t last_index;        /* the last micro-batch stepped (+1; 0: none) */
  /* the batch of rollouts: n rows of T tokens */
  int32_t *inputs;
  int *start, *len, *prompt_of;
  float *old_lp, *ref_lp, *old_v, *kl, *rewards, *adv, *ret, *score, *gold, *probe, *seq_adv;
  double roll[RM_NROLL];
  long roll_tokens;
  /* one minibatch */
  int32_t *mb_in;
  int *mb_start, *mb_len, *perm;
  float *lp, *v, *values, *dlp, *dv, *dvalues, *mb_old_lp, *mb_old_v, *mb_adv, *mb_ret;
  /* sampling scratch: k rows of R tokens */
  int32_t *out;
  int *lens;
  char **texts;
  float *scratch_scores;
  double rollout_s, update_s, sample_s;
  long tokens;
  double *hist;      /* RM_NROLL per batch of rollouts sampled */
  double *hist_len;  /* per batch: mean response tokens (the end-of-text included when sampled) */
  double *hist_probe; /* per batch: the probe's mean (NAN without one) */
  long *hist_batch, hist_n;
} rl_ctx;

/* Samples, scores and prepares batch `it` of rollouts from the policy m. */
int rl_rollout(rl_ctx *c, al_model *m, long it, al_err *err);
#endif
