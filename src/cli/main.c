/* The `alab` command: dispatches to a subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alab/base.h"
#include "alab/dist.h"
#include "cli/commands.h"

static void usage(void) {
  printf("alab %s: an alignment laboratory that trains GPT-style models in C\n\nusage: alab COMMAND [flags]   (alab COMMAND --help for its flags)\n\ncommands:\n", ALAB_VERSION);
  for (int i = 0; i < alab_ncommands; i++) printf("  %-12s %s\n", alab_commands[i].name, alab_commands[i].summary);
}

/* OpenMP threads that wait at a barrier spin by default. On a machine with
 * other work (a laptop, ctest -j, a second alab) a spinning thread holds a
 * core its partner needs, and every one of the hundreds of parallel regions
 * per step can cost a scheduler quantum: measured here, GPT-2 small decoding
 * with 2 threads beside one other busy process fell from 55 to 1 token/s.
 * libgomp reads its wait policy when it loads, before main, so unless the
 * user chose one, alab sets OMP_WAIT_POLICY=PASSIVE and re-executes itself
 * once. Set OMP_WAIT_POLICY=ACTIVE for spinning on a machine of your own. */
static void passive_openmp(char **argv) {
  if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv); /* returns only on failure: go on as we are */
}

/* Under an MPI launcher (mpirun, srun) the process joins the job first:
 * every rank runs the command, rank 0 alone prints (the others' standard
 * output goes to /dev/null and their progress is quiet; errors still reach
 * standard error). alab train splits each batch across ranks; the
 * experiments below spread their independent models across ranks
 * (include/alab/sweep.h). Any other command, or an experiment evaluating a
 * given or served model (dpo --data and rl --policy train one model; a
 * subcommand such as cpm fit or ilf summaries is not a sweep), would run R
 * times over, so it is refused. */
static const struct { const char *name, *alone; } sweeps[] = {
    {"collapse", NULL}, {"reversal", NULL}, {"sycophancy", NULL}, {"ladder", NULL}, {"dpo", "--data"}, {"overopt", NULL},
    {"oocr", NULL},     {"rl", "--policy"}, {"cpm", NULL},        {"ilf", NULL},    {NULL, NULL}};

static const char *not_across_ranks(const cmd_entry *cmd, int argc, char **argv) {
  if (!strcmp(cmd->name, "train")) return NULL;
  int k = 0;
  while (sweeps[k].name && strcmp(cmd->name, sweeps[k].name)) k++;
  if (!sweeps[k].name) return "only alab train and the sweeps of collapse, reversal, oocr, sycophancy, ladder, overopt, dpo, "
                                 "rl, cpm and ilf run across ranks";
  for (int i = 2; i < argc; i++) {
    if ((i == 2 && !strcmp(argv[i], "eval")) || !strncmp(argv[i], "--api-base", 10) || !strncmp(argv[i], "--model", 7))
      return "evaluating a given or served model trains nothing to spread across ranks";
    if (i == 2 && argv[i][0] != '-') return "a subcommand (cpm fit, ilf summaries, oocr export or world) is not a sweep";
    if (sweeps[k].alone && !strncmp(argv[i], sweeps[k].alone, strlen(sweeps[k].alone)))
      return "with this flag it trains one model";
  }
  return NULL;
}

static int run_in_job(const cmd_entry *cmd, int argc, char **argv) {
  al_err err = {{0}};
  alab_dist = al_dist_init(&argc, &argv, &err);
  if (!alab_dist && err.msg[0]) {
    fprintf(stderr, "alab: %s\n", err.msg);
    return 1;
  }
  int rc;
  const char *refused = al_dist_size(alab_dist) > 1 ? not_across_ranks(cmd, argc, argv) : NULL;
  /* Every rank refuses alike (an MPMD launch can give ranks different arguments): agreed, so the job ends with
   * exit status 2 rather than an abort (al_dist_finalize). */
  if (al_dist_size(alab_dist) > 1 && al_dist_agree(alab_dist, refused != NULL, &err) && !refused)
    refused = "another rank's arguments are refused";
  if (refused) {
    if (al_dist_rank(alab_dist) == 0)
      fprintf(stderr, "alab %s: does not run across MPI ranks (%d were started): %s; run it without mpirun\n",
              cmd->name, al_dist_size(alab_dist), refused);
    rc = 2;
  } else {
    al_dist_set_current(alab_dist);
    if (al_dist_rank(alab_dist) != 0) {
      al_quiet = 1;
      if (!freopen("/dev/null", "w", stdout)) fprintf(stderr, "alab: rank %d: cannot silence standard output\n", al_dist_rank(alab_dist));
    }
    rc = cmd->fn(argc - 1, argv + 1);
  }
  al_dist_finalize(alab_dist, rc);
  alab_dist = NULL;
  return rc;
}

int main(int argc, char **argv) {
  passive_openmp(argv);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("alab %s\n", ALAB_VERSION);
    return 0;
  }
  const cmd_entry *cmd = NULL;
  for (int i = 0; i < alab_ncommands; i++)
    if (!strcmp(argv[1], alab_commands[i].name)) cmd = &alab_commands[i];
  if (!cmd) {
    fprintf(stderr, "alab: unknown command '%s' (run 'alab --help' for the list)\n", argv[1]);
    return 2;
  }
  return run_in_job(cmd, argc, argv);
}
