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

#endif
