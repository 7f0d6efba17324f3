/* SVG plots via gnuplot. For a plot NAME in a run directory we write
 *   NAME.dat  one block per series ("x y lo hi" rows; blocks separated by two
 *             blank lines, so series k is `index k`; missing values are NaN)
 *   NAME.gp   the script; `gnuplot NAME.gp` in that directory redraws NAME.svg
 * then run gnuplot there with outfile set to a temp name, and rename the SVG
 * into place, so a failed draw never leaves half a file. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "alab/report.h"

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
#define NPALETTE (int)(sizeof palette / sizeof palette[0])

/* A gnuplot single-quoted string: a quote inside is written twice. */
static void gp_quote(al_buf *b, const char *s) {
  al_buf_append(b, "'", 1);
  for (const char *p = s ? s : ""; *p; p++) {
    if (*p == '\'') al_buf_append(b, "''", 2);
    else if (*p != '\n') al_buf_append(b, p, 1);
  }
  al_buf_append(b, "'", 1);
}

static void dat_num(al_buf *b, double x) {
  if (isfinite(x)) al_buf_printf(b, " %.10g", x);
  else al_buf_printf(b, " NaN");
}

static int valid_name(const char *name) {
  if (!name || !*name || name[0] == '.') return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
          *p == '.'))
      return 0;
  return 1;
}

static void write_dat(al_buf *b, const al_plot_series *s, int ns) {
  al_buf_printf(b, "# x y lo hi; one block per series\n");
  for (int k = 0; k < ns; k++) {
    al_buf_printf(b, "# series %d: %s\n", k, s[k].title ? s[k].title : "");
    for (int i = 0; i < s[k].n; i++) {
      dat_num(b, s[k].x[i]);
      dat_num(b, s[k].y[i]);
      dat_num(b, s[k].lo ? s[k].lo[i] : NAN);
      dat_num(b, s[k].hi ? s[k].hi[i] : NAN);
      al_buf_append(b, "\n", 1);
    }
    al_buf_append(b, "\n\n", 2);
  }
}

/* Whether series s has a point gnuplot can draw: finite x and y, or for
 * its band (band = 1), finite x, lo and hi. A series without one (a fitted peak where the fit
 * has none) stays in the .dat file, so indexes keep their meaning, but is
 * left out of the plot command: gnuplot would warn "Skipping data file with
 * no valid points" on the user's terminal. */
static int drawable(const al_plot_series *s, int band) {
  for (int i = 0; i < s->n; i++) {
    if (!isfinite(s->x[i])) continue;
    if (band ? s->lo && s->hi && isfinite(s->lo[i]) && isfinite(s->hi[i]) : isfinite(s->y[i])) return 1;
  }
  return 0;
}

static void write_gp(al_buf *b, const char *name, const al_plot *p, const al_plot_series *s, int ns) {
  al_buf_printf(b, "# alab plot: run `gnuplot %s.gp` in this directory to redraw %s.svg\n", name, name);
  al_buf_printf(b, "if (!exists(\"outfile\")) outfile = '%s.svg'\n", name);
  al_buf_printf(b, "set terminal svg size 760,500 dynamic font 'sans,12' background rgb 'white'\n");
  al_buf_printf(b, "set output outfile\nset datafile missing 'NaN'\nset grid\nset key below box\n");
  al_buf_printf(b, "set title ");
  gp_quote(b, p->title);
  al_buf_printf(b, " noenhanced\nset xlabel ");
  gp_quote(b, p->xlabel);
  al_buf_printf(b, " noenhanced\nset ylabel ");
  gp_quote(b, p->ylabel);
  al_buf_printf(b, " noenhanced\n");
  if (p->logx) al_buf_printf(b, "set logscale x\n");
  if (p->logy) al_buf_printf(b, "set logscale y\n");
  al_buf_printf(b, "plot \\\n");
  /* Bands first, so every line is drawn over every band. When no series has
   * a point, all are listed (gnuplot then draws empty axes with warnings). */
  int first = 1, any = 0;
  for (int k = 0; k < ns; k++) any |= drawable(&s[k], 0);
  for (int pass = 0; pass < 2; pass++)
    for (int k = 0; k < ns; k++) {
      int c = s[k].color > 0 ? s[k].color - 1 : k;
      const char *col = palette[c % NPALETTE];
      if (pass == 0 && s[k].style != AL_PLOT_BAND) continue;
      if (any && !drawable(&s[k], pass == 0)) continue;
      al_buf_printf(b, "%s  '%s.dat' index %d ", first ? "" : ", \\\n", name, k);
      first = 0;
      if (pass == 0) {
        al_buf_printf(b, "using 1:3:4 with filledcurves lc rgb '%s' fs transparent solid 0.18 noborder notitle", col);
        continue;
      }
      if (s[k].style == AL_PLOT_LINE)
        al_buf_printf(b, "using 1:2 with lines dt 2 lw 2 lc rgb '%s' title ", col);
      else if (s[k].style == AL_PLOT_ERRORBARS)
        al_buf_printf(b, "using 1:2:3:4 with yerrorlines pt 7 ps 0.6 lw 2 lc rgb '%s' title ", col);
      else
        al_buf_printf(b, "using 1:2 with linespoints pt 7 ps 0.6 lw 2 lc rgb '%s' title ", col);
      gp_quote(b, s[k].title);
      al_buf_printf(b, " noenhanced");
    }
  al_buf_printf(b, "\n");
}

/* Runs `gnuplot -e "outfile='OUT'" SCRIPT` in dir. Returns the exit status,
 * 127 when gnuplot could not be started, -1 when fork failed. */
static int run_gnuplot(const char *dir, const char *script, const char *out) {
  char expr[512];
  snprintf(expr, sizeof expr, "outfile='%s'", out);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (chdir(dir) != 0) _exit(126);
    execlp("gnuplot", "gnuplot", "-e", expr, script, (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int al_plot_svg(const char *dir, const char *name, const al_plot *p, const al_plot_series *s, int ns, al_err *err) {
  if (!valid_name(name)) return al_fail(err, "plot name '%s': use only letters, digits, '_', '-' and '.'", name ? name : "");
  for (int k = 0; k < ns; k++)
    if (s[k].n < 0 || (s[k].n > 0 && (!s[k].x || !s[k].y)))
      return al_fail(err, "plot %s: series %d ('%s') has no data", name, k, s[k].title ? s[k].title : "");
  char file[300];
  al_buf b = {0};
  write_dat(&b, s, ns);
  snprintf(file, sizeof file, "%s.dat", name);
  char *path = al_path_join(dir, file);
  int rc = al_write_file_atomic(path, b.data, b.len, err);
  free(path);
  b.len = 0;
  if (!rc) {
    write_gp(&b, name, p, s, ns);
    snprintf(file, sizeof file, "%s.gp", name);
    path = al_path_join(dir, file);
    rc = al_write_file_atomic(path, b.data, b.len, err);
    free(path);
  }
  al_buf_free(&b);
  if (rc) return -1;

  static int warned;
  char script[300], tmp[320], svg[300];
  snprintf(script, sizeof script, "%s.gp", name);
  snprintf(tmp, sizeof tmp, "%s.svg.tmp.%ld", name, (long)getpid());
  snprintf(svg, sizeof svg, "%s.svg", name);
  int st = run_gnuplot(dir, script, tmp);
  char *tmp_path = al_path_join(dir, tmp), *svg_path = al_path_join(dir, svg);
  if (st == 127) {
    unlink(tmp_path);
    if (!warned) fprintf(stderr, "alab: warning: gnuplot not found (install Debian's gnuplot-nox); plots are left as .dat + .gp in %s\n", dir);
    warned = 1;
    rc = 0;
  } else if (st != 0) {
    unlink(tmp_path);
    rc = al_fail(err, "%s/%s: gnuplot failed (exit status %d)", dir, script, st);
  } else if (rename(tmp_path, svg_path) != 0) {
    rc = al_fail(err, "%s: cannot rename into place: %s", svg_path, strerror(errno));
    unlink(tmp_path);
  } else {
    rc = 1;
  }
  free(tmp_path);
  free(svg_path);
  return rc;
}
