/* A minimal test harness: CHECK records a failure and goes on; the test's
 * main returns test_summary(), which prints "N passed, N failed". */
#ifndef ALAB_TEST_H
#define ALAB_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "alab/base.h"

static int test_passed, test_failed;

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (cond) test_passed++;                                          \
    else {                                                            \
      test_failed++;                                                  \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fputc('\n', stderr);                                            \
    }                                                                 \
  } while (0)

/* Checks that a call fails and that its message contains `needle`. */
#define CHECK_FAILS_WITH(call, err, needle)                                                    \
  do {                                                                                         \
    (err).msg[0] = 0;                                                                          \
    int rc_ = (call);                                                                          \
    CHECK(rc_ != 0 && strstr((err).msg, needle), "expected failure mentioning '%s', got rc=%d msg='%s'", \
          needle, rc_, (err).msg);                                                             \
  } while (0)

#define CHECK_OK(call, err)                                                   \
  do {                                                                        \
    (err).msg[0] = 0;                                                         \
    int rc_ = (call);                                                         \
    CHECK(rc_ == 0, "call failed: %s", (err).msg);                            \
  } while (0)

static inline int test_summary(void) {
  printf("%d passed, %d failed\n", test_passed, test_failed);
  return test_failed ? 1 : 0;
}

/* A fresh scratch directory for this test: $ALAB_TEST_TMP/<name>. */
static inline char *test_tmpdir(const char *name) {
  const char *root = getenv("ALAB_TEST_TMP");
  if (!root) root = "/tmp/alab-test";
  char *dir = al_path_join(root, name);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
  if (system(cmd) != 0) { fprintf(stderr, "cannot make %s\n", dir); exit(2); }
  return dir;
}

/* Runs a shell command; returns its exit status (-1 if it did not exit),
 * with everything it printed on stdout in *out (NUL-terminated; free it). */
static inline int test_sh(const char *cmd, char **out) {
  FILE *f = popen(cmd, "r");
  al_buf b = {0};
  char chunk[4096];
  size_t n;
  while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0) al_buf_append(&b, chunk, n);
  al_buf_append(&b, "", 1);
  int st = f ? pclose(f) : -1;
  *out = b.data;
  return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline double rel_err(double a, double b) {
  return fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), 1e-12);
}
#endif
