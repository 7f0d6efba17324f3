/* Reports of a run directory: SVG plots drawn by gnuplot (Debian
 * gnuplot-nox) and the index.html that links and embeds them. */
#ifndef ALAB_REPORT_H
#define ALAB_REPORT_H

#include "alab/base.h"

/* How a series is drawn. */
enum {
  AL_PLOT_BAND,      /* line with points and a shaded band from lo to hi */
  AL_PLOT_ERRORBARS, /* line with points and error bars from lo to hi */
  AL_PLOT_LINE,      /* dashed line (a closed form, a reference level) */
};

typedef struct {
  const char *title; /* legend entry */
  int style;         /* AL_PLOT_* */
  int color;         /* 0: the series' own; k > 0: palette entry k-1 (pairs a curve with its closed form) */
  int n;
  const double *x, *y;
  const double *lo, *hi; /* BAND and ERRORBARS only */
} al_plot_series;

typedef struct {
  const char *title, *xlabel, *ylabel;
  int logx, logy;
} al_plot;

/* Writes dir/name.dat (the data, one block per series), dir/name.gp (the
 * gnuplot script) and, by running gnuplot, dir/name.svg. `name` may hold
 * only letters, digits, '_', '-' and '.'. Returns 1 when the SVG was drawn,
 * 0 when gnuplot is not installed (a warning is printed once; the .dat and
 * .gp stay so the plot can be drawn later with `gnuplot name.gp`), -1 on
 * error. Non-finite values are written as NaN and gnuplot skips them. */
int al_plot_svg(const char *dir, const char *name, const al_plot *p, const al_plot_series *s, int ns, al_err *err);

/* One experiment on an index page: its run directory relative to the page;
 * summary NULL: the experiment registry's line for name (include/alab/exp.h). */
typedef struct {
  const char *name, *subdir, *summary;
  const char *error; /* non-NULL when the experiment failed: shown instead */
} al_index_entry;

/* Writes dir/index.html: for each entry its summary, the "headline" strings of
 * its results.json (when present), links to config.json, results.json and
 * metrics.jsonl, and every SVG in its directory, embedded in name order. */
int al_report_index(const char *dir, const char *title, const al_index_entry *e, int n, al_err *err);

/* ---- report.html: one self-contained page per run (src/report/page.c) ----
 * The page holds, per experiment: the paper's claim, the challenges of Anwar
 * et al. 2024 it informs, each finding with its test, 95% interval or
 * p-value and whether this run reproduced it (src/report/findings.c), the
 * headline lines, every SVG plot inline, the settings that differ from the
 * defaults, run time, machine and alab version (machine.json), the model
 * card (model_card.json: any JSON object; objects render as tables, arrays
 * as lists, the rest as text) and links to results.json and the raw files.
 * No script, no external resource; written atomically. */

/* Writes dir/report.html for the run in dir (an experiment's, or a
 * reproduction's: config.json "command": "reproduce"). */
int al_report_run(const char *dir, al_err *err);
/* Records dir/machine.json (CPU model, cores, threads, alab version, date)
 * and writes dir/report.html: called when a run finishes. */
int al_report_finish(const char *dir, al_err *err);
int al_report_record_machine(const char *dir, al_err *err);
/* The reproduction's report.html: the findings grouped by challenge, then
 * each entry's section (entries as for al_report_index). */
int al_report_reproduction(const char *dir, const char *title, const al_index_entry *e, int n, al_err *err);
/* Writes out: two runs of one experiment side by side, the differences of
 * their findings' estimates with intervals, and the settings that differ. */
int al_report_compare(const char *a, const char *b, const char *out, al_err *err);
/* `git describe` of the source when built from git, else ALAB_VERSION. */
const char *al_version(void);

#endif
