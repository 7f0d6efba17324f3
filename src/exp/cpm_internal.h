/* Pieces of `alab cpm` (include/alab/cpm_exp.h) shared by its files. */
#ifndef ALAB_EXP_CPM_INTERNAL_H
#define ALAB_EXP_CPM_INTERNAL_H
#include "alab/cpm_exp.h"
#include "alab/exp.h"
#include "alab/model.h"
#include "alab/tok.h"

/* Sample i of the policy (cpm_policy.c) appended to out (NUL-terminated);
 * returns the edit made: 0 none, 1 repeat, 2 cut, 3 swap. */
int cpm_policy_sample(uint64_t seed, uint64_t i, double corrupt, al_buf *out);

/* A standard reward model trained on n comparisons (chosen[i] preferred to
 * rejected[i]) with the settings of c (cpm_rm.c): from scratch, or (init
 * non-NULL) from that language model's trunk. */
int cpm_rm_train(const al_cpm_exp_cfg *c, const al_tok *tok, const al_model *init, char *const *chosen,
                 char *const *rejected, int n, uint64_t seed, al_model *rm, json_t *info, al_err *err);

/* What one seed measured (cpm.c fills it, cpm_results.c reports it). */
enum { CPM_KINDS = 3 }; /* 0: compositional, 1: standard reward model, 2: gold (the ceiling) */
typedef struct {
  int nn;            /* n = 1, 2, 4, ..., N */
  int n[32];
  double acc[2];     /* held-out accuracy per kind (the halves' mean) */
  double agree[2][32];
  double gold[CPM_KINDS][32], proxy[CPM_KINDS][32];
  json_t *coef;      /* half A's compositional model (al_cpm_json) */
} cpm_seed;

/* results.json (headline, every seed, 95% intervals) and the plots. */
json_t *cpm_results_json(const al_cpm_exp_cfg *c, const cpm_seed *S, double seconds);
int cpm_plots(const al_run *run, const cpm_seed *S, int seeds, al_err *err);
#endif
