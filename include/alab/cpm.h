/* Compositional preference models (Go et al. 2023): a response is described
 * by a few interpretable features f_1..f_d (each a number: a 1-10 score from
 * a prompted language model, or an exact measurement), and the preference
 * between two responses A, B of one prompt is a logistic regression on their
 * standardised feature differences, without intercept:
 *   P(A > B) = sigmoid(sum_k w_k (f_k(A) - f_k(B)) / s_k)
 * s_k being feature k's standard deviation over the training responses. The
 * reward of one response is then r(x) = sum_k w_k f_k(x) / s_k (up to a
 * constant), usable wherever a reward model is (best-of-n).
 *
 * The regression is liblinear's (the solver behind scikit-learn's
 * LogisticRegression(solver="liblinear")), minimising
 *   L2:  0.5 ||w||^2 + C sum_i log(1 + exp(-y_i w.x_i))
 *   L1:  ||w||_1     + C sum_i log(1 + exp(-y_i w.x_i))
 * with y_i = +1 when A won, -1 when B did. C is chosen from a log-spaced grid
 * by k-fold cross-validation (the C with the smallest mean held-out log-loss;
 * the smaller C on ties), and the coefficients get 95% percentile intervals
 * from a bootstrap over pairs refitted at that C.
 *
 * Determinism: the folds and bootstrap draws come from cfg.seed. liblinear's
 * L2 solver (trust-region Newton) is deterministic; its L1 solver (newGLMNET)
 * visits coordinates in an order drawn from the C library's rand(), so L1
 * coefficients agree to the solver tolerance, and bit for bit within one
 * process that makes the same calls. liblinear prints through one
 * process-wide hook; the first fit sets it to print nothing (its only
 * output is solver progress). */
#ifndef ALAB_CPM_H
#define ALAB_CPM_H
#include <stdint.h>
#include <jansson.h>
#include "alab/base.h"

typedef enum { AL_LR_L2, AL_LR_L1 } al_lr_penalty;

/* One logistic regression without intercept on rows X[n x d] (row-major),
 * labels y[i] in {0, 1} (1: the row's positive side won), penalty and C as
 * above, liblinear's stopping tolerance eps. w[0..d) receives the
 * coefficients. Fails (naming the row) on a non-finite value, on C <= 0, or
 * when n < 1. A set whose labels are all one side is refitted with half of
 * its rows mirrored (x -> -x, y -> 1 - y), which leaves the loss unchanged. */
int al_lr_fit(const double *X, const int *y, int n, int d, al_lr_penalty pen, double C, double eps, double *w,
              al_err *err);
/* Mean log-loss -log sigmoid(+-w.x) of rows X[n x d] with labels y. */
double al_lr_logloss(const double *X, const int *y, int n, int d, const double *w);

typedef struct {
  al_lr_penalty penalty; /* L2 */
  int folds;             /* 5 (cross-validation; 0 or 1: use C as given) */
  double c_min, c_max;   /* 1e-3, 1e3: the grid's ends */
  int nc;                /* 13 values, log-spaced */
  double C;              /* the C when folds < 2 (1) */
  int bootstrap;         /* 200 resamples (0: no intervals) */
  double eps;            /* 1e-6 */
  uint64_t seed;         /* 1 */
} al_cpm_cfg;
al_cpm_cfg al_cpm_defaults(void);

/* A fitted compositional preference model. */
typedef struct {
  int d;
  char **names;       /* d feature names */
  double *scale;      /* s_k (1 where a feature is constant) */
  double *w;          /* d coefficients on standardised differences */
  double *w_lo, *w_hi; /* 95% bootstrap intervals (NAN without bootstrap) */
  double C;           /* the C used */
  int nc;             /* the grid (NULL/0 without cross-validation) */
  double *grid, *cv_logloss;
  double train_accuracy;
} al_cpm;

/* Fits on n pairs: fa[i*d + k], fb[i*d + k] are feature k of pair i's first
 * and second response, a_won[i] 1 when the first was preferred. names (d
 * strings) are copied. */
int al_cpm_train(const double *fa, const double *fb, const int *a_won, int n, int d, const char *const *names,
                 const al_cpm_cfg *c, al_cpm *m, al_err *err);
/* r(x) = sum_k w_k f_k / s_k */
double al_cpm_reward(const al_cpm *m, const double *f);
/* {"C", "features": [{"name", "coef", "lo", "hi", "scale"}...], "cv": [{"C", "logloss"}...]} */
json_t *al_cpm_json(const al_cpm *m);
void al_cpm_free(al_cpm *m);

/* ---- feature scores from a language model ----
 * A 1-10 score read from a reply:
 *   - the first number in the reply, written with digits, optionally
 *     followed by "/10" or "out of 10" ("7", "Score: 7/10", "7 out of 10");
 *   - else the first number word one..ten standing alone ("seven");
 * and it must be a whole number in 1..10: "7.5", "11", "0", "-3" and a reply
 * with no number ("", "good") are rejected with the reason in *why. The
 * caller counts and reports rejections; a rejected score is never a 0.
 * Returns 0 and sets *score, or -1. */
int al_cpm_parse_score(const char *reply, int *score, const char **why);

/* ---- robustness under best-of-n ----
 * Two reward models a, b score the same N samples. For a uniformly random
 * n-subset, the probability that both pick the same sample:
 *   sum_i C(c_i, n-1) / C(N, n),
 * c_i = #{j != i: a_j < a_i and b_j < b_i} (sample i is both models' best
 * exactly when the rest of the subset lies below it in both). Ties count as
 * not below (a pick among ties is not certain). Fails on n outside [1, N] or
 * a non-finite score. */
int al_bon_agreement(const double *a, const double *b, int N, int n, double *p, al_err *err);
/* ---- exact features of the story world (src/align/cpm_story.c) ----
 * What a prompted model would be asked about a story, measured exactly:
 *   valid               1 when the text parses as a story of the grammar
 *                       (al_synth_story_score), else 0: grammatical validity
 *   logprob_per_word    its exact log-probability per word under the world
 *                       when valid; the world's mean, -0.308, when not (a
 *                       missing value: validity is the first feature's)
 *   words               whitespace-separated words: length
 *   repeated_sentences  sentences equal to an earlier one: repetition
 *   sharing_words       occurrences of "share", "shared", "sharing",
 *                       "together" and "turns": whether the story's named
 *                       elements of sharing appear */
enum { AL_CPM_STORY_NFEAT = 5 };
extern const char *const al_cpm_story_names[AL_CPM_STORY_NFEAT];
void al_cpm_story_features(const char *text, size_t len, double *f);
#endif
