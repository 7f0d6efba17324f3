/* Sandboxed execution throughput: N copies of a short passing test (an
 * MBPP-sized function and three asserts) run through al_sandbox_run_many
 * with W workers; prints programs per second, sandboxed (bubblewrap) and,
 * as the peer, the same runs without namespaces (--unsafe-no-sandbox: the
 * interpreter under rlimits only), so the figure shows what isolation costs.
 * usage: bench_sandbox N WORKERS */
#include <stdlib.h>
#include <sys/resource.h>
#include "alab/sandbox.h"

static const char *PROG =
    "def remove_Occ(s, ch):\n"
    "    s = s.replace(ch, '', 1)\n"
    "    i = s.rfind(ch)\n"
    "    return s if i < 0 else s[:i] + s[i + 1:]\n"
    "assert remove_Occ('hello', 'l') == 'heo'\n"
    "assert remove_Occ('abcda', 'a') == 'bcd'\n"
    "assert remove_Occ('PHP', 'P') == 'H'\n";

static int bench(int unsafe, int n, int workers) {
  al_sandbox_config c = al_sandbox_defaults();
  c.unsafe_no_sandbox = unsafe;
  al_sandbox *sb;
  al_err e;
  if (al_sandbox_open(&c, &sb, &e)) {
    fprintf(stderr, "%s\n", e.msg);
    return 1;
  }
  const char **progs = al_malloc(sizeof *progs * (size_t)n);
  for (int i = 0; i < n; i++) progs[i] = PROG;
  al_sb_result *res = al_calloc((size_t)n, sizeof *res);
  struct rusage u0, u1;
  getrusage(RUSAGE_CHILDREN, &u0);
  double t0 = al_now();
  int rc = al_sandbox_run_many(sb, n, progs, res, workers, &e);
  double dt = al_now() - t0;
  getrusage(RUSAGE_CHILDREN, &u1);
  /* CPU of the reaped descendants (bubblewrap, its init, the interpreter), per program */
  double cpu = (u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) + (u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) +
               1e-6 * ((u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) + (u1.ru_stime.tv_usec - u0.ru_stime.tv_usec));
  int passed = 0;
  for (int i = 0; i < n && !rc; i++) passed += res[i].status == AL_SB_PASSED, al_sb_result_free(&res[i]);
  if (rc) fprintf(stderr, "%s\n", e.msg);
  else
    printf("%-10s %d programs, %d workers: %.2f s, %.1f programs/s, %d passed; CPU %.1f ms per program\n",
           unsafe ? "unsandboxed" : "sandboxed", n, workers, dt, n / dt, passed, 1e3 * cpu / n);
  free(progs), free(res);
  al_sandbox_close(sb);
  return rc || passed != n;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200, w = argc > 2 ? atoi(argv[2]) : 4;
  return bench(0, n, w) | bench(1, n, w);
}
