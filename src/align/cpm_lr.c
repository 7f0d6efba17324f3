/* Logistic regression without intercept through liblinear (alab/cpm.h):
 *   L2:  min_w 0.5 ||w||^2 + C sum_i log(1 + exp(-y_i w.x_i))   (solver L2R_LR)
 *   L1:  min_w ||w||_1     + C sum_i log(1 + exp(-y_i w.x_i))   (solver L1R_LR)
 * y_i = +1 for y[i] = 1, -1 for 0; prob.bias = -1 (no intercept). */
#include <linear.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include "alab/cpm.h"

static void print_nothing(const char *s) { (void)s; }
static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
static void make_quiet(void) { set_print_string_function(print_nothing); }

/* log(1 + exp(-z)) without overflow */
static double log1pexp_neg(double z) { return z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z)); }

double al_lr_logloss(const double *X, const int *y, int n, int d, const double *w) {
  double s = 0;
  for (int i = 0; i < n; i++) {
    double z = 0;
    for (int k = 0; k < d; k++) z += w[k] * X[(size_t)i * d + k];
    s += log1pexp_neg(y[i] ? z : -z);
  }
  return n > 0 ? s / n : NAN;
}

/* One liblinear fit; rows with flip[i] set are mirrored (x -> -x, y -> -y),
 * which leaves each row's loss log(1 + exp(-y w.x)) unchanged. */
static int fit_rows(const double *X, const int *y, const int *flip, int n, int d, al_lr_penalty pen, double C,
                    double eps, double *w, al_err *err) {
  struct feature_node *nodes = al_malloc(sizeof(struct feature_node) * (size_t)n * (d + 1));
  struct feature_node **rows = al_malloc(sizeof(*rows) * n);
  double *ys = al_malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) {
    struct feature_node *r = nodes + (size_t)i * (d + 1);
    double sgn = flip && flip[i] ? -1.0 : 1.0;
    for (int k = 0; k < d; k++) r[k].index = k + 1, r[k].value = sgn * X[(size_t)i * d + k];
    r[d].index = -1, r[d].value = 0;
    rows[i] = r;
    ys[i] = sgn * (y[i] ? 1.0 : -1.0);
  }
  struct problem prob = {.l = n, .n = d, .y = ys, .x = rows, .bias = -1};
  struct parameter par = {.solver_type = pen == AL_LR_L1 ? L1R_LR : L2R_LR, .eps = eps, .C = C};
  int rc = 0;
  const char *bad = check_parameter(&prob, &par);
  if (bad) {
    rc = al_fail(err, "logistic regression: liblinear refused the settings: %s", bad);
  } else {
    pthread_once(&quiet_once, make_quiet);
    struct model *m = train(&prob, &par);
    /* liblinear's w scores the class model->label[0] as positive */
    double sgn = m->nr_class == 2 && m->label[0] == -1 ? -1.0 : 1.0;
    if (m->nr_class != 2) rc = al_fail(err, "logistic regression: the labels hold one class only");
    for (int k = 0; k < d; k++) w[k] = rc ? NAN : sgn * m->w[k];
    free_and_destroy_model(&m);
  }
  free(nodes), free(rows), free(ys);
  return rc;
}

int al_lr_fit(const double *X, const int *y, int n, int d, al_lr_penalty pen, double C, double eps, double *w,
              al_err *err) {
  if (n < 1 || d < 1) return al_fail(err, "logistic regression: %d rows of %d features (need at least 1 of each)", n, d);
  if (!(C > 0) || !isfinite(C)) return al_fail(err, "logistic regression: C = %g (must be a finite number > 0)", C);
  if (!(eps > 0)) return al_fail(err, "logistic regression: tolerance %g (must be > 0)", eps);
  int npos = 0;
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < d; k++)
      if (!isfinite(X[(size_t)i * d + k]))
        return al_fail(err, "logistic regression: row %d, feature %d is %g (must be finite)", i, k, X[(size_t)i * d + k]);
    if (y[i] != 0 && y[i] != 1) return al_fail(err, "logistic regression: row %d label %d (must be 0 or 1)", i, y[i]);
    npos += y[i];
  }
  if (npos > 0 && npos < n) return fit_rows(X, y, NULL, n, d, pen, C, eps, w, err);
  if (n < 2) return al_fail(err, "logistic regression: one row cannot hold both labels");
  int *flip = al_malloc(sizeof(int) * n);
  for (int i = 0; i < n; i++) flip[i] = i & 1;
  int rc = fit_rows(X, y, flip, n, d, pen, C, eps, w, err);
  free(flip);
  return rc;
}
