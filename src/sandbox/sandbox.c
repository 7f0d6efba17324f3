/* The sandbox handle: settings, the check that the sandbox works here, and
 * runs of many programs on worker threads. One run is src/sandbox/spawn.c. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sandbox/sandbox_internal.h"

al_sandbox_config al_sandbox_defaults(void) {
  return (al_sandbox_config){
      .wall_s = 3.0,
      .cpu_s = 0,
      .mem_mb = 512,
      .max_procs = 1,
      .max_output = 1 << 20,
      .max_file_mb = 16,
      .unsafe_no_sandbox = 0,
      .bwrap = "/usr/bin/bwrap",
      .python = "/usr/bin/python3",
  };
}

const char *al_sb_status_name(al_sb_status s) {
  static const char *names[] = {"passed", "failed", "error", "timeout", "killed"};
  return (unsigned)s < 5 ? names[s] : "?";
}

static int check_config(const al_sandbox_config *c, al_err *err) {
  if (!(c->wall_s > 0 && c->wall_s <= 3600)) return al_fail(err, "sandbox: wall_s %g is outside (0, 3600]", c->wall_s);
  if (!(c->cpu_s >= 0 && c->cpu_s <= 3600)) return al_fail(err, "sandbox: cpu_s %g is outside [0, 3600]", c->cpu_s);
  if (c->mem_mb < 32 || c->mem_mb > (1 << 20)) return al_fail(err, "sandbox: mem_mb %d is outside [32, 1048576]", c->mem_mb);
  if (c->max_procs < 1 || c->max_procs > 4096) return al_fail(err, "sandbox: max_procs %d is outside [1, 4096]", c->max_procs);
  if (c->max_output < 1) return al_fail(err, "sandbox: max_output %ld must be positive", c->max_output);
  if (c->max_file_mb < 1 || c->max_file_mb > 65536) return al_fail(err, "sandbox: max_file_mb %d is outside [1, 65536]", c->max_file_mb);
  if (!c->python || c->python[0] != '/') return al_fail(err, "sandbox: the interpreter must be an absolute path (got \"%s\")", c->python ? c->python : "");
  if (access(c->python, X_OK) != 0) return al_fail(err, "sandbox: no interpreter at %s (install python3)", c->python);
  if (!c->unsafe_no_sandbox && (!c->bwrap || access(c->bwrap, X_OK) != 0))
    return al_fail(err, "sandbox: bubblewrap not found at %s (install the Debian package bubblewrap); alab will not run "
                        "untrusted code outside a sandbox unless told to with --unsafe-no-sandbox",
                   c->bwrap ? c->bwrap : "(none)");
  return 0;
}

int al_sandbox_open(const al_sandbox_config *cfg, al_sandbox **out, al_err *err) {
  *out = NULL;
  if (check_config(cfg, err)) return -1;
  if (cfg->max_procs == 1) {
    struct sock_filter f[32];
    if (al_sb_noproc_filter(f, 32) < 0)
      return al_fail(err, "sandbox: the process filter does not know this architecture; set max_procs above 1");
  }
  al_sandbox *sb = al_calloc(1, sizeof *sb);
  sb->cfg = *cfg;
  if (sb->cfg.cpu_s == 0) sb->cfg.cpu_s = ceil(cfg->wall_s) + 1;
  sb->bwrap = al_strdup(cfg->bwrap ? cfg->bwrap : "");
  sb->python = al_strdup(cfg->python);
  sb->cfg.bwrap = sb->bwrap, sb->cfg.python = sb->python;
  /* the proof that it works here: a trivial program must pass */
  al_sb_result r;
  al_err e;
  if (al_sb_spawn(sb, "pass\n", &r, &e)) {
    al_fail(err, "%s. Namespaces cannot be created here (a container that forbids them?), so alab refuses to run "
                 "untrusted code; --unsafe-no-sandbox runs it with resource limits only",
            e.msg);
    al_sandbox_close(sb);
    return -1;
  }
  int ok = r.status == AL_SB_PASSED;
  if (!ok)
    al_fail(err, "sandbox: a trivial program did not pass (%s %s%s): %.300s", al_sb_status_name(r.status), r.error_type,
            r.limit, r.output ? r.output : "");
  al_sb_result_free(&r);
  if (!ok) {
    al_sandbox_close(sb);
    return -1;
  }
  *out = sb;
  return 0;
}

void al_sandbox_close(al_sandbox *sb) {
  if (!sb) return;
  free(sb->bwrap);
  free(sb->python);
  free(sb);
}

int al_sandbox_unsafe(const al_sandbox *sb) { return sb->cfg.unsafe_no_sandbox; }

int al_sandbox_run(al_sandbox *sb, const char *program, al_sb_result *res, al_err *err) {
  return al_sb_spawn(sb, program, res, err);
}

/* run_many's workers (plain threads, not OpenMP: a caller already inside a
 * parallel region, an experiment's seed, would get one thread from a nested
 * region) take the next program from a shared counter. */
typedef struct {
  al_sandbox *sb;
  const char *const *programs;
  al_sb_result *res;
  int n, next, failed;
  al_err err;
  pthread_mutex_t mu;
} many_ctx;

static void *many_worker(void *p) {
  many_ctx *c = p;
  for (;;) {
    pthread_mutex_lock(&c->mu);
    int i = c->failed ? c->n : c->next++;
    pthread_mutex_unlock(&c->mu);
    if (i >= c->n) return NULL;
    al_err e;
    if (al_sb_spawn(c->sb, c->programs[i], &c->res[i], &e)) {
      pthread_mutex_lock(&c->mu);
      if (!c->failed) c->failed = 1, c->err = e;
      pthread_mutex_unlock(&c->mu);
    }
  }
}

int al_sandbox_run_many(al_sandbox *sb, int n, const char *const *programs, al_sb_result *res, int workers, al_err *err) {
  if (workers <= 0) workers = 2;
  if (workers > n) workers = n > 0 ? n : 1;
  for (int i = 0; i < n; i++) memset(&res[i], 0, sizeof res[i]);
  many_ctx c = {.sb = sb, .programs = programs, .res = res, .n = n};
  pthread_mutex_init(&c.mu, NULL);
  pthread_t *t = al_calloc((size_t)workers, sizeof *t);
  int started = 0;
  for (int w = 1; w < workers; w++) /* each mostly waits on its child, so workers beyond the cores still help */
    if (pthread_create(&t[w], NULL, many_worker, &c) == 0) started = w;
    else break;
  many_worker(&c);
  for (int w = 1; w <= started; w++) pthread_join(t[w], NULL);
  free(t);
  pthread_mutex_destroy(&c.mu);
  if (c.failed) {
    for (int i = 0; i < n; i++) al_sb_result_free(&res[i]);
    if (err) *err = c.err;
    return -1;
  }
  return 0;
}

void al_sb_result_free(al_sb_result *res) {
  if (!res) return;
  free(res->output);
  res->output = NULL;
  res->output_len = 0;
}
