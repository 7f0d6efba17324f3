/* What the sweep tests (test_mpi_sweep*.c) share: running alab with and
 * without the launcher, and comparing two run directories' results and
 * metrics in every value but wall-clock times (and the directory's own path,
 * which records name). The test's main fills bin and mpirun_cmd
 * (mpi_test_init). */
#ifndef ALAB_TESTS_MPI_RESULTS_H
#define ALAB_TESTS_MPI_RESULTS_H
#include <jansson.h>
#include "mpi_procs.h"

static const char *bin;
static char mpirun_cmd[512];

/* Fills bin and mpirun_cmd; every model on one thread (OMP_NUM_THREADS=1, passed to the ranks); the test's
 * scratch directory. */
static inline char *mpi_results_init(const char *name) {
  bin = mpi_test_init(mpirun_cmd, sizeof mpirun_cmd);
  setenv("OMP_NUM_THREADS", "1", 1);
  strcat(mpirun_cmd, " -x OMP_NUM_THREADS");
  return test_tmpdir(name);
}

/* `[mpirun -n R] alab ARGS --out dir`; R = 0: no launcher. Returns the exit status; *out its output. */
static inline int run(int R, const char *args, const char *dir, char **out) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s %s --out '%s'", bin, args, dir);
  return mpi_run(mpirun_cmd, R, cmd, out);
}

/* Wall-clock times differ run to run: "seconds", and every key ending in "_s" ("train_s", "tokens_per_s") or
 * "_seconds" ("rl_seconds"). */
static inline int is_time(const char *key) {
  size_t n = strlen(key);
  return !strcmp(key, "seconds") || (n > 2 && !strcmp(key + n - 2, "_s")) || (n > 8 && !strcmp(key + n - 8, "_seconds"));
}

/* where = head + where, cut to size. */
static inline void prepend(char *where, size_t size, const char *head) {
  size_t h = strlen(head), n = strlen(where);
  if (h + n + 1 > size) n = size > h + 1 ? size - h - 1 : 0;
  if (h >= size) return;
  memmove(where + h, where, n);
  memcpy(where, head, h);
  where[h + n] = 0;
}

/* The two run directories compared (check_same): a path inside one is the same path inside the other. */
static const char *dir_one, *dir_many;

/* Whether x and y are equal where each of dir_one in x stands for dir_many in y. */
static inline int same_text(const char *x, const char *y) {
  size_t n1 = dir_one ? strlen(dir_one) : 0, n2 = dir_many ? strlen(dir_many) : 0;
  while (*x || *y) {
    if (n1 && !strncmp(x, dir_one, n1) && !strncmp(y, dir_many, n2)) x += n1, y += n2;
    else if (*x++ != *y++) return 0;
  }
  return 1;
}

/* Whether a and b are equal but for time keys and the run directory's path; where: the path of the first difference. */
static inline int same_json(json_t *a, json_t *b, char *where, size_t size) {
  if (json_is_object(a) && json_is_object(b)) {
    const char *k;
    json_t *v;
    if (json_object_size(a) != json_object_size(b)) return snprintf(where, size, "(key count)"), 0;
    json_object_foreach(a, k, v) {
      if (is_time(k)) continue;
      if (!same_json(v, json_object_get(b, k), where, size)) {
        char head[256];
        snprintf(head, sizeof head, ".%s", k);
        prepend(where, size, head);
        return 0;
      }
    }
    return 1;
  }
  if (json_is_array(a) && json_is_array(b)) {
    if (json_array_size(a) != json_array_size(b)) return snprintf(where, size, "(array length)"), 0;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same_json(json_array_get(a, i), json_array_get(b, i), where, size)) {
        char head[32];
        snprintf(head, sizeof head, "[%zu]", i);
        prepend(where, size, head);
        return 0;
      }
    return 1;
  }
  if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
  if (json_is_string(a) && json_is_string(b)) return same_text(json_string_value(a), json_string_value(b));
  return json_equal(a, b);
}

/* dir/name as JSON: the file, or (lines) its lines as an array sorted by their
 * text without time keys: metrics are recorded as models finish, in any order. */
static inline json_t *load(const char *dir, const char *name, int lines) {
  char *p = al_path_join(dir, name), *text = NULL;
  size_t len = 0;
  json_t *j = NULL;
  if (!al_read_file(p, &text, &len, NULL)) {
    if (!lines) j = json_loads(text, 0, NULL);
    else {
      j = json_array();
      for (char *s = strtok(text, "\n"); s; s = strtok(NULL, "\n")) json_array_append_new(j, json_loads(s, 0, NULL));
    }
  }
  free(p), free(text);
  if (!lines || !j) return j;
  /* sort by the record's text without time keys (insertion sort: tens of lines) */
  size_t n = json_array_size(j);
  char **keys = calloc(n, sizeof *keys);
  json_t **recs = calloc(n, sizeof *recs);
  for (size_t i = 0; i < n; i++) {
    recs[i] = json_incref(json_array_get(j, i));
    json_t *c = json_deep_copy(recs[i]);
    const char *k;
    void *tmp;
    json_t *v;
    json_object_foreach_safe(c, tmp, k, v) if (is_time(k)) json_object_del(c, k);
    keys[i] = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(c);
    for (size_t m = i; m > 0 && strcmp(keys[m - 1], keys[m]) > 0; m--) {
      char *tk = keys[m];
      keys[m] = keys[m - 1], keys[m - 1] = tk;
      json_t *tr = recs[m];
      recs[m] = recs[m - 1], recs[m - 1] = tr;
    }
  }
  json_array_clear(j);
  for (size_t i = 0; i < n; i++) json_array_append_new(j, recs[i]), free(keys[i]);
  free(keys), free(recs);
  return j;
}

static inline void check_same(const char *what, const char *one, const char *many, int R, const char *name,
                              int lines) {
  json_t *a = load(one, name, lines), *b = load(many, name, lines);
  dir_one = one, dir_many = many;
  char where[512] = "";
  CHECK(a && b && same_json(a, b, where, sizeof where), "%s: %s under mpirun -n %d differs from one process at %s", what,
        name, R, a && b ? where : "(missing)");
  json_decref(a), json_decref(b);
}

static inline void test_same_results(const char *tmp, const char *what, const char *args, const char *results,
                                     int metrics) {
  char name[64];
  snprintf(name, sizeof name, "%s1", what);
  char *one = al_path_join(tmp, name);
  double t0 = al_now();
  CHECK(run(0, args, one, NULL) == 0, "%s: one process", what);
  printf("%s: one process %.1f s", what, al_now() - t0);
  for (int R = 2; R <= 3; R++) {
    snprintf(name, sizeof name, "%s%d", what, R * 10);
    char *dir = al_path_join(tmp, name);
    t0 = al_now();
    CHECK(run(R, args, dir, NULL) == 0, "%s: mpirun -n %d", what, R);
    printf(", %d ranks %.1f s", R, al_now() - t0);
    check_same(what, one, dir, R, results, 0);
    if (metrics) check_same(what, one, dir, R, "metrics.jsonl", 1);
    free(dir);
  }
  printf("\n");
  free(one);
}
#endif
