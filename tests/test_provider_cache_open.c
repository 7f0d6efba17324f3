/* The response cache opened by several processes at once (alab eval runs
 * sharing one --cache, as the README suggests for parallel jobs): every
 * open succeeds and the file holds one valid cache. A fresh file is the
 * worst case: switching it to WAL needs an exclusive lock, and SQLite
 * answers SQLITE_BUSY there without calling the busy handler. Before the
 * retry in prov_cache_open, this test (4 processes x 300 fresh files)
 * failed 3, 10 and 12 of its 1,200 opens in three runs ("database is
 * locked"); with it, 0. */
#include <unistd.h>
#include "provider/cache.h"
#include "test.h"

enum { ROUNDS = 300, PROCS = 4 };

int main(void) {
  char *dir = test_tmpdir("provider_cache_open");
  int failed = 0;
  char first[1024] = "";
  for (int i = 0; i < ROUNDS; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/c%d.sqlite", dir, i);
    pid_t pid[PROCS];
    int fd[2];
    if (pipe(fd)) return 1;
    for (int k = 0; k < PROCS; k++)
      if (!(pid[k] = fork())) {
        prov_cache *c;
        al_err err;
        if (prov_cache_open(&c, path, &err)) {
          if (write(fd[1], err.msg, strlen(err.msg) + 1) < 0) _exit(2);
          _exit(1);
        }
        prov_cache_close(c);
        _exit(0);
      }
    close(fd[1]);
    for (int k = 0; k < PROCS; k++) {
      int st;
      waitpid(pid[k], &st, 0);
      failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    if (!*first && read(fd[0], first, sizeof first - 1) < 0) first[0] = 0;
    close(fd[0]);
    prov_cache *c;
    al_err err;
    CHECK_OK(prov_cache_open(&c, path, &err), err);
    if (c) prov_cache_close(c);
    unlink(path);
  }
  CHECK(failed == 0, "%d of %d concurrent opens failed (first: %s)", failed, ROUNDS * PROCS, first);
  free(dir);
  return test_summary();
}
