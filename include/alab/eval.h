/* Evaluation: a task (alab/task.h) run on a provider, with the metrics of
 * alab/metrics.h. The rest of the layer: alab/sha256.h, alab/table.h,
 * alab/trend.h, alab/scaling.h, alab/probes.h. */
#ifndef ALAB_EVAL_H
#define ALAB_EVAL_H
#include <jansson.h>
#include <stdint.h>
#include "alab/base.h"
#include "alab/metrics.h"
#include "alab/provider.h"
#include "alab/task.h"

/* ---- running a task on a provider ---- */
typedef struct {
  const char *out_dir;   /* writes examples.jsonl + results.json there (NULL: none) */
  uint64_t seed;         /* bootstrap and sampling */
  int nboot;             /* bootstrap resamples (1000) */
  int batch;             /* examples per provider call (64) */
  al_gen_cfg gen;        /* generation tasks */
  int chat;              /* generation tasks: send prompts as chat messages; celebrity: the chat protocol */
  int samples;           /* celebrity chat protocol: replies per question (0: the paper's 10) */
  int limit;             /* evaluate only the first `limit` examples (0 = all) */
  int fail_fast;         /* a failed example (its request failed) stops the run; else it is recorded and counted */
  const char *progress_label;
} al_eval_cfg;
al_eval_cfg al_eval_cfg_default(void);

#define AL_EVAL_MAX_METRICS 12
typedef struct {
  al_metric m[AL_EVAL_MAX_METRICS];
  int nm;
  const char *main_metric; /* the loss-like metric scaling fits: "loss", "nll", "logodds_difference", "error" */
  double seconds, examples_per_s;
  int truncated, truncated_max; /* examples whose prompt lost tokens to the context; the most lost */
  int invalid;                  /* logodds pairs made identical by that cut (left out of the metrics) */
  int failed;                   /* examples whose request failed (recorded, left out of the metrics) */
} al_eval_result;
const al_metric *al_eval_metric(const al_eval_result *r, const char *name);
int al_eval_task(al_provider *p, const al_task *t, const al_eval_cfg *cfg, al_eval_result *res, al_err *err);

/* A provider for a model: a local directory, or (http non-NULL) the
 * endpoint's model of that name. */
int al_provider_open(al_provider **out, const char *model, const al_http_cfg *http, const al_local_cfg *local,
                     al_err *err);

#endif
