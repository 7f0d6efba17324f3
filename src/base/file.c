/* Files: whole reads, atomic writes (temp + fsync + rename), directories, mmap. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "alab/base.h"

int al_read_file(const char *path, char **data, size_t *len, al_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return al_fail(err, "%s: cannot open: %s", path, strerror(errno));
  al_buf b = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) al_buf_append(&b, chunk, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    al_buf_free(&b);
    return al_fail(err, "%s: read error", path);
  }
  if (!b.data) al_buf_append(&b, "", 0);
  *data = b.data;
  if (len) *len = b.len;
  return 0;
}

int al_atomic_open(al_atomic *a, const char *path, al_err *err) {
  a->path = al_strdup(path);
  size_t n = strlen(path) + 32;
  a->tmp = al_malloc(n);
  snprintf(a->tmp, n, "%s.tmp.%ld", path, (long)getpid());
  a->f = fopen(a->tmp, "wb");
  if (!a->f) {
    int rc = al_fail(err, "%s: cannot create: %s", a->tmp, strerror(errno));
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    return rc;
  }
  return 0;
}

/* The crash-consistency test hook: with ALAB_TEST_KILL_AT_WRITE=N in the
 * environment, the process kills itself with SIGKILL just before its Nth
 * rename into place (counted from 1 over the process), as a kill -9 at that
 * instant would. tests/test_train_kill.c kills a run at every write of its
 * checkpoints this way and checks that --resume ends byte-identical. */
static void kill_at_write_for_tests(void) {
  static int renames;
  const char *n = getenv("ALAB_TEST_KILL_AT_WRITE");
  if (n && ++renames == atoi(n)) raise(SIGKILL);
}

static void atomic_release(al_atomic *a) {
  free(a->path);
  free(a->tmp);
  a->path = a->tmp = NULL;
  a->f = NULL;
}

int al_atomic_commit(al_atomic *a, al_err *err) {
  int bad = fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0;
  int e = errno;
  if (fclose(a->f) != 0) bad = 1;
  if (bad) {
    unlink(a->tmp);
    int rc = al_fail(err, "%s: write failed: %s", a->path, strerror(e));
    atomic_release(a);
    return rc;
  }
  kill_at_write_for_tests();
  if (rename(a->tmp, a->path) != 0) {
    int rc = al_fail(err, "%s: cannot rename into place: %s", a->path, strerror(errno));
    unlink(a->tmp);
    atomic_release(a);
    return rc;
  }
  atomic_release(a);
  return 0;
}

void al_atomic_abort(al_atomic *a) {
  if (a->f) fclose(a->f);
  if (a->tmp) unlink(a->tmp);
  atomic_release(a);
}

int al_write_file_atomic(const char *path, const void *data, size_t len, al_err *err) {
  al_atomic a;
  if (al_atomic_open(&a, path, err)) return -1;
  if (len && fwrite(data, 1, len, a.f) != len) {
    al_atomic_abort(&a);
    return al_fail(err, "%s: write failed", path);
  }
  return al_atomic_commit(&a, err);
}

/* "NAME.tmp.PID" with PID a number: the temp file of al_atomic_open. */
static long temp_owner(const char *name) {
  const char *t = NULL;
  for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp.")) t = p;
  if (!t || t == name || !t[5] || strspn(t + 5, "0123456789") != strlen(t + 5)) return 0;
  return strtol(t + 5, NULL, 10);
}

int al_remove_stale_temps(const char *dir, al_err *err) {
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? 0 : al_fail(err, "%s: cannot list: %s", dir, strerror(errno));
  int removed = 0, rc = 0;
  for (struct dirent *e; !rc && (e = readdir(d));) {
    long pid = temp_owner(e->d_name);
    /* a live process (kill(pid, 0) succeeds or is only refused) may still be writing it */
    if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char *path = al_path_join(dir, e->d_name);
    if (unlink(path) == 0) removed++;
    else if (errno != ENOENT) rc = al_fail(err, "%s: cannot remove a stale temp file: %s", path, strerror(errno));
    free(path);
  }
  closedir(d);
  return rc ? rc : removed;
}

int al_mkdir_p(const char *path, al_err *err) {
  char *p = al_strdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      int rc = al_fail(err, "%s: cannot create directory: %s", p, strerror(errno));
      free(p);
      return rc;
    }
    *s = '/';
  }
  int rc = 0;
  if (mkdir(p, 0777) != 0 && errno != EEXIST) rc = al_fail(err, "%s: cannot create directory: %s", p, strerror(errno));
  struct stat st;
  if (!rc && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) rc = al_fail(err, "%s: exists and is not a directory", p);
  free(p);
  return rc;
}

int al_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

char *al_path_join(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  char *s = al_malloc(na + nb + 2);
  memcpy(s, a, na);
  size_t k = na;
  if (na && a[na - 1] != '/') s[k++] = '/';
  memcpy(s + k, b, nb + 1);
  return s;
}

int al_map_file(const char *path, al_map *m, al_err *err) {
  m->data = NULL;
  m->len = 0;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return al_fail(err, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return al_fail(err, "%s: cannot stat: %s", path, strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return al_fail(err, "%s: not a regular file", path);
  }
  m->len = (size_t)st.st_size;
  if (m->len) {
    void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      close(fd);
      return al_fail(err, "%s: cannot map: %s", path, strerror(errno));
    }
    m->data = p;
  }
  close(fd);
  return 0;
}

void al_unmap(al_map *m) {
  if (m->data) munmap(m->data, m->len);
  m->data = NULL;
  m->len = 0;
}
