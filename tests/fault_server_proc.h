/* Starts tests/fault_server (the scripted OpenAI-compatible endpoint whose
 * path ctest puts in $FAULT_SERVER) on a free port in the background:
 *   fault_server_start("--rate 0.02 --seed 7", "/tmp/x/faults.log", base)
 * It logs every request to `log`, writes its "listening on" line to
 * log + ".port", and the base URL ("http://127.0.0.1:PORT/v1") goes into
 * base (at least 64 bytes). Returns the server's pid (kill it when done);
 * base is left empty if it did not say where it listens within 5 s. */
#ifndef ALAB_TEST_FAULT_SERVER_PROC_H
#define ALAB_TEST_FAULT_SERVER_PROC_H
#include <unistd.h>
#include "test.h"

static inline int fault_server_start(const char *args, const char *log, char *base) {
  char cmd[4096], pf[2048], *out;
  base[0] = 0;
  snprintf(pf, sizeof pf, "%s.port", log);
  snprintf(cmd, sizeof cmd, "'%s' --port 0 --log '%s' %s > '%s' 2>&1 & echo $!", getenv("FAULT_SERVER"), log, args, pf);
  test_sh(cmd, &out);
  int pid = atoi(out);
  free(out);
  for (int t = 0; t < 500; t++) {
    FILE *f = fopen(pf, "r");
    int port = 0;
    if (f) {
      if (fscanf(f, "listening on http://127.0.0.1:%d", &port) != 1) port = 0;
      fclose(f);
    }
    if (port) {
      sprintf(base, "http://127.0.0.1:%d/v1", port);
      return pid;
    }
    usleep(10000);
  }
  return pid;
}
#endif
