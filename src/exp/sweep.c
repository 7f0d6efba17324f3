/* Sweeps across the ranks of an MPI job (include/alab/sweep.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dist.h"
#include "alab/sweep.h"

typedef struct {
  void *p;
  unsigned char *baseline; /* p's bytes when shared */
  size_t bytes;
} shared_array;

struct al_sweep {
  const al_dist *d; /* NULL when one process */
  int njobs, rank, size;
  shared_array *arrays;
  int narrays;
  json_t **json;
  al_run *run;
  al_buf lines; /* a follower's metrics lines */
};

al_sweep *al_sweep_begin(int njobs, al_run *run) {
  al_sweep *s = al_calloc(1, sizeof *s);
  const al_dist *d = al_dist_current();
  s->njobs = njobs, s->rank = al_dist_rank(d), s->size = al_dist_size(d);
  if (s->size == 1) return s;
  s->d = d;
  al_dist_set_current(NULL); /* a job on this thread that sweeps runs whole here */
  s->run = run;
  if (run && run->follower) run->sweep_lines = &s->lines;
  return s;
}

int al_sweep_mine(const al_sweep *s, int j) { return j % s->size == s->rank; }

void al_sweep_share(al_sweep *s, void *p, size_t bytes) {
  if (!s->d || !bytes) return;
  s->arrays = al_realloc(s->arrays, sizeof *s->arrays * (size_t)(s->narrays + 1));
  shared_array *a = &s->arrays[s->narrays++];
  a->p = p, a->bytes = bytes;
  a->baseline = al_malloc(bytes);
  memcpy(a->baseline, p, bytes);
}

void al_sweep_share_json(al_sweep *s, json_t **slots) {
  if (s->d) s->json = slots;
}

/* slot j from its job's rank to every rank: length, then compact JSON text. */
static int send_json(al_sweep *s, int j, al_err *err) {
  int owner = j % s->size;
  char *text = NULL;
  long len = 0;
  if (s->rank == owner) {
    text = s->json[j] ? json_dumps(s->json[j], JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17) |
                                                   JSON_ENCODE_ANY)
                      : NULL;
    len = text ? (long)strlen(text) + 1 : 0;
  }
  al_dist_bcast(s->d, &len, sizeof len, owner);
  if (s->rank != owner && len) text = al_malloc((size_t)len);
  if (len) al_dist_bcast(s->d, text, (size_t)len, owner);
  int rc = 0;
  if (s->rank != owner) {
    json_decref(s->json[j]);
    s->json[j] = NULL;
    json_error_t je;
    if (len && !(s->json[j] = json_loads(text, JSON_DECODE_ANY, &je)))
      rc = al_fail(err, "sweep: job %d's results from rank %d are not JSON: %s", j, owner, je.text);
  }
  free(text);
  return rc;
}

/* Each follower's metrics lines, in rank order, appended by rank 0. */
static int send_lines(al_sweep *s, al_err *err) {
  int rc = 0;
  for (int r = 1; r < s->size; r++) {
    long len = s->rank == r ? (long)s->lines.len : 0;
    al_dist_bcast(s->d, &len, sizeof len, r);
    if (!len) continue;
    char *text = s->rank == r ? s->lines.data : al_malloc((size_t)len);
    al_dist_bcast(s->d, text, (size_t)len, r);
    if (s->rank == 0 && !rc &&
        (fwrite(text, 1, (size_t)len, s->run->metrics.f) != (size_t)len || fflush(s->run->metrics.f) != 0))
      rc = al_fail(err, "%s: write failed: %s", s->run->metrics.tmp, strerror(errno));
    if (s->rank != r) free(text);
  }
  return rc;
}

static void sweep_free(al_sweep *s) {
  for (int i = 0; i < s->narrays; i++) free(s->arrays[i].baseline);
  free(s->arrays);
  al_buf_free(&s->lines);
  free(s);
}

int al_sweep_end(al_sweep *s, int rc, al_err *err) {
  if (!s->d) {
    sweep_free(s);
    return rc ? -1 : 0;
  }
  al_dist_set_current(s->d);
  if (s->run) s->run->sweep_lines = NULL;
  rc = al_dist_agree(s->d, rc, err);
  for (int i = 0; i < s->narrays && !rc; i++) {
    shared_array *a = &s->arrays[i];
    size_t bad = al_dist_merge_changes(s->d, a->p, a->baseline, a->bytes);
    if (bad) rc = al_fail(err, "sweep: %zu bytes of shared result array %d were written differently by two ranks' jobs "
                               "(each job must write its own results)", bad, i);
  }
  if (rc) { /* the same on every rank: nothing more is sent */
    sweep_free(s);
    return -1;
  }
  /* every rank takes part in every transfer below, whatever failed on it */
  for (int j = 0; s->json && j < s->njobs; j++)
    if (send_json(s, j, err)) rc = -1;
  al_err later;
  if (s->run && send_lines(s, rc ? &later : err)) rc = -1; /* the first error is the one reported */
  rc = al_dist_agree(s->d, rc, err);
  sweep_free(s);
  return rc;
}

int al_sweep_ran_here(int j) {
  const al_dist *d = al_dist_current();
  return j % al_dist_size(d) == al_dist_rank(d);
}

void al_sweep_bcast(int j, void *p, size_t bytes) {
  const al_dist *d = al_dist_current();
  al_dist_bcast(d, p, bytes, j % al_dist_size(d));
}
