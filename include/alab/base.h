/* alab base layer: errors, deterministic RNG, atomic file writes, mmap,
 * growable buffers, paths, logging and progress.
 *
 * Error convention (every layer): a fallible function returns 0 on success
 * and -1 on failure, and fills the caller's al_err with one message that says
 * what was wrong, where (file, line, field) and, where it helps, what to do. */
#ifndef ALAB_BASE_H
#define ALAB_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ALAB_VERSION "0.1.0"

typedef struct { char msg[1024]; } al_err;

/* Formats the message into err (if non-NULL) and returns -1. */
int al_fail(al_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "prefix: " to an existing message; returns -1. */
int al_fail_prefix(al_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that never returns NULL: aborts with a message on out-of-memory. */
void *al_malloc(size_t n);
void *al_calloc(size_t n, size_t size);
void *al_realloc(void *p, size_t n);
char *al_strdup(const char *s);
/* 64-byte aligned, zeroed; release with free(). */
float *al_alloc_floats(size_t n);

/* ---- deterministic RNG: xoshiro256** seeded by splitmix64 ---- */
typedef struct { uint64_t s[4]; } al_rng;
void al_rng_seed(al_rng *r, uint64_t seed);
uint64_t al_rng_u64(al_rng *r);
double al_rng_uniform(al_rng *r);             /* [0, 1) with 53 random bits */
float al_rng_uniformf(al_rng *r);             /* [0, 1) with 24 random bits */
uint64_t al_rng_below(al_rng *r, uint64_t n); /* uniform in [0, n), unbiased */
double al_rng_normal(al_rng *r);              /* standard normal (Box-Muller, no cached state) */
void al_rng_shuffle_u32(al_rng *r, uint32_t *a, size_t n);
/* An independent stream for (seed, stream) pairs, e.g. per worker or per seed. */
void al_rng_seed_stream(al_rng *r, uint64_t seed, uint64_t stream);

/* ---- growable byte buffer ---- */
typedef struct { char *data; size_t len, cap; } al_buf;
void al_buf_reserve(al_buf *b, size_t extra);
void al_buf_append(al_buf *b, const void *p, size_t n);
void al_buf_printf(al_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void al_buf_free(al_buf *b);

/* ---- files ---- */
/* Reads a whole file (NUL-terminated for convenience; *len excludes the NUL). */
int al_read_file(const char *path, char **data, size_t *len, al_err *err);
/* Writes atomically: data goes to "path.tmp.<pid>", is fsynced, then renamed
 * over path. A crash leaves either the old file or the new one, never a mix. */
int al_write_file_atomic(const char *path, const void *data, size_t len, al_err *err);
/* Streaming form of the same: open a temp file, write, then commit or abort. */
typedef struct { FILE *f; char *path; char *tmp; } al_atomic;
int al_atomic_open(al_atomic *a, const char *path, al_err *err);
int al_atomic_commit(al_atomic *a, al_err *err); /* fsync + rename; closes */
void al_atomic_abort(al_atomic *a);              /* closes and removes the temp */
/* Removes dir's temp files ("NAME.tmp.PID") left by writers that were killed
 * (PID no longer running); returns how many, or -1. A run calls it when it
 * starts, so kills never accumulate temp files. */
int al_remove_stale_temps(const char *dir, al_err *err);
int al_mkdir_p(const char *path, al_err *err);
int al_file_exists(const char *path);
/* Joins a and b with one '/', into a fresh string. */
char *al_path_join(const char *a, const char *b);

/* Read-only memory map of a whole file. */
typedef struct { void *data; size_t len; } al_map;
int al_map_file(const char *path, al_map *m, al_err *err);
void al_unmap(al_map *m);

/* ---- logging and progress ----
 * Where a run's logs go is a property of the thread that runs it, not of the
 * process: al_log and progress print to stderr unless the process is quiet
 * (al_quiet, which only the CLI's main sets, from --quiet) or the calling
 * thread is muted. An experiment that trains models on worker threads mutes
 * each worker for the duration of its job (and reports per job itself), so
 * two experiments on two threads of one process never change each other's
 * output or numbers (tests/test_run_context.c). */
extern int al_quiet; /* the process: set by the CLI's --quiet, never by library code */
/* Mutes (on != 0) or unmutes al_log and progress on the calling thread only;
 * returns the previous setting, to restore when the job ends. */
int al_log_mute(int on);
/* Whether al_log prints nothing on the calling thread (quiet or muted). */
int al_log_muted(void);
void al_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double al_now(void); /* monotonic seconds */

/* A progress indicator: a bar with rate and ETA on a terminal, a plain line
 * every few seconds otherwise. `unit` names what is counted ("step"). */
typedef struct {
  const char *label, *unit;
  uint64_t total, done;
  double t0, last_print;
  int tty;
  char extra[128]; /* free text shown after the rate, e.g. "loss 2.31" */
} al_progress;
void al_progress_start(al_progress *p, const char *label, uint64_t total, const char *unit);
void al_progress_update(al_progress *p, uint64_t done);
void al_progress_finish(al_progress *p);

/* ---- threads ----
 * A run's thread count is the OpenMP team size of the thread that runs it:
 * omp_set_num_threads changes only the calling thread's setting (its ICV),
 * so a library function that picks a count for its own jobs (num_threads
 * clauses, or al_set_threads on its own thread then restoring it) does not
 * change another thread's. OpenBLAS is kept single-threaded (process-wide,
 * set to 1 and never to anything else): alab splits every product across
 * its own OpenMP team (src/nn/matmul.c). */
/* Sets the calling thread's team size for OpenMP kernels, OpenBLAS to one
 * thread; 0 means al_default_threads(). */
void al_set_threads(int n);
/* OMP_NUM_THREADS when set to a positive number, else the number of cores. */
int al_default_threads(void);
int al_get_threads(void);

/* ---- small statistics shared by experiments and evaluation ---- */
typedef struct { double mean, sd, se, lo, hi; int n; } al_stat;
/* Mean, sample sd, standard error and the 95% t-interval of x[0..n). */
al_stat al_stat_of(const double *x, int n);
/* Student t quantile: the t with P(T <= t) = p (p = 0.975 gives the 95%
 * interval's t_{0.975, df}); NAN unless 0 < p < 1 and 1 <= df <= 1e30. */
double al_t_quantile(double p, double df);
/* Two-sided p-value P(|T| > |t|) of a t statistic with df degrees of
 * freedom; NAN for a NaN t or df outside [1, 1e30]. */
double al_t_pvalue(double t, double df);

/* ---- small helpers used in several layers ---- */
/* Comma lists: with p = s, each call gives the next item (not NUL-terminated)
 * and its length; 0 when done. "a,,b" gives a, "", b; "" gives one "". */
int al_comma_next(const char **p, const char **item, size_t *len);
/* Is item[0..len) exactly name? */
int al_item_is(const char *item, size_t len, const char *name);

/* The first error of an OpenMP loop: an iteration skips its work when
 * al_first_err_failed(f), and on failure calls al_first_err_keep(f, &e);
 * after the loop f->failed says whether any failed and f->err holds the
 * first message. Start from {0}. */
typedef struct { int failed; al_err err; } al_first_err;
int al_first_err_failed(al_first_err *f);
void al_first_err_keep(al_first_err *f, const al_err *e);

/* The k largest x[i] - shift of x[0..n), descending, into ids/vals (ids -1
 * and vals -INFINITY past n); ties keep the lower index. With shift the
 * row's log-sum-exp, these are the top-k log-probs of a logits row. */
void al_top_k(const float *x, int n, float shift, int k, int32_t *ids, float *vals);

#endif
