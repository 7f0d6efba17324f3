/* nn_team: a spin-then-sleep barrier (see team.h). The last thread to
 * arrive resets the count and bumps the generation; the others spin on the
 * generation, then sleep on it with FUTEX_WAIT (which rechecks it in the
 * kernel, so a bump between the check and the sleep is not lost). The waker
 * makes the futex_wake system call only when a thread is (about to be)
 * sleeping: a waiter raises `sleepers` before its last check of `gen`, the
 * waker bumps `gen` before reading `sleepers`, and with sequentially
 * consistent atomics at least one of them sees the other's write. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "nn/team.h"

/* pause instructions before sleeping: 30-100 ns each on this project's
 * machines, so a few to 20 microseconds */
enum { TEAM_SPIN = 200 };

static void futex_wait(unsigned *addr, unsigned val) {
  syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_all(unsigned *addr) { syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0); }

static inline void cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

void nn_team_init(nn_team *t, int n) {
  t->n = n;
  __atomic_store_n(&t->arrived, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&t->gen, 0u, __ATOMIC_SEQ_CST);
  __atomic_store_n(&t->sleepers, 0, __ATOMIC_SEQ_CST);
}

void nn_team_wait(nn_team *t) {
  if (t->n <= 1) return;
  unsigned g = __atomic_load_n(&t->gen, __ATOMIC_SEQ_CST);
  if (__atomic_add_fetch(&t->arrived, 1, __ATOMIC_SEQ_CST) == t->n) {
    __atomic_store_n(&t->arrived, 0, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&t->gen, 1u, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&t->sleepers, __ATOMIC_SEQ_CST) > 0) futex_wake_all(&t->gen);
    return;
  }
  for (int i = 0; i < TEAM_SPIN; i++) {
    if (__atomic_load_n(&t->gen, __ATOMIC_SEQ_CST) != g) return;
    cpu_pause();
  }
  __atomic_add_fetch(&t->sleepers, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&t->gen, __ATOMIC_SEQ_CST) == g) futex_wait(&t->gen, g);
  __atomic_sub_fetch(&t->sleepers, 1, __ATOMIC_SEQ_CST);
}

void nn_team_part(int n, int unit, int id, int parts, int *lo, int *hi) {
  long units = n / unit;
  *lo = (int)(units * id / parts) * unit;
  *hi = (int)(units * (id + 1) / parts) * unit;
}
