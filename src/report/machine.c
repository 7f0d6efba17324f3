/* machine.json of a run directory: what ran it (CPU model, cores, threads,
 * alab version, date), recorded when the run finishes, so a report drawn
 * later, elsewhere, still names the machine of the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/report.h"

/* CMake bakes in `git describe` when it configures from a git checkout. */
const char *al_version(void) {
#ifdef ALAB_GIT_DESCRIBE
  return ALAB_GIT_DESCRIBE;
#else
  return ALAB_VERSION;
#endif
}

/* The "model name" line of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t n) {
  snprintf(buf, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) || !colon) continue;
    colon += 1 + (colon[1] == ' ');
    colon[strcspn(colon, "\n")] = 0;
    snprintf(buf, n, "%s", colon);
    break;
  }
  fclose(f);
}

int al_report_record_machine(const char *dir, al_err *err) {
  char cpu[256], date[32];
  cpu_model(cpu, sizeof cpu);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *m = json_pack("{s:s, s:i, s:i, s:s, s:s}", "cpu", cpu, "cores", (int)sysconf(_SC_NPROCESSORS_ONLN), "threads",
                        al_get_threads(), "alab_version", al_version(), "date", date);
  char *path = al_path_join(dir, "machine.json");
  int rc = al_json_save_file(path, m, err);
  free(path);
  json_decref(m);
  return rc;
}
