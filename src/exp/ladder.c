/* A scaling ladder: the same corpus, tokenizer and recipe for every size,
 * token budget proportional to parameters (see include/alab/ladder.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dataset.h"
#include "alab/dist.h"
#include "alab/ladder.h"
#include "alab/json.h"
#include "alab/sweep.h"
#include "alab/train.h"

static const struct { int L, C, H; } SIZES[] = {{1, 24, 2}, {2, 40, 2}, {2, 64, 4}, {3, 96, 4}, {4, 128, 4}, {6, 192, 6}};
enum { NSIZES = sizeof SIZES / sizeof SIZES[0] };

al_ladder_cfg al_ladder_cfg_default(void) {
  al_ladder_cfg c = {.out_dir = "ladder", .data = "story:20000", .tokenizer = "byte", .arch = "gpt2", .nsizes = 5, .batch = 16,
                     .seq_len = 128, .tokens_per_param = 20, .min_tokens = 200000, .seed = 1};
  return c;
}

static int train_size(const al_ladder_cfg *c, int k, const al_dataset *ds, const al_tok *tok, json_t *summary,
                      al_err *err) {
  char name[64];
  snprintf(name, sizeof name, "size%d_L%d_C%d", k, SIZES[k].L, SIZES[k].C);
  char *dir = al_path_join(c->out_dir, name), *info = al_path_join(dir, "training.json");
  int rc = -1;
  json_t *done = NULL;
  if (al_file_exists(info) && !al_json_load_file(info, &done, err)) {
    al_log("ladder: %s already trained, skipping", name);
    json_object_set_new(done, "name", json_string(name));
    json_array_append_new(summary, done);
    rc = 0;
    goto out;
  }
  al_model_config mc = {.vocab_size = al_tok_vocab_size(tok), .n_positions = c->seq_len, .n_layer = SIZES[k].L,
                       .n_head = SIZES[k].H, .n_embd = SIZES[k].C, .init_std = 0.02f};
  al_model m = {0};
  if (al_model_config_set_arch(&mc, c->arch, err) || al_model_init(&m, &mc, c->seed + (uint64_t)k, err)) goto out;
  double tokens = fmax(c->tokens_per_param * (double)m.nparams, (double)c->min_tokens);
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = c->batch;
  tc.seq_len = c->seq_len;
  tc.steps = (long)ceil(tokens / ((double)c->batch * c->seq_len));
  tc.warmup_steps = tc.steps / 20 > 1 ? tc.steps / 20 : 1;
  tc.lr = fmin(3e-3, fmax(1e-3, 2e-3 * sqrt(64.0 / SIZES[k].C)));
  tc.eval_every = tc.steps / 4 > 0 ? (int)(tc.steps / 4) : 1;
  tc.ckpt_every = 0;
  tc.seed = c->seed;
  tc.out_dir = dir;
  tc.overwrite = 1; /* a size without training.json is trained again from the start */
  tc.save_final = 1;
  double seen = (double)tc.steps * c->batch * c->seq_len;
  al_log("ladder: %s: %zu parameters, %ld steps (%.3g tokens)", name, m.nparams, tc.steps, seen);
  al_train_result res;
  if (al_train(&m, &tc, ds->train, ds->ntrain, ds->val, ds->nval, tok, &res, err)) {
    al_model_free(&m);
    al_fail_prefix(err, "ladder %s", name);
    goto out;
  }
  json_t *j = json_pack("{s:I, s:I, s:f, s:I, s:f, s:f, s:f, s:{s:i, s:i, s:i}}", "params", (json_int_t)m.nparams,
                        "tokens", (json_int_t)seen, "compute", 6.0 * m.nparams * seen, "steps", (json_int_t)tc.steps, "final_loss", res.final_loss, "val_loss",
                        isfinite(res.val_loss) ? res.val_loss : -1.0, "seconds", res.seconds, "config", "n_layer",
                        SIZES[k].L, "n_embd", SIZES[k].C, "n_head", SIZES[k].H);
  al_model_free(&m);
  rc = al_json_save_file(info, j, err);
  json_object_set_new(j, "name", json_string(name));
  json_array_append_new(summary, j);
out:
  free(dir);
  free(info);
  return rc;
}

int al_ladder_run(const al_ladder_cfg *c, al_err *err) {
  if (c->nsizes < 1 || c->nsizes > NSIZES) return al_fail(err, "ladder: --sizes must be 1..%d (got %d)", NSIZES, c->nsizes);
  if (c->batch < 1 || c->seq_len < 8) return al_fail(err, "ladder: batch >= 1 and seq_len >= 8 needed");
  if (al_mkdir_p(c->out_dir, err)) return -1;
  al_tok *tok = NULL;
  al_dataset ds = {0};
  al_corpus_opts co = {.field = "text"};
  int rc = -1;
  if (al_tokenizer_from_spec(&tok, c->tokenizer, c->data, err) || al_dataset_open(&ds, c->data, &co, tok, 0.05, err))
    goto done;
  json_t *summary = json_array();
  double t0 = al_now();
  /* under mpirun size k trains on rank k mod R, and every rank gets each size's summary */
  json_t *one[NSIZES] = {0};
  al_sweep *sw = al_sweep_begin(c->nsizes, NULL);
  al_sweep_share_json(sw, one);
  int failed = 0;
  for (int k = 0; k < c->nsizes && !failed; k++)
    if (al_sweep_mine(sw, k)) failed = train_size(c, k, &ds, tok, one[k] = json_array(), err);
  failed = al_sweep_end(sw, failed, err);
  for (int k = 0; k < c->nsizes; k++) {
    if (!failed) json_array_extend(summary, one[k]);
    json_decref(one[k]);
  }
  if (failed) {
    json_decref(summary);
    goto done;
  }
  json_t *root = json_pack("{s:s, s:s, s:s, s:f, s:i, s:i, s:f, s:o}", "alab_version", ALAB_VERSION, "data", c->data,
                           "tokenizer", c->tokenizer, "tokens_per_param", c->tokens_per_param, "batch", c->batch,
                           "seq_len", c->seq_len, "seconds", al_now() - t0, "models", summary);
  char *path = al_path_join(c->out_dir, "ladder.json");
  rc = al_dist_rank(al_dist_current()) ? 0 : al_json_save_file(path, root, err); /* rank 0 writes it */
  free(path);
  json_decref(root);
done:
  al_dataset_close(&ds);
  if (tok) al_tok_free(tok);
  return rc;
}
