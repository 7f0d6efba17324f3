/* The run directory of an experiment (config.json, metrics.jsonl,
 * results.json) and per-iteration statistics across seeds. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dist.h"
#include "alab/exp.h"
#include "alab/json.h"

int al_run_open(al_run *run, const char *dir, al_err *err) {
  memset(run, 0, sizeof *run);
  if (al_mkdir_p(dir, err)) return al_fail_prefix(err, "run directory");
  run->dir = al_strdup(dir);
  run->follower = al_dist_rank(al_dist_current()) != 0;
  char *path = al_run_path(run, "metrics.jsonl");
  int rc = al_atomic_open(&run->metrics, path, err);
  free(path);
  if (rc) {
    free(run->dir);
    run->dir = NULL;
    return -1;
  }
  run->open = 1;
  return 0;
}

char *al_run_path(const al_run *run, const char *name) { return al_path_join(run->dir, name); }

/* Ten significant digits and a one-space indent: results hold every seed's
 * value, which at full precision and two spaces doubles the file's size. */
int al_run_save_json(const al_run *run, const char *name, const json_t *j, al_err *err) {
  if (run->follower) return 0;
  char *text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
  if (!text) return al_fail(err, "%s/%s: cannot encode JSON", run->dir, name);
  char *path = al_run_path(run, name);
  size_t len = strlen(text);
  text[len] = '\n'; /* over the NUL: the file ends in a newline */
  int rc = al_write_file_atomic(path, text, len + 1, err);
  free(path);
  free(text);
  return rc;
}

int al_run_metric(al_run *run, json_t *rec, al_err *err) {
  char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
  json_decref(rec);
  if (!line) return al_fail(err, "metrics.jsonl: cannot encode a record");
  if (run->sweep_lines || run->follower) {
#pragma omp critical(al_run_sweep_lines)
    if (run->sweep_lines) al_buf_printf(run->sweep_lines, "%s\n", line);
    free(line);
    return 0;
  }
  int bad = fprintf(run->metrics.f, "%s\n", line) < 0 || fflush(run->metrics.f) != 0;
  free(line);
  if (bad) return al_fail(err, "%s: write failed: %s", run->metrics.tmp, strerror(errno));
  return 0;
}

int al_run_close(al_run *run, al_err *err) {
  int rc = 0;
  if (run->open && run->follower) al_atomic_abort(&run->metrics);
  else if (run->open) rc = al_atomic_commit(&run->metrics, err);
  run->open = 0;
  free(run->dir);
  run->dir = NULL;
  return rc;
}

void al_run_abort(al_run *run) {
  if (run->open) al_atomic_abort(&run->metrics);
  run->open = 0;
  free(run->dir);
  run->dir = NULL;
}

/* Measured (bench/bench_schedule.sh, bench/README.md): two models of one
 * size on two threads finished sooner side by side, one thread each, than
 * one after another on both threads, at every size measured (137k, 0.9M and
 * 11M parameters: 1.03-1.35x on a loaded machine), so the choice does not
 * depend on the model's size; with a single model the other threads would
 * only idle, so it gets them all. Between 2 jobs and nthreads - 1 on more
 * than 2 cores the alternative (jobs one after another, each on all
 * threads) was not measured; side by side is kept. */
int al_job_threads(int njobs, int nthreads) { return njobs == 1 && nthreads > 1 ? nthreads : 1; }

void al_series_init(al_series_stats *s, int iters, int seeds, int with_closed_form) {
  s->iters = iters;
  s->seeds = seeds;
  s->vals = al_calloc((size_t)iters * seeds, sizeof(double));
  s->stat = al_calloc(iters, sizeof(al_stat));
  s->closed_form = with_closed_form ? al_calloc(iters, sizeof(double)) : NULL;
}

void al_series_finish(al_series_stats *s) {
  for (int i = 0; i < s->iters; i++) s->stat[i] = al_stat_of(s->vals + (size_t)i * s->seeds, s->seeds);
}

void al_series_free(al_series_stats *s) {
  free(s->vals);
  free(s->stat);
  free(s->closed_form);
  memset(s, 0, sizeof *s);
}

/* JSON has no NaN or infinity: such values are written as null. */

json_t *al_series_json(const al_series_stats *s) {
  json_t *arr = json_array();
  for (int i = 0; i < s->iters; i++) {
    const al_stat *st = &s->stat[i];
    json_t *o = json_object(), *seeds = json_array();
    json_object_set_new(o, "iter", json_integer(i + 1));
    json_object_set_new(o, "mean", al_json_real_or_null(st->mean));
    json_object_set_new(o, "sd", al_json_real_or_null(st->sd));
    json_object_set_new(o, "lo", al_json_real_or_null(st->lo));
    json_object_set_new(o, "hi", al_json_real_or_null(st->hi));
    json_object_set_new(o, "closed_form", s->closed_form ? al_json_real_or_null(s->closed_form[i]) : json_null());
    for (int k = 0; k < s->seeds; k++)
      json_array_append_new(seeds, al_json_real_or_null(s->vals[(size_t)i * s->seeds + k]));
    json_object_set_new(o, "seeds", seeds);
    json_array_append_new(arr, o);
  }
  return arr;
}

double al_series_max_rel_dev(const al_series_stats *s) {
  if (!s->closed_form) return NAN;
  double m = 0;
  for (int i = 0; i < s->iters; i++) {
    double c = s->closed_form[i], dev = c != 0 ? fabs(s->stat[i].mean / c - 1) : fabs(s->stat[i].mean);
    if (!(dev <= m)) m = dev; /* NaN propagates */
  }
  return m;
}

/* Splits s at commas and hands each item to parse(); shared by both lists. */
static int parse_list(const char *s, void *out, size_t size, int max, const char *what, al_err *err,
                      int (*parse)(const char *item, void *dst)) {
  if (!s || !*s) return al_fail(err, "%s: empty list", what);
  int n = 0;
  const char *p = s, *at;
  size_t len;
  while (al_comma_next(&p, &at, &len)) {
    char item[64];
    if (len == 0 || len >= sizeof item) return al_fail(err, "%s: bad item '%.*s' in '%s'", what, (int)len, at, s);
    if (n >= max) return al_fail(err, "%s: more than %d values in '%s'", what, max, s);
    memcpy(item, at, len);
    item[len] = 0;
    if (parse(item, (char *)out + (size_t)n * size))
      return al_fail(err, "%s: '%s' is not %s", what, item, size == sizeof(int) ? "an integer" : "a finite number");
    n++;
  }
  return n;
}

static int parse_int(const char *item, void *dst) {
  char *end;
  errno = 0;
  long x = strtol(item, &end, 10);
  if (errno || *end || end == item || x < -2147483647L || x > 2147483647L) return -1;
  *(int *)dst = (int)x;
  return 0;
}

static int parse_double(const char *item, void *dst) {
  char *end;
  errno = 0;
  double x = strtod(item, &end);
  if (errno || *end || end == item || !isfinite(x)) return -1;
  *(double *)dst = x;
  return 0;
}

int al_parse_int_list(const char *s, int *out, int max, const char *what, al_err *err) {
  return parse_list(s, out, sizeof(int), max, what, err, parse_int);
}

int al_parse_double_list(const char *s, double *out, int max, const char *what, al_err *err) {
  return parse_list(s, out, sizeof(double), max, what, err, parse_double);
}
