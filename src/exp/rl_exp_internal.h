/* Pieces of the built-in RL experiment (src/exp/rl_exp.c, rl_proxy.c). */
#ifndef ALAB_RL_EXP_INTERNAL_H
#define ALAB_RL_EXP_INTERNAL_H
#include <math.h>
#include "alab/model.h"
#include "alab/rl_exp.h"
#include "alab/tok.h"

/* Trains the small proxy reward model on c->proxy_pairs pairs of base's
 * samples labelled by the gold; its accuracy on as many held-out pairs, and
 * the factor its score head was scaled by (to the gold's sd on them). */
int rlx_train_proxy(const al_model *base, const al_tok *tok, const al_rl_exp_cfg *c, al_model *rm, double *accuracy,
                    double *scale, al_err *err);
#endif
