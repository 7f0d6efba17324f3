/* The standard reward model of `alab cpm`: a GPT-2 trunk with a scalar head,
 * from scratch or from a language model's trunk, trained through the training loop with the Bradley-Terry
 * objective (alab/reward.h) on the comparisons of one half. */
#include <string.h>
#include "alab/reward.h"
#include "exp/cpm_internal.h"

int cpm_rm_train(const al_cpm_exp_cfg *c, const al_tok *tok, const al_model *init, char *const *chosen,
                 char *const *rejected, int n, uint64_t seed, al_model *rm, json_t *info, al_err *err) {
  al_pref_set set = {.n = n};
  set.pairs = al_calloc((size_t)n, sizeof(al_pref_pair));
  for (int i = 0; i < n; i++) {
    set.pairs[i].prompt = al_strdup("");
    set.pairs[i].chosen = al_strdup(chosen[i]);
    set.pairs[i].rejected = al_strdup(rejected[i]);
    set.pairs[i].line = i + 1;
  }
  al_rm_data d;
  int rc = al_rm_data_tokenize(&set, tok, &d, err);
  al_pref_set_free(&set);
  if (rc) return -1;
  al_model_config g = {.vocab_size = al_tok_vocab_size(tok), .n_positions = c->context, .n_layer = c->layers,
                       .n_head = c->heads, .n_embd = c->embd, .scalar_head = 1};
  if (init ? al_rm_from_lm(rm, init, seed, err)
           : al_model_config_set_arch(&g, c->arch, err) || al_model_config_check(&g, err) || al_model_init(rm, &g, seed, err)) {
    al_rm_data_free(&d);
    return -1;
  }
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = c->batch, tc.seq_len = rm->cfg.n_positions, tc.grad_accum = 1, tc.steps = c->steps, tc.lr = c->lr;
  tc.warmup_steps = c->steps / 20 > 0 ? c->steps / 20 : 1;
  tc.eval_every = 0, tc.ckpt_every = 0, tc.out_dir = NULL, tc.save_final = 0, tc.seed = seed;
  al_objective obj;
  al_train_result res = {0};
  rc = al_objective_rm(&obj, rm, &tc, &d, NULL, 0.01, err);
  if (!rc) {
    rc = al_train_objective(rm, &tc, &obj, tok, &res, err);
    al_objective_free(&obj);
  }
  al_rm_data_free(&d);
  if (rc) {
    al_model_free(rm);
    return al_fail_prefix(err, "standard reward model");
  }
  json_object_set_new(info, "final_loss", json_real(res.final_loss));
  json_object_set_new(info, "train_s", json_real(res.seconds));
  json_object_set_new(info, "parameters", json_integer((json_int_t)rm->nparams));
  return 0;
}
