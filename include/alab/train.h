/* The training loop: AdamW (decay on matrices only), gradient-norm clipping,
 * linear warmup then cosine decay, gradient accumulation, held-out loss every
 * N steps, a metrics.jsonl line per step, checkpoints with exact resume.
 *
 * out_dir is a Hugging Face model directory that is also a run directory:
 *   config.json, model.safetensors, vocab.json + merges.txt   the model;
 *                               config.json also holds "alab_train": the
 *                               run's settings and thread count
 *   trainer_state.safetensors   params + AdamW moments + {step, loader state,
 *                               settings, threads}: one atomic file, written
 *                               last at each checkpoint, so a kill at any
 *                               instant leaves a run that resumes exactly
 *                               (the rules are in src/train/checkpoint.c)
 *   metrics.jsonl               {"step","loss","lr","grad_norm","tokens_per_s",
 *                               "elapsed_s"} per step, plus "val_loss" on
 *                               evaluation steps (null for a non-finite value)
 *                               and "val_tokens", the held-out targets it
 *                               scored (each once, in file order; the first
 *                               eval_batches batches of them when > 0)
 * Same seed and thread count: bit-identical losses, with or without a
 * kill and resume in between. A step whose loss or gradient norm is not
 * finite stops the run with an error before it is applied, so no checkpoint
 * ever holds a diverged model. */
#ifndef ALAB_TRAIN_H
#define ALAB_TRAIN_H
#include "alab/data.h"
#include "alab/model.h"
#include "alab/tok.h"

typedef struct {
  int batch, seq_len, grad_accum; /* tokens per step = batch * seq_len * grad_accum */
  long steps;                     /* optimizer steps in total */
  long warmup_steps;
  double lr, min_lr_frac;         /* cosine decays to lr * min_lr_frac */
  double weight_decay, beta1, beta2, eps, grad_clip; /* grad_clip <= 0: off */
  int eval_every, eval_batches;   /* held-out loss every eval_every steps (0: only at the end), over
                                   * the first eval_batches batches of held-out targets (0: all) */
  int ckpt_every;                 /* checkpoint every N steps (0: only at the end) */
  uint64_t seed;                  /* data order */
  int shuffle;
  int resume;                     /* continue from out_dir/trainer_state.safetensors if present */
  int overwrite;                  /* start anew in an out_dir that holds another run's state or model */
  int save_final;                 /* write the model directory at the end */
  const char *out_dir;            /* NULL: nothing written (experiments' inner models) */
  /* Every setting that must match for a resume (a JSON object; the CLI's
   * flags). NULL: the fields of this struct that shape the numbers. */
  const struct json_t *settings;
  /* Optional source of training batches instead of windows of the token
   * segments (e.g. prompt/completion examples with prompt targets set to -1,
   * which the loss ignores). It fills inputs and targets [batch * seq_len]
   * for the given micro-batch index (0, 1, 2, ... over the run), so a
   * deterministic function of the index resumes exactly. With it, al_train
   * may be called with ntrain 0. */
  void (*batch_fn)(void *ctx, uint64_t index, int32_t *inputs, int32_t *targets);
  void *batch_ctx;
} al_train_cfg;

typedef struct {
  long start_step;     /* where this call began (> 0 when resumed) */
  long steps_done;
  double final_loss;   /* mean training loss of the last step */
  double val_loss;     /* last held-out loss (NAN if no validation data) */
  double tokens_per_s; /* steady state: optimizer steps only (no evaluation or checkpoints), after 2
                        * warm-up steps when there are more than 4 */
  double seconds;
} al_train_result;

void al_train_defaults(al_train_cfg *c);
/* Learning rate at step (0-based): warmup (step+1)/warmup * lr, then cosine
 * from lr down to lr * min_lr_frac at the last step. */
double al_train_lr(const al_train_cfg *c, long step);

/* Trains m (initialised or loaded by the caller) on train segments; val may
 * be empty (nval 0). tok (may be NULL) is saved with the model. With
 * cfg->resume and a trainer state in out_dir, params, moments, step and data
 * position are restored from it first, after checking that its settings
 * equal cfg's (each one that differs is named). Without resume, an out_dir
 * holding a trainer state or a model is refused unless cfg->overwrite. */
int al_train(al_model *m, const al_train_cfg *cfg, const al_tokens *train, int ntrain, const al_tokens *val, int nval,
             const al_tok *tok, al_train_result *res, al_err *err);

/* Mean loss over up to max_batches batches of the segments, in file order
 * (deterministic). Returns NAN when they hold no full window. */
double al_eval_loss(al_model *m, const al_tokens *segs, int nsegs, int B, int T, int max_batches);
#endif
