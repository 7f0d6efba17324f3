/* `alab cpm`: Go et al. 2023, compositional preference models against a
 * standard reward model, on the story world (docs/cpm.md).
 *
 * Per seed: a policy writes stories that are sometimes broken (exp/cpm_policy.c);
 * comparisons of two samples are labelled by Bradley-Terry on the exact gold
 * reward, P(A > B) = sigmoid(beta (gold(A) - gold(B))) (alab/gold.h). The
 * training comparisons are split into two disjoint halves; on each half a
 * compositional preference model (the story world's exact features,
 * alab/cpm.h, logistic regression by liblinear with C by cross-validation) and
 * a standard reward model (a GPT-2 trunk with a scalar head trained from
 * scratch with the Bradley-Terry loss, alab/reward.h) are fitted. Measured:
 *   accuracy    on held-out comparisons (their sampled labels);
 *   robustness  for `groups` sets of N fresh samples, how often the two
 *               halves' models pick the same sample under best-of-n, for
 *               n = 1, 2, 4, ..., N (al_bon_agreement);
 *   overoptimisation  the expected gold and proxy reward of each model's
 *               best-of-n pick against n and KL = log n - (n-1)/n
 *               (al_bon_estimate; the two halves' values averaged), with
 *               best-of-n by gold itself as the ceiling.
 * Every quantity per seed, then mean and 95% t-interval over seeds. */
#ifndef ALAB_CPM_EXP_H
#define ALAB_CPM_EXP_H
#include <jansson.h>
#include "alab/cpm.h"

typedef struct {
  int seeds;        /* 3 */
  uint64_t seed;    /* 1: seed s uses the world's seed (seed, s) */
  int pairs;        /* 2000 training comparisons, two halves of 1000 */
  int heldout;      /* 500 held-out comparisons */
  double beta;      /* 5: label sharpness */
  double corrupt;   /* 0.5: the policy's chance of breaking a story */
  int groups, N;    /* 32 best-of-n sets of 64 samples */
  /* the standard reward model */
  const char *arch; /* gpt2 or llama (al_model_config_set_arch) */
  int vocab, layers, heads, embd, context; /* 512, 2, 2, 64, 192 (a longer text keeps its last tokens) */
  long steps;       /* 300 (2.4 epochs of a half; 600 overfits: docs/cpm.md) */
  int batch;        /* 8 pairs per step */
  double lr;        /* 3e-3 */
  const char *rm_init; /* a language model directory (NULL: from scratch): both halves' reward
                        * models start from its trunk (al_rm_from_lm) and use its tokenizer and
                        * context; vocab, layers, heads, embd and context then come from it */
  /* the compositional preference model */
  al_cpm_cfg cpm;
  int quick;        /* recorded only */
} al_cpm_exp_cfg;

void al_cpm_exp_defaults(al_cpm_exp_cfg *c);
/* Fails naming the setting that is out of range. */
int al_cpm_exp_check(const al_cpm_exp_cfg *c, al_err *err);
/* Every setting as config.json writes it. */
json_t *al_cpm_exp_config_json(const al_cpm_exp_cfg *c);
/* Writes the run directory dir; *results_out (may be NULL) gets results.json. */
int al_cpm_exp_run(const al_cpm_exp_cfg *c, const char *dir, json_t **results_out, al_err *err);
/* The registry's entry: the defaults (quick or not: the same scale for now). */
int al_cpm_reproduce(const char *dir, int quick, al_err *err);

/* `alab cpm fit` (src/exp/cpm_pairs.c): a compositional preference model on
 * a preference file (TRL's forms, HH-RLHF, SHP) with features scored by a
 * provider, as the paper builds it: every response of every pair scored on
 * every feature of the features file, the pairs split into training and
 * held-out by cpm.seed, the model fitted on the training pairs; results.json
 * has the coefficients with bootstrap intervals, the held-out accuracy and
 * how each score was read. */
#include "alab/cpm_features.h"
typedef struct {
  const char *data;     /* the preference file */
  const char *features; /* the features file (data/cpm_features.json) */
  double heldout;       /* share of pairs held out (0.2) */
  al_cpm_cfg cpm;
  al_cpm_extract_cfg extract; /* its provider is the one passed */
} al_cpm_fit_cfg;
int al_cpm_fit_pairs(const al_cpm_fit_cfg *c, al_provider *p, const char *dir, json_t **results_out, al_err *err);
#endif
