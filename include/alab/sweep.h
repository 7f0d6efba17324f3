/* Sweeps: an experiment's many independent runs (seeds x policies, model
 * sizes, proxies, p-values) spread across the ranks of an MPI job
 * (include/alab/dist.h), with the same results as one process.
 *
 * An experiment keeps its loop over jobs and adds four things:
 *
 *   al_sweep *sw = al_sweep_begin(njobs, &run);   before the loop
 *   al_sweep_share(sw, vals, bytes);              each array the jobs write results into
 *   if (!al_sweep_mine(sw, j)) continue;          first in the loop's body
 *   rc = al_sweep_end(sw, rc, err);               after the loop, on the same thread
 *
 * Job j runs on rank j mod R. Everything else of the experiment (its data,
 * a shared base model, the statistics over jobs) runs on every rank, so
 * after al_sweep_end every rank holds every job's results, and rank 0 alone
 * writes the run directory (al_run: a follower rank writes nothing).
 *
 * al_sweep_end is collective, and the whole job stops on failure:
 *   1. every rank's rc is agreed: when a job failed on any rank, every rank
 *      returns -1 with the lowest failing rank's message ("rank R: ..."), so
 *      a failed rank's work is reported, never dropped;
 *   2. each shared array becomes, byte by byte, what the jobs that changed
 *      it wrote (jobs must write disjoint results, or equal ones: two ranks
 *      writing different values into one byte is an error, never a guess);
 *   3. each shared JSON slot j takes the value its job's rank left there;
 *   4. metrics.jsonl lines that followers' jobs recorded (al_run_metric) are
 *      appended by rank 0 after its own.
 * A rank that dies (killed, out of memory) makes the launcher stop the whole
 * job within seconds, naming the rank (tests/test_mpi_sweep.c).
 *
 * One process (no launcher, or R = 1): every job is mine and begin/end cost
 * nothing. While a sweep runs, the calling thread's job is cleared
 * (al_dist_current() is NULL), so a job that runs a sweep of its own runs it
 * whole on its rank. */
#ifndef ALAB_SWEEP_H
#define ALAB_SWEEP_H
#include <jansson.h>
#include "alab/exp.h"

typedef struct al_sweep al_sweep;

/* njobs jobs over the calling thread's job (al_dist_current()); run: the
 * experiment's run directory whose metrics the jobs record, or NULL. */
al_sweep *al_sweep_begin(int njobs, al_run *run);
/* Whether job j runs on this rank. */
int al_sweep_mine(const al_sweep *s, int j);
/* p[0..bytes) holds results that jobs write (its state now is the baseline). */
void al_sweep_share(al_sweep *s, void *p, size_t bytes);
/* slots[0..njobs): a JSON value per job, set by the job (NULL: none). */
void al_sweep_share_json(al_sweep *s, json_t **slots);
/* Collective (see above); frees s. Returns 0 or -1 with err filled. */
int al_sweep_end(al_sweep *s, int rc, al_err *err);

/* Results too large for the byte merge (a model's parameters, which later
 * jobs start from: oocr's bases), outside a sweep (before al_sweep_begin or
 * after al_sweep_end), on the calling thread's job as a sweep of njobs would
 * split it: whether job j runs (ran) on this rank, and, collectively,
 * p[0..bytes) copied from job j's rank to every rank (one process: nothing). */
int al_sweep_ran_here(int j);
void al_sweep_bcast(int j, void *p, size_t bytes);
#endif
