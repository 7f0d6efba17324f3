/* The training loop: it can overfit one batch, the schedule has its closed
 * form, runs are bit-identical for a seed, and a run killed with SIGKILL and
 * resumed continues the uninterrupted run's loss curve exactly. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "alab/dataset.h"
#include "alab/nn.h"
#include "alab/train.h"
#include "test.h"

static al_model_config tiny = {.vocab_size = 257, .n_positions = 32, .n_layer = 2, .n_head = 2, .n_embd = 32};

static void test_overfit_one_batch(void) {
  al_err err;
  al_model m;
  CHECK_OK(al_model_init(&m, &tiny, 3, &err), err);
  const char *text = "the quick brown fox jumps over the lazy dog. ";
  int B = 2, T = 24, N = B * T;
  int32_t in[48], tg[48];
  for (int i = 0; i < N; i++) {
    in[i] = (unsigned char)text[i % 45];
    tg[i] = (unsigned char)text[(i + 1) % 45];
  }
  float *mom = al_alloc_floats(m.nparams), *var = al_alloc_floats(m.nparams);
  nn_adamw_cfg ac = {3e-3f, 0.9f, 0.95f, 1e-8f, 0.0f};
  float first = 0, loss = 0;
  for (int step = 1; step <= 300; step++) {
    loss = al_model_forward(&m, in, tg, B, T);
    if (step == 1) first = loss;
    al_model_zero_grad(&m);
    al_model_backward(&m, 1.0f);
    for (int i = 0; i < m.ntensors; i++) {
      const al_tensor *t = &m.tensors[i];
      nn_adamw_update(m.params + t->offset, m.grads + t->offset, mom + t->offset, var + t->offset, t->numel, step, &ac, t->decay);
    }
  }
  /* at init the loss is about log(257) = 5.55 */
  CHECK(fabs(first - log(257.0)) < 0.5, "initial loss %g far from log V", first);
  CHECK(loss < 0.05, "one batch not overfit: loss %g after 300 steps", loss);
  free(mom), free(var);
  al_model_free(&m);
}

static void test_schedule(void) {
  al_train_cfg c;
  al_train_defaults(&c);
  c.lr = 1.0, c.min_lr_frac = 0.1, c.warmup_steps = 10, c.steps = 110;
  CHECK(fabs(al_train_lr(&c, 0) - 0.1) < 1e-12, "warmup start %g", al_train_lr(&c, 0));
  CHECK(fabs(al_train_lr(&c, 9) - 1.0) < 1e-12, "warmup end %g", al_train_lr(&c, 9));
  CHECK(fabs(al_train_lr(&c, 10) - 1.0) < 1e-12, "cosine start %g", al_train_lr(&c, 10));
  /* midpoint of the cosine: min + (max - min) / 2 */
  double mid = al_train_lr(&c, 59); /* 49 of the 99 cosine steps done */
  CHECK(fabs(mid - (0.1 + 0.45 * (1 + cos(M_PI * 49.0 / 99)))) < 1e-12, "cosine midpoint %g", mid);
  CHECK(fabs(al_train_lr(&c, 109) - 0.1) < 1e-12, "final lr %g", al_train_lr(&c, 109));
}

/* Trains twice in process with the same seed: identical losses. */
static void test_deterministic(void) {
  al_err err;
  al_tok *tok = al_tok_byte();
  al_dataset ds;
  CHECK_OK(al_dataset_open(&ds, "story:200", NULL, tok, 0.1, &err), err);
  double losses[2][2];
  for (int run = 0; run < 2; run++) {
    al_model m;
    CHECK_OK(al_model_init(&m, &tiny, 5, &err), err);
    al_train_cfg c;
    al_train_defaults(&c);
    c.batch = 4, c.seq_len = 32, c.steps = 15, c.warmup_steps = 3, c.eval_every = 5, c.out_dir = NULL;
    al_train_result r;
    CHECK_OK(al_train(&m, &c, ds.train, ds.ntrain, ds.val, ds.nval, tok, &r, &err), err);
    losses[run][0] = r.final_loss;
    losses[run][1] = r.val_loss;
    al_model_free(&m);
  }
  CHECK(losses[0][0] == losses[1][0] && losses[0][1] == losses[1][1], "same seed, different losses: %.9g/%.9g vs %.9g/%.9g",
        losses[0][0], losses[0][1], losses[1][0], losses[1][1]);
  al_dataset_close(&ds);
  al_tok_free(tok);
}

/* The "loss" values of metrics.jsonl, in order, as text (exact comparison). */
static int read_losses(const char *dir, char losses[][32], int max) {
  char path[4096];
  snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[1024];
  int n = 0;
  while (n < max && fgets(line, sizeof line, f)) {
    char *p = strstr(line, "\"loss\": ");
    if (!p) continue;
    p += 8;
    int k = 0;
    while (p[k] && p[k] != ',' && k < 31) k++;
    memcpy(losses[n], p, k);
    losses[n++][k] = 0;
  }
  fclose(f);
  return n;
}

static int run_alab(const char *args) {
  char cmd[16384];
  snprintf(cmd, sizeof cmd, "'%s' train %s --quiet >/dev/null", getenv("ALAB_BIN"), args);
  return system(cmd);
}

static void test_kill_and_resume(void) {
  char *dir = test_tmpdir("resume");
  char a[4096], b[4096], args[8192];
  snprintf(a, sizeof a, "%s/a", dir);
  snprintf(b, sizeof b, "%s/b", dir);
  const char *common = "--data story:400 --tokenizer byte --layers 2 --heads 2 --embd 64 --context 64 --seq-len 64 "
                       "--batch 8 --steps 40 --warmup 5 --eval-every 10 --ckpt-every 10 --threads 2 --seed 9";
  snprintf(args, sizeof args, "%s --out '%s'", common, a);
  CHECK(run_alab(args) == 0, "uninterrupted run failed");
  /* the same run, killed with SIGKILL part-way */
  pid_t pid = fork();
  if (pid == 0) {
    snprintf(args, sizeof args, "exec '%s' train %s --out '%s' --quiet >/dev/null 2>&1", getenv("ALAB_BIN"), common, b);
    execl("/bin/sh", "sh", "-c", args, (char *)NULL);
    _exit(127);
  }
  char lb[100][32];
  double t0 = al_now();
  while (read_losses(b, lb, 100) < 17 && al_now() - t0 < 300) usleep(2000);
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  int before = read_losses(b, lb, 100);
  CHECK(WIFSIGNALED(status) && before < 40, "the run was not killed part-way (%d steps logged)", before);
  snprintf(args, sizeof args, "%s --out '%s' --resume", common, b);
  CHECK(run_alab(args) == 0, "resumed run failed");
  char la[100][32];
  int na = read_losses(a, la, 100), nb = read_losses(b, lb, 100);
  CHECK(na == 40 && nb == 40, "expected 40 logged steps, got %d and %d", na, nb);
  int same = 1;
  for (int i = 0; i < na && i < nb; i++)
    if (strcmp(la[i], lb[i])) {
      fprintf(stderr, "step %d: %s vs %s\n", i + 1, la[i], lb[i]);
      same = 0;
    }
  CHECK(same, "killed at step ~%d and resumed: losses differ from the uninterrupted run", before);
  /* bad resume settings are refused with a clear error */
  char cmd[16384];
  snprintf(args, sizeof args, "%s --out '%s' --resume --batch 4 --steps 50", common, b);
  snprintf(cmd, sizeof cmd, "'%s' train %s --quiet 2>&1 | grep -q 'resume with the same settings'", getenv("ALAB_BIN"), args);
  CHECK(system(cmd) == 0, "resuming with another batch size was not refused clearly");
  free(dir);
}

int main(void) {
  al_set_threads(2);
  test_schedule();
  test_overfit_one_batch();
  test_deterministic();
  test_kill_and_resume();
  return test_summary();
}
