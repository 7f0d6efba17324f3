/* Data-parallel training under a real MPI launcher (Open MPI's mpirun, as
 * a cluster runs it), against one process on the same global batch:
 *   - 2 and 3 ranks (3 an uneven split of 4 micro-batches): every step's
 *     loss and the held-out loss within 1e-6 relative of one process;
 *   - --deterministic-reduce: 1, 2 and 3 ranks give bit-identical losses
 *     and byte-identical model files;
 *   - a run killed on rank 0 at a checkpoint write resumes with 1 rank and
 *     ends byte-identical to the run never killed;
 *   - rank 1 killed from outside: the job stops within seconds, the error
 *     names the rank, and the last checkpoint resumes to the end;
 *   - --zero1 (AdamW's moments sharded): 2 and 3 ranks give the same losses
 *     as unsharded 2 ranks, and with --deterministic-reduce byte-identical
 *     model and trainer state (moments included) to one process; killed at
 *     a checkpoint write with 2 sharded ranks, it resumes with 3 and ends
 *     byte-identical to the run never killed;
 *   - refusals: fewer micro-batches than ranks; a command that is not
 *     data-parallel.
 * Every launch goes through mpirun as CI can run it (tests/mpi_procs.h). */
#include <signal.h>
#include <unistd.h>
#include <jansson.h>
#include "mpi_procs.h"
#include "test.h"

static const char *bin;
static char mpirun_cmd[512];

#define ARGS "--data story:300 --tokenizer byte --layers 1 --heads 2 --embd 32 --context 32 --seq-len 32 --batch 4 " \
             "--accum 4 --eval-every 4 --threads 1 --quiet"

/* Runs `[mpirun -n R] alab train ARGS extra --out dir`; R = 0: no launcher. Returns the exit status. */
static int train(int R, const char *dir, const char *extra, char **out) {
  char args[4096];
  snprintf(args, sizeof args, "%s train " ARGS " %s --out '%s'", bin, extra, dir);
  return mpi_run(mpirun_cmd, R, args, out);
}

static void test_ranks_agree(const char *tmp) {
  char *one = al_path_join(tmp, "one");
  CHECK(train(0, one, "--steps 8", NULL) == 0, "one process");
  double l1[16], v1, lr[16], vr;
  int n1 = losses(one, l1, 16, &v1);
  CHECK(n1 == 8 && v1 == v1, "one process wrote %d steps, val %g", n1, v1);
  for (int R = 2; R <= 3; R++) {
    char name[32];
    snprintf(name, sizeof name, "ranks%d", R);
    char *dir = al_path_join(tmp, name);
    CHECK(train(R, dir, "--steps 8", NULL) == 0, "%d ranks", R);
    int n = losses(dir, lr, 16, &vr);
    double worst = 0;
    for (int i = 0; i < n && i < n1; i++) worst = fmax(worst, rel_err(lr[i], l1[i]));
    CHECK(n == n1 && worst <= 1e-6 && rel_err(vr, v1) <= 1e-6, "%d ranks: %d steps, worst loss rel. error %.3g, val %.9g vs %.9g",
          R, n, worst, vr, v1);
    printf("%d ranks: worst relative loss difference from one process %.3g\n", R, worst);
    free(dir);
  }
  free(one);
}

static void test_deterministic(const char *tmp) {
  char *d[4];
  double l[4][16], v[4];
  int n[4];
  for (int R = 0; R <= 3; R++) {
    if (R == 1) continue; /* R = 0 is one process without a launcher; 1 rank under mpirun is the same job */
    char name[32];
    snprintf(name, sizeof name, "det%d", R);
    d[R] = al_path_join(tmp, name);
    CHECK(train(R, d[R], "--steps 8 --deterministic-reduce", NULL) == 0, "deterministic, %d ranks", R);
    n[R] = losses(d[R], l[R], 16, &v[R]);
  }
  for (int R = 2; R <= 3; R++) {
    CHECK(n[R] == n[0] && !memcmp(l[R], l[0], sizeof(double) * n[0]) && v[R] == v[0],
          "deterministic: %d ranks' losses differ from one process's", R);
    CHECK(same_file(d[0], d[R], "model.safetensors") && same_file(d[0], d[R], "trainer_state.safetensors"),
          "deterministic: %d ranks' model or trainer state differs from one process's", R);
  }
  free(d[0]), free(d[2]), free(d[3]);
}

/* Killed at rank 0's 2nd checkpoint write (mid-run), resumed without mpirun: ends as the run never killed. */
static void test_kill_and_resume(const char *tmp) {
  char *whole = al_path_join(tmp, "whole"), *cut = al_path_join(tmp, "cut");
  CHECK(train(0, whole, "--steps 8 --ckpt-every 2 --deterministic-reduce", NULL) == 0, "the run never killed");
  char cmd[4096], *o = NULL;
  snprintf(cmd, sizeof cmd, "ALAB_TEST_KILL_AT_WRITE=7 %s -n 2 %s train " ARGS " --steps 8 --ckpt-every 2 "
                            "--deterministic-reduce --out '%s' 2>&1", mpirun_cmd, bin, cut);
  int rc = test_sh(cmd, &o);
  CHECK(rc != 0, "the killed job exited %d", rc);
  free(o);
  CHECK(train(0, cut, "--steps 8 --ckpt-every 2 --deterministic-reduce --resume", NULL) == 0, "resume with 1 rank");
  double lw[16], lc[16], vw, vc;
  int nw = losses(whole, lw, 16, &vw), nc = losses(cut, lc, 16, &vc);
  CHECK(same_file(whole, cut, "model.safetensors") && same_file(whole, cut, "trainer_state.safetensors") && nw == 8 &&
            nc == nw && !memcmp(lw, lc, sizeof(double) * nw) && vw == vc,
        "killed with 2 ranks and resumed with 1: the model, state or losses differ from the run never killed");
  free(whole), free(cut);
}

static void test_rank_killed(const char *tmp) {
  char *dir = al_path_join(tmp, "victim"), *log = al_path_join(tmp, "victim.log");
  char *state = al_path_join(dir, "trainer_state.safetensors");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s -n 2 %s train " ARGS " --steps 1500 --ckpt-every 5 --out '%s'", mpirun_cmd, bin, dir);
  pid_t launcher = mpi_start(cmd, log), victim = 0;
  for (int i = 0; i < 600 && !(victim && al_file_exists(state)); i++) {
    usleep(100000);
    if (!victim) victim = mpi_find_rank(1, "train", dir);
  }
  CHECK(victim > 0 && al_file_exists(state), "rank 1 of the job (pid %d) and a checkpoint", (int)victim);
  mpi_kill_rank1(victim, launcher, log, "the training job");
  /* the last checkpoint is whole: one process resumes it to the end */
  CHECK(train(0, dir, "--steps 1500 --ckpt-every 5 --resume", NULL) == 0, "resuming the killed job's checkpoint");
  double l[1600], v;
  CHECK(losses(dir, l, 1600, &v) == 1500, "the resumed run reached step 1500");
  free(dir), free(log), free(state);
}

/* Runs after the tests above, against their run directories (ranks2, det0, whole). */
static void test_zero1(const char *tmp) {
  char *plain = al_path_join(tmp, "ranks2"), *det = al_path_join(tmp, "det0"), *whole = al_path_join(tmp, "whole");
  double l0[16], l[16], v0, v;
  int n0 = losses(plain, l0, 16, &v0);
  char *dir = al_path_join(tmp, "zero1_2");
  CHECK(train(2, dir, "--steps 8 --zero1", NULL) == 0, "--zero1 on 2 ranks");
  int n = losses(dir, l, 16, &v);
  CHECK(n == n0 && n0 == 8 && !memcmp(l, l0, sizeof(double) * n) && v == v0, "--zero1: losses differ from unsharded 2 ranks");
  free(dir);
  for (int R = 2; R <= 3; R++) {
    char name[32];
    snprintf(name, sizeof name, "zero1_det%d", R);
    dir = al_path_join(tmp, name);
    CHECK(train(R, dir, "--steps 8 --deterministic-reduce --zero1", NULL) == 0, "--zero1 deterministic, %d ranks", R);
    CHECK(same_file(det, dir, "model.safetensors") && same_file(det, dir, "trainer_state.safetensors"),
          "--zero1 --deterministic-reduce on %d ranks: the model or trainer state differs from one process's", R);
    free(dir);
  }
  char cmd[4096], *o = NULL;
  dir = al_path_join(tmp, "zero1_cut");
  snprintf(cmd, sizeof cmd, "ALAB_TEST_KILL_AT_WRITE=7 %s -n 2 %s train " ARGS " --steps 8 --ckpt-every 2 "
                            "--deterministic-reduce --zero1 --out '%s' 2>&1", mpirun_cmd, bin, dir);
  CHECK(test_sh(cmd, &o) != 0, "the killed sharded job");
  free(o);
  CHECK(train(3, dir, "--steps 8 --ckpt-every 2 --deterministic-reduce --zero1 --resume", NULL) == 0, "resume with 3 ranks");
  CHECK(same_file(whole, dir, "model.safetensors") && same_file(whole, dir, "trainer_state.safetensors"),
        "--zero1 killed with 2 ranks and resumed with 3: the model or state differs from the run never killed");
  free(dir), free(plain), free(det), free(whole);
}

static void test_refusals(const char *tmp) {
  char *dir = al_path_join(tmp, "refused"), *o = NULL;
  int rc = train(3, dir, "--steps 2 --accum 2", &o);
  CHECK(rc == 1 && strstr(o, "3 ranks need at least 3 micro-batches per step"), "accum 2 on 3 ranks: rc %d, %s", rc, o);
  free(o);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s -n 2 %s sample --model '%s' 2>&1", mpirun_cmd, bin, dir);
  rc = test_sh(cmd, &o);
  CHECK(rc != 0 && strstr(o, "alab sample: does not run across MPI ranks (2 were started)"), "sample under mpirun: rc %d, %s",
        rc, o);
  free(o), free(dir);
}

int main(void) {
  bin = mpi_test_init(mpirun_cmd, sizeof mpirun_cmd);
  char *tmp = test_tmpdir("mpi");
  test_ranks_agree(tmp);
  test_deterministic(tmp);
  test_kill_and_resume(tmp);
  test_rank_killed(tmp);
  test_zero1(tmp);
  test_refusals(tmp);
  free(tmp);
  return test_summary();
}
