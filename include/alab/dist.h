/* Several processes working as one (MPI): data-parallel training and
 * sweeps of independent runs spread across ranks.
 *
 * A process joins an MPI job only when a launcher started it: mpirun or
 * mpiexec (Open MPI sets OMPI_COMM_WORLD_SIZE), srun or any PMI/PMIx
 * launcher (PMIX_RANK, PMI_RANK). Started any other way, or built without
 * MPI (cmake -DALAB_MPI=OFF, or libopenmpi-dev absent), alab runs as one
 * process and every function below acts as the job of one rank: the NULL
 * handle is that job.
 *
 * MPI_Init is process-wide, so only a program's main calls al_dist_init;
 * library code receives the handle in its config (al_train_cfg.dist).
 * Errors: MPI aborts the whole job on a communication failure (a rank that
 * died), which is what a data-parallel run needs: every rank stops within
 * seconds and the launcher names the rank that died; the last checkpoint on
 * disk is whole (writes are atomic). */
#ifndef ALAB_DIST_H
#define ALAB_DIST_H
#include <stddef.h>
#include "alab/base.h"

typedef struct al_dist al_dist;

/* Joins the job when a launcher started this process (see above): returns
 * the handle, or NULL (one process) with *err untouched. Returns NULL with
 * err filled only when a launcher started us but MPI could not start:
 * check err->msg[0]. argc/argv may be NULL. */
al_dist *al_dist_init(int *argc, char ***argv, al_err *err);
/* Leaves the job and frees d (NULL: nothing). rc: how the program ends (0:
 * success). A failure that every rank agreed on (al_dist_agree returned -1)
 * or a success ends with MPI_Finalize. A failure on this rank that the
 * others never learned of (an experiment's shared setup failing on one rank
 * only, while the others wait for it in a collective) aborts the job
 * (MPI_Abort with rc): the launcher stops every rank within seconds rather
 * than leaving them waiting (tests/test_mpi_setup_fail.c). */
void al_dist_finalize(al_dist *d, int rc);
/* Whether this build has MPI (1) or runs as one process only (0). */
int al_dist_available(void);

int al_dist_rank(const al_dist *d); /* this process's rank; 0 for NULL */
int al_dist_size(const al_dist *d); /* ranks in the job; 1 for NULL */

/* x[0..n) summed over ranks, in place, every rank receiving the same bits
 * (reduced on rank 0, then broadcast). The order of the sum is MPI's (it
 * may differ with the rank count). */
void al_dist_sum_floats(const al_dist *d, float *x, size_t n);
void al_dist_sum_doubles(const al_dist *d, double *x, size_t n);
/* Sums that run while the caller computes (overlap): al_dist_reduce_start
 * begins summing x[0..n) over ranks into rank 0's x (MPI_Ireduce; x must not
 * change until the wait), al_dist_pending_progress lets MPI move them on (Open
 * MPI advances a non-blocking sum only inside MPI calls), and
 * al_dist_pending_wait completes every started one. Every rank starts the
 * same sums in the same order. One process: nothing to do. */
typedef struct al_dist_pending al_dist_pending;
al_dist_pending *al_dist_pending_new(void);
void al_dist_pending_free(al_dist_pending *q);
void al_dist_reduce_start(const al_dist *d, al_dist_pending *q, float *x, size_t n);
void al_dist_pending_progress(al_dist_pending *q);
void al_dist_pending_wait(al_dist_pending *q);
/* bytes of buf copied from rank root to every rank. */
void al_dist_bcast(const al_dist *d, void *buf, size_t bytes, int root);

/* Agreement on failure: every rank passes its own rc (0: success) and err.
 * Returns 0 when every rank succeeded; else -1 on every rank, err holding
 * the lowest failing rank's message prefixed with "rank R: " (a rank that
 * succeeded learns why the others must stop). */
int al_dist_agree(const al_dist *d, int rc, al_err *err);

/* Sharding n elements over the ranks: rank r owns [n r / R, n (r+1) / R). */
void al_dist_shard(const al_dist *d, size_t n, int rank, size_t *lo, size_t *hi);
/* x[0..n): each rank holds its own shard; afterwards every rank holds all of x. */
void al_dist_gather_shards(const al_dist *d, float *x, size_t n);
/* shard: this rank's shard of an array of n; full (rank 0 only, n floats)
 * receives the whole array. */
void al_dist_gather_to_root(const al_dist *d, const float *shard, float *full, size_t n);

/* The job that sweeps on the calling thread spread their runs over
 * (include/alab/sweep.h). Per thread, like the log sink of the run context:
 * the program's main sets it on its own thread; every other thread starts
 * with NULL (one process), so a job running on a worker never splits again. */
void al_dist_set_current(const al_dist *d);
const al_dist *al_dist_current(void);

/* Results that ranks wrote into their own copies of one array, merged:
 * cur[0..n) becomes on every rank, byte by byte, the value that the ranks
 * which changed that byte (cur != snap there) wrote, and snap where none
 * did. Returns how many bytes two ranks changed to different values (0 when
 * each byte has one writer, or writers that agree: the merge is then exact). */
size_t al_dist_merge_changes(const al_dist *d, unsigned char *cur, const unsigned char *snap, size_t n);
#endif
