/* The LM objective: mean cross-entropy of next-token prediction,
 *   loss = -1/N sum_i log softmax(logits_i)[targets_i]
 * over the N targets >= 0 of a B x T micro-batch. Its batches are windows of
 * token segments (al_loader: its position is saved with the run) or come
 * from a function of the micro-batch index; its held-out loss scores every
 * target of the held-out segments once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train/train_internal.h"

typedef struct {
  int B, T, V;
  al_loader loader;                  /* windows of the segments (fn NULL) */
  al_lm_batch_fn fn;                 /* or batches from fn */
  void *fn_ctx;
  int32_t *inputs, *targets;         /* [B*T] of fn */
  const al_tokens *val;
  int nval, eval_batches;
} lm_ctx;

static const al_metric lm_eval_metrics[] = {{"tokens", 1}};

int train_batch_check(const int32_t *in, const int32_t *tg, const uint8_t *mask, int B, int T, int V, uint64_t index,
                      al_err *err) {
  for (int i = 0; i < B * T; i++) {
    const char *bad = in[i] < 0 || in[i] >= V ? "input" : tg[i] >= V ? "target" : NULL;
    if (mask && !bad && mask[i] > 1) return al_fail(err, "micro-batch %llu, row %d, position %d: mask %d is not 0 or 1",
                                                    (unsigned long long)index, i / T, i % T, mask[i]);
    if (mask && !bad && mask[i] && tg[i] < 0)
      return al_fail(err, "micro-batch %llu, row %d, position %d: mask 1 on target %d (no token to predict)",
                     (unsigned long long)index, i / T, i % T, tg[i]);
    if (bad)
      return al_fail(err, "micro-batch %llu, row %d, position %d: %s token %d is outside the model's vocabulary of %d",
                     (unsigned long long)index, i / T, i % T, bad, bad[0] == 'i' ? in[i] : tg[i], V);
  }
  return 0;
}

static int lm_step(void *ctx, al_model *m, uint64_t index, float grad_scale, double *loss, double *metrics,
                   al_err *err) {
  (void)metrics;
  lm_ctx *o = ctx;
  const int32_t *in = o->loader.inputs, *tg = o->loader.targets;
  if (o->fn) {
    o->fn(o->fn_ctx, index, o->inputs, o->targets);
    if (train_batch_check(o->inputs, o->targets, NULL, o->B, o->T, o->V, index, err)) return -1;
    in = o->inputs, tg = o->targets;
  } else al_loader_next(&o->loader);
  *loss = al_model_forward(m, in, tg, o->B, o->T);
  al_model_backward(m, grad_scale);
  return 0;
}

/* A micro-batch another rank computes (data parallelism): the loader moves
 * past its windows as if it had been computed here. */
static void lm_skip(void *ctx, uint64_t index) {
  (void)index;
  lm_ctx *o = ctx;
  if (!o->fn) al_loader_next(&o->loader);
}

double al_eval_loss(al_model *m, const al_tokens *segs, int nsegs, int B, int T, int max_batches) {
  al_loader l;
  if (nsegs <= 0 || al_loader_init(&l, segs, nsegs, B, T, 0, 0, NULL)) return NAN;
  long nb = (long)((l.nwindows + B - 1) / B);
  if (max_batches > 0 && nb > max_batches) nb = max_batches;
  double sum = 0;
  for (long i = 0; i < nb; i++) {
    al_loader_next(&l);
    sum += al_model_forward(m, l.inputs, l.targets, B, T);
  }
  al_loader_free(&l);
  return nb ? sum / nb : NAN;
}

/* Mean loss per target over the held-out segments, every target once in file
 * order (al_eval_batch), or the first eval_batches batches of them (0: all);
 * metrics[0] gets how many targets were scored. NAN when there are none. */
static int lm_eval(void *ctx, al_model *m, double *loss, double *metrics, al_err *err) {
  (void)err;
  lm_ctx *o = ctx;
  int B = o->B, T = o->T;
  int32_t *in = al_malloc((size_t)B * T * sizeof *in), *tg = al_malloc((size_t)B * T * sizeof *tg);
  al_eval_cursor at = {0};
  double sum = 0;
  uint64_t total = 0;
  size_t got;
  for (int b = 0; (o->eval_batches <= 0 || b < o->eval_batches) && (got = al_eval_batch(o->val, o->nval, B, T, &at, in, tg));
       b++) {
    sum += (double)al_model_forward(m, in, tg, B, T) * (double)got;
    total += got;
  }
  free(in);
  free(tg);
  metrics[0] = (double)total;
  *loss = total ? sum / (double)total : NAN;
  return 0;
}

static void lm_save(void *ctx, json_t *info) {
  al_loader_state ls = al_loader_get_state(&((lm_ctx *)ctx)->loader);
  al_loader_state_to_json(&ls, info);
}

static int lm_load(void *ctx, const json_t *info, const char *where, al_err *err) {
  al_loader_state ls;
  if (al_loader_state_from_json(info, &ls, where, err)) return -1;
  if (al_loader_set_state(&((lm_ctx *)ctx)->loader, &ls, err)) return al_fail_prefix(err, "%s", where);
  return 0;
}

static void lm_release(void *ctx) {
  lm_ctx *o = ctx;
  if (!o) return;
  if (!o->fn) al_loader_free(&o->loader);
  free(o->inputs);
  free(o->targets);
  free(o);
}

static lm_ctx *lm_new(al_objective *o, const al_model *m, const al_train_cfg *cfg) {
  lm_ctx *c = al_calloc(1, sizeof *c);
  c->B = cfg->batch, c->T = cfg->seq_len, c->V = m->cfg.vocab_size;
  *o = (al_objective){.name = "lm", .ctx = c, .step = lm_step, .skip = lm_skip, .release = lm_release};
  return c;
}

int al_objective_lm(al_objective *o, const al_model *m, const al_train_cfg *cfg, const al_tokens *train, int ntrain,
                    const al_tokens *val, int nval, al_err *err) {
  memset(o, 0, sizeof *o); /* al_objective_free is safe after a failure */
  for (int i = 0; i < ntrain; i++)
    for (size_t k = 0; k < train[i].n; k++)
      if (al_tokens_at(&train[i], k) >= m->cfg.vocab_size)
        return al_fail(err, "training data: token %d at position %zu is outside the model's vocabulary of %d",
                       al_tokens_at(&train[i], k), k, m->cfg.vocab_size);
  lm_ctx *c = lm_new(o, m, cfg);
  if (al_loader_init(&c->loader, train, ntrain, cfg->batch, cfg->seq_len, cfg->seed, cfg->shuffle, err)) {
    free(c);
    memset(o, 0, sizeof *o);
    return al_fail_prefix(err, "training data");
  }
  o->save_state = lm_save;
  o->load_state = lm_load;
  if (nval > 0) {
    c->val = val, c->nval = nval, c->eval_batches = cfg->eval_batches;
    o->eval = lm_eval;
    o->eval_metrics = lm_eval_metrics;
    o->neval_metrics = 1;
  }
  return 0;
}

int al_objective_lm_fn(al_objective *o, const al_model *m, const al_train_cfg *cfg, al_lm_batch_fn fn, void *ctx,
                       al_err *err) {
  memset(o, 0, sizeof *o);
  if (!fn) return al_fail(err, "the LM objective needs a batch function");
  if (cfg->batch < 1 || cfg->seq_len < 1) return al_fail(err, "batch (%d) and seq_len (%d) must be positive", cfg->batch, cfg->seq_len);
  lm_ctx *c = lm_new(o, m, cfg);
  c->fn = fn, c->fn_ctx = ctx;
  c->inputs = al_malloc((size_t)c->B * c->T * sizeof(int32_t));
  c->targets = al_malloc((size_t)c->B * c->T * sizeof(int32_t));
  return 0;
}
