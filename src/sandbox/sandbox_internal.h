/* Internals of the sandbox layer: the seccomp filter and one run. */
#ifndef ALAB_SANDBOX_INTERNAL_H
#define ALAB_SANDBOX_INTERNAL_H

#include <linux/filter.h>
#include "alab/sandbox.h"

struct al_sandbox {
  al_sandbox_config cfg; /* resolved: cpu_s filled in */
  char *bwrap, *python;  /* owned copies of the paths */
};

/* The classic-BPF program that forbids creating processes (fork, vfork,
 * clone without CLONE_THREAD kill the whole process with SIGSYS; clone3
 * answers ENOSYS so that threads fall back to clone). Writes at most cap
 * instructions into f and returns how many, or -1 on an architecture the
 * filter does not know. */
int al_sb_noproc_filter(struct sock_filter *f, int cap);

/* One run of one program (src/sandbox/spawn.c). */
int al_sb_spawn(const al_sandbox *sb, const char *program, al_sb_result *res, al_err *err);

#endif
