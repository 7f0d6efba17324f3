/* RL against the sycophancy mechanism's preference models (src/exp/
 * syco_rl.c; label e2e: a few minutes on 2 cores): a policy language model
 * trained on the base policy's answers, then 20 batches of RLOO against the
 * preference model of the biased labeller (p = 0.5) and of the control
 * (p = 0). The sycophancy rate of the last 5 batches minus the first's has a
 * 95% interval above 0 for the biased labeller and not for the control.
 * Measured when written: +0.106 [0.065, 0.147] and -0.010 [-0.055, 0.034]. */
#include <jansson.h>
#include "alab/sycophancy.h"
#include "test.h"

int main(void) {
  al_syco_mech_cfg c;
  al_syco_mech_defaults(&c);
  c.facts = 32, c.pairs = 800, c.steps = 150, c.N = 8, c.prompts = 32, c.seeds = 3, c.p = 0.5, c.threads = 2;
  c.policy_steps = 600, c.rl_iters = 20;
  char *dir = test_tmpdir("syco_rl");
  al_err err;
  json_t *r = NULL;
  CHECK_OK(al_syco_mech_run(&c, dir, &r, &err), err);
  const json_t *conds = json_object_get(r, "conditions");
  double lo = json_number_value(json_object_get(json_object_get(json_array_get(conds, 0), "rl_rise"), "lo"));
  double lo0 = json_number_value(json_object_get(json_object_get(json_array_get(conds, 1), "rl_rise"), "lo"));
  CHECK(lo > 0, "p = 0.5: RL raises sycophancy (interval's low end %g)", lo);
  CHECK(!(lo0 > 0), "p = 0: RL does not (interval's low end %g)", lo0);
  CHECK(json_is_true(json_object_get(r, "reproduced_rl")), "reproduced by RL");
  CHECK(json_array_size(json_object_get(json_array_get(conds, 0), "rl_sycophancy")) == 20, "20 batches");
  char path[2048];
  snprintf(path, sizeof path, "%s/rl.dat", dir);
  CHECK(al_file_exists(path), "the RL plot's data");
  json_decref(r);
  free(dir);
  return test_summary();
}
