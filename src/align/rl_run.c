/* A whole RL run (include/alab/rl.h, al_rl_train): the policy (with a
 * value head for PPO) trained by the loop on the RL objective, then saved as
 * a language model. */
#include <stdlib.h>
#include <string.h>
#include "alab/reward.h"
#include "alab/rl.h"

int al_rl_train(al_model *policy, const al_rl_setup *s, const al_train_cfg *tc, const al_rl_run_cfg *rc,
                const char *out_dir, al_train_result *res, al_rl_log *log, al_err *err) {
  if (rc->iters < 1) return al_fail(err, "RL: at least one batch of rollouts (iters = %ld)", rc->iters);
  if (rc->ckpt_iters < 0) return al_fail(err, "RL: ckpt_iters must be >= 0 (got %d)", rc->ckpt_iters);
  if (policy->score) return al_fail(err, "RL: the policy has a scalar head: give a language model");
  const al_rl_cfg *r = s->rl;
  int ppo = r->algo == AL_RL_PPO, spi = al_rl_steps_per_iter(r);
  al_train_cfg c = *tc;
  c.batch = r->minibatches > 0 ? r->prompts_per_iter * r->k / r->minibatches : 1;
  c.seq_len = policy->cfg.n_positions;
  c.grad_accum = 1;
  c.steps = rc->iters * spi;
  c.ckpt_every = rc->ckpt_iters * spi;
  char *trainer = out_dir ? al_path_join(out_dir, "trainer") : NULL;
  c.out_dir = trainer;
  al_model pv = {0}, *m = policy;
  if (ppo) {
    if (al_rm_from_lm(&pv, policy, r->seed, err)) {
      free(trainer);
      return -1;
    }
    m = &pv;
  }
  al_objective o;
  int rcode = al_objective_rl(&o, m, &c, s, err);
  if (!rcode) rcode = al_train_objective(m, &c, &o, s->tok, res, err);
  if (log) al_rl_log_get(&o, log);
  al_objective_free(&o);
  if (!rcode && ppo) memcpy(policy->params, pv.params, sizeof(float) * policy->nparams);
  if (!rcode && out_dir) rcode = al_model_save_dir(policy, s->tok, out_dir, err);
  al_model_free(&pv);
  free(trainer);
  return rcode;
}
