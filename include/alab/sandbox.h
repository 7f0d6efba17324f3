/* alab sandbox: runs untrusted Python (model-written programs and their
 * tests) under bubblewrap and rlimits, and says what happened.
 *
 * What a program sees (src/sandbox/spawn.c builds it): new user, PID,
 * network, IPC, UTS and cgroup namespaces (no network: only a loopback of
 * its own); /usr and the /bin, /lib* links read-only and nothing else of the
 * host (no /etc, /home, /root, /work, the project or the user's /tmp); a
 * fresh tmpfs /tmp of cfg.max_file_mb as its working directory; a root that
 * is read-only; an empty environment (bubblewrap itself is started with an
 * empty one, so no API key is anywhere in the sandbox's memory); no new
 * user namespaces; uid/gid 65534 inside.
 * Limits: wall time (the whole sandbox is killed at cfg.wall_s), CPU time
 * (RLIMIT_CPU), address space (RLIMIT_AS), file size (RLIMIT_FSIZE and the
 * tmpfs size), output (stdout + stderr together; the sandbox is killed once
 * it passes cfg.max_output bytes) and processes: with cfg.max_procs == 1 (the
 * default) a seccomp filter kills the program when it tries to create a
 * process (fork, vfork, clone without CLONE_THREAD; threads are allowed);
 * above 1, RLIMIT_NPROC (which the kernel does not apply to root, so under
 * root only the wall limit bounds them). The sandbox's PID namespace dies
 * with the program: every process it started (a daemon included) is killed
 * before al_sandbox_run returns.
 *
 * Where bubblewrap cannot create namespaces (some containers),
 * al_sandbox_open fails with a message saying so, unless cfg.unsafe_no_sandbox
 * is set: then programs run as plain processes (own process group, rlimits,
 * the seccomp filter, an empty environment and a fresh temporary directory),
 * which limits resources but hides nothing of the machine. */
#ifndef ALAB_SANDBOX_H
#define ALAB_SANDBOX_H

#include "alab/base.h"

typedef struct {
  double wall_s;         /* wall-clock limit per program [3, as MBPP's harness] */
  double cpu_s;          /* CPU-time limit per process [wall_s + 1] when 0 */
  int mem_mb;            /* address-space limit per process, MiB [512] */
  int max_procs;         /* processes the program may run, itself included [1] */
  long max_output;       /* bytes of stdout + stderr kept; more kills it [1 MiB] */
  int max_file_mb;       /* size of its tmpfs and of any one file, MiB [16] */
  int unsafe_no_sandbox; /* run without namespaces when bubblewrap cannot [0] */
  const char *bwrap;     /* bubblewrap binary ["/usr/bin/bwrap"] */
  const char *python;    /* interpreter ["/usr/bin/python3"] */
} al_sandbox_config;

al_sandbox_config al_sandbox_defaults(void);

typedef enum {
  AL_SB_PASSED = 0, /* ran to the end without an exception */
  AL_SB_FAILED,     /* an AssertionError (a test failed) */
  AL_SB_ERROR,      /* another exception (error_type names it), an exit
                       before the end, or a signal not caused by a limit */
  AL_SB_TIMEOUT,    /* still running at wall_s */
  AL_SB_KILLED,     /* stopped by a limit: limit names it */
} al_sb_status;

typedef struct {
  al_sb_status status;
  char error_type[64]; /* AL_SB_ERROR/FAILED: "ZeroDivisionError", "SIGSEGV", "exit 3" */
  char limit[16];      /* AL_SB_KILLED: "memory", "cpu", "processes", "output", "file size" */
  int exit_code;       /* of the sandbox: 128 + signal when a signal ended it */
  double wall_s;       /* from start to the end of every process */
  char *output;        /* stdout and stderr interleaved, NUL-terminated, at most max_output bytes */
  size_t output_len;
} al_sb_result;

typedef struct al_sandbox al_sandbox;

/* Checks the settings, then runs one trivial program to prove the sandbox
 * works here. Fails (-1) on a bad setting (naming it), on a missing
 * bubblewrap or interpreter, or when namespaces cannot be created, with a
 * message that names --unsafe-no-sandbox as the way to run regardless. */
int al_sandbox_open(const al_sandbox_config *cfg, al_sandbox **out, al_err *err);
void al_sandbox_close(al_sandbox *sb);
/* Whether programs run without namespaces (cfg.unsafe_no_sandbox was set). */
int al_sandbox_unsafe(const al_sandbox *sb);

/* Runs `program` (Python source) to its end or a limit. Returns 0 with *res
 * filled whatever the program did; -1 only when the sandbox itself could not
 * be started (err says why). Thread-safe: any number of threads may run
 * programs through one al_sandbox at once. Free res with al_sb_result_free. */
int al_sandbox_run(al_sandbox *sb, const char *program, al_sb_result *res, al_err *err);
/* Runs n programs, `workers` at a time (each a thread; 0 = 2), results in
 * input order. Returns -1 on the first failure to start a sandbox. */
int al_sandbox_run_many(al_sandbox *sb, int n, const char *const *programs, al_sb_result *res,
                        int workers, al_err *err);
void al_sb_result_free(al_sb_result *res);

/* "passed", "failed", "error", "timeout", "killed". */
const char *al_sb_status_name(al_sb_status s);

#endif
