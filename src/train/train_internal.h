/* State of one training run, shared by the loop, checkpoints and metrics. */
#ifndef ALAB_TRAIN_INTERNAL_H
#define ALAB_TRAIN_INTERNAL_H
#include <stdio.h>
#include <jansson.h>
#include "alab/train.h"

typedef struct {
  al_model *m;
  const al_train_cfg *cfg;
  const al_tok *tok;     /* saved with the model (may be NULL) */
  json_t *settings;      /* recorded in the state; a resume must match them */
  al_loader loader;
  float *mom, *var;      /* AdamW moments, nparams each */
  int32_t *inputs, *targets; /* batches from cfg->batch_fn */
  long step;             /* optimizer steps completed */
  long saved_step;       /* step of the last checkpoint on disk (-1: none) */
  uint64_t val_tokens;   /* targets scored by the last held-out evaluation */
  FILE *metrics;
} train_run;

json_t *train_settings(const al_train_cfg *c);
/* Prepares out_dir (see the rules in checkpoint.c): removes stale temps,
 * resumes (r->step > 0), refuses or clears another run's files, opens metrics. */
int train_dir_open(train_run *r, al_err *err);
/* Checks params and moments are finite, then writes the model directory
 * (when with_model) and the trainer state, in that order. */
int train_checkpoint_save(train_run *r, int with_model, al_err *err);
int train_metrics_open(train_run *r, long keep_through_step, al_err *err);
void train_metrics_write(train_run *r, long step, double loss, double lr, double gnorm, double tps, double elapsed,
                         double val_loss);
#endif
