/* File lists: a comma-separated list of paths and POSIX glob(3) patterns,
 * each pattern's matches sorted by strcmp (byte order, whatever the locale),
 * the list's own order kept. */
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include "alab/data.h"

static int by_bytes(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void push_path(al_paths *p, const char *path) {
  p->paths = al_realloc(p->paths, (p->n + 1) * sizeof *p->paths);
  p->paths[p->n++] = al_strdup(path);
}

/* Appends the matches of one pattern, sorted. */
static int add_pattern(al_paths *p, const char *pat, al_err *err) {
  glob_t g;
  int rc = glob(pat, GLOB_NOSORT, NULL, &g);
  if (rc == GLOB_NOMATCH) return al_fail(err, "'%s': no file matches this pattern", pat);
  if (rc == GLOB_ABORTED) return al_fail(err, "'%s': cannot read a directory while matching this pattern", pat);
  if (rc != 0) return al_fail(err, "'%s': cannot match this pattern (out of memory)", pat);
  qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, by_bytes);
  for (size_t i = 0; i < g.gl_pathc; i++) push_path(p, g.gl_pathv[i]);
  globfree(&g);
  return 0;
}

int al_paths_expand(al_paths *p, const char *spec, al_err *err) {
  memset(p, 0, sizeof *p);
  const char *s = spec;
  int rc = 0;
  while (!rc) {
    const char *comma = strchr(s, ','), *e = comma ? comma : s + strlen(s);
    if (e == s) {
      rc = al_fail(err, "'%s': empty entry in the list of files (two commas, or one at an end?)", spec);
      break;
    }
    char *part = al_malloc(e - s + 1);
    memcpy(part, s, e - s);
    part[e - s] = 0;
    if (strpbrk(part, "*?[")) rc = add_pattern(p, part, err);
    else push_path(p, part);
    free(part);
    if (!comma) break;
    s = comma + 1;
  }
  if (rc) al_paths_free(p);
  return rc;
}

void al_paths_free(al_paths *p) {
  for (int i = 0; i < p->n; i++) free(p->paths[i]);
  free(p->paths);
  memset(p, 0, sizeof *p);
}
