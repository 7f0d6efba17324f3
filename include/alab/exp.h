/* The experiment framework shared by every experiment (src/exp/): a run
 * directory and the statistics each experiment reports.
 *
 * A run directory holds
 *   config.json    every setting of the run, defaults resolved (written first,
 *                  so a run that dies still says what it was)
 *   metrics.jsonl  one JSON object per line, in the order they were measured
 *   results.json   the experiment's results (per-iteration mean, 95% CI,
 *                  every seed's value, the closed form where one exists)
 *   *.svg          plots (with the .dat and .gp files that drew them)
 *   index.html     links and embeds all of the above (report/index.c)
 *   machine.json   CPU, cores, threads, alab version and date of the run
 *   report.html    the self-contained report page (report/page.c, `alab report`)
 * Every file is written atomically: metrics lines go to a temp file (flushed
 * line by line, so `tail -f metrics.jsonl.tmp.*` follows a long run) that is
 * renamed into place by al_run_close. */
#ifndef ALAB_EXP_H
#define ALAB_EXP_H

#include <jansson.h>
#include "alab/base.h"

typedef struct {
  char *dir;         /* the run directory */
  al_atomic metrics; /* metrics.jsonl being written */
  int open;
  int follower;        /* a rank other than 0 of an MPI job: writes nothing, rank 0 writes the run */
  al_buf *sweep_lines; /* a follower's metrics lines during a sweep, for rank 0 (include/alab/sweep.h) */
} al_run;

/* Creates dir (and parents) and starts metrics.jsonl. */
int al_run_open(al_run *run, const char *dir, al_err *err);
/* Saves j as dir/name atomically (pretty JSON). Does not take the reference. */
int al_run_save_json(const al_run *run, const char *name, const json_t *j, al_err *err);
/* Appends rec as one line of metrics.jsonl and releases the reference. */
int al_run_metric(al_run *run, json_t *rec, al_err *err);
/* Commits metrics.jsonl; frees the run. On failure the run is still freed. */
int al_run_close(al_run *run, al_err *err);
/* Drops the metrics temp file and frees the run (after an error). */
void al_run_abort(al_run *run);
/* dir/name, freshly allocated. */
char *al_run_path(const al_run *run, const char *name);

/* The threads each model gets when an experiment trains njobs models on
 * nthreads threads: 1 (models side by side, one thread each) when there are
 * two or more, all nthreads for a single one (src/exp/run.c gives the
 * measured rule). A model's fp32 numbers do not depend on its thread count
 * (tests/test_threads_same.c), so the choice never changes a result. */
int al_job_threads(int njobs, int nthreads);

/* Statistics of one quantity across seeds at each iteration:
 * vals[i * seeds + s] is seed s's value at iteration i+1. */
typedef struct {
  int iters, seeds;
  double *vals;        /* iters * seeds */
  al_stat *stat;       /* iters: mean, sd, se and the 95% t-interval */
  double *closed_form; /* iters, or NULL when no closed form exists */
} al_series_stats;

/* Allocates vals (and closed_form when with_closed_form). */
void al_series_init(al_series_stats *s, int iters, int seeds, int with_closed_form);
/* Fills stat[] from vals[]. */
void al_series_finish(al_series_stats *s);
void al_series_free(al_series_stats *s);
/* [{"iter":1,"mean":..,"sd":..,"lo":..,"hi":..,"closed_form":..|null,"seeds":[..]}, ...] */
json_t *al_series_json(const al_series_stats *s);
/* The largest |mean / closed_form - 1| over iterations (NAN without a closed form). */
double al_series_max_rel_dev(const al_series_stats *s);

/* Comma-separated sweep lists ("10,20,40"): at most max values, each checked;
 * `what` names the flag in errors ("--d: 'x' is not an integer"). */
int al_parse_int_list(const char *s, int *out, int max, const char *what, al_err *err);
int al_parse_double_list(const char *s, double *out, int max, const char *what, al_err *err);

/* ---- the experiment registry ----
 * One line per experiment, X(name, reproduce, summary), in the order
 * `alab --help`, `alab reproduce` and its index page list them:
 *   name       the command `alab NAME` (src/cli/cmd_NAME.c defines
 *              int cmd_NAME(int argc, char **argv)) and the subdirectory
 *              `alab reproduce` writes it into;
 *   reproduce  int fn(const char *dir, int quick, al_err *err): writes a
 *              complete run directory (config.json, results.json with a
 *              "headline" array, metrics.jsonl, SVG plots) at full or quick
 *              scale;
 *   summary    one line naming the paper, shown by `alab --help` and on the
 *              index pages.
 * Adding an experiment: its new files and one line here. */
#define AL_EXPERIMENTS(X)                                                                                      \
  X(collapse, al_collapse_reproduce,                                                                           \
    "model collapse: replace vs accumulate on linear regression, a Gaussian and language models "              \
    "(Gerstgrasser et al. 2024)")                                                                              \
  X(reversal, al_rev_reproduce,                                                                                \
    "the reversal curse: trained on \"A is B\", tested on \"B is A\" (Berglund et al. 2023)")                  \
  X(oocr, al_oocr_reproduce,                                                                                   \
    "out-of-context reasoning: assistants described but never demonstrated, by augmentation and model size "   \
    "(Berglund et al. 2023)")                                                                                  \
  X(sycophancy, al_syco_reproduce,                                                                             \
    "sycophancy: the four SycophancyEval tasks on any model; best-of-n against a preference model trained on " \
    "agreement-biased labels raises sycophancy (Sharma et al. 2023)")                                          \
  X(overopt, al_overopt_reproduce,                                                                             \
    "reward-model overoptimisation: best-of-n against learned proxies of several sizes, exact gold reward "    \
    "(Gao et al. 2022)")                                                                                       \
  X(dpo, al_dpo_reproduce,                                                                                     \
    "direct preference optimisation on a planted preference: the rate of the preferred behaviour from SFT "    \
    "to DPO, KL to the reference (Rafailov et al. 2023)")                                                      \
  X(rl, al_rl_reproduce,                                                                                       \
    "RL from a reward model: RLOO and PPO with a KL penalty raise an exact gold reward; a proxy overoptimised " \
    "(TRL; Gao et al. 2022)")                                                                                  \
  X(cpm, al_cpm_reproduce,                                                                                     \
    "compositional preference models vs a standard reward model: accuracy, robustness, overoptimisation "      \
    "(Go et al. 2023)")                                                                                        \
  X(ilf, al_ilf_reproduce,                                                                                     \
    "imitation learning from language feedback: refine with feedback, keep refinements that pass their tests " \
    "in the sandbox, finetune; pass@1 before and after (Chen et al. 2023; Scheurer et al. 2023)")

typedef int (*al_exp_fn)(const char *dir, int quick, al_err *err);
typedef struct {
  const char *name;    /* also the run's subdirectory */
  al_exp_fn run;
  const char *summary; /* one line, naming the paper */
} al_exp_entry;
/* The registry as a table (src/exp/registry.c). */
extern const al_exp_entry al_experiments[];
extern const int al_nexperiments;
/* The entry named name[0..len), or NULL. */
const al_exp_entry *al_experiment_find(const char *name, size_t len);
/* "collapse, reversal": every name, into buf. */
void al_experiment_names(char *buf, size_t size);

#endif
