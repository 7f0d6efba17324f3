/* Sweeps across MPI ranks (include/alab/sweep.h) under a real launcher:
 *   - collapse (lm), reversal, sycophancy, ladder, dpo and overopt, small, without
 *     mpirun and under mpirun -n 2 and -n 3 (dpo's 2 seeds leave rank 2
 *     idle): results.json (ladder.json) equal in every value but wall-clock
 *     times, and metrics.jsonl the same records;
 *   - a job that fails on rank 1 fails the whole run with its message,
 *     "rank 1: ...", and leaves no results.json;
 *   - rank 1 killed mid-sweep: the job stops within seconds, the launcher's
 *     message names rank 1, and no results.json is written;
 *   - an evaluation of a served model under mpirun is refused.
 * Each model of these sweeps trains on one thread, so one process and R
 * ranks do the same arithmetic: equality is exact. */
#include <jansson.h>
#include "mpi_procs.h"
#include "mpi_results.h"
#include "test.h"

#define COLLAPSE "collapse --part lm --seeds 3 --lm-tokenizer byte --lm-tokens 2000 --lm-gens 3 --lm-layers 1 " \
                 "--lm-heads 2 --lm-embd 16 --lm-context 32 --lm-steps 5 --lm-heldout 2000 --lm-max-story 200 --threads 1 --quiet"
#define REVERSAL "reversal --per-group 3 --train-templates 4 --test-templates 2 --seeds 3 --stories 20 " \
                 "--pretrain-steps 0 --embd 32 --layers 1 --heads 2 --epochs 1 --eval-max 10 --tokenizer byte --quiet"
#define SYCO "sycophancy --facts 16 --pairs 64 --n 4 --prompts 8 --seeds 3 --layers 1 --heads 2 --embd 16 --steps 5 " \
             "--batch 8 --rl-iters 0 --threads 1 --quiet"
#define DPO "dpo --seeds 2 --sft-steps 5 --dpo-steps 8 --threads 1 --quiet"
#define OVEROPT "overopt --seeds 2 --stories 300 --layers 2 --heads 2 --embd 32 --context 96 --batch 8 " \
                "--policy-steps 200 --policy-lr 5e-3 --rm-layers 1,2 --pairs 8,16 --n 16 --max-new 40 --threads 1 " \
                "--temperature 0.6 --rl-iters 6 --rl-window 2 --rl-k 2 --quiet"
#define LADDER "ladder --data story:200 --sizes 3 --min-tokens 3000 --tokens-per-param 0.01 --batch 4 --seq-len 32 --quiet"

/* Reversal's seed 1 (job 1: rank 1 of 2) cannot save its model: a file is where its folder must go. */
static void test_rank_fails(const char *tmp) {
  char *dir = al_path_join(tmp, "fails"), *o = NULL;
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/models' && echo x > '%s/models/augmented-seed1'", dir, dir);
  CHECK(system(cmd) == 0, "%s", cmd);
  int rc = run(2, REVERSAL " --augment 1 --save-models", dir, &o);
  char *res = al_path_join(dir, "results.json");
  CHECK(rc != 0 && strstr(o, "rank 1: ") && strstr(o, "augmented-seed1") && !al_file_exists(res),
        "a job failing on rank 1: rc %d, results.json %s, output: %s", rc, al_file_exists(res) ? "written" : "absent", o);
  free(o), free(res), free(dir);
}

static void test_rank_killed(const char *tmp) {
  char *dir = al_path_join(tmp, "victim"), *log = al_path_join(tmp, "victim.log");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s -n 2 %s " COLLAPSE " --lm-gens 50 --out '%s'", mpirun_cmd, bin, dir);
  pid_t launcher = mpi_start(cmd, log), victim = 0;
  for (int i = 0; i < 300 && !victim; i++) {
    usleep(100000);
    victim = mpi_find_rank(1, "collapse", dir);
  }
  CHECK(victim > 0, "rank 1 of the sweep");
  usleep(500000); /* mid-run: its first models are training */
  mpi_kill_rank1(victim, launcher, log, "the sweep");
  char *res = al_path_join(dir, "results.json");
  CHECK(!al_file_exists(res), "a killed sweep wrote results.json");
  free(res), free(dir), free(log);
}

static void test_refused(const char *tmp) {
  char *dir = al_path_join(tmp, "refused"), *o = NULL;
  int rc = run(2, "reversal --api-base http://127.0.0.1:9/v1 --api-model m", dir, &o);
  CHECK(rc != 0 && strstr(o, "alab reversal: does not run across MPI ranks (2 were started): evaluating"),
        "reversal --api-base under mpirun: rc %d, %s", rc, o);
  free(o);
  rc = run(2, "dpo --data pairs.jsonl --policy p", dir, &o);
  CHECK(rc != 0 && strstr(o, "alab dpo: does not run across MPI ranks (2 were started): with this flag it trains one model"),
        "dpo --data under mpirun: rc %d, %s", rc, o);
  free(o), free(dir);
}

int main(void) {
  char *tmp = mpi_results_init("mpi_sweep"), data[1024];
  snprintf(data, sizeof data, "%s/data", getenv("ALAB_SRC") ? getenv("ALAB_SRC") : ".");
  setenv("ALAB_DATA", data, 1); /* reversal's name lists */
  test_same_results(tmp, "collapse", COLLAPSE, "results.json", 1);
  test_same_results(tmp, "reversal", REVERSAL, "results.json", 1);
  test_same_results(tmp, "sycophancy", SYCO, "results.json", 1);
  test_same_results(tmp, "ladder", LADDER, "ladder.json", 0);
  test_same_results(tmp, "dpo", DPO, "results.json", 1);
  test_same_results(tmp, "overopt", OVEROPT, "results.json", 1);
  test_rank_fails(tmp);
  test_rank_killed(tmp);
  test_refused(tmp);
  free(tmp);
  return test_summary();
}
