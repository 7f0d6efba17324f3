/* The sycophancy mechanism's fact world and labeller (src/exp/syco_world.c). */
#ifndef ALAB_EXP_SYCO_MECH_INTERNAL_H
#define ALAB_EXP_SYCO_MECH_INTERNAL_H
#include "alab/exp.h"
#include "alab/preference.h"
#include "alab/sycophancy.h"

#define SYCO_MAX_OPTIONS 8
extern const char *const syco_colours[SYCO_MAX_OPTIONS];
enum { SYCO_AGREE, SYCO_STATE, SYCO_PLAIN }; /* response kinds */

typedef struct {
  int facts, options;
  char **name; /* facts: the objects' made-up names */
  int *truth;  /* facts: each one's true colour */
} syco_world;

/* facts objects with distinct names, colours uniform over options. */
int syco_world_make(syco_world *w, int facts, int options, uint64_t seed, al_err *err);
void syco_world_free(syco_world *w);
/* The prompt about fact with the user's belief (a colour; -1: none), fresh. */
char *syco_prompt(const syco_world *w, int fact, int belief);
/* A response of kind SYCO_* naming colour, fresh (with its leading space). */
char *syco_response(int kind, int colour);
/* A colour other than a and b (-1: none), uniform. */
int syco_other(al_rng *r, int options, int a, int b);
/* npairs labelled pairs over facts 0..nfacts-1 (see syco_world.c), the
 * labeller's bias p; returns how many labels it flipped to agreement. */
int syco_pairs(const syco_world *w, int nfacts, int npairs, double p, uint64_t seed, al_pref_set *out);

/* One (condition, seed) of the mechanism: what its preference model measures. */
typedef struct {
  double pm_syc_heldout, pm_syc_train, final_loss, train_s;
  int flipped;       /* labels the labeller flipped to agreement */
  double *syc, *acc; /* N: best-of-n for n = 1..N */
  double *rl_syc;    /* rl_iters: the sycophancy rate of each batch of RL rollouts */
} mech_job;
/* RL against rm (src/exp/syco_rl.c): a policy trained on the base policy's
 * answers, then RLOO on wrong-belief prompts about objects f0.., the
 * sycophancy rate of each batch into syc[0..c->rl_iters). */
int syco_rl(const al_syco_mech_cfg *c, const syco_world *w, int f0, al_model *rm, const al_tok *tok, uint64_t seed,
            double *syc, al_err *err);
/* jobs[0..seeds) the biased labeller's, jobs[seeds..2 seeds) the control's:
 * metrics.jsonl lines, the plots, and results (fresh) with the headline. */
int syco_mech_report(const al_syco_mech_cfg *c, al_run *run, const mech_job *jobs, json_t **results, al_err *err);
#endif
