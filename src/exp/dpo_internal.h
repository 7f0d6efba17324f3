/* The planted-preference world of `alab dpo` (dpo_world.c) and its
 * measurements, shared with the experiment's run (dpo_exp.c). */
#ifndef ALAB_EXP_DPO_INTERNAL_H
#define ALAB_EXP_DPO_INTERNAL_H
#include "alab/dpo_exp.h"

/* JSONL of the world, seeded: n SFT examples {"prompt", "completion"}
 * (polite half of the time), n pairs {"prompt", "chosen", "rejected"}
 * (the same answer with and without " please."), and n held-out prompts
 * (one per line; their words never appear in training prompts). */
char *dpo_world_sft(uint64_t seed, int n);
char *dpo_world_pairs(uint64_t seed, int n);
char *dpo_world_heldout(uint64_t seed, int n);
/* Does an answer show the preferred behaviour (end in " please.")? */
int dpo_world_preferred(const char *answer, size_t len);

/* On the held-out prompts (one per line of `prompts`), `samples` answers
 * each from policy at temperature 1 (streams from seed): the rate of the
 * preferred behaviour and KL(policy || ref) per answer (ref NULL: KL 0). */
int dpo_world_measure(al_model *policy, al_model *ref, const al_tok *tok, const char *prompts, int samples,
                      uint64_t seed, double *rate, double *kl, al_err *err);
#endif
