/* Starting a real `alab serve` ($ALAB_BIN) for the tests that talk to it over
 * HTTP: on an ephemeral port, one worker. */
#ifndef ALAB_TEST_SERVE_PROC_H
#define ALAB_TEST_SERVE_PROC_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Starts `alab serve --model model --port 0 --workers 1 --precision
 * precision`; returns its pid (kill it with SIGTERM) and *port, read from its
 * "listening on" line (0 when it never printed one). */
static pid_t start_server_precision(const char *model, const char *precision, int *port) {
  int fd[2];
  if (pipe(fd)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 1);
    close(fd[0]);
    execl(getenv("ALAB_BIN"), "alab", "serve", "--model", model, "--port", "0", "--workers", "1", "--precision",
          precision, (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  FILE *f = fdopen(fd[0], "r");
  char line[1024];
  *port = 0;
  while (fgets(line, sizeof line, f)) {
    char *p = strstr(line, "listening on http://");
    if (p && (p = strrchr(p, ':'))) {
      *port = atoi(p + 1);
      break;
    }
  }
  /* keep the pipe open in the background: the server may print more */
  return pid;
}

/* The same in fp32, the server's default. */
static inline pid_t start_server(const char *model, int *port) { return start_server_precision(model, "fp32", port); }
#endif
