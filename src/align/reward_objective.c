/* The reward model as an objective of the training loop: each micro-batch is
 * cfg->batch pairs (2 x batch rows of cfg->seq_len tokens, chosen rows
 * first), pairs visited in a permutation of the training set drawn per epoch
 * from (seed, epoch) (file order without shuffle), so a batch is a function
 * of its index and a resumed run continues exactly. The loss is
 * Bradley-Terry (src/align/reward_loss.c): the rewards' gradients times
 * grad_scale go through the scalar head into the trunk. Held out: every
 * validation pair once, in file order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/reward.h"
#include "alab/train.h"

typedef struct {
  const al_rm_data *train, *val;
  double center;
  uint64_t seed;
  int shuffle, B, T;
  int32_t *inputs, *pos; /* [2B*T], [2B] */
  float *values, *dvalues, *margin;
  long *idx;             /* [B] pairs of the batch */
  uint32_t *perm;        /* the permutation of epoch perm_epoch */
  long perm_epoch;
} rm_ctx;

static const al_metric rm_metrics[] = {{"accuracy", 0}, {"margin", 0}, {"mean_reward", 0}, {"sd_reward", 0}, {"truncated", 1}};
static const al_metric rm_eval_metrics[] = {{"accuracy", 0}, {"margin", 0}, {"mean_reward", 0}, {"sd_reward", 0}};

/* The pair at position k of the run's pair sequence. */
static long pair_at(rm_ctx *c, uint64_t k) {
  long n = c->train->n, epoch = (long)(k / (uint64_t)n), at = (long)(k % (uint64_t)n);
  if (!c->shuffle) return at;
  if (epoch != c->perm_epoch) {
    for (long i = 0; i < n; i++) c->perm[i] = (uint32_t)i;
    al_rng r;
    al_rng_seed_stream(&r, c->seed, (uint64_t)epoch);
    al_rng_shuffle_u32(&r, c->perm, (size_t)n);
    c->perm_epoch = epoch;
  }
  return c->perm[at];
}

static int rm_step(void *ctx, al_model *m, uint64_t index, float grad_scale, double *loss, double *metrics, al_err *err) {
  rm_ctx *c = ctx;
  for (int b = 0; b < c->B; b++) c->idx[b] = pair_at(c, index * (uint64_t)c->B + (uint64_t)b);
  int cut = al_rm_fill_rows(c->train, c->idx, c->B, c->T, c->inputs, c->pos, c->margin);
  if (al_model_forward_scalar(m, c->inputs, c->pos, 2 * c->B, c->T, c->values, err))
    return al_fail_prefix(err, "micro-batch %llu (pair on line %ld)", (unsigned long long)index, c->train->line[c->idx[0]]);
  al_rm_stats st;
  *loss = al_rm_loss_forward(c->values, c->values + c->B, c->margin, c->B, c->center, &st);
  al_rm_loss_backward(c->values, c->values + c->B, c->margin, c->B, c->center, grad_scale, c->dvalues, c->dvalues + c->B);
  al_model_backward_scalar(m, c->dvalues);
  double v[5] = {st.accuracy, st.margin, st.mean_reward, st.sd_reward, cut};
  memcpy(metrics, v, sizeof v);
  return 0;
}

/* Every held-out pair once; a short last batch repeats its first pair to
 * keep the shape, and only its real pairs count. */
static int rm_eval(void *ctx, al_model *m, double *loss, double *metrics, al_err *err) {
  rm_ctx *c = ctx;
  double sl = 0, right = 0, gap = 0, sum = 0, sum2 = 0;
  long n = c->val->n;
  for (long p0 = 0; p0 < n; p0 += c->B) {
    int real = n - p0 < c->B ? (int)(n - p0) : c->B;
    for (int b = 0; b < c->B; b++) c->idx[b] = p0 + (b < real ? b : 0);
    al_rm_fill_rows(c->val, c->idx, c->B, c->T, c->inputs, c->pos, c->margin);
    if (al_model_forward_scalar(m, c->inputs, c->pos, 2 * c->B, c->T, c->values, err))
      return al_fail_prefix(err, "held-out pairs");
    al_rm_stats st;
    /* the real pairs' rewards: chosen at [0, real), rejected at [B, B + real) */
    al_rm_loss_forward(c->values, c->values + c->B, c->margin, real, c->center, &st);
    sl += st.loss * real, right += st.accuracy * real, gap += st.margin * real;
    sum += st.mean_reward * 2 * real, sum2 += (st.sd_reward * st.sd_reward + st.mean_reward * st.mean_reward) * 2 * real;
  }
  double mean = sum / (2.0 * n);
  *loss = sl / n;
  metrics[0] = right / n, metrics[1] = gap / n, metrics[2] = mean, metrics[3] = sqrt(fmax(sum2 / (2.0 * n) - mean * mean, 0));
  return 0;
}

static void rm_release(void *ctx) {
  rm_ctx *c = ctx;
  if (!c) return;
  free(c->inputs), free(c->pos), free(c->values), free(c->dvalues), free(c->margin), free(c->idx), free(c->perm);
  free(c);
}

int al_objective_rm(al_objective *o, const al_model *m, const al_train_cfg *cfg, const al_rm_data *train,
                    const al_rm_data *val, double center, al_err *err) {
  if (!m->score) return al_fail(err, "the model has no scalar head (score.weight): a reward model needs one");
  if (!train || train->n < 1) return al_fail(err, "a reward model needs at least one training pair");
  if (cfg->batch < 1 || cfg->seq_len < 1) return al_fail(err, "batch (%d) and seq_len (%d) must be positive", cfg->batch, cfg->seq_len);
  if (!isfinite(center) || center < 0) return al_fail(err, "center_rewards_coefficient %g must be finite and >= 0", center);
  rm_ctx *c = al_calloc(1, sizeof *c);
  c->train = train, c->val = val && val->n ? val : NULL, c->center = center, c->seed = cfg->seed, c->shuffle = cfg->shuffle;
  c->B = cfg->batch, c->T = cfg->seq_len, c->perm_epoch = -1;
  size_t rows = 2 * (size_t)c->B;
  c->inputs = al_malloc(sizeof(int32_t) * rows * c->T);
  c->pos = al_malloc(sizeof(int32_t) * rows);
  c->values = al_malloc(sizeof(float) * rows);
  c->dvalues = al_malloc(sizeof(float) * rows);
  c->margin = al_malloc(sizeof(float) * c->B);
  c->idx = al_malloc(sizeof(long) * c->B);
  c->perm = al_malloc(sizeof(uint32_t) * (size_t)train->n);
  *o = (al_objective){.name = "reward_model", .ctx = c, .step = rm_step, .metrics = rm_metrics, .nmetrics = 5,
                      .release = rm_release, .rows_per_item = 2};
  if (c->val) o->eval = rm_eval, o->eval_metrics = rm_eval_metrics, o->neval_metrics = 4;
  return 0;
}
