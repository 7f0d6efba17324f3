/* The overoptimisation plots (include/alab/overopt.h): per optimiser, gold
 * gain and proxy gain against d = sqrt(KL), one colour per proxy (mean over
 * seeds with its 95% band), the form fitted with the seeds' mean alpha and
 * beta dashed in the same colour, and the fitted peak as a point with the
 * 95% interval of its height. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/overopt.h"
#include "alab/report.h"

enum { FIT_PTS = 41 };

typedef struct { /* one curve's drawn arrays */
  double *d, *g, *glo, *ghi, *p, *plo, *phi;
  double fd[FIT_PTS], fr[FIT_PTS], pk_d, pk_r, pk_lo, pk_hi;
  char title[96], fit_title[96], peak_title[96];
} drawn;

static void mean_of(const double *x, int S, double *m, double *lo, double *hi) {
  al_stat s = al_stat_of(x, S);
  *m = s.mean;
  if (lo) *lo = S > 1 ? s.lo : s.mean, *hi = S > 1 ? s.hi : s.mean;
}

static void prepare(const al_overopt_curve *c, drawn *w) {
  int S = c->seeds, P = c->npts;
  double **arrs[] = {&w->d, &w->g, &w->glo, &w->ghi, &w->p, &w->plo, &w->phi};
  for (int i = 0; i < 7; i++) *arrs[i] = al_malloc(sizeof(double) * (size_t)P);
  double *alpha = al_malloc(sizeof(double) * (size_t)S), *beta = al_malloc(sizeof(double) * (size_t)S),
         *rp = al_malloc(sizeof(double) * (size_t)S), *dp = al_malloc(sizeof(double) * (size_t)S),
         *dd = al_malloc(sizeof(double) * (size_t)P), *rr = al_malloc(sizeof(double) * (size_t)P);
  double dmax = 0;
  for (int k = 0; k < P; k++) {
    mean_of(c->d + (size_t)k * S, S, &w->d[k], NULL, NULL);
    mean_of(c->gold + (size_t)k * S, S, &w->g[k], &w->glo[k], &w->ghi[k]);
    mean_of(c->proxy_r + (size_t)k * S, S, &w->p[k], &w->plo[k], &w->phi[k]);
    if (w->d[k] > dmax) dmax = w->d[k];
  }
  for (int s = 0; s < S; s++) {
    for (int k = 0; k < P; k++) dd[k] = c->d[(size_t)k * S + s], rr[k] = c->gold[(size_t)k * S + s];
    al_overopt_fit_result f;
    al_err e;
    if (al_overopt_fit(c->form, dd, rr, P, &f, &e)) f.alpha = f.beta = f.d_peak = f.r_peak = NAN;
    alpha[s] = f.alpha, beta[s] = f.beta, dp[s] = f.d_peak, rp[s] = f.r_peak;
  }
  double a, b;
  mean_of(alpha, S, &a, NULL, NULL);
  mean_of(beta, S, &b, NULL, NULL);
  for (int i = 0; i < FIT_PTS; i++) {
    w->fd[i] = dmax * i / (FIT_PTS - 1);
    w->fr[i] = al_overopt_form_eval(c->form, a, b, w->fd[i]);
  }
  mean_of(dp, S, &w->pk_d, NULL, NULL);
  mean_of(rp, S, &w->pk_r, &w->pk_lo, &w->pk_hi);
  snprintf(w->title, sizeof w->title, "%s", c->proxy);
  snprintf(w->fit_title, sizeof w->fit_title, "%s fit", c->proxy);
  snprintf(w->peak_title, sizeof w->peak_title, "%s fitted peak", c->proxy);
  free(alpha), free(beta), free(rp), free(dp), free(dd), free(rr);
}

static void release(drawn *w) {
  free(w->d), free(w->g), free(w->glo), free(w->ghi), free(w->p), free(w->plo), free(w->phi);
}

static int plot_optimiser(const char *dir, const char *opt, const al_overopt_curve *c, int n, al_err *err) {
  int m = 0;
  for (int i = 0; i < n; i++) m += !strcmp(c[i].optimiser, opt);
  drawn *w = al_calloc((size_t)m, sizeof *w);
  al_plot_series *gs = al_calloc((size_t)m * 3, sizeof *gs), *ps = al_calloc((size_t)m, sizeof *ps);
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (strcmp(c[i].optimiser, opt)) continue;
    prepare(&c[i], &w[k]);
    int P = c[i].npts, col = k % 8 + 1;
    gs[3 * k] = (al_plot_series){w[k].title, AL_PLOT_BAND, col, P, w[k].d, w[k].g, w[k].glo, w[k].ghi};
    gs[3 * k + 1] = (al_plot_series){w[k].fit_title, AL_PLOT_LINE, col, FIT_PTS, w[k].fd, w[k].fr, NULL, NULL};
    gs[3 * k + 2] = (al_plot_series){w[k].peak_title, AL_PLOT_ERRORBARS, col, 1, &w[k].pk_d, &w[k].pk_r, &w[k].pk_lo, &w[k].pk_hi};
    ps[k] = (al_plot_series){w[k].title, AL_PLOT_BAND, col, P, w[k].d, w[k].p, w[k].plo, w[k].phi};
    k++;
  }
  char name[64], title[160];
  snprintf(name, sizeof name, "overopt_gold_%s", opt);
  snprintf(title, sizeof title, "%s: gold reward gain against d = sqrt(KL), fitted R(d) dashed", opt);
  al_plot pg = {title, "d = sqrt(KL(policy || initial))", "gold reward - gold at d = 0", 0, 0};
  int rc = al_plot_svg(dir, name, &pg, gs, 3 * m, err) < 0 ? -1 : 0;
  snprintf(name, sizeof name, "overopt_proxy_%s", opt);
  snprintf(title, sizeof title, "%s: proxy reward gain against d = sqrt(KL)", opt);
  al_plot pp = {title, "d = sqrt(KL(policy || initial))", "proxy reward - proxy at d = 0", 0, 0};
  if (!rc) rc = al_plot_svg(dir, name, &pp, ps, m, err) < 0 ? -1 : 0;
  for (int i = 0; i < m; i++) release(&w[i]);
  free(w), free(gs), free(ps);
  return rc;
}

int al_overopt_plot(const char *dir, const al_overopt_curve *c, int n, al_err *err) {
  for (int i = 0; i < n; i++) { /* each optimiser once, at its first curve */
    int seen = 0;
    for (int j = 0; j < i; j++) seen |= !strcmp(c[j].optimiser, c[i].optimiser);
    if (!seen && plot_optimiser(dir, c[i].optimiser, c, n, err)) return -1;
  }
  return 0;
}
