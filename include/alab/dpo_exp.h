/* `alab dpo` without data: DPO on a planted preference (Rafailov et al.
 * 2023), plain and with TRL's rpo_alpha NLL term (two arms from the same
 * SFT model). A small GPT-2 over bytes is fine-tuned (SFT, from scratch) on
 * answers to "Q: W1 W2?\nA:" prompts that end in " please." half of the
 * time; DPO then trains it on pairs of the same answer with and without
 * " please.", the polite one preferred, against the frozen SFT model as the
 * reference. Measured on held-out prompts (their words never appear in a
 * training prompt), by sampling `samples` answers per prompt at temperature 1:
 * the rate of the preferred behaviour (the answer ends in " please."), at
 * the SFT level (DPO step 0) and through DPO, and the KL from the
 * reference, KL(pi || ref) = E_{y ~ pi}[log pi(y|x) - log ref(y|x)] in nats
 * per answer, estimated from the same samples. Every seed and a 95%
 * interval over seeds.
 *
 * Run directory: config.json, metrics.jsonl ({"seed", "arm", "dpo_step",
 * "rate", "kl"} per arm, seed and evaluation), results.json ("rate"/"kl"
 * (DPO) and "rate_nll"/"kl_nll" (DPO + NLL) per evaluation step with every
 * seed; "sft_rate", "dpo_rate", "dpo_kl", "dpo_nll_rate", "dpo_nll_kl";
 * "headline"), rate.svg and kl.svg, and seed1/ with the data (sft.jsonl,
 * pairs.jsonl, heldout_prompts.txt) and the sft, dpo and dpo_nll model
 * directories with their model cards. */
#ifndef ALAB_DPO_EXP_H
#define ALAB_DPO_EXP_H
#include "alab/dpo.h"

typedef struct {
  int seeds;
  int n_sft, n_pairs, n_eval;  /* SFT examples, DPO pairs, held-out prompts */
  long sft_steps, dpo_steps;
  int evals;                   /* evaluations during DPO, evenly spaced (the SFT model is step 0) */
  const char *arch; /* gpt2 or llama (al_model_config_set_arch) */
  int layers, heads, embd, batch;
  double sft_lr, dpo_lr;
  al_dpo_cfg dpo;              /* beta 0.1, sigmoid (its rpo_alpha is not used) */
  double rpo_alpha;            /* > 0: a second arm, DPO + rpo_alpha x NLL of the chosen (TRL's rpo_alpha); 1 */
  int samples;                 /* answers sampled per held-out prompt (temperature 1) */
  int threads;                 /* 0: al_default_threads() */
} al_dpo_exp_cfg;

/* Full scale; quick: fewer seeds and steps (minutes on 2 cores). */
void al_dpo_exp_defaults(al_dpo_exp_cfg *c, int quick);
int al_dpo_exp_run(const al_dpo_exp_cfg *c, const char *dir, al_err *err);
/* The registry's entry: al_dpo_exp_run on the defaults. */
int al_dpo_reproduce(const char *dir, int quick, al_err *err);
#endif
