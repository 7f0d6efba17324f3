/* The training loop (see include/alab/train.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alab/dist.h"
#include "alab/nn.h"
#include "train/train_internal.h"

void al_train_defaults(al_train_cfg *c) {
  memset(c, 0, sizeof *c);
  c->batch = 16;
  c->seq_len = 128;
  c->grad_accum = 1;
  c->steps = 1000;
  c->warmup_steps = 50;
  c->lr = 1e-3;
  c->min_lr_frac = 0.1;
  c->weight_decay = 0.1;
  c->beta1 = 0.9;
  c->beta2 = 0.95;
  c->eps = 1e-8;
  c->grad_clip = 1.0;
  c->eval_every = 100;
  c->eval_batches = 8;
  c->seed = 1;
  c->shuffle = 1;
  c->save_final = 1;
}

double al_train_lr(const al_train_cfg *c, long step) {
  if (c->warmup_steps > 0 && step < c->warmup_steps) return c->lr * (step + 1) / c->warmup_steps;
  long span = c->steps - 1 - c->warmup_steps;
  if (span <= 0) return c->lr;
  double frac = (double)(step - c->warmup_steps) / span, min_lr = c->lr * c->min_lr_frac;
  if (frac > 1) frac = 1;
  return min_lr + 0.5 * (c->lr - min_lr) * (1 + cos(M_PI * frac));
}

/* Activations take at least 4 bytes x (B*T*(V + 16*C*L) + L*B*H*T*T): the
 * logits, the 16 C-wide buffers of each layer and each layer's attention
 * weights (src/model/gpt2_acts.c has the whole layout). A batch the machine's
 * memory cannot hold is refused here instead of aborting in malloc. */
static int check_memory(const al_model *m, const al_train_cfg *c, al_err *err) {
  double B = c->batch, T = c->seq_len, L = m->cfg.n_layer;
  double bytes = 4 * (B * T * (m->cfg.vocab_size + 16.0 * m->cfg.n_embd * L) + L * B * m->cfg.n_head * T * T);
  double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
  if (mem > 0 && bytes > mem)
    return al_fail(err, "batch %d x seq_len %d needs at least %.3g GB of activations, more than this machine's %.3g GB "
                        "of memory: lower the batch (grad_accum keeps the tokens per step) or the sequence length",
                   c->batch, c->seq_len, bytes / 1e9, mem / 1e9);
  return 0;
}

int train_check_cfg(const al_model *m, const al_train_cfg *c, al_err *err) {
  if (c->batch < 1 || c->seq_len < 1 || c->grad_accum < 1)
    return al_fail(err, "batch (%d), seq_len (%d) and grad_accum (%d) must be positive", c->batch, c->seq_len, c->grad_accum);
  if (c->seq_len > m->cfg.n_positions)
    return al_fail(err, "seq_len %d exceeds the model's context of %d (n_positions)", c->seq_len, m->cfg.n_positions);
  if (c->steps < 1) return al_fail(err, "steps must be at least 1 (got %ld)", c->steps);
  if (c->warmup_steps < 0 || c->eval_every < 0 || c->eval_batches < 0 || c->ckpt_every < 0)
    return al_fail(err, "warmup_steps (%ld), eval_every (%d), eval_batches (%d) and ckpt_every (%d) must not be negative",
                   c->warmup_steps, c->eval_every, c->eval_batches, c->ckpt_every);
  if (!(c->lr > 0 && isfinite(c->lr)) || !(c->min_lr_frac >= 0 && c->min_lr_frac <= 1))
    return al_fail(err, "lr must be finite and > 0 and min_lr_frac in [0, 1] (got %g, %g)", c->lr, c->min_lr_frac);
  if (!(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1 && c->eps > 0 && isfinite(c->eps) &&
        c->weight_decay >= 0 && isfinite(c->weight_decay)))
    return al_fail(err, "AdamW needs 0 <= beta1, beta2 < 1, finite eps > 0 and weight_decay >= 0");
  if (!(c->grad_clip >= 0 && isfinite(c->grad_clip)))
    return al_fail(err, "grad_clip must be finite and >= 0 (0: off; got %g)", c->grad_clip);
  if ((c->resume || c->overwrite) && !c->out_dir) return al_fail(err, "resume and overwrite need an output directory");
  char why[512];
  if (c->precision != NN_FP32 && c->precision != NN_BF16) return al_fail(err, "precision %d is neither fp32 nor bf16", c->precision);
  if (c->precision == NN_BF16 && nn_bf16_available(why, sizeof why)) return al_fail(err, "%s", why);
  if (c->resume && c->overwrite) return al_fail(err, "resume continues the run in the directory and overwrite replaces it: give one");
  return check_memory(m, c, err);
}

/* Clips to grad_clip by global norm; returns the norm before clipping
 * (rank 0's, under data parallelism, so that every rank scales alike). */
static double clip_grads(al_model *m, double clip, const al_dist *d) {
  double norm = nn_global_norm(m->grads, (long)m->nparams);
  al_dist_bcast(d, &norm, sizeof norm, 0);
  if (clip > 0 && norm > clip) {
    float k = (float)(clip / (norm + 1e-6));
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < m->nparams; i++) m->grads[i] *= k;
  }
  return norm;
}

/* Stops a step whose loss or gradient norm is not finite, before it is applied. */
static int diverged(const train_run *r, double loss, double gnorm, al_err *err) {
  char last[512] = "nothing was saved";
  if (r->saved_step >= 0) snprintf(last, sizeof last, "the last checkpoint (step %ld) is in %.400s", r->saved_step, r->cfg->out_dir);
  return al_fail(err, "training diverged at step %ld (loss %g, gradient norm %g); %s: lower the learning rate", r->step + 1,
                 loss, gnorm, r->cfg->out_dir ? last : "nothing was saved");
}

void al_objective_free(al_objective *o) {
  if (o->release) o->release(o->ctx);
  memset(o, 0, sizeof *o);
}

static int check_objective(const al_objective *o, al_err *err) {
  if (!o || !o->step || !o->name) return al_fail(err, "the objective has no step function or no name");
  if (o->nmetrics < 0 || o->nmetrics > AL_OBJ_MAX_METRICS || o->neval_metrics < 0 ||
      o->neval_metrics > AL_OBJ_MAX_METRICS || (o->nmetrics && !o->metrics) || (o->neval_metrics && !o->eval_metrics))
    return al_fail(err, "objective %s: at most %d metrics and %d held-out metrics, each named", o->name,
                   AL_OBJ_MAX_METRICS, AL_OBJ_MAX_METRICS);
  if (!o->save_state != !o->load_state) return al_fail(err, "objective %s: save_state and load_state come together", o->name);
  return 0;
}

int al_train_objective(al_model *m, const al_train_cfg *cfg, al_objective *obj, const al_tok *tok,
                       al_train_result *res, al_err *err) {
  if (train_check_cfg(m, cfg, err) || check_objective(obj, err) || train_dp_check(cfg, obj, err)) return -1;
  train_run r = {.m = m, .cfg = cfg, .tok = tok, .obj = obj, .saved_step = -1};
  r.mom = al_alloc_floats(m->nparams);
  r.var = al_alloc_floats(m->nparams);
  r.settings = train_settings(cfg);
  const al_dist *dist = cfg->dist;
  int rank = al_dist_rank(dist);
  int rc = train_dp_open(&r, err); /* rank 0 opens out_dir; every rank starts where it does */
  /* bf16: the products read a bf16 copy of params, taken now (after a
   * resume's load) and after every update */
  nn_bf16 *bf = NULL, *prev_bf = NULL;
  char why[512];
  if (!rc && cfg->precision == NN_BF16) {
    if (!(bf = nn_bf16_new(m->params, m->nparams, why, sizeof why))) rc = al_fail(err, "%s", why);
    else prev_bf = nn_bf16_use(bf);
  }
  al_model_zero_grad(m);
  double rows = obj->rows_per_item > 0 ? obj->rows_per_item : 1;
  double tokens_per_step = (double)cfg->batch * rows * cfg->seq_len * cfg->grad_accum, t0 = al_now(), last_loss = NAN,
         val_loss = NAN;
  double metrics[AL_OBJ_MAX_METRICS] = {0}, val_metrics[AL_OBJ_MAX_METRICS] = {0};
  /* steady-state rate: the optimizer steps' own time (no evaluation or
   * checkpoint writes), skipping 2 warm-up steps when there are more than 4 */
  long start_step = r.step, timed_steps = 0;
  double timed_secs = 0;
  al_progress prog;
  al_progress_start(&prog, "train", cfg->steps, "step");
  prog.done = r.step;
  while (!rc && r.step < cfg->steps) {
    double ts = al_now(), loss = 0;
    al_model_zero_grad(m);
    if ((rc = train_accumulate(&r, &loss, metrics, err))) break;
    double gnorm = clip_grads(m, cfg->grad_clip, dist), lr = al_train_lr(cfg, r.step);
    if (!isfinite(loss) || !isfinite(gnorm)) {
      train_metrics_write(&r, r.step + 1, loss, lr, gnorm, 0, al_now() - t0, metrics, NAN, NULL);
      rc = diverged(&r, loss, gnorm, err);
      break;
    }
    nn_adamw_cfg ac = {(float)lr, (float)cfg->beta1, (float)cfg->beta2, (float)cfg->eps, (float)cfg->weight_decay};
    for (int i = 0; i < m->ntensors; i++) {
      train_dp_update(&r, i, &ac); /* tensor i's part in this rank's shard (all of it unless zero1) */
    }
    if (bf) nn_bf16_sync(bf);
    r.step++;
    last_loss = loss;
    double step_secs = al_now() - ts;
    if (r.step - start_step > 2 || cfg->steps - start_step <= 4) {
      timed_steps++;
      timed_secs += step_secs;
    }
    double vl = NAN;
    if (obj->eval && ((cfg->eval_every > 0 && r.step % cfg->eval_every == 0) || r.step == cfg->steps)) {
      /* rank 0 evaluates (every rank holds the same parameters) and tells the others */
      int erc = rank == 0 ? obj->eval(obj->ctx, m, &vl, val_metrics, err) : 0;
      if (erc) al_fail_prefix(err, "held-out loss at step %ld", r.step);
      if ((rc = al_dist_agree(dist, erc, err))) break;
      al_dist_bcast(dist, &vl, sizeof vl, 0);
      al_dist_bcast(dist, val_metrics, sizeof val_metrics, 0);
      val_loss = vl;
    }
    train_metrics_write(&r, r.step, loss, lr, gnorm, step_secs > 0 ? tokens_per_step / step_secs : 0, al_now() - t0,
                        metrics, vl, val_metrics);
    if (val_loss == val_loss) snprintf(prog.extra, sizeof prog.extra, "loss %.4f val %.4f", loss, val_loss);
    else snprintf(prog.extra, sizeof prog.extra, "loss %.4f", loss);
    al_progress_update(&prog, r.step);
    if (cfg->out_dir && cfg->ckpt_every > 0 && r.step % cfg->ckpt_every == 0 && r.step < cfg->steps)
      rc = train_dp_checkpoint(&r, 1, err);
  }
  if (!rc) al_progress_finish(&prog);
  /* the final checkpoint, unless a resumed run had already written it */
  if (!rc && cfg->out_dir && r.step > start_step)
    rc = train_dp_checkpoint(&r, cfg->save_final, err);
  double secs = al_now() - t0;
  if (res) {
    res->start_step = start_step;
    res->steps_done = r.step;
    res->final_loss = last_loss;
    res->val_loss = val_loss;
    res->seconds = secs;
    res->tokens_per_s = timed_secs > 0 ? timed_steps * tokens_per_step / timed_secs : 0;
  }
  if (bf) nn_bf16_use(prev_bf);
  nn_bf16_free(bf);
  if (r.metrics) fclose(r.metrics);
  train_dp_close(&r);
  json_decref(r.settings);
  free(r.mom);
  free(r.var);
  return rc;
}

int al_train(al_model *m, const al_train_cfg *cfg, const al_tokens *train, int ntrain, const al_tokens *val, int nval,
             const al_tok *tok, al_train_result *res, al_err *err) {
  al_objective lm;
  if (train_check_cfg(m, cfg, err) || al_objective_lm(&lm, m, cfg, train, ntrain, val, nval, err)) return -1;
  int rc = al_train_objective(m, cfg, &lm, tok, res, err);
  al_objective_free(&lm);
  return rc;
}
