/* What the MPI tests (test_mpi*.c) share: the mpirun command line CI can
 * run, finding one rank's process to kill, a training run's losses. */
#ifndef ALAB_TESTS_MPI_PROCS_H
#define ALAB_TESTS_MPI_PROCS_H
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>
#include <jansson.h>
#include "alab/dist.h"
#include "test.h"

/* `mpirun ...` as CI runs it: --allow-run-as-root because CI runs as root,
 * --oversubscribe because 3 ranks exceed CI's 2 cores, shared memory only.
 * Open MPI never frees what MPI_Init allocates, in components it unloads
 * before LeakSanitizer looks (so no suppression can name them): leak
 * checking is off for the ranks alone; the same code without a launcher is
 * checked by the single-process runs. */
static inline void mpi_launcher(char *buf, size_t size) {
  const char *asan = getenv("ASAN_OPTIONS");
  snprintf(buf, size, "ASAN_OPTIONS='%s%sdetect_leaks=0' mpirun --oversubscribe --allow-run-as-root --mca btl self,vader",
           asan ? asan : "", asan && *asan ? ":" : "");
}

/* The alab binary under test (ALAB_BIN); fills the launcher command.
 * Exits when the test cannot run: not under ctest, or alab without MPI. */
static inline const char *mpi_test_init(char *launcher, size_t size) {
  const char *bin = getenv("ALAB_BIN");
  if (!bin) {
    fprintf(stderr, "ALAB_BIN (the alab binary) is not set: run this test through ctest\n");
    exit(2);
  }
  if (!al_dist_available()) {
    fprintf(stderr, "this alab was built without MPI (libopenmpi-dev is in scripts/deps.sh)\n");
    exit(1);
  }
  mpi_launcher(launcher, size);
  return bin;
}

/* Runs `[launcher -n R] args 2>&1` (R = 0: without the launcher). Returns
 * the exit status; the output into *out when out, else printed on failure. */
static inline int mpi_run(const char *launcher, int R, const char *args, char **out) {
  char cmd[8192], launch[600] = "";
  if (R > 0) snprintf(launch, sizeof launch, "%s -n %d ", launcher, R);
  snprintf(cmd, sizeof cmd, "%s%s 2>&1", launch, args);
  char *o = NULL;
  int rc = test_sh(cmd, &o);
  if (out) *out = o;
  else {
    if (rc) fprintf(stderr, "%s\n%s\n", cmd, o);
    free(o);
  }
  return rc;
}

/* The pid of the alab process of rank `rank` whose command line holds both
 * ` command ` and `needle` (not mpirun itself), or 0. */
static inline pid_t mpi_find_rank(int rank, const char *command, const char *needle) {
  DIR *dp = opendir("/proc");
  struct dirent *e;
  pid_t found = 0;
  char want[64], cmd[64];
  snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
  snprintf(cmd, sizeof cmd, " %s ", command);
  while (dp && !found && (e = readdir(dp))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
    int hit = 0;
    if (!al_read_file(path, &buf, &len, NULL)) {
      for (size_t i = 0; i + 1 < len; i++)
        if (!buf[i]) buf[i] = ' ';
      hit = strstr(buf, needle) && strstr(buf, cmd) && !strstr(buf, "mpirun");
      free(buf);
    }
    snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
    if (hit && !al_read_file(path, &buf, &len, NULL)) {
      for (size_t i = 0; i + 1 < len; i++)
        if (!buf[i]) buf[i] = '\n';
      if (strstr(buf, want)) found = (pid_t)atoi(e->d_name);
      free(buf);
    }
  }
  if (dp) closedir(dp);
  return found;
}

/* Starts `cmd` (its output into log) in the background; returns its pid. */
static inline pid_t mpi_start(const char *cmd, const char *log) {
  char sh[8192], *o = NULL;
  snprintf(sh, sizeof sh, "%s >'%s' 2>&1 & echo $!", cmd, log);
  test_sh(sh, &o);
  pid_t pid = o ? (pid_t)atoi(o) : 0;
  free(o);
  return pid;
}

/* Kills rank 1 (victim) and checks that the job (launcher) stops within
 * 10 s and that its log names rank 1. */
static inline void mpi_kill_rank1(pid_t victim, pid_t launcher, const char *log, const char *what) {
  if (victim > 0) kill(victim, SIGKILL);
  double t0 = al_now();
  int gone = 0;
  while (!gone && al_now() - t0 < 30) {
    gone = kill(launcher, 0) != 0;
    if (!gone) usleep(50000);
  }
  double secs = al_now() - t0;
  CHECK(gone && secs < 10, "%s stopped %.1f s after rank 1 was killed", what, secs);
  printf("rank 1 killed: %s stopped in %.1f s\n", what, secs);
  char *text = NULL;
  size_t len = 0;
  al_read_file(log, &text, &len, NULL);
  CHECK(text && strstr(text, "rank 1"), "the launcher's message names rank 1: %s", text ? text : "(no log)");
  free(text);
}
/* Every step's loss (and the last val_loss) of dir/metrics.jsonl; returns the count. */
static inline int losses(const char *dir, double *loss, int max, double *val) {
  char *p = al_path_join(dir, "metrics.jsonl");
  FILE *f = fopen(p, "r");
  free(p);
  int n = 0;
  char line[8192];
  *val = NAN;
  while (f && fgets(line, sizeof line, f)) {
    json_t *j = json_loads(line, 0, NULL);
    if (j && n < max) loss[n++] = json_real_value(json_object_get(j, "loss"));
    json_t *v = json_object_get(j, "val_loss");
    if (json_is_number(v)) *val = json_number_value(v);
    json_decref(j);
  }
  if (f) fclose(f);
  return n;
}

static inline int same_file(const char *a, const char *b, const char *name) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cmp -s '%s/%s' '%s/%s'", a, name, b, name);
  return system(cmd) == 0;
}

#endif
