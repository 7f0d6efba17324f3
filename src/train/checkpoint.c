/* Checkpoints for exact resume: params and AdamW moments as arrays, and the
 * step and data position as JSON, in one atomic trainer_state.safetensors. */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/safetensors.h"
#include "train/train_internal.h"

#define STATE_FILE "trainer_state.safetensors"

char *train_state_path(const char *dir) { return al_path_join(dir, STATE_FILE); }

int train_checkpoint_save(const train_run *r, al_err *err) {
  const al_model *m = r->m;
  al_state_array a[3] = {{"params", m->params, m->nparams}, {"adam.m", r->mom, m->nparams}, {"adam.v", r->var, m->nparams}};
  al_loader_state ls = al_loader_get_state(&r->loader);
  json_t *info = json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:i}", "step", (json_int_t)r->step, "loader_seed",
                           al_json_u64(ls.seed), "loader_epoch", al_json_u64(ls.epoch), "loader_pos", al_json_u64(ls.pos),
                           "loader_nwindows", al_json_u64(ls.nwindows), "batch", (json_int_t)r->cfg->batch, "seq_len",
                           (json_int_t)r->cfg->seq_len, "grad_accum", (json_int_t)r->cfg->grad_accum, "total_steps",
                           (int)r->cfg->steps);
  char *path = train_state_path(r->cfg->out_dir);
  int rc = al_state_save(path, a, 3, info, err);
  free(path);
  json_decref(info);
  return rc;
}

/* Returns 1 if a state was loaded, 0 if there is none, -1 on error. */
int train_checkpoint_load(train_run *r, al_err *err) {
  char *path = train_state_path(r->cfg->out_dir);
  if (!al_file_exists(path)) {
    free(path);
    return 0;
  }
  al_model *m = r->m;
  al_state_array a[3] = {{"params", m->params, m->nparams}, {"adam.m", r->mom, m->nparams}, {"adam.v", r->var, m->nparams}};
  json_t *info = NULL;
  int rc = al_state_load(path, a, 3, &info, err);
  long long step = 0, batch = 0, seq = 0, accum = 0;
  al_loader_state ls;
  if (!rc)
    rc = al_json_get_int(info, "step", &step, path, err) || al_json_get_int(info, "batch", &batch, path, err) ||
         al_json_get_int(info, "seq_len", &seq, path, err) || al_json_get_int(info, "grad_accum", &accum, path, err) ||
         al_json_get_u64(info, "loader_seed", &ls.seed, path, err) ||
         al_json_get_u64(info, "loader_epoch", &ls.epoch, path, err) ||
         al_json_get_u64(info, "loader_pos", &ls.pos, path, err) ||
         al_json_get_u64(info, "loader_nwindows", &ls.nwindows, path, err)
             ? -1
             : 0;
  if (!rc && (batch != r->cfg->batch || seq != r->cfg->seq_len || accum != r->cfg->grad_accum))
    rc = al_fail(err, "%s: saved with batch %lld, seq_len %lld, grad_accum %lld; resume with the same settings (got %d, %d, %d)",
                 path, batch, seq, accum, r->cfg->batch, r->cfg->seq_len, r->cfg->grad_accum);
  if (!rc && (step < 0 || step > r->cfg->steps))
    rc = al_fail(err, "%s: saved step %lld is outside this run's %ld steps", path, step, r->cfg->steps);
  if (!rc && al_loader_set_state(&r->loader, &ls, err)) rc = al_fail_prefix(err, "%s", path);
  if (!rc) r->step = step;
  json_decref(info);
  free(path);
  return rc ? -1 : 1;
}
