/* The sandbox against hostile programs: each gets the right verdict, none
 * escapes (no file written outside, no secret read, no connection made, no
 * process left), and the test process (alab) survives every one. Plus the
 * refusal when namespaces cannot be created, and --unsafe-no-sandbox. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "alab/sandbox.h"
#include "test.h"

static al_sandbox *sb_open(double wall, int max_procs, int unsafe) {
  al_sandbox_config c = al_sandbox_defaults();
  c.wall_s = wall;
  c.max_procs = max_procs;
  c.unsafe_no_sandbox = unsafe;
  c.max_output = 1 << 16;
  al_sandbox *sb = NULL;
  al_err e;
  if (al_sandbox_open(&c, &sb, &e)) {
    fprintf(stderr, "cannot open the sandbox: %s\n", e.msg);
    exit(1);
  }
  return sb;
}

/* Runs prog; checks status (and the limit or error type when given). */
static al_sb_result run_expect(al_sandbox *sb, const char *name, const char *prog, al_sb_status want, const char *detail) {
  al_sb_result r;
  al_err e;
  int rc = al_sandbox_run(sb, prog, &r, &e);
  CHECK(rc == 0, "%s: run failed: %s", name, e.msg);
  if (rc) return (al_sb_result){0};
  const char *got = r.status == AL_SB_KILLED ? r.limit : r.error_type;
  CHECK(r.status == want && (!detail || !strcmp(got, detail)), "%s: got %s (%s), want %s (%s); output: %.300s", name,
        al_sb_status_name(r.status), got, al_sb_status_name(want), detail ? detail : "", r.output);
  return r;
}

static int file_exists(const char *p) { return access(p, F_OK) == 0; }

/* Processes whose command line contains marker (NUL bytes read as spaces). */
static int count_procs_with(const char *marker) {
  DIR *d = opendir("/proc");
  struct dirent *de;
  int n = 0;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
    char path[300], buf[4096];
    snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) continue;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0) continue;
    for (ssize_t i = 0; i < k; i++)
      if (!buf[i]) buf[i] = ' ';
    buf[k] = 0;
    if (strstr(buf, marker)) n++;
  }
  if (d) closedir(d);
  return n;
}

int main(void) {
  char *tmp = test_tmpdir("sandbox");
  const char *src = getenv("ALAB_SRC") ? getenv("ALAB_SRC") : ".";
  setenv("ALAB_API_KEY", "sk-canary-7f3a9d", 1);
  setenv("OPENAI_API_KEY", "sk-canary-7f3a9d", 1);
  /* a descriptor alab holds open without close-on-exec must not reach the program */
  char secret[600];
  snprintf(secret, sizeof secret, "%s/secret.txt", tmp);
  FILE *sf = fopen(secret, "w");
  fputs("sk-canary-7f3a9d\n", sf);
  fclose(sf);
  int leaked = open(secret, O_RDONLY);

  /* ordinary and hostile programs get 3 s (a loaded machine starts an interpreter slowly); the timeouts 1 s */
  al_sandbox *sb = sb_open(3.0, 1, 0), *sb1 = sb_open(1.0, 1, 0);
  al_sb_result r;
  char prog[4096], path[1200];

  /* ordinary programs */
  r = run_expect(sb, "pass", "def f(x):\n    return x + 1\nassert f(1) == 2\nprint('ok')\n", AL_SB_PASSED, NULL);
  CHECK(r.output && !strcmp(r.output, "ok\n"), "pass: output '%s'", r.output);
  al_sb_result_free(&r);
  r = run_expect(sb, "assert", "assert 1 + 1 == 3\n", AL_SB_FAILED, "AssertionError");
  CHECK(r.output && strstr(r.output, "AssertionError"), "assert: the traceback is in the output: %s", r.output);
  al_sb_result_free(&r);
  r = run_expect(sb, "zero", "x = 1 / 0\n", AL_SB_ERROR, "ZeroDivisionError"), al_sb_result_free(&r);
  r = run_expect(sb, "syntax", "def f(:\n", AL_SB_ERROR, "SyntaxError"), al_sb_result_free(&r);
  r = run_expect(sb, "exit", "import os\nos._exit(0)\n", AL_SB_ERROR, "exit 0"), al_sb_result_free(&r);
  r = run_expect(sb, "pytest approx", "from pytest import approx\nassert 0.1 + 0.2 == approx(0.3)\n", AL_SB_PASSED, NULL);
  al_sb_result_free(&r);
  r = run_expect(sb, "threads", "import threading\nt = threading.Thread(target=print, args=('t',))\nt.start()\nt.join()\n",
                 AL_SB_PASSED, NULL);
  al_sb_result_free(&r);
  r = run_expect(sb, "fds", "import os\nprint(sorted(os.listdir('/proc/self/fd')))\n", AL_SB_PASSED, NULL);
  CHECK(r.output && strstr(r.output, "['0', '1', '2', '3', '4']"), "only stdin, out, err, verdict (4: listdir's own): %s",
        r.output);
  al_sb_result_free(&r);

  /* time */
  double t = al_now();
  r = run_expect(sb1, "infinite loop", "while True:\n    pass\n", AL_SB_TIMEOUT, NULL), al_sb_result_free(&r);
  r = run_expect(sb1, "sleep", "import time\ntime.sleep(100)\n", AL_SB_TIMEOUT, NULL);
  CHECK(r.wall_s >= 1.0 && r.wall_s < 2.0, "sleep: killed at the wall limit (%.2f s)", r.wall_s);
  al_sb_result_free(&r);
  CHECK(al_now() - t < 4.5, "two 1-second timeouts took %.2f s", al_now() - t);
  al_sandbox_close(sb1);

  /* processes */
  r = run_expect(sb, "fork bomb", "import os\nwhile True:\n    os.fork()\n", AL_SB_KILLED, "processes"), al_sb_result_free(&r);
  r = run_expect(sb, "subprocess", "import subprocess\nsubprocess.run(['/bin/true'])\n", AL_SB_KILLED, "processes");
  al_sb_result_free(&r);

  /* memory, output, files */
  r = run_expect(sb, "huge alloc", "b = bytearray(10**11)\n", AL_SB_KILLED, "memory"), al_sb_result_free(&r);
  t = al_now();
  r = run_expect(sb, "1 GB of output", "import sys\nfor i in range(1 << 20):\n    sys.stdout.write('x' * 1024)\n",
                 AL_SB_KILLED, "output");
  CHECK(r.output_len == 1 << 16, "output kept: %zu bytes", r.output_len);
  CHECK(al_now() - t < 1.0, "1 GB of output stopped after %.2f s", al_now() - t);
  al_sb_result_free(&r);
  r = run_expect(sb, "big file", "open('/tmp/big', 'wb').write(b'x' * (20 << 20))\n", AL_SB_KILLED, "file size");
  al_sb_result_free(&r);

  /* writes outside the program's own tmpfs */
  const char *home = getenv("HOME") ? getenv("HOME") : "/root";
  const char *targets[3] = {home, "/tmp", src};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/alab-sandbox-escape-%d-%d", targets[i], (int)getpid(), i);
    snprintf(prog, sizeof prog, "open('%s', 'w').write('escaped')\n", path);
    r = run_expect(sb, path, prog, i == 1 ? AL_SB_PASSED : AL_SB_ERROR, NULL); /* /tmp is its own tmpfs */
    al_sb_result_free(&r);
    CHECK(!file_exists(path), "a write reached %s", path);
    unlink(path);
  }
  snprintf(prog, sizeof prog, "open('%s', 'a').write('escaped')\n", secret); /* the test's own directory */
  r = run_expect(sb, "append to a host file", prog, AL_SB_ERROR, "FileNotFoundError"), al_sb_result_free(&r);

  /* secrets */
  r = run_expect(sb, "/etc/shadow", "print(open('/etc/shadow').read())\n", AL_SB_ERROR, "FileNotFoundError");
  CHECK(r.output && !strstr(r.output, "root:"), "shadow read: %s", r.output);
  al_sb_result_free(&r);
  r = run_expect(sb, "environment",
                 "import os, glob\nprint(dict(os.environ))\n"
                 "for p in glob.glob('/proc/*/environ'):\n"
                 "    try:\n        print(p, open(p, 'rb').read())\n    except OSError as e:\n        print(p, e)\n",
                 AL_SB_PASSED, NULL);
  CHECK(r.output && !strstr(r.output, "sk-canary") && strstr(r.output, "/proc/1/environ"), "environment: %s", r.output);
  al_sb_result_free(&r);

  /* network: a listener on the host's loopback sees no connection */
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  CHECK(bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 8) == 0 &&
            getsockname(ls, (struct sockaddr *)&a, &al) == 0, "listener");
  snprintf(prog, sizeof prog, "import socket\ns = socket.create_connection(('127.0.0.1', %d), timeout=0.5)\ns.sendall(b'hi')\n",
           ntohs(a.sin_port));
  r = run_expect(sb, "socket", prog, AL_SB_ERROR, "ConnectionRefusedError"), al_sb_result_free(&r);
  int conn = accept(ls, NULL, NULL);
  CHECK(conn < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "the listener saw a connection");
  if (conn >= 0) close(conn);
  close(ls);

  /* killing its parent, and alab */
  snprintf(prog, sizeof prog,
           "import os, signal\n"
           "for pid in (os.getppid(), 1, %d):\n"
           "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
           "print('survived')\n",
           (int)getpid());
  r = run_expect(sb, "kill parent", prog, AL_SB_PASSED, NULL);
  CHECK(r.output && strstr(r.output, "survived"), "kill parent: %s", r.output);
  al_sb_result_free(&r);
  al_sandbox_close(sb);

  /* a daemon that outlives the program (processes allowed) is killed with the sandbox */
  sb = sb_open(3.0, 4, 0);
  r = run_expect(sb, "daemon",
                 "import os, time\n"
                 "r, w = os.pipe()\n"
                 "if os.fork() == 0:\n"
                 "    os.setsid()\n"
                 "    if os.fork() == 0:\n"
                 "        os.write(w, b'up')\n"
                 "        os.execv('/bin/sleep', ['sleep', '977.25'])\n"
                 "    os._exit(0)\n"
                 "print('daemon', os.read(r, 2).decode())\n",
                 AL_SB_PASSED, NULL);
  CHECK(r.output && strstr(r.output, "daemon up"), "the daemon started: %s", r.output);
  al_sb_result_free(&r);
  CHECK(count_procs_with("sleep 977.25") == 0, "the daemon outlived the run");
  al_sandbox_close(sb);

  /* memory: a bomb that touches what it takes (128 MiB, for time) */
  al_sandbox_config c = al_sandbox_defaults();
  al_err e;
  c.mem_mb = 128, c.wall_s = 10;
  CHECK_OK(al_sandbox_open(&c, &sb, &e), e);
  if (sb) {
    r = run_expect(sb, "memory bomb", "a = []\nwhile True:\n    a.append(bytearray(10**7))\n", AL_SB_KILLED, "memory");
    al_sb_result_free(&r);
    al_sandbox_close(sb);
  }

  /* CPU: a limit below the wall limit (the wall limit is far, for loaded machines) */
  c = al_sandbox_defaults();
  c.wall_s = 10, c.cpu_s = 1;
  CHECK_OK(al_sandbox_open(&c, &sb, &e), e);
  if (sb) {
    r = run_expect(sb, "cpu", "while True:\n    pass\n", AL_SB_KILLED, "cpu");
    al_sb_result_free(&r);
    al_sandbox_close(sb);
  }

  /* many at once, in input order */
  const char *progs[12];
  for (int i = 0; i < 12; i++) progs[i] = i % 3 == 0 ? "assert False\n" : i % 3 == 1 ? "x = 1\n" : "1/0\n";
  sb = sb_open(3.0, 1, 0);
  al_sb_result many[12];
  CHECK_OK(al_sandbox_run_many(sb, 12, progs, many, 4, &e), e);
  for (int i = 0; i < 12; i++) {
    al_sb_status want = i % 3 == 0 ? AL_SB_FAILED : i % 3 == 1 ? AL_SB_PASSED : AL_SB_ERROR;
    CHECK(many[i].status == want, "run_many %d: %s", i, al_sb_status_name(many[i].status));
    al_sb_result_free(&many[i]);
  }
  al_sandbox_close(sb);

  /* where bubblewrap cannot create namespaces: a refusal that names the way out */
  snprintf(path, sizeof path, "%s/fake-bwrap", tmp);
  FILE *fb = fopen(path, "w");
  fputs("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n", fb);
  fclose(fb);
  chmod(path, 0755);
  c = al_sandbox_defaults();
  c.bwrap = path;
  CHECK_FAILS_WITH(al_sandbox_open(&c, &sb, &e), e, "--unsafe-no-sandbox");
  CHECK(strstr(e.msg, "No permissions"), "bubblewrap's own words: %s", e.msg);
  c.bwrap = "/nonexistent/bwrap";
  CHECK_FAILS_WITH(al_sandbox_open(&c, &sb, &e), e, "bubblewrap not found");
  c.wall_s = 0;
  CHECK_FAILS_WITH(al_sandbox_open(&c, &sb, &e), e, "wall_s");

  /* unsafe: rlimits and the process filter still hold, the directory goes */
  c = al_sandbox_defaults();
  c.bwrap = path, c.unsafe_no_sandbox = 1, c.wall_s = 2;
  CHECK_OK(al_sandbox_open(&c, &sb, &e), e);
  if (sb) {
    r = run_expect(sb, "unsafe pass", "import os\nprint(os.getcwd())\nopen('f', 'w').write('x')\n", AL_SB_PASSED, NULL);
    char cwd[300] = "";
    if (r.output) sscanf(r.output, "%299s", cwd);
    CHECK(strncmp(cwd, "/tmp/alab-sandbox-", 18) == 0 && !file_exists(cwd), "unsafe: its directory %s is removed", cwd);
    al_sb_result_free(&r);
    r = run_expect(sb, "unsafe env", "import os\nprint(dict(os.environ))\n", AL_SB_PASSED, NULL);
    CHECK(r.output && !strstr(r.output, "sk-canary"), "unsafe env: %s", r.output);
    al_sb_result_free(&r);
    r = run_expect(sb, "unsafe fork bomb", "import os\nwhile True:\n    os.fork()\n", AL_SB_KILLED, "processes");
    al_sb_result_free(&r);
    r = run_expect(sb, "unsafe loop", "while True:\n    pass\n", AL_SB_TIMEOUT, NULL), al_sb_result_free(&r);
    al_sandbox_close(sb);
  }

  /* nothing left behind: no child of ours, the descriptor still ours */
  CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "a child process was left");
  CHECK(fcntl(leaked, F_GETFD) >= 0, "our descriptor");
  close(leaked);
  free(tmp);
  return test_summary();
}
