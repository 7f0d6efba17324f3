/* Scaling: one task over a family of models (local directories or endpoint
 * model names), the trend of the task's loss-like metric against
 * log10(parameters or training compute), its label, and a plot.
 *
 * x per model: --x-values when given; else "params" = the model's parameter
 * count; "compute" = 6 * params * training tokens, read from the model
 * directory's training.json ({"params", "tokens", "compute"}, written by
 * `alab ladder`). Endpoint models need --x-values. Writes into out_dir:
 * scaling.json (every model's metrics, x, and the trend with its test),
 * scaling.dat/.gp/.svg (the plot), and one eval folder per model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/scaling.h"
#include "alab/json.h"
#include "alab/report.h"

al_scaling_cfg al_scaling_cfg_default(void) {
  al_scaling_cfg c = {.x = "params", .alpha = 0.05};
  c.local = al_local_cfg_default();
  c.eval = al_eval_cfg_default();
  return c;
}

static int training_compute(const char *dir, double *x, al_err *err) {
  char *p = al_path_join(dir, "training.json");
  json_t *j;
  int rc = al_json_load_file(p, &j, err);
  free(p);
  if (rc) return al_fail_prefix(err, "--x compute needs training.json (written by alab ladder) or --x-values");
  rc = al_json_get_double(j, "compute", x, dir, err);
  json_decref(j);
  return rc;
}

static void safe_name(const char *model, int i, char *out, size_t n) {
  const char *b = strrchr(model, '/');
  b = b && b[1] ? b + 1 : model;
  int k = snprintf(out, n, "model%02d_", i);
  for (; *b && k + 1 < (int)n; b++) out[k++] = (char)((*b >= 'a' && *b <= 'z') || (*b >= 'A' && *b <= 'Z') || (*b >= '0' && *b <= '9') || *b == '-' || *b == '.' ? *b : '_');
  out[k] = 0;
}

static int plot(const al_scaling_cfg *cfg, const char *metric, const double *x, const double *y, const double *se, int n,
                const al_trend_fit *f, al_err *err) {
  double lo[64], hi[64], fx[50], fy[50], px[64];
  double xmin = INFINITY, xmax = -INFINITY;
  for (int i = 0; i < n; i++) {
    lo[i] = y[i] - 1.96 * se[i], hi[i] = y[i] + 1.96 * se[i];
    px[i] = pow(10, x[i]);
    xmin = fmin(xmin, x[i]), xmax = fmax(xmax, x[i]);
  }
  int quad = f->label == AL_TREND_U || f->label == AL_TREND_INVERTED_U;
  for (int k = 0; k < 50; k++) {
    double u = xmin + (xmax - xmin) * k / 49.0;
    fx[k] = pow(10, u);
    fy[k] = quad ? f->q_a + f->q_b * u + f->q_c * u * u : f->lin_a + f->lin_b * u;
  }
  char title[160], fit_title[120];
  snprintf(title, sizeof title, "%s: %s", metric, al_trend_name(f->label));
  snprintf(fit_title, sizeof fit_title, "%s fit", quad ? "quadratic" : "linear");
  al_plot_series s[2] = {{.title = metric, .style = AL_PLOT_ERRORBARS, .n = n, .x = px, .y = y, .lo = lo, .hi = hi},
                         {.title = fit_title, .style = AL_PLOT_LINE, .color = 1, .n = 50, .x = fx, .y = fy}};
  al_plot p = {.title = title, .xlabel = !strcmp(cfg->x, "compute") ? "training compute (FLOPs)" : "parameters",
               .ylabel = metric, .logx = 1};
  return al_plot_svg(cfg->eval.out_dir, "scaling", &p, s, 2, err) < 0 ? -1 : 0;
}

int al_scaling_run(const al_scaling_cfg *cfg, const al_task *t, al_trend_fit *fit, al_err *err) {
  int n = cfg->nmodels;
  if (n < 1 || n > 64) return al_fail(err, "scaling needs 1 to 64 models (got %d)", n);
  if (strcmp(cfg->x, "params") && strcmp(cfg->x, "compute")) return al_fail(err, "--x must be params or compute");
  if (!cfg->eval.out_dir) return al_fail(err, "scaling needs an output folder");
  if (al_mkdir_p(cfg->eval.out_dir, err)) return -1;
  double x[64], y[64], se[64];
  json_t *models = json_array();
  const char *metric = NULL;
  int rc = -1;
  for (int i = 0; i < n; i++) {
    const char *name = cfg->models[i];
    al_provider *p = NULL;
    if (al_provider_open(&p, name, cfg->http, &cfg->local, err)) goto done;
    if (cfg->xvalues) x[i] = cfg->xvalues[i];
    else if (!strcmp(cfg->x, "params")) {
      if (p->nparams <= 0) {
        al_provider_free(p);
        al_fail(err, "%s: parameter count unknown (endpoint model): pass --x-values", name);
        goto done;
      }
      x[i] = (double)p->nparams;
    } else if (cfg->http || training_compute(name, &x[i], err)) {
      if (cfg->http) al_fail(err, "%s: training compute unknown (endpoint model): pass --x-values", name);
      al_provider_free(p);
      goto done;
    }
    if (!(x[i] > 0)) {
      al_provider_free(p);
      al_fail(err, "%s: x must be positive (got %g)", name, x[i]);
      goto done;
    }
    char sub[128], label[160];
    safe_name(name, i, sub, sizeof sub);
    snprintf(label, sizeof label, "model %d/%d", i + 1, n);
    al_eval_cfg ec = cfg->eval;
    char *dir = al_path_join(cfg->eval.out_dir, sub);
    ec.out_dir = dir;
    ec.progress_label = label;
    al_eval_result r;
    int erc = al_eval_task(p, t, &ec, &r, err);
    long long np = p->nparams;
    al_provider_free(p);
    free(dir);
    if (erc) {
      al_fail_prefix(err, "%s", name);
      goto done;
    }
    metric = r.main_metric;
    const al_metric *m = al_eval_metric(&r, metric);
    y[i] = m->mean, se[i] = m->se;
    x[i] = log10(x[i]);
    al_log("%s: %s %.4f +- %.4f (x = 1e%.2f)", name, metric, y[i], se[i], x[i]);
    json_t *mj = json_object();
    for (int k = 0; k < r.nm; k++) json_object_set_new(mj, r.m[k].name, al_metric_json(&r.m[k]));
    json_array_append_new(models, json_pack("{s:s, s:s, s:I, s:f, s:o, s:i, s:i}", "model", name, "folder", sub,
                                            "nparams", (json_int_t)np, "x", pow(10, x[i]), "metrics", mj,
                                            "examples_cut", r.truncated, "logodds_invalid", r.invalid));
  }
  if (al_fit_trend(x, y, se, n, cfg->alpha, fit, err)) goto done;
  al_log("trend: %s (%s)", al_trend_name(fit->label), fit->reason);
  json_t *root = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:o, s:o}", "alab_version", ALAB_VERSION, "task", "path",
                           t->path ? t->path : "", "sha256", t->sha256, "format", t->format, "x", cfg->x, "metric",
                           metric, "models", json_incref(models), "trend", al_trend_json(fit));
  char *path = al_path_join(cfg->eval.out_dir, "scaling.json");
  rc = al_json_save_file(path, root, err);
  free(path);
  json_decref(root);
  if (!rc) rc = plot(cfg, metric, x, y, se, n, fit, err);
done:
  json_decref(models);
  return rc;
}
