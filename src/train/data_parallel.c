/* Data parallelism for the training loop (al_train_cfg.dist): the step's
 * grad_accum micro-batches are shared out across R ranks, micro-batch k on
 * rank k mod R, and the gradient of the step is
 *
 *   g = sum_k grad_scale * grad(loss_k),   grad_scale = 1 / grad_accum,
 *
 * summed over ranks. Two ways to sum:
 *   - default: each rank accumulates its micro-batches into its gradient
 *     buffer as one process does, then one sum over ranks (reduce to rank 0,
 *     broadcast back, so every rank holds the same bits). R = 1 is exactly
 *     the loop without parallelism; other R differ by float rounding.
 *   - deterministic_reduce: each micro-batch's gradient is kept apart and
 *     the sum runs over k = 0, 1, ... in order on every rank, from
 *     broadcasts of each micro-batch's gradient by its owner: the same
 *     arithmetic for every R, so R = 1, 2, 3 give bit-identical runs.
 * The step's loss and metrics are summed the same way for both: each
 * micro-batch's values sit in their own slot (zero on the ranks that did
 * not compute it), the slots are summed over ranks (exact: one nonzero
 * term each), then over k in order, as one process does.
 *
 * Every rank keeps the same parameters: rank 0 alone opens out_dir (resume,
 * refusals) and sends where it starts to the others; after that every rank
 * applies the same update to the same gradient. With zero1 (ZeRO stage 1)
 * rank r keeps only the AdamW moments of parameters [n r / R, n (r+1) / R),
 * updates those parameters alone (AdamW is elementwise: the same bits as
 * the whole update) and the updated shards are gathered on every rank;
 * rank 0 gathers the moments to write a checkpoint.
 *
 * overlap_reduce (the default sum only): during the backward pass of this
 * rank's last micro-batch of the step, layer l's gradients are final as soon
 * as its backward returns (al_model.layer_done), so the reduce of that
 * layer's bucket (its contiguous tensors) to rank 0 starts then, without
 * blocking, while layers l-1 ... 0 are computed; the tensors outside the
 * layers (embeddings, final norm, heads) start after the pass; the
 * optimiser waits for all of them, then rank 0 broadcasts the sum. Every
 * rank starts the same buckets in the same order (L-1 ... 0, then the
 * rest), whatever failed on it, so the collectives always match. */
#include <stdlib.h>
#include <string.h>
#include "alab/dist.h"
#include "train/train_internal.h"

struct dp_overlap {
  al_dist_pending *q;
  int L, next;    /* layers; the next layer whose bucket has not started (L-1 down to 0; -1: all started) */
  size_t *lo, *hi; /* layer l's bucket: params [lo[l], hi[l]) */
  int twice;      /* a layer finished twice in one micro-batch: the objective runs two backward passes */
};

/* The layer a tensor belongs to ("h.3.attn.c_attn.weight", "model.layers.3.mlp..." -> 3), or -1. */
static int layer_of(const char *name) {
  for (const char *p = strchr(name, '.'); p; p = strchr(p + 1, '.')) {
    char *end;
    long l = strtol(p + 1, &end, 10);
    if (end > p + 1 && *end == '.') return (int)l;
  }
  return -1;
}

/* The layers' buckets: each layer's tensors contiguous, layer after layer. */
static int overlap_open(train_run *r, al_err *err) {
  const al_model *m = r->m;
  int L = m->cfg.n_layer;
  struct dp_overlap *o = al_calloc(1, sizeof *o);
  o->L = L, o->lo = al_malloc(sizeof(size_t) * L), o->hi = al_calloc((size_t)L, sizeof(size_t));
  size_t *numel = al_calloc((size_t)L, sizeof(size_t));
  for (int l = 0; l < L; l++) o->lo[l] = m->nparams;
  for (int i = 0; i < m->ntensors; i++) {
    const al_tensor *t = &m->tensors[i];
    int l = layer_of(t->name);
    if (l < 0 || l >= L) continue;
    if (t->offset < o->lo[l]) o->lo[l] = t->offset;
    if (t->offset + t->numel > o->hi[l]) o->hi[l] = t->offset + t->numel;
    numel[l] += t->numel;
  }
  int ok = 1;
  for (int l = 0; l < L; l++) ok &= numel[l] > 0 && numel[l] == o->hi[l] - o->lo[l] && (l == 0 || o->lo[l] == o->hi[l - 1]);
  free(numel);
  r->dp_overlap = o;
  if (!ok) return al_fail(err, "overlap_reduce: the %s model's layers are not each one contiguous block of its parameters",
                          m->cfg.arch);
  o->q = al_dist_pending_new();
  return 0;
}

/* al_model.layer_done of the last micro-batch: start the finished layers' sums. */
static void layer_done(void *ctx, int l) {
  train_run *r = ctx;
  struct dp_overlap *o = r->dp_overlap;
  if (l > o->next) {
    o->twice = 1;
    return;
  }
  for (; o->next >= l; o->next--)
    al_dist_reduce_start(r->cfg->dist, o->q, r->m->grads + o->lo[o->next], o->hi[o->next] - o->lo[o->next]);
  al_dist_pending_progress(o->q);
}

/* The buckets not yet started (all of them after a failure), then the tensors outside the layers. */
static void overlap_rest(train_run *r) {
  struct dp_overlap *o = r->dp_overlap;
  const al_dist *d = r->cfg->dist;
  size_t n = r->m->nparams, first = o->lo[0], last = o->hi[o->L - 1];
  if (o->next >= 0) layer_done(r, 0);
  al_dist_reduce_start(d, o->q, r->m->grads, first);
  al_dist_reduce_start(d, o->q, r->m->grads + last, n - last);
}

int train_dp_check(const al_train_cfg *c, const al_objective *o, al_err *err) {
  int R = al_dist_size(c->dist);
  if (R == 1) return 0;
  if (c->overlap_reduce && c->deterministic_reduce)
    return al_fail(err, "overlap_reduce and deterministic_reduce: choose one (the deterministic sum broadcasts each "
                        "micro-batch's gradient in index order after the step)");
  if (c->grad_accum < R)
    return al_fail(err, "%d ranks need at least %d micro-batches per step (grad_accum %d): each rank computes micro-batch "
                        "k mod %d of the step; raise grad_accum (lower batch to keep the tokens per step) or use fewer ranks",
                   R, R, c->grad_accum, R);
  if (o->save_state && !o->skip)
    return al_fail(err, "objective %s keeps data state and cannot skip the micro-batches of other ranks: it runs on one "
                        "process only", o->name);
  return 0;
}

/* Rank 0's objective state (its data position) onto every rank. */
static int sync_objective(train_run *r, al_err *err) {
  const al_dist *d = r->cfg->dist;
  al_objective *o = r->obj;
  if (!o->save_state) return 0;
  char *text = NULL;
  long len = 0;
  if (al_dist_rank(d) == 0) {
    json_t *info = json_object();
    o->save_state(o->ctx, info);
    text = json_dumps(info, JSON_COMPACT);
    json_decref(info);
    len = (long)strlen(text) + 1;
  }
  al_dist_bcast(d, &len, sizeof len, 0);
  if (al_dist_rank(d) != 0) text = al_malloc((size_t)len);
  al_dist_bcast(d, text, (size_t)len, 0);
  int rc = 0;
  if (al_dist_rank(d) != 0) {
    json_error_t je;
    json_t *info = json_loads(text, 0, &je);
    rc = info ? o->load_state(o->ctx, info, "rank 0's objective state", err)
              : al_fail(err, "rank 0's objective state is not JSON: %s", je.text);
    json_decref(info);
  }
  free(text);
  return al_dist_agree(d, rc, err);
}

/* Keeps this rank's shard of the moments (every rank holds all of them after a resume). */
static void shard_moments(train_run *r) {
  size_t lo, hi;
  al_dist_shard(r->cfg->dist, r->m->nparams, al_dist_rank(r->cfg->dist), &lo, &hi);
  float *mom = al_alloc_floats(hi - lo), *var = al_alloc_floats(hi - lo);
  memcpy(mom, r->mom + lo, (hi - lo) * sizeof(float));
  memcpy(var, r->var + lo, (hi - lo) * sizeof(float));
  free(r->mom), free(r->var);
  r->mom = mom, r->var = var, r->shard_lo = lo, r->shard_hi = hi;
}

int train_dp_open(train_run *r, al_err *err) {
  const al_train_cfg *c = r->cfg;
  const al_dist *d = c->dist;
  int R = al_dist_size(d), me = al_dist_rank(d);
  int rc = 0;
  r->shard_lo = 0, r->shard_hi = r->m->nparams;
  if (c->out_dir && me == 0) rc = train_dir_open(r, err);
  if (al_dist_agree(d, rc, err)) return -1;
  if (R > 1) {
    size_t n = r->m->nparams;
    al_dist_bcast(d, &r->step, sizeof r->step, 0);
    al_dist_bcast(d, r->m->params, n * sizeof(float), 0);
    al_dist_bcast(d, r->mom, n * sizeof(float), 0);
    al_dist_bcast(d, r->var, n * sizeof(float), 0);
    if (sync_objective(r, err)) return -1;
    if (c->zero1) shard_moments(r);
  }
  r->dp_slots = al_calloc((size_t)c->grad_accum * (1 + r->obj->nmetrics), sizeof(double));
  if (R > 1 && c->overlap_reduce && overlap_open(r, err)) return -1;
  if (c->deterministic_reduce) {
    size_t own = (size_t)(c->grad_accum + R - 1) / R;
    r->dp_grads = al_alloc_floats(own * r->m->nparams);
    r->dp_recv = al_alloc_floats(r->m->nparams);
    r->dp_total = al_alloc_floats(r->m->nparams);
  }
  return 0;
}

void train_dp_close(train_run *r) {
  if (r->dp_overlap) {
    al_dist_pending_free(r->dp_overlap->q);
    free(r->dp_overlap->lo), free(r->dp_overlap->hi), free(r->dp_overlap);
    r->dp_overlap = NULL;
  }
  free(r->dp_slots), free(r->dp_grads), free(r->dp_recv), free(r->dp_total);
  r->dp_slots = NULL, r->dp_grads = r->dp_recv = r->dp_total = NULL;
}

/* total += g over n floats (each element on its own: the same bits for any thread count). */
static void add_to(float *total, const float *g, size_t n) {
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; i++) total[i] += g[i];
}

int train_accumulate(train_run *r, double *loss, double *metrics, al_err *err) {
  const al_train_cfg *c = r->cfg;
  const al_dist *d = c->dist;
  al_objective *o = r->obj;
  al_model *m = r->m;
  int G = c->grad_accum, R = al_dist_size(d), me = al_dist_rank(d), nm = o->nmetrics, w = 1 + nm;
  size_t n = m->nparams;
  memset(r->dp_slots, 0, sizeof(double) * G * w);
  int rc = 0, last = me + (G - 1 - me) / R * R; /* this rank's last micro-batch */
  struct dp_overlap *ov = r->dp_overlap;
  if (ov) ov->next = ov->L - 1, ov->twice = 0;
  for (int k = 0; k < G && !rc; k++) {
    uint64_t index = (uint64_t)r->step * G + k;
    if (k % R != me) {
      if (o->skip) o->skip(o->ctx, index);
      continue;
    }
    if (c->deterministic_reduce) al_model_zero_grad(m);
    double *s = r->dp_slots + (size_t)k * w;
    if (ov && k == last) m->layer_done = layer_done, m->layer_done_ctx = r;
    if (o->step(o->ctx, m, index, 1.0f / G, &s[0], s + 1, err)) rc = al_fail_prefix(err, "step %ld", r->step + 1);
    else if (c->deterministic_reduce) memcpy(r->dp_grads + (size_t)(k / R) * n, m->grads, n * sizeof(float));
  }
  m->layer_done = NULL;
  if (ov) {
    overlap_rest(r);
    if (!rc && ov->twice)
      rc = al_fail(err, "step %ld: objective %s runs more than one backward pass per micro-batch; the overlapped sum "
                        "needs one (run without overlap_reduce)", r->step + 1, o->name);
  }
  if (al_dist_agree(d, rc, err)) {
    if (ov) al_dist_pending_wait(ov->q); /* the sums read the gradients: done before they may change */
    return -1;
  }
  al_dist_sum_doubles(d, r->dp_slots, (size_t)G * w);
  if (c->deterministic_reduce) {
    memset(r->dp_total, 0, n * sizeof(float));
    for (int k = 0; k < G; k++) {
      int owner = k % R;
      float *g = owner == me ? r->dp_grads + (size_t)(k / R) * n : r->dp_recv;
      al_dist_bcast(d, g, n * sizeof(float), owner);
      add_to(r->dp_total, g, n);
    }
    memcpy(m->grads, r->dp_total, n * sizeof(float));
  } else if (ov) {
    al_dist_pending_wait(ov->q);
    al_dist_bcast(d, m->grads, n * sizeof(float), 0);
  } else {
    al_dist_sum_floats(d, m->grads, n);
  }
  *loss = 0;
  for (int i = 0; i < nm; i++) metrics[i] = 0;
  for (int k = 0; k < G; k++) {
    const double *s = r->dp_slots + (size_t)k * w;
    *loss += s[0];
    for (int i = 0; i < nm; i++) metrics[i] += s[1 + i];
  }
  *loss /= G;
  for (int i = 0; i < nm; i++)
    if (!o->metrics[i].is_count) metrics[i] /= G;
  return 0;
}

void train_dp_update(train_run *r, int i, const nn_adamw_cfg *ac) {
  al_model *m = r->m;
  const al_tensor *t = &m->tensors[i];
  size_t lo = r->shard_lo, hi = r->shard_hi;
  size_t a = t->offset > lo ? t->offset : lo, b = t->offset + t->numel < hi ? t->offset + t->numel : hi;
  if (a < b)
    nn_adamw_update(m->params + a, m->grads + a, r->mom + (a - lo), r->var + (a - lo), (long)(b - a), (int)r->step + 1, ac,
                    t->decay);
  if (i == m->ntensors - 1 && hi - lo < m->nparams) al_dist_gather_shards(r->cfg->dist, m->params, m->nparams);
}

int train_dp_checkpoint(train_run *r, int with_model, al_err *err) {
  const al_dist *d = r->cfg->dist;
  size_t n = r->m->nparams;
  int me = al_dist_rank(d), sharded = r->shard_hi - r->shard_lo < n, rc = 0;
  float *mom = r->mom, *var = r->var;
  if (sharded) { /* the whole moments on rank 0 for the write, then let go */
    float *all_m = me == 0 ? al_alloc_floats(n) : NULL, *all_v = me == 0 ? al_alloc_floats(n) : NULL;
    al_dist_gather_to_root(d, mom, all_m, n);
    al_dist_gather_to_root(d, var, all_v, n);
    if (me == 0) r->mom = all_m, r->var = all_v;
  }
  if (me == 0) rc = train_checkpoint_save(r, with_model, err);
  if (sharded && me == 0) {
    free(r->mom), free(r->var);
    r->mom = mom, r->var = var;
  }
  return al_dist_agree(d, rc, err);
}
