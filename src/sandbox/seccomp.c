/* The sandbox's seccomp filter: no new processes.
 *
 * RLIMIT_NPROC cannot say "no child processes" for root (the kernel skips the
 * check for the initial namespace's root), so the default limit of one
 * process is a seccomp filter. It reads struct seccomp_data
 * { int nr; u32 arch; u64 ip; u64 args[6]; } and:
 *   arch != this build's arch               -> kill the process
 *   nr >= 0x40000000 (x32 calls on x86-64)  -> kill the process
 *   fork, vfork                             -> kill the process (SIGSYS)
 *   clone3                                  -> ENOSYS (glibc then uses clone)
 *   clone with CLONE_THREAD in args[0]      -> allow (a thread)
 *   clone otherwise                         -> kill the process
 *   anything else                           -> allow */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include "sandbox/sandbox_internal.h"

#if defined(__x86_64__)
#define SB_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_ARCH AUDIT_ARCH_AARCH64
#endif

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

int al_sb_noproc_filter(struct sock_filter *f, int cap) {
#ifndef SB_ARCH
  (void)f; (void)cap;
  return -1;
#else
  const unsigned kill = SECCOMP_RET_KILL_PROCESS, allow = SECCOMP_RET_ALLOW;
  struct sock_filter p[] = {
    /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_ARCH, 1, 0),
    /* 2 */ BPF_STMT(BPF_RET | BPF_K, kill),
    /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
    /* x32 system calls alias the 64-bit ones with bit 30 set */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, kill),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fork, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, kill),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_vfork, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, kill),
#endif
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, allow),
    /* clone: the low 32 bits of the flags (little-endian) */
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, allow),
    BPF_STMT(BPF_RET | BPF_K, kill),
  };
  int n = (int)(sizeof p / sizeof p[0]);
  if (n > cap) return -1;
  for (int i = 0; i < n; i++) f[i] = p[i];
  return n;
#endif
}
