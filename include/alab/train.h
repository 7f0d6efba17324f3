/* The training loop: AdamW (decay on matrices only), gradient-norm clipping,
 * linear warmup then cosine decay, gradient accumulation, held-out loss every
 * N steps, a metrics.jsonl line per step, checkpoints with exact resume.
 * What is minimised is an objective (al_objective below): the loop owns the
 * optimisation, the objective owns the loss and its data. LM cross-entropy
 * over token windows (al_train) and the masked LM loss of SFT are the two
 * built here.
 *
 * out_dir is a Hugging Face model directory that is also a run directory:
 *   config.json, model.safetensors, vocab.json + merges.txt   the model;
 *                               config.json also holds "alab_train": the
 *                               run's settings and thread count
 *   trainer_state.safetensors   params + AdamW moments + {step, objective,
 *                               settings, threads, the objective's data
 *                               position}: one atomic file, written last at
 *                               each checkpoint, so a kill at any instant
 *                               leaves a run that resumes exactly (the rules
 *                               are in src/train/checkpoint.c)
 *   metrics.jsonl               {"step","loss","lr","grad_norm","tokens_per_s",
 *                               "elapsed_s"} per step, then the objective's
 *                               metrics under their names, plus "val_loss"
 *                               and "val_<name>" of the objective's held-out
 *                               metrics on evaluation steps (null for a
 *                               non-finite value). The LM objective's is
 *                               "val_tokens", the held-out targets it scored
 *                               (each once, in file order; the first
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
  int shuffle;                    /* AL_SHUFFLE_* of alab/data.h: the order of training windows */
  int resume;                     /* continue from out_dir/trainer_state.safetensors if present */
  int overwrite;                  /* start anew in an out_dir that holds another run's state or model */
  int save_final;                 /* write the model directory at the end */
  const char *out_dir;            /* NULL: nothing written (experiments' inner models) */
  /* Every setting that must match for a resume (a JSON object; the CLI's
   * flags). NULL: the fields of this struct that shape the numbers. */
  const struct json_t *settings;
  /* Data parallelism (include/alab/dist.h; NULL: one process). Micro-batch
   * k of a step runs on rank k mod R (so grad_accum >= R), gradients are
   * summed over ranks, rank 0 alone writes out_dir, and a run resumes with
   * any R. deterministic_reduce: every micro-batch's gradient is summed in
   * index order, the same arithmetic for every R (R = 1 included), so R = 1
   * and R = 2 give bit-identical runs; it costs ceil(grad_accum / R) extra
   * gradient buffers and one broadcast per micro-batch. Off: one in-place
   * allreduce per step, equal to one process up to float rounding. */
  const struct al_dist *dist;
  /* zero1 (ZeRO stage 1): AdamW's moments sharded across ranks; each rank
   * keeps and updates its 1/R of them and of the parameters, then every rank
   * receives the others' updated parameters (one allgather per step). The
   * numbers are those of the unsharded run, bit for bit; rank 0 gathers the
   * moments for a checkpoint, so any R (sharded or not) resumes it. */
  int zero1;
  int deterministic_reduce;
  /* overlap_reduce: the sum over ranks starts layer by layer during the
   * backward pass of each rank's last micro-batch (a non-blocking reduce of
   * each layer's gradients as soon as they are final), and the optimiser
   * waits for it: the same sum, hidden behind the backward pass where the
   * network is not the cores doing the backward (not with
   * deterministic_reduce). */
  int overlap_reduce;
  /* NN_FP32 (0, the default) or NN_BF16 (include/alab/nn.h): mixed
   * precision, the model's matrix products on bf16 inputs with fp32
   * accumulation; master weights, gradients and AdamW's moments stay fp32,
   * and the bf16 copy of the weights is refreshed after every update. */
  int precision;
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

/* ---- objectives ----
 * Each optimizer step the loop zeroes the trained model's gradients, calls
 * step() once per micro-batch with index = step * grad_accum + k (0, 1, 2,
 * ... over the run) and grad_scale = 1 / grad_accum, then clips, applies
 * AdamW, logs, evaluates and checkpoints. The step's loss is the mean of its
 * micro-batches' losses.
 *
 * Several models: step() runs forward and backward on the trained model m;
 * models that are only read (a DPO reference, a reward model scoring RL
 * rollouts) live in ctx, and only m's parameters are updated and saved.
 * Exact resume: a batch that is a function of its index (and of the seed)
 * resumes by itself; an objective with other state (a data loader's
 * position) saves it with save_state and restores it with load_state. */
enum { AL_OBJ_MAX_METRICS = 16 };

/* A named number an objective logs. A count (is_count) is summed over a
 * step's micro-batches and written as an integer; any other value is
 * averaged over them. */
typedef struct {
  const char *name;
  int is_count;
} al_metric;

typedef struct al_objective {
  const char *name; /* recorded in the trainer state; a resume must match */
  void *ctx;
  /* One micro-batch: adds grad_scale * d(loss)/d(params) to m->grads (never
   * zeroes them) and fills *loss and metrics[nmetrics]. Returns 0 or fails
   * with err filled (bad data: which batch, which position). */
  int (*step)(void *ctx, al_model *m, uint64_t index, float grad_scale, double *loss, double *metrics, al_err *err);
  const al_metric *metrics;
  int nmetrics;
  /* Optional (NULL: no held-out loss): *loss over held-out data (NAN when
   * there is nothing to score) and eval_metrics[neval_metrics], logged as
   * "val_loss" and "val_<name>". Must leave m->grads alone (forward only). */
  int (*eval)(void *ctx, al_model *m, double *loss, double *metrics, al_err *err);
  const al_metric *eval_metrics;
  int neval_metrics;
  /* Rows of seq_len tokens the objective runs per batch item (0 means 1):
   * tokens_per_s counts batch x rows_per_item x seq_len x grad_accum per
   * step (a reward model's item is a pair: 2 rows). */
  int rows_per_item;
  /* Optional: state beyond the micro-batch index, as fields of the trainer
   * state's JSON object (load_state names `where` in its errors). */
  void (*save_state)(void *ctx, struct json_t *info);
  int (*load_state)(void *ctx, const struct json_t *info, const char *where, al_err *err);
  void (*release)(void *ctx); /* frees ctx (al_objective_free) */
  /* Optional: data parallelism calls skip instead of step for a micro-batch
   * that another rank computes, so that a stateful batch source (a loader
   * reading windows in order) stays where one process would be. An
   * objective with save_state and no skip cannot run on several ranks. */
  void (*skip)(void *ctx, uint64_t index);
} al_objective;

/* Frees the objective's context. The constructors below zero *o first, so
 * freeing after a failed construction is safe. */
void al_objective_free(al_objective *o);

/* The LM objective: mean cross-entropy over the targets of B x T windows
 * (targets < 0 are ignored), B = cfg->batch, T = cfg->seq_len. Batches are
 * windows of the train segments (shuffled by cfg->seed when cfg->shuffle;
 * the loader's position is saved with the run); the held-out loss scores
 * every target of val once, in order (up to cfg->eval_batches batches; nval
 * 0: none). Fails on a token outside m's vocabulary or data without a full
 * window. */
int al_objective_lm(al_objective *o, const al_model *m, const al_train_cfg *cfg, const al_tokens *train, int ntrain,
                    const al_tokens *val, int nval, al_err *err);
/* The LM objective over batches from a function instead: it fills inputs
 * and targets [B * T] of micro-batch `index`, which must be a deterministic
 * function of the index (e.g. prompt/completion examples with prompt
 * targets -1). No held-out loss. A token outside the vocabulary fails the step. */
typedef void (*al_lm_batch_fn)(void *ctx, uint64_t index, int32_t *inputs, int32_t *targets);
int al_objective_lm_fn(al_objective *o, const al_model *m, const al_train_cfg *cfg, al_lm_batch_fn fn, void *ctx,
                       al_err *err);

/* The masked LM objective (SFT: the loss on completion tokens only):
 *   loss = sum_i mask_i * CE_i / sum_i mask_i
 * over the B x T positions of a micro-batch, CE_i = -log softmax(logits_i)
 * [targets_i], mask_i in {0, 1}; 0 (and no gradient) when no mask is 1.
 * A step is the mean of its micro-batches' losses, as for the LM objective.
 * Logs "loss_tokens", the masked targets of the step (a count); held out
 * (when val is set): val batches 0..nval_batches-1, loss per masked target
 * over all of them, and "val_tokens". A mask other than 0/1, a mask of 1 on
 * a negative target, or a token outside the vocabulary fails the step
 * naming the batch and position. */
typedef void (*al_masked_batch_fn)(void *ctx, uint64_t index, int32_t *inputs, int32_t *targets, uint8_t *mask);
typedef struct {
  al_masked_batch_fn train, val; /* val NULL: no held-out loss */
  void *ctx;
  long nval_batches;
} al_masked_source;
int al_objective_masked(al_objective *o, const al_model *m, const al_train_cfg *cfg, const al_masked_source *src,
                        al_err *err);

/* Trains m (initialised or loaded by the caller) on the objective. tok (may
 * be NULL) is saved with the model. With cfg->resume and a trainer state in
 * out_dir, params, moments, step and the objective's state are restored from
 * it first, after checking that its settings equal cfg's (each one that
 * differs is named) and that it was made by an objective of the same name.
 * Without resume, an out_dir holding a trainer state or a model is refused
 * unless cfg->overwrite. */
int al_train_objective(al_model *m, const al_train_cfg *cfg, al_objective *obj, const al_tok *tok,
                       al_train_result *res, al_err *err);
/* al_train_objective with the LM objective over train segments (val may be
 * empty: nval 0). */
int al_train(al_model *m, const al_train_cfg *cfg, const al_tokens *train, int ntrain, const al_tokens *val, int nval,
             const al_tok *tok, al_train_result *res, al_err *err);

/* Mean loss over up to max_batches batches of the segments, in file order
 * (deterministic). Returns NAN when they hold no full window. */
double al_eval_loss(al_model *m, const al_tokens *segs, int nsegs, int B, int T, int max_batches);
#endif
