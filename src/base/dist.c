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

void al_dist_finalize(al_dist *d) {
  if (!d) return;
#ifdef ALAB_HAVE_MPI
  MPI_Finalize();
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
