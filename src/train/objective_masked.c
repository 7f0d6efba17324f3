/* The masked LM objective (SFT: the loss on completion tokens only):
 *   loss = sum_i mask_i * CE_i / sum_i mask_i,  CE_i = -log softmax(logits_i)[targets_i]
 * over the B x T positions of a micro-batch. A target whose mask is 0 becomes
 * -1, which the LM head ignores in the loss and its gradient, so the head's
 * mean over counted targets is exactly this mean over masked ones:
 *   d loss / d logits_i = mask_i * (softmax(logits_i) - onehot(targets_i)) / sum_j mask_j. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train/train_internal.h"

typedef struct {
  int B, T, V;
  al_masked_source src;
  int32_t *inputs, *targets; /* [B*T] */
  uint8_t *mask;             /* [B*T] */
} masked_ctx;

static const al_metric masked_metrics[] = {{"loss_tokens", 1}};
static const al_metric masked_eval_metrics[] = {{"tokens", 1}};

/* Fills batch `index` from fn and turns it into LM targets: -1 where the
 * mask is 0. Returns the masked targets, or -1 on bad data. */
static long masked_batch(masked_ctx *o, al_masked_batch_fn fn, uint64_t index, al_err *err) {
  int N = o->B * o->T;
  fn(o->src.ctx, index, o->inputs, o->targets, o->mask);
  if (train_batch_check(o->inputs, o->targets, o->mask, o->B, o->T, o->V, index, err)) return -1;
  long n = 0;
  for (int i = 0; i < N; i++) {
    if (!o->mask[i]) o->targets[i] = -1;
    n += o->mask[i];
  }
  return n;
}

static int masked_step(void *ctx, al_model *m, uint64_t index, float grad_scale, double *loss, double *metrics,
                       al_err *err) {
  masked_ctx *o = ctx;
  long n = masked_batch(o, o->src.train, index, err);
  if (n < 0) return -1;
  *loss = al_model_forward(m, o->inputs, o->targets, o->B, o->T);
  al_model_backward(m, grad_scale);
  metrics[0] = (double)n;
  return 0;
}

/* Loss per masked target over every held-out batch; metrics[0]: how many. */
static int masked_eval(void *ctx, al_model *m, double *loss, double *metrics, al_err *err) {
  masked_ctx *o = ctx;
  double sum = 0;
  long total = 0;
  for (long b = 0; b < o->src.nval_batches; b++) {
    long n = masked_batch(o, o->src.val, (uint64_t)b, err);
    if (n < 0) return al_fail_prefix(err, "held-out data");
    if (n) sum += (double)al_model_forward(m, o->inputs, o->targets, o->B, o->T) * (double)n;
    total += n;
  }
  metrics[0] = (double)total;
  *loss = total ? sum / (double)total : NAN;
  return 0;
}

static void masked_release(void *ctx) {
  masked_ctx *o = ctx;
  if (!o) return;
  free(o->inputs);
  free(o->targets);
  free(o->mask);
  free(o);
}

int al_objective_masked(al_objective *o, const al_model *m, const al_train_cfg *cfg, const al_masked_source *src,
                        al_err *err) {
  memset(o, 0, sizeof *o); /* al_objective_free is safe after a failure */
  if (!src || !src->train) return al_fail(err, "the masked LM objective needs a batch function");
  if (src->val && src->nval_batches < 1)
    return al_fail(err, "the masked LM objective's held-out data needs at least one batch (got %ld)", src->nval_batches);
  if (cfg->batch < 1 || cfg->seq_len < 1) return al_fail(err, "batch (%d) and seq_len (%d) must be positive", cfg->batch, cfg->seq_len);
  masked_ctx *c = al_calloc(1, sizeof *c);
  c->B = cfg->batch, c->T = cfg->seq_len, c->V = m->cfg.vocab_size, c->src = *src;
  size_t N = (size_t)c->B * c->T;
  c->inputs = al_malloc(N * sizeof(int32_t));
  c->targets = al_malloc(N * sizeof(int32_t));
  c->mask = al_malloc(N);
  *o = (al_objective){.name = "masked_lm", .ctx = c, .step = masked_step, .metrics = masked_metrics, .nmetrics = 1,
                      .release = masked_release};
  if (src->val) {
    o->eval = masked_eval;
    o->eval_metrics = masked_eval_metrics;
    o->neval_metrics = 1;
  }
  return 0;
}
