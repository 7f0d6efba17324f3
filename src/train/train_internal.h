/* State of one training run, shared by the loop, checkpoints and metrics. */
#ifndef ALAB_TRAIN_INTERNAL_H
#define ALAB_TRAIN_INTERNAL_H
#include <stdio.h>
#include "alab/train.h"

typedef struct {
  al_model *m;
  const al_train_cfg *cfg;
  al_loader loader;
  float *mom, *var; /* AdamW moments, nparams each */
  int32_t *inputs, *targets; /* batches from cfg->batch_fn */
  long step;        /* optimizer steps completed */
  FILE *metrics;
} train_run;

char *train_state_path(const char *dir);
int train_checkpoint_save(const train_run *r, al_err *err);
int train_checkpoint_load(train_run *r, al_err *err);
int train_metrics_open(train_run *r, long keep_through_step, al_err *err);
void train_metrics_write(train_run *r, long step, double loss, double lr, double gnorm, double tps, double elapsed,
                         double val_loss);
#endif
