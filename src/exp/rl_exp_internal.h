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
  /* the spurious feature (rlx_probe): responses of RLX_PROBE_N letters drawn
   * independently, 'a' with probability probe_pa[j], else one of "bcdefgh"
   * uniformly; per j, RLX_PROBE_M of them: mean gold, its closed form, the
   * mean normalised proxy score */
  double probe_gold[8], probe_gold_exact[8], probe_proxy[8];
} rlx_proxy_info;
enum { RLX_PROBE_P = 8, RLX_PROBE_M = 256 };
extern const double rlx_probe_pa[RLX_PROBE_P];

/* Trains the small proxy reward model on c->proxy_pairs pairs of base's
 * samples labelled by the gold, measures it on as many held-out pairs and
 * normalises its scores to sd 1 there (rl_proxy.c). */
int rlx_train_proxy(const al_model *base, const al_tok *tok, const al_rl_exp_cfg *c, al_model *rm, rlx_proxy_info *info,
                    al_err *err);
#endif
