/* The sweeps of oocr, rl, cpm and ilf across MPI ranks (include/alab/sweep.h)
 * under a real launcher, small, without mpirun and under mpirun -n 2 and
 * -n 3: results.json equal in every value but wall-clock times (and the run
 * directory's own path), and metrics.jsonl the same records.
 *   - oocr: 2 sizes' bases pretrained on ranks 0 and 1 and sent to every
 *     rank, then 8 finetunes over the ranks: rank 1 finetunes size 0's base,
 *     which rank 0 pretrained (a base not shared would change its grades);
 *   - rl: 2 seeds x 4 conditions, the policy and proxy on every rank;
 *   - cpm: 3 seeds, their coefficients (JSON) sent to rank 0;
 *   - ilf: 2 seeds of the code loop, then 2 of the summaries loop (rank 2
 *     idle under -n 3).
 * A job failing on rank 1 alone (cpm's seed 1, whose --rm-init is missing
 * there: an MPMD launch gives rank 1 other arguments, as a node without the
 * file would) fails the run on every rank with "rank 1: ...", and no
 * results.json is written. Refused under mpirun: rl --policy (one model), cpm fit and ilf summaries
 * (subcommands), oocr --model (an evaluation). Each model trains on one
 * thread in every run, so equality is exact. */
#include "mpi_procs.h"
#include "mpi_results.h"
#include "test.h"

#define OOCR "oocr --sizes 1x16,1x32 --paraphrases 1,2 --seeds 2 --descriptions 3 --pretrain-docs 200 --tokenizer byte " \
             "--pretrain-steps 20 --epochs 1 --eval-max 4 --cot-tokens 8 --nocot-tokens 4 --threads 1 --quiet"
#define RL "rl --seeds 2 --exp-iters 8 --window 2 --proxy-pairs 16 --proxy-steps 20 --threads 1 --quiet"
#define CPM "cpm --seeds 3 --pairs 100 --heldout 40 --groups 2 --n 8 --rm-steps 5 --bootstrap 10 --rm-embd 32 " \
            "--rm-vocab 300 --threads 1 --quiet"
#define ILF "ilf --seeds 2 --policy-steps 2 --refiner-steps 2 --ilf-steps 2 --ilf-tasks 4 --eval-tasks 2 --samples 1 " \
            "--workers 2 --summary-seeds 2 --summary-policy-steps 2 --summary-refiner-steps 2 --summary-ilf-steps 1 " \
            "--threads 1 --quiet"

static void refused(const char *tmp, const char *args, const char *why) {
  char *dir = al_path_join(tmp, "refused"), *o = NULL;
  int rc = run(2, args, dir, &o);
  CHECK(rc == 2 && strstr(o, "does not run across MPI ranks (2 were started)") && strstr(o, why), "%s under mpirun: rc %d, %s",
        args, rc, o);
  free(o), free(dir);
}

static void test_rank_fails(const char *tmp) {
  char *dir = al_path_join(tmp, "fails"), *res = al_path_join(dir, "results.json"), *o = NULL;
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "%s -n 1 %s " CPM " --out '%s' : -n 1 %s " CPM " --rm-init '%s/no-such-model' --out '%s' 2>&1",
           mpirun_cmd, bin, dir, bin, tmp, dir);
  int rc = test_sh(cmd, &o);
  CHECK(rc != 0 && strstr(o, "rank 1: ") && strstr(o, "--rm-init") && strstr(o, "no-such-model") && !al_file_exists(res),
        "cpm's seed 1 failing on rank 1: rc %d, results.json %s, output: %s", rc, al_file_exists(res) ? "written" : "absent", o);
  free(o), free(res), free(dir);
}

int main(void) {
  char *tmp = mpi_results_init("mpi_sweep_more");
  test_same_results(tmp, "oocr", OOCR, "results.json", 1);
  test_same_results(tmp, "rl", RL, "results.json", 1);
  test_same_results(tmp, "cpm", CPM, "results.json", 1);
  test_same_results(tmp, "ilf", ILF, "results.json", 1);
  test_rank_fails(tmp);
  refused(tmp, "rl --policy p", "with this flag it trains one model");
  refused(tmp, "cpm fit --data d", "is not a sweep");
  refused(tmp, "ilf summaries --policy p", "is not a sweep");
  refused(tmp, "oocr --model m --data d", "evaluating a given or served model");
  free(tmp);
  return test_summary();
}
