/* The run directory and its checkpoints. The rules, which together make a
 * kill -9 at any instant leave a directory that --resume continues exactly
 * (byte-identical final files) or that starts cleanly anew:
 *
 * 1. Write order. Every file goes to NAME.tmp.PID, is fsynced and renamed
 *    into place. A checkpoint writes the model directory first
 *    (model.safetensors, config.json, tokenizer files) and
 *    trainer_state.safetensors last, so wherever a trainer state exists the
 *    model directory beside it is complete. A resume restores params, AdamW
 *    moments, step and data position from the state alone; a newer
 *    model.safetensors left by a half-written next checkpoint is rewritten.
 * 2. Another run's state. A new run refuses a directory holding a trainer
 *    state or a model unless told to overwrite; overwriting deletes the old
 *    trainer state first and model.safetensors next, before anything else
 *    is written, so a kill can never leave an old state to be resumed as
 *    the new run's. A resume that finds no state starts from the beginning.
 * 3. Resume checks. The state records every setting that must match (the
 *    CLI's flags, or the training config) and the objective's name; resuming
 *    names each setting that changed and refuses another objective (a state
 *    without a name is the LM objective's). The objective's own state (the
 *    LM loader's shard and position) is restored by the objective. The
 *    thread count is recorded too; a different one is only warned about:
 *    fp32 products give the same bits on any count (src/nn/matmul.c cuts
 *    them by shape), oneDNN's bf16 ones are not known to.
 * 4. Temp files. A run removes the temp files of killed writers when it
 *    starts; a failed write removes its own (src/base/file.c).
 * 5. Numbers. No NaN or infinity reaches a file: a step whose loss or
 *    gradient norm is not finite stops the run before it is applied, params
 *    and moments are checked before each checkpoint, model files are checked
 *    when written and when loaded (src/io/finite.c), and metrics.jsonl
 *    writes null for a non-finite value. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/nn.h"
#include "alab/safetensors.h"
#include "train/train_internal.h"

#define STATE_FILE "trainer_state.safetensors"

/* The settings of a library caller that passes none: every field of the
 * config that shapes the numbers. */
static json_t *settings_of_cfg(const al_train_cfg *c) {
  json_t *j = json_pack("{s:i, s:i, s:i, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:o, s:b}", "batch", c->batch,
                   "seq_len", c->seq_len, "grad_accum", c->grad_accum, "steps", (json_int_t)c->steps, "warmup_steps",
                   (json_int_t)c->warmup_steps, "lr", c->lr, "min_lr_frac", c->min_lr_frac, "weight_decay",
                   c->weight_decay, "beta1", c->beta1, "beta2", c->beta2, "eps", c->eps, "grad_clip", c->grad_clip,
                   "eval_every", c->eval_every, "eval_batches", c->eval_batches, "seed", al_json_u64(c->seed),
                   "shuffle", c->shuffle);
  if (c->precision != NN_FP32) json_object_set_new(j, "precision", json_string(nn_precision_name(c->precision)));
  return j;
}

json_t *train_settings(const al_train_cfg *c) {
  return c->settings ? json_deep_copy((const json_t *)c->settings) : settings_of_cfg(c);
}

/* "alab_train" of config.json: what the run was told, and on how many threads. */
static json_t *run_record(const train_run *r) {
  return json_pack("{s:{s:O, s:i}}", "alab_train", "settings", r->settings, "threads", al_get_threads());
}

static void append_value(al_buf *b, const json_t *v) {
  char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
  al_buf_printf(b, "%.80s", s ? s : "(not recorded)");
  free(s);
}

/* Fails naming every setting that differs between the saved run and this one. */
static int settings_check(const json_t *saved, const json_t *now, const char *path, al_err *err) {
  al_buf diff = {0};
  const char *key;
  json_t *v;
  int n = 0;
  json_object_foreach((json_t *)saved, key, v) {
    const json_t *w = json_object_get(now, key);
    if (w && json_equal(v, (json_t *)w)) continue;
    al_buf_printf(&diff, "%s%s ", n++ ? "; " : "", key);
    append_value(&diff, v);
    al_buf_printf(&diff, " then, ");
    append_value(&diff, w);
    al_buf_printf(&diff, " now");
  }
  json_object_foreach((json_t *)now, key, v) {
    if (json_object_get(saved, key)) continue;
    al_buf_printf(&diff, "%s%s (not recorded then) ", n++ ? "; " : "", key);
    append_value(&diff, v);
    al_buf_printf(&diff, " now");
  }
  int rc = n ? al_fail(err, "%s: the run was started with other settings (%s): resume with the same settings, or "
                            "start a new run with --overwrite",
                       path, diff.data)
             : 0;
  al_buf_free(&diff);
  return rc;
}

/* Removes path if present (rule 2). */
static int remove_file(const char *dir, const char *name, al_err *err) {
  char *path = al_path_join(dir, name);
  int rc = unlink(path) != 0 && errno != ENOENT ? al_fail(err, "%s: cannot remove: %s", path, strerror(errno)) : 0;
  free(path);
  return rc;
}

/* The objective a trainer state was made by: "lm" when it names none (saved
 * before objectives had names). */
static int saved_objective_check(const json_t *info, const al_objective *obj, const char *path, al_err *err) {
  const json_t *name = json_object_get(info, "objective");
  if (name && !json_is_string(name)) return al_fail(err, "%s: field 'objective' is not a string", path);
  const char *saved = name ? json_string_value(name) : "lm";
  if (strcmp(saved, obj->name))
    return al_fail(err, "%s: the run was trained with the %.60s objective, not %s: resume it with the same objective, "
                        "or start a new run with --overwrite",
                   path, saved, obj->name);
  return 0;
}

/* Loads the trainer state at path into r (rule 3). */
static int state_load(train_run *r, const char *path, al_err *err) {
  al_model *m = r->m;
  al_state_array a[3] = {{"params", m->params, m->nparams}, {"adam.m", r->mom, m->nparams}, {"adam.v", r->var, m->nparams}};
  json_t *info = NULL;
  int rc = al_state_load(path, a, 3, &info, err);
  long long step = 0, batch = 0, seq = 0, accum = 0, threads = 0;
  if (!rc)
    rc = al_json_get_int(info, "step", &step, path, err) || al_json_get_int(info, "batch", &batch, path, err) ||
         al_json_get_int(info, "seq_len", &seq, path, err) || al_json_get_int(info, "grad_accum", &accum, path, err) ||
         al_json_get_int(info, "threads", &threads, path, err)
             ? -1
             : 0;
  const json_t *saved = info ? json_object_get(info, "settings") : NULL;
  if (!rc && !json_is_object(saved)) rc = al_fail(err, "%s: field 'settings' is missing or not an object", path);
  if (!rc) rc = saved_objective_check(info, r->obj, path, err);
  if (!rc) rc = settings_check(saved, r->settings, path, err);
  if (!rc && (batch != r->cfg->batch || seq != r->cfg->seq_len || accum != r->cfg->grad_accum))
    rc = al_fail(err, "%s: saved with batch %lld, seq_len %lld, grad_accum %lld; resume with the same settings (got %d, %d, %d)",
                 path, batch, seq, accum, r->cfg->batch, r->cfg->seq_len, r->cfg->grad_accum);
  if (!rc && (step < 0 || step > r->cfg->steps))
    rc = al_fail(err, "%s: saved step %lld is outside this run's %ld steps", path, step, r->cfg->steps);
  if (!rc && r->obj->load_state) rc = r->obj->load_state(r->obj->ctx, info, path, err);
  if (!rc) {
    r->step = r->saved_step = step;
    if (threads != al_get_threads())
      al_log("warning: the run used %lld threads and this resume uses %d: in fp32 its numbers are the same; in bf16 "
             "they may not be bit-identical to an uninterrupted run's", threads, al_get_threads());
  }
  json_decref(info);
  return rc;
}

int train_dir_open(train_run *r, al_err *err) {
  const al_train_cfg *c = r->cfg;
  if (al_mkdir_p(c->out_dir, err) || al_remove_stale_temps(c->out_dir, err) < 0) return -1;
  char *state = al_path_join(c->out_dir, STATE_FILE), *model = al_path_join(c->out_dir, "model.safetensors");
  int rc = 0, has_state = al_file_exists(state), has_model = al_file_exists(model);
  if (c->resume && has_state) {
    rc = state_load(r, state, err);
    if (!rc) al_log("resuming from step %ld of %ld", r->step, c->steps);
  } else if ((has_state || has_model) && !c->resume && !c->overwrite) {
    rc = al_fail(err, "%s holds %s: --resume continues that run, --overwrite starts a new one in its place", c->out_dir,
                 has_state ? "another run's trainer state" : "a model");
  } else if (has_state || has_model) {
    rc = remove_file(c->out_dir, STATE_FILE, err) || remove_file(c->out_dir, "model.safetensors", err) ? -1 : 0;
    if (!rc && c->resume) al_log("%s has no trainer state: starting the run from the beginning", c->out_dir);
  }
  if (!rc) rc = train_metrics_open(r, r->step > 0 ? r->step : -1, err);
  free(state);
  free(model);
  return rc;
}

/* Rule 5: params and moments, tensor by tensor, before anything is written. */
static int check_finite(const train_run *r, al_err *err) {
  const al_model *m = r->m;
  const float *arr[3] = {m->params, r->mom, r->var};
  const char *what[3] = {"parameters", "AdamW first moment", "AdamW second moment"};
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < m->ntensors; i++) {
      const al_tensor *t = &m->tensors[i];
      if (al_check_finite(arr[k] + t->offset, t->numel, what[k], t->name, err)) return -1;
    }
  return 0;
}

int train_checkpoint_save(train_run *r, int with_model, al_err *err) {
  if (check_finite(r, err)) return al_fail_prefix(err, "training diverged at step %ld", r->step);
  if (with_model) {
    json_t *rec = run_record(r);
    int rc = al_model_save_dir_with(r->m, r->tok, rec, r->cfg->out_dir, err);
    json_decref(rec);
    if (rc) return -1;
  }
  const al_model *m = r->m;
  al_state_array a[3] = {{"params", m->params, m->nparams}, {"adam.m", r->mom, m->nparams}, {"adam.v", r->var, m->nparams}};
  json_t *info = json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:i, s:O}", "step", (json_int_t)r->step, "objective",
                           r->obj->name, "batch", (json_int_t)r->cfg->batch, "seq_len", (json_int_t)r->cfg->seq_len,
                           "grad_accum", (json_int_t)r->cfg->grad_accum, "total_steps", (json_int_t)r->cfg->steps,
                           "threads", al_get_threads(), "settings", r->settings);
  if (r->obj->save_state) r->obj->save_state(r->obj->ctx, info); /* LM: the loader's shard and position in it */
  char *path = al_path_join(r->cfg->out_dir, STATE_FILE);
  int rc = al_state_save(path, a, 3, info, err);
  if (!rc) r->saved_step = r->step;
  free(path);
  json_decref(info);
  return rc;
}
