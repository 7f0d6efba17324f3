/* `alab rl` with no model arguments: the built-in experiment (docs/rl.md).
 * In the world of alab/rl_world.h (exact gold reward), one policy is
 * pretrained; then for each seed, from that same start:
 *   rloo          RLOO against the gold, beta_kl = beta_lo, rloo_epochs
 *                 optimizer steps per batch (TRL's RLOOConfig default: 4)
 *   ppo           PPO against the gold, beta_lo
 *   ppo_beta_hi   PPO against the gold, beta_hi
 *   ppo_proxy     PPO against a small proxy reward model (trained on
 *                 proxy_pairs comparisons of the pretrained policy's samples,
 *                 labelled by Bradley-Terry draws on the gold (as alab
 *                 overopt labels its proxies' comparisons), its scores normalised to sd 1 on
 *                 held-out samples as Ziegler et al. 2019 do), beta_lo;
 *                 the gold is measured
 * each for iters batches of rollouts; per batch the gold, proxy score and
 * KL of the rollouts are recorded. Findings, each over seeds with a 95%
 * t-interval: RLOO and PPO raise the gold (last W batches' mean minus the
 * first W's); a larger beta_kl gives a smaller final KL (paired); against
 * the proxy, the gold's peak (W-batch moving mean) above the initial
 * policy's gold and above its end (rises, then falls), as measured. */
#ifndef ALAB_RL_EXP_H
#define ALAB_RL_EXP_H
#include <stdint.h>
#include <jansson.h>
#include "alab/base.h"

typedef struct {
  int seeds;             /* RL seeds (each condition of a seed shares its random streams) */
  int64_t seed;          /* pretraining, the proxy's data, and the first RL seed */
  const char *arch;      /* the policy: gpt2 or llama (al_model_config_set_arch) */
  int layers, heads, embd, pretrain_steps;
  int iters;             /* batches of rollouts per run */
  int prompts_per_iter, k;
  int rloo_epochs;       /* the rloo condition's passes over each batch (TRL's RLOOConfig num_ppo_epochs: 4) */
  double lr, beta_lo, beta_hi;
  double proxy_lr;       /* the ppo_proxy condition's learning rate (alab overopt's RL rate) */
  int proxy_pairs, proxy_steps;
  double bt_scale;       /* the proxy's labels: P(a preferred) = sigmoid(bt_scale (gold(a) - gold(b))), drawn */
  int window;            /* W: batches averaged at the start, the end and for the peak */
  int fixed_len;         /* 1 (default): every response is RLW_LEN letters (al_rl_cfg.min_new = max_new = RLW_LEN:
                          * the end-of-text masked); 0: a response ends at the end-of-text, RLW_LEN + 1 tokens at most */
  int quick;
} al_rl_exp_cfg;

void al_rl_exp_defaults(al_rl_exp_cfg *c);
/* Every setting as config.json records it; NULL with err on a bad one. */
json_t *al_rl_exp_config_json(const al_rl_exp_cfg *c, al_err *err);
int al_rl_exp_run(const al_rl_exp_cfg *c, const char *dir, al_err *err);
/* The registry's entry: the defaults (quick: fewer batches and seeds). */
int al_rl_reproduce(const char *dir, int quick, al_err *err);
#endif
