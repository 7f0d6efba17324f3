/* State of one training run, shared by the loop, checkpoints and metrics. */
#ifndef ALAB_TRAIN_INTERNAL_H
#define ALAB_TRAIN_INTERNAL_H
#include <stdio.h>
#include <jansson.h>
#include "alab/nn.h"
#include "alab/train.h"

typedef struct {
  al_model *m;
  const al_train_cfg *cfg;
  const al_tok *tok;     /* saved with the model (may be NULL) */
  json_t *settings;      /* recorded in the state; a resume must match them */
  al_objective *obj;     /* the loss and its data */
  float *mom, *var;      /* AdamW moments of params [shard_lo, shard_hi) */
  size_t shard_lo, shard_hi; /* [0, nparams) unless zero1 shards them across ranks */
  long step;             /* optimizer steps completed */
  long saved_step;       /* step of the last checkpoint on disk (-1: none) */
  FILE *metrics;
  /* data parallelism (src/train/data_parallel.c) */
  double *dp_slots;      /* grad_accum x (1 + nmetrics): each micro-batch's loss and metrics */
  float *dp_grads;       /* deterministic_reduce: this rank's micro-batch gradients, nparams each */
  float *dp_recv;        /* deterministic_reduce: another rank's micro-batch gradient */
  float *dp_total;       /* deterministic_reduce: their sum in index order */
  struct dp_overlap *dp_overlap; /* overlap_reduce: the layers' buckets and their pending sums */
} train_run;

/* Checks the loop's settings against the model (sizes, ranges, memory). */
int train_check_cfg(const al_model *m, const al_train_cfg *c, al_err *err);
json_t *train_settings(const al_train_cfg *c);
/* Checks one micro-batch from an objective's batch function: inputs in
 * [0, V), targets < V (negative: ignored), and, when mask is given, each
 * mask 0 or 1 and never 1 on a negative target. Errors name the micro-batch
 * index, row and position. */
int train_batch_check(const int32_t *in, const int32_t *tg, const uint8_t *mask, int B, int T, int V, uint64_t index,
                      al_err *err);
/* Prepares out_dir (see the rules in checkpoint.c): removes stale temps,
 * resumes (r->step > 0), refuses or clears another run's files, opens metrics. */
int train_dir_open(train_run *r, al_err *err);
/* Checks params and moments are finite, then writes the model directory
 * (when with_model) and the trainer state, in that order. */
int train_checkpoint_save(train_run *r, int with_model, al_err *err);
int train_metrics_open(train_run *r, long keep_through_step, al_err *err);
/* Data parallelism (cfg->dist; one process when NULL). train_dp_check
 * refuses settings that cannot be split (grad_accum < ranks, an objective
 * with data state and no skip); train_dp_open makes every rank start where
 * rank 0 starts (it alone opens out_dir: resume, refusals) and allocates the
 * buffers; train_accumulate runs one step's micro-batches (k on rank
 * k mod R) and leaves the summed gradient, mean loss and metrics on every
 * rank; train_dp_close frees the buffers. */
int train_dp_check(const al_train_cfg *c, const al_objective *o, al_err *err);
int train_dp_open(train_run *r, al_err *err);
int train_accumulate(train_run *r, double *loss, double *metrics, al_err *err);
void train_dp_close(train_run *r);
/* AdamW on tensor i's part in this rank's shard of the parameters; after
 * the last tensor (zero1) every rank's updated shard goes to every rank. */
void train_dp_update(train_run *r, int i, const nn_adamw_cfg *ac);
/* train_checkpoint_save on rank 0 (with the moments gathered from every
 * rank under zero1), agreed by every rank. */
int train_dp_checkpoint(train_run *r, int with_model, al_err *err);
/* One line: the loop's numbers, the objective's metrics (obj->nmetrics of
 * them), and val_loss with the held-out metrics when val_loss is not NaN. */
void train_metrics_write(train_run *r, long step, double loss, double lr, double gnorm, double tps, double elapsed,
                         const double *metrics, double val_loss, const double *val_metrics);
#endif
