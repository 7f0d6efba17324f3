/* One sandboxed run: bubblewrap's command line, the fork, the watch loop
 * (output, verdict, wall clock) and the verdict.
 *
 * File descriptors of the child (all others are closed before exec):
 *   0  the program, in a memfd (the runner reads it from stdin)
 *   1, 2  one pipe for stdout and stderr (counted; past max_output: killed)
 *   3  the verdict pipe: the runner writes one line, "passed",
 *      "failed TYPE", "error TYPE", "killed memory" (MemoryError) or
 *      "killed file_size" (EFBIG or ENOSPC: Python ignores SIGXFSZ)
 *   4  the seccomp filter (bubblewrap --seccomp), when max_procs == 1
 *   5  bubblewrap's --json-status-fd: its first document names the PID, in
 *      our namespace, of the sandbox's init; killing it kills every
 *      process of the sandbox, and bubblewrap exits only once all are gone.
 * The runner closes 4 and up before the program starts, so a program can
 * write neither bubblewrap's status nor anything else we hold. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sandbox/sandbox_internal.h"

/* The harness around the program: runs it as __main__ and classifies how it
 * ended. The interpreter starts with -I -S (no environment, no user or
 * site directories: 5 ms less per run) and the runner adds Debian's
 * dist-packages, where pytest lives. argv[1] is the process limit to set inside the sandbox's user
 * namespace (0: none). os._exit skips atexit handlers and thread joins, so
 * a program that leaves a thread running still ends. */
static const char RUNNER[] =
    "import os,sys\n"
    "os.closerange(4,65536)\n"
    "sys.path.append('/usr/lib/python3/dist-packages')\n"
    "def _alab_verdict(e):\n"
    " if isinstance(e,AssertionError):return 'failed AssertionError'\n"
    " if isinstance(e,MemoryError):return 'killed memory'\n"
    " if isinstance(e,OSError) and e.errno in (27,28):return 'killed file_size'\n"
    " return 'error '+type(e).__name__\n"
    "def _alab_run():\n"
    " n=int(sys.argv[1])\n"
    " if n>0:\n"
    "  import resource;resource.setrlimit(resource.RLIMIT_NPROC,(n,n))\n"
    " v=os.fdopen(3,'w')\n"
    " src=sys.stdin.read()\n"
    " r='passed'\n"
    " try:\n"
    "  exec(compile(src,'program.py','exec'),{'__name__':'__main__'})\n"
    " except BaseException as e:\n"
    "  r=_alab_verdict(e)\n"
    "  if r[0]!='k':\n"
    "   try:\n"
    "    import traceback;traceback.print_exc()\n"
    "   except BaseException:\n"
    "    pass\n"
    " try:\n"
    "  sys.stdout.flush();sys.stderr.flush()\n"
    " except BaseException:\n"
    "  pass\n"
    " v.write(r+'\\n');v.flush()\n"
    " os._exit(0)\n"
    "_alab_run()\n";

typedef struct {
  const char *argv[64];
  int n;
  char nums[2][32];
  char links[6][256]; /* the targets of /bin, /lib, ... */
} argv_t;

static void arg(argv_t *a, const char *s) {
  if (a->n < 62) a->argv[a->n++] = s;
}

/* /bin, /lib, ... as on the host: a symlink stays a symlink (merged /usr),
 * a directory is bound read-only, an absent one is left out. */
static void add_root_links(argv_t *a) {
  static const char *dirs[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
  for (int i = 0; i < 6; i++) {
    struct stat st;
    if (lstat(dirs[i], &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      ssize_t k = readlink(dirs[i], a->links[i], sizeof a->links[i] - 1);
      if (k <= 0) continue;
      a->links[i][k] = 0;
      arg(a, "--symlink"), arg(a, a->links[i]), arg(a, dirs[i]);
    } else if (S_ISDIR(st.st_mode)) {
      arg(a, "--ro-bind"), arg(a, dirs[i]), arg(a, dirs[i]);
    }
  }
}

static void build_argv(const al_sandbox *sb, argv_t *a, const char *tmpdir) {
  const al_sandbox_config *c = &sb->cfg;
  int inside_nproc = c->max_procs > 1 ? c->max_procs + 1 : 0; /* + the sandbox's init */
  snprintf(a->nums[0], sizeof a->nums[0], "%d", inside_nproc);
  snprintf(a->nums[1], sizeof a->nums[1], "%ld", (long)c->max_file_mb << 20);
  if (tmpdir) { /* unsafe: the interpreter directly */
    arg(a, sb->python);
  } else {
    arg(a, sb->bwrap);
    arg(a, "--unshare-all"), arg(a, "--unshare-user"), arg(a, "--disable-userns");
    arg(a, "--die-with-parent"), arg(a, "--new-session");
    arg(a, "--uid"), arg(a, "65534"), arg(a, "--gid"), arg(a, "65534");
    arg(a, "--ro-bind"), arg(a, "/usr"), arg(a, "/usr");
    add_root_links(a);
    arg(a, "--proc"), arg(a, "/proc"), arg(a, "--dev"), arg(a, "/dev");
    arg(a, "--size"), arg(a, a->nums[1]), arg(a, "--tmpfs"), arg(a, "/tmp");
    arg(a, "--remount-ro"), arg(a, "/"), arg(a, "--chdir"), arg(a, "/tmp");
    if (c->max_procs == 1) arg(a, "--seccomp"), arg(a, "4");
    arg(a, "--json-status-fd"), arg(a, "5");
    arg(a, "--"), arg(a, sb->python);
  }
  arg(a, "-I"), arg(a, "-S"), arg(a, "-c"), arg(a, RUNNER), arg(a, a->nums[0]);
  a->argv[a->n] = NULL;
}

static void set_limit(int what, rlim_t soft, rlim_t hard) {
  struct rlimit r = {soft, hard};
  setrlimit(what, &r);
}

/* In the forked child: only system calls from here to exec. */
static void child(const al_sandbox *sb, argv_t *a, const char *tmpdir, int fds[6],
                  const struct sock_fprog *filter) {
  setpgid(0, 0);
  for (int i = 0; i < 6; i++)
    if (fds[i] >= 0 && dup2(fds[i], i) < 0) _exit(127);
  if (fds[4] < 0) close(4);
  if (fds[5] < 0) close(5);
  if (syscall(SYS_close_range, 6u, ~0u, 0) != 0)
    for (int fd = 6; fd < 4096; fd++) close(fd);
  const al_sandbox_config *c = &sb->cfg;
  rlim_t cpu = (rlim_t)ceil(c->cpu_s);
  set_limit(RLIMIT_CPU, cpu, cpu + 1);
  set_limit(RLIMIT_AS, (rlim_t)c->mem_mb << 20, (rlim_t)c->mem_mb << 20);
  set_limit(RLIMIT_FSIZE, (rlim_t)c->max_file_mb << 20, (rlim_t)c->max_file_mb << 20);
  set_limit(RLIMIT_CORE, 0, 0);
  char *env_unsafe[] = {"PATH=/usr/bin:/bin", NULL, NULL};
  char home[600];
  if (tmpdir) {
    snprintf(home, sizeof home, "HOME=%s", tmpdir);
    env_unsafe[1] = home;
    if (chdir(tmpdir) != 0) _exit(127);
    if (filter) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(127);
      if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter) != 0) _exit(127);
    }
  }
  char *env_empty[] = {NULL};
  execve(a->argv[0], (char *const *)a->argv, tmpdir ? env_unsafe : env_empty);
  _exit(127);
}

/* Appends what fd has to b (up to cap bytes kept); returns 1 at EOF or
 * error, 0 when it would block, 2 when more than cap arrived. */
static int drain(int fd, al_buf *b, size_t cap) {
  char chunk[65536];
  for (;;) {
    ssize_t k = read(fd, chunk, sizeof chunk);
    if (k == 0) return 1;
    if (k < 0) return errno == EAGAIN || errno == EINTR ? 0 : 1;
    size_t room = cap > b->len ? cap - b->len : 0;
    al_buf_append(b, chunk, (size_t)k < room ? (size_t)k : room);
    if ((size_t)k > room) return 2;
  }
}

/* A pidfd for the sandbox's init, named by bubblewrap's first status
 * document ({"child-pid": P, ..., "pid-namespace": N, ...}); -1 unless P is
 * still a process whose PID namespace is N (so a reused PID is never taken
 * for it). The pidfd then names that process whatever happens to P. */
static int open_init(const char *status) {
  const char *k = strstr(status, "\"child-pid\":"), *ns = strstr(status, "\"pid-namespace\":");
  if (!k || !ns) return -1;
  long pid = strtol(k + 12, NULL, 10);
  unsigned long long ino = strtoull(ns + 16, NULL, 10);
  int fd = pid > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)pid, 0) : -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/pid", pid);
  struct stat st;
  if (fd >= 0 && (stat(path, &st) != 0 || (unsigned long long)st.st_ino != ino)) close(fd), fd = -1;
  return fd;
}

/* Kills every process of the run: SIGKILL to the sandbox's init takes its
 * whole PID namespace with it; then bubblewrap. Unsafe: the process group. */
static void kill_run(pid_t pid, int init_fd) {
  if (init_fd >= 0) syscall(SYS_pidfd_send_signal, init_fd, SIGKILL, NULL, 0);
  kill(-pid, SIGKILL), kill(pid, SIGKILL);
}

/* bubblewrap exits as soon as the program does; its init, and with it every
 * process the program left, dies just after. The init's exit is reported
 * only once the kernel has killed and reaped its whole namespace. */
static void wait_init(int init_fd) {
  if (init_fd < 0) return;
  struct pollfd p = {init_fd, POLLIN, 0};
  if (poll(&p, 1, 2000) == 1) return;
  syscall(SYS_pidfd_send_signal, init_fd, SIGKILL, NULL, 0);
  poll(&p, 1, 10000);
}

static int nftw_rm(const char *p, const struct stat *s, int flag, struct FTW *f) {
  (void)s, (void)flag, (void)f;
  return remove(p);
}

static void classify(al_sb_result *r, const char *verdict, int status) {
  char word[16] = "", rest[64] = "";
  if (sscanf(verdict, "%15s %63s", word, rest) >= 1) {
    if (!strcmp(word, "passed")) { r->status = AL_SB_PASSED; return; }
    if (!strcmp(word, "failed")) { r->status = AL_SB_FAILED; snprintf(r->error_type, sizeof r->error_type, "%s", rest); return; }
    if (!strcmp(word, "error")) { r->status = AL_SB_ERROR; snprintf(r->error_type, sizeof r->error_type, "%s", rest); return; }
    if (!strcmp(word, "killed")) { /* by the runner: "memory" or "file_size" */
      r->status = AL_SB_KILLED;
      snprintf(r->limit, sizeof r->limit, "%s", strcmp(rest, "file_size") ? "memory" : "file size");
      return;
    }
  }
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + sig;
  if (!sig && code > 128 && code < 128 + 65) sig = code - 128;
  r->exit_code = code;
  const char *limit = sig == SIGSYS ? "processes" : sig == SIGXCPU ? "cpu" : sig == SIGXFSZ ? "file size" : NULL;
  if (limit) {
    r->status = AL_SB_KILLED;
    snprintf(r->limit, sizeof r->limit, "%s", limit);
  } else if (sig) {
    r->status = AL_SB_ERROR;
    const char *ab = sigabbrev_np(sig);
    snprintf(r->error_type, sizeof r->error_type, "SIG%s", ab ? ab : "?");
  } else {
    r->status = AL_SB_ERROR;
    snprintf(r->error_type, sizeof r->error_type, "exit %d", code);
  }
}

int al_sb_spawn(const al_sandbox *sb, const char *program, al_sb_result *res, al_err *err) {
  const al_sandbox_config *c = &sb->cfg;
  memset(res, 0, sizeof *res);
  int unsafe = c->unsafe_no_sandbox;
  char tmpdir[64] = "";
  if (unsafe) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/alab-sandbox-XXXXXX");
    if (!mkdtemp(tmpdir)) return al_fail(err, "sandbox: cannot create a temporary directory in /tmp: %s", strerror(errno));
  }
  struct sock_filter insns[32];
  int ninsn = c->max_procs == 1 ? al_sb_noproc_filter(insns, 32) : 0;
  struct sock_fprog prog = {(unsigned short)(ninsn > 0 ? ninsn : 0), insns};
  int fds[6] = {-1, -1, -1, -1, -1, -1}, out[2] = {-1, -1}, ver[2] = {-1, -1}, st[2] = {-1, -1};
  int rc = -1, pidfd = -1, init_fd = -1, init_seen;
  al_buf o = {0}, v = {0}, s = {0};
  fds[0] = memfd_create("program", MFD_CLOEXEC);
  if (fds[0] < 0 || pipe2(out, O_CLOEXEC) || pipe2(ver, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
    al_fail(err, "sandbox: cannot create pipes: %s", strerror(errno));
    goto done;
  }
  size_t plen = strlen(program);
  if (write(fds[0], program, plen) != (ssize_t)plen || lseek(fds[0], 0, SEEK_SET) != 0) {
    al_fail(err, "sandbox: cannot write the program to a memfd: %s", strerror(errno));
    goto done;
  }
  if (ninsn > 0 && !unsafe) {
    fds[4] = memfd_create("seccomp", MFD_CLOEXEC);
    size_t nb = (size_t)ninsn * sizeof insns[0];
    if (fds[4] < 0 || write(fds[4], insns, nb) != (ssize_t)nb || lseek(fds[4], 0, SEEK_SET) != 0) {
      al_fail(err, "sandbox: cannot write the seccomp filter: %s", strerror(errno));
      goto done;
    }
  }
  fds[1] = fds[2] = out[1];
  fds[3] = ver[1];
  if (!unsafe) fds[5] = st[1];
  argv_t a = {0};
  build_argv(sb, &a, unsafe ? tmpdir : NULL);
  pid_t pid = fork();
  double t0 = al_now(); /* the program's clock starts once it exists (a large parent forks slowly) */
  if (pid < 0) {
    al_fail(err, "sandbox: fork failed: %s", strerror(errno));
    goto done;
  }
  if (pid == 0) child(sb, &a, unsafe ? tmpdir : NULL, fds, ninsn > 0 ? &prog : NULL);
  close(out[1]), close(ver[1]), close(st[1]);
  out[1] = ver[1] = st[1] = -1;
  fcntl(out[0], F_SETFL, O_NONBLOCK), fcntl(ver[0], F_SETFL, O_NONBLOCK), fcntl(st[0], F_SETFL, O_NONBLOCK);
  pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int out_open = 1, ver_open = 1, st_open = !unsafe, exited = 0, timed_out = 0, overflow = 0;
  init_seen = 0;
  while (!exited) {
    struct pollfd p[4];
    int np = 0, ip = -1;
    if (out_open) p[np++] = (struct pollfd){out[0], POLLIN, 0};
    if (ver_open) p[np++] = (struct pollfd){ver[0], POLLIN, 0};
    if (st_open) p[np++] = (struct pollfd){st[0], POLLIN, 0};
    if (pidfd >= 0) ip = np, p[np++] = (struct pollfd){pidfd, POLLIN, 0};
    double left = t0 + c->wall_s - al_now();
    int ms = left <= 0 ? 0 : (int)ceil(left * 1000);
    if (pidfd < 0 && ms > 10) ms = 10; /* no pidfd: look at the child every 10 ms */
    if (poll(p, (nfds_t)np, ms) < 0 && errno != EINTR) break;
    if (out_open) {
      int d = drain(out[0], &o, (size_t)c->max_output);
      if (d == 2) { overflow = 1; break; }
      if (d == 1) out_open = 0;
    }
    if (ver_open && drain(ver[0], &v, 256) == 1) ver_open = 0;
    if (st_open && drain(st[0], &s, 4096) == 1) st_open = 0;
    if (!init_seen && s.len && memchr(s.data, '}', s.len)) { /* the first document is complete */
      al_buf_append(&s, "", 1), s.len--;
      init_fd = open_init(s.data), init_seen = 1;
    }
    siginfo_t si = {0};
    if (ip >= 0) exited = (p[ip].revents & POLLIN) != 0;
    else exited = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
    if (exited) break;
    if (al_now() - t0 >= c->wall_s) { timed_out = 1; break; }
  }
  if (!exited) kill_run(pid, init_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (unsafe) kill(-pid, SIGKILL); /* what the group left behind */
  if (!init_seen && st_open && drain(st[0], &s, 4096) >= 0 && s.len) { /* a run too short to see it before */
    al_buf_append(&s, "", 1), s.len--;
    init_fd = open_init(s.data), init_seen = 1;
  }
  wait_init(init_fd);
  res->wall_s = al_now() - t0;
  /* every writer is gone: what is left in the pipes is complete */
  if (!overflow && out_open && drain(out[0], &o, (size_t)c->max_output) == 2) overflow = 1;
  if (ver_open) drain(ver[0], &v, 256);
  if (st_open) drain(st[0], &s, 4096);
  al_buf_append(&v, "", 1), al_buf_append(&s, "", 1);
  if (!unsafe && !strstr(s.data, "\"child-pid\":") && !timed_out && !overflow) {
    al_buf_append(&o, "", 1);
    al_fail(err, "sandbox: bubblewrap could not start the sandbox (exit %d): %.400s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
            o.data);
    goto done;
  }
  res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (overflow) res->status = AL_SB_KILLED, snprintf(res->limit, sizeof res->limit, "output");
  else if (timed_out) res->status = AL_SB_TIMEOUT;
  else classify(res, v.data, status);
  al_buf_append(&o, "", 1);
  res->output = o.data, res->output_len = o.len - 1;
  o.data = NULL;
  rc = 0;
done:
  for (int i = 0; i < 2; i++) {
    if (out[i] >= 0) close(out[i]);
    if (ver[i] >= 0) close(ver[i]);
    if (st[i] >= 0) close(st[i]);
  }
  if (fds[0] >= 0) close(fds[0]);
  if (fds[4] >= 0) close(fds[4]);
  if (pidfd >= 0) close(pidfd);
  if (init_fd >= 0) close(init_fd);
  al_buf_free(&o), al_buf_free(&v), al_buf_free(&s);
  if (unsafe) nftw(tmpdir, nftw_rm, 16, FTW_DEPTH | FTW_PHYS);
  return rc;
}
