/* Several processes as one job over MPI (include/alab/dist.h), or one
 * process when alab is built without MPI or started without a launcher. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dist.h"
#ifdef ALAB_HAVE_MPI
#include <mpi.h>
#endif

struct al_dist {
  int rank, size;
  int failed_together; /* al_dist_agree returned -1 here: every rank knows of the failure */
};

/* Whether a launcher started this process: Open MPI's mpirun/mpiexec, or a
 * PMI/PMIx launcher (Slurm's srun, MPICH's hydra). */
static int launched(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", NULL};
  for (int i = 0; vars[i]; i++)
    if (getenv(vars[i])) return 1;
  return 0;
}

int al_dist_available(void) {
#ifdef ALAB_HAVE_MPI
  return 1;
#else
  return 0;
#endif
}

al_dist *al_dist_init(int *argc, char ***argv, al_err *err) {
  if (!launched()) return NULL;
#ifdef ALAB_HAVE_MPI
  int rc = MPI_Init(argc, argv);
  if (rc != MPI_SUCCESS) {
    al_fail(err, "started by an MPI launcher, but MPI_Init failed (error %d)", rc);
    return NULL;
  }
  al_dist *d = al_calloc(1, sizeof *d);
  MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &d->size);
  return d;
#else
  (void)argc, (void)argv;
  al_fail(err, "started by an MPI launcher, but this alab was built without MPI (install libopenmpi-dev and "
               "rebuild, or run without mpirun)");
  return NULL;
#endif
}

void al_dist_finalize(al_dist *d, int rc) {
  if (!d) return;
#ifdef ALAB_HAVE_MPI
  if (rc && d->size > 1 && !d->failed_together) {
    /* This rank failed where the others did not learn of it (its shared
     * setup: a file missing on this node only); they may be waiting for it
     * inside a collective, forever. The launcher stops them all. */
    fprintf(stderr, "alab: rank %d of %d stopped with an error the other ranks did not learn of (above); stopping every rank\n", d->rank, d->size);
    fflush(NULL);
    MPI_Abort(MPI_COMM_WORLD, rc);
  }
  MPI_Finalize();
#else
  (void)rc;
#endif
  free(d);
}

int al_dist_rank(const al_dist *d) { return d ? d->rank : 0; }
int al_dist_size(const al_dist *d) { return d ? d->size : 1; }

/* MPI counts are ints: large buffers go in chunks of at most 2^30 elements. */
enum { CHUNK = 1 << 30 };

#ifdef ALAB_HAVE_MPI
/* The sum on rank 0, then broadcast: MPI_Allreduce may round differently on
 * different ranks, and ranks whose gradients differ in the last bit would
 * drift apart; a reduce and a broadcast move the same bytes. */
static void sum_to_all(const al_dist *d, void *x, size_t n, size_t elem, MPI_Datatype type) {
  for (size_t i = 0; i < n; i += CHUNK) {
    char *p = (char *)x + i * elem;
    int cnt = (int)(n - i < CHUNK ? n - i : CHUNK);
    MPI_Reduce(d->rank == 0 ? MPI_IN_PLACE : p, d->rank == 0 ? p : NULL, cnt, type, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Bcast(p, cnt, type, 0, MPI_COMM_WORLD);
  }
}
#endif

void al_dist_sum_floats(const al_dist *d, float *x, size_t n) {
  if (!d || d->size == 1) return;
#ifdef ALAB_HAVE_MPI
  sum_to_all(d, x, n, sizeof *x, MPI_FLOAT);
#else
  (void)x, (void)n;
#endif
}

void al_dist_sum_doubles(const al_dist *d, double *x, size_t n) {
  if (!d || d->size == 1) return;
#ifdef ALAB_HAVE_MPI
  sum_to_all(d, x, n, sizeof *x, MPI_DOUBLE);
#else
  (void)x, (void)n;
#endif
}

struct al_dist_pending {
#ifdef ALAB_HAVE_MPI
  MPI_Request *req;
#endif
  int n, cap;
};

al_dist_pending *al_dist_pending_new(void) { return al_calloc(1, sizeof(al_dist_pending)); }

void al_dist_pending_free(al_dist_pending *q) {
  if (!q) return;
#ifdef ALAB_HAVE_MPI
  free(q->req);
#endif
  free(q);
}

void al_dist_reduce_start(const al_dist *d, al_dist_pending *q, float *x, size_t n) {
  if (!d || d->size == 1) return;
#ifdef ALAB_HAVE_MPI
  for (size_t i = 0; i < n; i += CHUNK) {
    int cnt = (int)(n - i < CHUNK ? n - i : CHUNK);
    if (q->n == q->cap) q->cap = q->cap ? 2 * q->cap : 64, q->req = al_realloc(q->req, sizeof *q->req * (size_t)q->cap);
    MPI_Ireduce(d->rank == 0 ? MPI_IN_PLACE : x + i, d->rank == 0 ? x + i : NULL, cnt, MPI_FLOAT, MPI_SUM, 0,
                MPI_COMM_WORLD, &q->req[q->n++]);
  }
#else
  (void)q, (void)x, (void)n;
#endif
}

void al_dist_pending_progress(al_dist_pending *q) {
#ifdef ALAB_HAVE_MPI
  int done;
  if (q->n) MPI_Testall(q->n, q->req, &done, MPI_STATUSES_IGNORE);
#else
  (void)q;
#endif
}

void al_dist_pending_wait(al_dist_pending *q) {
#ifdef ALAB_HAVE_MPI
  if (q->n) MPI_Waitall(q->n, q->req, MPI_STATUSES_IGNORE);
#endif
  q->n = 0;
}

void al_dist_bcast(const al_dist *d, void *buf, size_t bytes, int root) {
  if (!d || d->size == 1) return;
#ifdef ALAB_HAVE_MPI
  for (size_t i = 0; i < bytes; i += CHUNK)
    MPI_Bcast((char *)buf + i, (int)(bytes - i < CHUNK ? bytes - i : CHUNK), MPI_BYTE, root, MPI_COMM_WORLD);
#else
  (void)buf, (void)bytes, (void)root;
#endif
}

int al_dist_agree(const al_dist *d, int rc, al_err *err) {
  if (!d || d->size == 1) return rc ? -1 : 0;
#ifdef ALAB_HAVE_MPI
  int mine = rc ? d->rank : d->size, first = d->size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first == d->size) return 0;
  ((al_dist *)d)->failed_together = 1; /* d is calloc'd, never a const object: the cast is defined */
  char msg[sizeof err->msg];
  if (d->rank == first) snprintf(msg, sizeof msg, "%s", err->msg);
  MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, MPI_COMM_WORLD);
  msg[sizeof msg - 1] = 0;
  int head = snprintf(err->msg, sizeof err->msg, "rank %d: ", first);
  memcpy(err->msg + head, msg, sizeof err->msg - (size_t)head - 1);
  err->msg[sizeof err->msg - 1] = 0;
  return -1;
#else
  return rc ? -1 : 0;
#endif
}

void al_dist_shard(const al_dist *d, size_t n, int rank, size_t *lo, size_t *hi) {
  int R = al_dist_size(d);
  *lo = (size_t)((unsigned __int128)n * (unsigned)rank / (unsigned)R);
  *hi = (size_t)((unsigned __int128)n * (unsigned)(rank + 1) / (unsigned)R);
}

#ifdef ALAB_HAVE_MPI
/* Counts and displacements of the shards; 0 when one does not fit an int. */
static int shard_counts(const al_dist *d, size_t n, int *counts, int *displs) {
  for (int r = 0; r < d->size; r++) {
    size_t lo, hi;
    al_dist_shard(d, n, r, &lo, &hi);
    if (hi > INT_MAX) return 0;
    counts[r] = (int)(hi - lo), displs[r] = (int)lo;
  }
  return 1;
}
#endif

void al_dist_gather_shards(const al_dist *d, float *x, size_t n) {
  if (!d || d->size == 1) return;
#ifdef ALAB_HAVE_MPI
  int *counts = al_malloc(sizeof(int) * d->size), *displs = al_malloc(sizeof(int) * d->size);
  if (shard_counts(d, n, counts, displs)) {
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, x, counts, displs, MPI_FLOAT, MPI_COMM_WORLD);
  } else { /* past 2^31 floats: each shard broadcast by its owner, in chunks */
    for (int r = 0; r < d->size; r++) {
      size_t lo, hi;
      al_dist_shard(d, n, r, &lo, &hi);
      al_dist_bcast(d, x + lo, (hi - lo) * sizeof(float), r);
    }
  }
  free(counts), free(displs);
#else
  (void)x, (void)n;
#endif
}

void al_dist_gather_to_root(const al_dist *d, const float *shard, float *full, size_t n) {
  if (!d || d->size == 1) {
    if (full != shard) memcpy(full, shard, n * sizeof(float));
    return;
  }
#ifdef ALAB_HAVE_MPI
  int *counts = al_malloc(sizeof(int) * d->size), *displs = al_malloc(sizeof(int) * d->size);
  size_t lo, hi;
  al_dist_shard(d, n, d->rank, &lo, &hi);
  if (shard_counts(d, n, counts, displs)) {
    MPI_Gatherv(shard, (int)(hi - lo), MPI_FLOAT, full, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
  } else { /* past 2^31 floats: the shards in chunks, one rank after another */
    if (d->rank == 0) memcpy(full, shard, (hi - lo) * sizeof(float));
    for (int r = 1; r < d->size; r++) {
      size_t a, b;
      al_dist_shard(d, n, r, &a, &b);
      for (size_t i = a; i < b; i += CHUNK) {
        int cnt = (int)(b - i < CHUNK ? b - i : CHUNK);
        if (d->rank == r) MPI_Send(shard + (i - a), cnt, MPI_FLOAT, 0, 0, MPI_COMM_WORLD);
        if (d->rank == 0) MPI_Recv(full + i, cnt, MPI_FLOAT, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      }
    }
  }
  free(counts), free(displs);
#endif
}

static _Thread_local const al_dist *current;
void al_dist_set_current(const al_dist *d) { current = d; }
const al_dist *al_dist_current(void) { return current; }

/* Per byte, over ranks: hi = max of the changed values (-1 where unchanged)
 * and lo = min (256 where unchanged); hi < 0: nobody changed it; hi != lo:
 * two writers disagree. In slices of 1 MiB so the two int16 arrays stay small. */
size_t al_dist_merge_changes(const al_dist *d, unsigned char *cur, const unsigned char *snap, size_t n) {
  if (!d || d->size == 1) return 0;
  size_t conflicts = 0;
#ifdef ALAB_HAVE_MPI
  enum { SLICE = 1 << 20 };
  short *hi = al_malloc(sizeof(short) * (n < SLICE ? n : SLICE) + 1), *lo = al_malloc(sizeof(short) * (n < SLICE ? n : SLICE) + 1);
  for (size_t at = 0; at < n; at += SLICE) {
    int m = (int)(n - at < SLICE ? n - at : SLICE);
    for (int i = 0; i < m; i++) {
      int changed = cur[at + i] != snap[at + i];
      hi[i] = changed ? cur[at + i] : -1;
      lo[i] = changed ? cur[at + i] : 256;
    }
    MPI_Allreduce(MPI_IN_PLACE, hi, m, MPI_SHORT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, lo, m, MPI_SHORT, MPI_MIN, MPI_COMM_WORLD);
    for (int i = 0; i < m; i++) {
      cur[at + i] = hi[i] < 0 ? snap[at + i] : (unsigned char)hi[i];
      conflicts += hi[i] >= 0 && hi[i] != lo[i];
    }
  }
  free(hi), free(lo);
#else
  (void)cur, (void)snap, (void)n;
#endif
  return conflicts;
}
