/* Metrics as the papers define them, and a metric's summary with intervals. */
#ifndef ALAB_METRICS_H
#define ALAB_METRICS_H
#include <jansson.h>
#include <stdint.h>
#include "alab/task.h"

/* ---- metrics ---- */
/* Classification from the classes' summed log-probs lp[0..k): the
 * log-softmax over classes, loss = -log p(answer), prediction = argmax lp;
 * the length-normalised prediction is argmax lp[i] / nbytes[i] (per byte of
 * the class string, as lm-evaluation-harness's acc_norm). */
typedef struct {
  double loss, p_answer;
  int pred, pred_norm, correct, correct_norm;
} al_cls_result;
al_cls_result al_classify(const double *lp, const int *nbytes, int k, int answer);
/* Inverse Scaling Prize logodds: with two classes, logodds(p) = log p(c0|p) -
 * log p(c1|p) after normalising over the two; the example's value is
 * logodds(prompt) - logodds(other_prompt), negated when answer_index is 1.
 * (The Prize used each class's last token; here each class's whole string.) */
double al_logodds_difference(const double lp_prompt[2], const double lp_other[2], int answer);
/* Generation match of output against one target (exact/prefix/contains
 * compare after trimming surrounding whitespace; regex: the target is a PCRE2
 * pattern searched in the output). Returns 1/0, or -1 on a bad pattern. */
int al_match_target(al_match m, const char *output, const char *target, al_err *err);

/* A metric's summary: mean, standard error, 95% t-interval and a bootstrap
 * 95% percentile interval (nboot resamples of the examples, al_rng seeded). */
typedef struct {
  char name[48];
  double mean, se, lo, hi, boot_lo, boot_hi;
  int n;
} al_metric;
al_metric al_metric_of(const char *name, const double *x, int n, uint64_t seed, int nboot);
json_t *al_metric_json(const al_metric *m);

#endif
