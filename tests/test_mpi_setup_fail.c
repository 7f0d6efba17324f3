/* A failure that only one rank sees, before any collective could tell the
 * others: an experiment's shared setup (here collapse's tokenizer directory,
 * missing on rank 1's node: an MPMD launch gives rank 1 other arguments).
 * Rank 0 goes on to its jobs and would wait in the sweep's agreement for a
 * rank that has left; al_dist_finalize aborts the job instead, so it stops
 * within seconds with rank 1's message and a nonzero status, and no
 * results.json. Before the abort this job ran until killed. The refusal of a
 * command that does not run across ranks, given to rank 1 only, is agreed:
 * exit status 2, no abort. */
#include "mpi_results.h"

#define COLLAPSE "collapse --part lm --seeds 3 --lm-tokens 2000 --lm-gens 3 --lm-layers 1 --lm-heads 2 --lm-embd 16 " \
                 "--lm-context 32 --lm-steps 5 --lm-heldout 2000 --lm-max-story 200 --threads 1 --quiet"

/* `timeout 120 mpirun -n 1 alab A0 : -n 1 alab A1`; returns the status (124: it hung), *out its output. */
static int mpmd(const char *a0, const char *a1, char **out) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "timeout 120 env %s -n 1 %s %s : -n 1 %s %s 2>&1", mpirun_cmd, bin, a0, bin, a1);
  return test_sh(cmd, out);
}

int main(void) {
  char *tmp = mpi_results_init("mpi_setup_fail");
  char *dir = al_path_join(tmp, "collapse"), *res = al_path_join(dir, "results.json"), *o = NULL;
  char a0[4096], a1[4096];
  snprintf(a0, sizeof a0, COLLAPSE " --lm-tokenizer byte --out '%s'", dir);
  snprintf(a1, sizeof a1, COLLAPSE " --lm-tokenizer '%s/no-such-tokenizer' --out '%s'", tmp, dir);
  double t0 = al_now();
  int rc = mpmd(a0, a1, &o);
  double took = al_now() - t0;
  CHECK(rc != 0 && rc != 124 && strstr(o, "no-such-tokenizer") && strstr(o, "rank 1 of 2 stopped with an error") &&
            !al_file_exists(res),
        "collapse's setup failing on rank 1 only: rc %d (124: still running after 120 s), %.1f s, results.json %s, "
        "output: %s",
        rc, took, al_file_exists(res) ? "written" : "absent", o);
  printf("setup failing on rank 1 only: status %d after %.1f s\n", rc, took);
  free(o);

  /* sample does not run across ranks; rank 0 is given collapse, rank 1 sample: both refuse, agreed. */
  snprintf(a1, sizeof a1, "sample --model '%s/m' --prompt x", tmp);
  rc = mpmd(a0, a1, &o);
  CHECK(rc == 2 && strstr(o, "another rank's arguments are refused") && !strstr(o, "MPI_ABORT"),
        "sample on rank 1 only: rc %d, output: %s", rc, o);
  free(o), free(res), free(dir), free(tmp);
  return test_summary();
}
