/* A family of models evaluated on one task, and the trend of its loss. */
#ifndef ALAB_SCALING_H
#define ALAB_SCALING_H
#include "alab/eval.h"
#include "alab/trend.h"

/* ---- scaling: a family of models on one task ---- */
typedef struct {
  const char *const *models; /* model directories, or endpoint model names when http is set */
  int nmodels;
  const double *xvalues;     /* optional x per model (overrides --x lookup) */
  const char *x;             /* "params" or "compute" */
  const al_http_cfg *http;   /* NULL: models are local directories */
  al_local_cfg local;
  al_eval_cfg eval;          /* out_dir: the scaling folder; each model's run goes in a subfolder */
  double alpha;
} al_scaling_cfg;
al_scaling_cfg al_scaling_cfg_default(void);
int al_scaling_run(const al_scaling_cfg *cfg, const al_task *t, al_trend_fit *fit, al_err *err);

#endif
