/* Pieces of the built-in RL experiment (src/exp/rl_exp.c, rl_proxy.c). */
#ifndef ALAB_RL_EXP_INTERNAL_H
#define ALAB_RL_EXP_INTERNAL_H
#include <math.h>
#include "alab/model.h"
#include "alab/rl_exp.h"
#include "alab/tok.h"

/* What rlx_train_proxy measured, on the held-out pairs' responses of the
 * initial policy (raw: before the gain). */
typedef struct {
  double accuracy;            /* of the held-out pairs */
  double corr;                /* Pearson correlation of the raw score and the gold */
  double mean_raw, sd_raw, iqr_raw, gold_sd, gold_iqr;
  double gain;                /* the score head's factor: sd 1 afterwards */
  double base_gold;           /* mean gold of every response sampled (the initial policy's) */
} rlx_proxy_info;

/* Trains the small proxy reward model on c->proxy_pairs pairs of base's
 * samples labelled by the gold, measures it on as many held-out pairs and
 * normalises its scores to sd 1 there (rl_proxy.c). */
int rlx_train_proxy(const al_model *base, const al_tok *tok, const al_rl_exp_cfg *c, al_model *rm, rlx_proxy_info *info,
                    al_err *err);
#endif
