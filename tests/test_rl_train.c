/* RL through the training loop (src/align/rl_objective.c, rl_rollout.c,
 * rl_run.c) in the built-in world of include/alab/rl_world.h, whose gold
 * reward is exact:
 * - RLOO and PPO, each from the same pretrained policy with the gold as the
 *   reward, raise the gold of their rollouts (last 10 batches' mean against
 *   the first 10's, by more than 3 standard errors; the first batch is the
 *   pretrained policy's own);
 * - PPO with beta_kl 0.5 ends at a smaller KL (the mean over the second half
 *   of the batches) than with 0.05, by more than 3 standard errors;
 * - a kill -9 at several instants of an RL run's checkpoint writes
 *   (ALAB_TEST_KILL_AT_WRITE), then a resume, ends with the uninterrupted
 *   run's trainer state (policy, value head, AdamW moments) and model byte
 *   for byte and the same metrics line for line (timings aside);
 * - settings the objective cannot honour are refused, naming them. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/rl.h"
#include "alab/rl_world.h"
#include "test.h"

enum { ITERS = 60 };
static al_model base;
static al_tok *tok;

static void setup(al_rl_cfg *r, al_rl_setup *s, al_train_cfg *tc, al_model *ref, al_bon_scorer *gold, int algo) {
  al_rl_defaults(r, algo);
  r->max_new = RLW_LEN + 1;
  int np;
  const char *const *prompts = al_rlw_prompts(&np);
  *gold = (al_bon_scorer){NULL, NULL, al_rlw_gold};
  *s = (al_rl_setup){r, ref, tok, prompts, np, gold, gold};
  al_train_defaults(tc);
  tc->lr = 1e-3, tc->warmup_steps = 0, tc->min_lr_frac = 1, tc->weight_decay = 0, tc->eval_every = 0;
}

/* One run of ITERS batches against the gold at beta_kl (0: the default);
 * checks the gold rises when check_rise. Returns the KL of the second half's batches. */
static al_stat learns(int algo, double beta_kl, int check_rise) {
  al_err err;
  al_rl_cfg r;
  al_rl_setup s;
  al_train_cfg tc;
  al_bon_scorer gold;
  al_model pol;
  CHECK_OK(al_model_init(&pol, &base.cfg, 0, &err), err);
  memcpy(pol.params, base.params, sizeof(float) * base.nparams);
  setup(&r, &s, &tc, &base, &gold, algo);
  if (beta_kl > 0) r.beta_kl = beta_kl;
  al_rl_run_cfg rc = {ITERS, 0};
  al_stat kl = {0};
  al_rl_log log;
  double t0 = al_now();
  CHECK_OK(al_rl_train(&pol, &s, &tc, &rc, NULL, NULL, &log, &err), err);
  CHECK(log.nbatches == ITERS, "%d batches logged, got %ld", ITERS, log.nbatches);
  if (log.nbatches == ITERS) {
    /* the first and last 10 batches' gold: their difference against 3 standard errors */
    al_stat a = al_stat_of(log.gold, 10), b = al_stat_of(log.gold + ITERS - 10, 10);
    kl = al_stat_of(log.kl + ITERS / 2, ITERS / 2); /* the second half: one batch's KL is noisy */
    double se = sqrt(a.se * a.se + b.se * b.se);
    printf("%s, beta_kl %g: gold %.4f (first 10 batches) -> %.4f (last 10), se of the rise %.4f, KL %.3f (second half: %.3f); "
           "%.1f s (rollouts %.1f s, updates %.1f s)\n", algo == AL_RL_PPO ? "PPO" : "RLOO", r.beta_kl, a.mean, b.mean, se,
           log.kl[ITERS - 1], kl.mean,
           al_now() - t0, log.rollout_s, log.update_s);
    CHECK(fabs(log.gold[0] - al_rlw_gold_base()) < 0.06, "the first batch is the pretrained policy's: gold %.4f, world %.4f",
          log.gold[0], al_rlw_gold_base());
    CHECK(!check_rise || b.mean - a.mean > 3 * se, "%s raises the gold: %.4f -> %.4f (se %.4f)", algo == AL_RL_PPO ? "PPO" : "RLOO",
          a.mean, b.mean, se);
  }
  al_rl_log_free(&log);
  al_model_free(&pol);
  return kl;
}

/* One PPO run of 4 batches (a checkpoint after each) into dir, in a child
 * process: kill_at > 0 kills it just before that rename; resume continues
 * dir. Returns the child's wait status. */
static int run_child(const char *dir, int kill_at, int resume) {
  fflush(stdout), fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    char n[16];
    snprintf(n, sizeof n, "%d", kill_at);
    if (kill_at > 0) setenv("ALAB_TEST_KILL_AT_WRITE", n, 1);
    else unsetenv("ALAB_TEST_KILL_AT_WRITE");
    al_err err;
    al_rl_cfg r;
    al_rl_setup s;
    al_train_cfg tc;
    al_bon_scorer gold;
    al_model pol;
    if (al_model_init(&pol, &base.cfg, 0, &err)) _exit(3);
    memcpy(pol.params, base.params, sizeof(float) * base.nparams);
    setup(&r, &s, &tc, &base, &gold, AL_RL_PPO);
    r.epochs = 2;
    tc.resume = resume;
    al_rl_run_cfg rc = {4, 1};
    int bad = al_rl_train(&pol, &s, &tc, &rc, dir, NULL, NULL, &err);
    if (bad) fprintf(stderr, "RL run: %s\n", err.msg);
    _exit(bad ? 1 : 0);
  }
  int st = -1;
  waitpid(pid, &st, 0);
  return st;
}

static char *slurp(const char *dir, const char *name, size_t *len) {
  char *path = al_path_join(dir, name), *data = NULL;
  al_err err;
  if (al_read_file(path, &data, len, &err)) data = NULL, *len = 0;
  free(path);
  return data;
}

/* metrics.jsonl of two runs: the same lines but for the timings */
static int same_metrics(const char *a, const char *b) {
  size_t na, nb;
  char *x = slurp(a, "trainer/metrics.jsonl", &na), *y = slurp(b, "trainer/metrics.jsonl", &nb);
  int same = x && y, lines = 0;
  for (char *p = x, *q = y; same && p < x + na && q < y + nb; lines++) {
    char *pe = memchr(p, '\n', x + na - p), *qe = memchr(q, '\n', y + nb - q);
    json_t *jp = pe ? json_loadb(p, pe - p, 0, NULL) : NULL, *jq = qe ? json_loadb(q, qe - q, 0, NULL) : NULL;
    if (jp && jq) {
      json_object_del(jp, "elapsed_s"), json_object_del(jp, "tokens_per_s");
      json_object_del(jq, "elapsed_s"), json_object_del(jq, "tokens_per_s");
    }
    same = jp && jq && json_equal(jp, jq);
    json_decref(jp), json_decref(jq);
    p = pe ? pe + 1 : x + na, q = qe ? qe + 1 : y + nb;
  }
  same = same && lines == 4 * 4;
  free(x), free(y);
  return same;
}

static void kill_resume(void) {
  char *root = test_tmpdir("rl_kill"), *ref = al_path_join(root, "ref");
  int st = run_child(ref, 0, 0);
  CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the uninterrupted run failed (status %d)", st);
  const char *files[] = {"trainer/trainer_state.safetensors", "trainer/model.safetensors", "model.safetensors",
                         "config.json"};
  int kills[] = {1, 4, 6, 9, 14, 20, 24};
  for (size_t k = 0; k < sizeof kills / sizeof kills[0]; k++) {
    char name[32];
    snprintf(name, sizeof name, "kill%d", kills[k]);
    char *dir = al_path_join(root, name);
    st = run_child(dir, kills[k], 0);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "killed at write %d (status %d)", kills[k], st);
    st = run_child(dir, 0, 1);
    CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "resume after the kill at write %d failed", kills[k]);
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
      size_t na, nb;
      char *x = slurp(ref, files[f], &na), *y = slurp(dir, files[f], &nb);
      CHECK(x && y && na == nb && !memcmp(x, y, na), "kill at write %d, then resume: %s differs from the uninterrupted run's",
            kills[k], files[f]);
      free(x), free(y);
    }
    CHECK(same_metrics(ref, dir), "kill at write %d, then resume: metrics.jsonl differs", kills[k]);
    free(dir);
  }
  free(ref), free(root);
}

static void refusals(void) {
  al_err err;
  al_rl_cfg r;
  al_rl_setup s;
  al_train_cfg tc;
  al_bon_scorer gold;
  al_objective o;
  setup(&r, &s, &tc, &base, &gold, AL_RL_PPO);
  tc.batch = 16, tc.seq_len = 32, tc.steps = 16, tc.grad_accum = 1, tc.ckpt_every = 3;
  al_model pv;
  al_model_config vc = base.cfg;
  vc.scalar_head = 1;
  CHECK_OK(al_model_init(&pv, &vc, 1, &err), err);
  CHECK_FAILS_WITH(al_objective_rl(&o, &pv, &tc, &s, &err), err, "ckpt_every (3) must be multiples of the 8 steps");
  al_objective_free(&o);
  tc.ckpt_every = 8;
  CHECK_FAILS_WITH(al_objective_rl(&o, &base, &tc, &s, &err), err, "PPO needs the policy with a value head");
  al_objective_free(&o);
  r.algo = AL_RL_RLOO, r.k = 1, r.epochs = r.minibatches = 1;
  CHECK_FAILS_WITH(al_objective_rl(&o, &base, &tc, &s, &err), err, "RLOO needs at least 2 samples per prompt");
  al_objective_free(&o);
  al_rl_defaults(&r, AL_RL_RLOO);
  r.max_new = 40;
  tc.batch = 32, tc.steps = 8;
  CHECK_FAILS_WITH(al_objective_rl(&o, &base, &tc, &s, &err), err, "exceed the model's context of 32");
  al_objective_free(&o);
  al_model_free(&pv);
}

int main(void) {
  al_err err;
  double t0 = al_now();
  CHECK_OK(al_rlw_pretrain(&base, &tok, 2, 2, 32, 150, 1, &err), err);
  printf("pretrained in %.1f s\n", al_now() - t0);
  learns(AL_RL_RLOO, 0, 1);
  al_stat lo = learns(AL_RL_PPO, 0.05, 1), hi = learns(AL_RL_PPO, 0.5, 0);
  /* the same start, streams and batches: a larger KL penalty ends closer to the reference */
  CHECK(lo.mean - hi.mean > 3 * sqrt(lo.se * lo.se + hi.se * hi.se), "final KL at beta_kl 0.05: %.3f (se %.3f), at 0.5: "
        "%.3f (se %.3f)", lo.mean, lo.se, hi.mean, hi.se);
  kill_resume();
  refusals();
  al_model_free(&base);
  al_tok_free(tok);
  return test_summary();
}
