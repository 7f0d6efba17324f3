/* The compositional preference model's logistic regression (liblinear,
 * src/align/cpm_lr.c, cpm_fit.c):
 *   - against PyTorch (tests/oracle/lr_torch.py: LBFGS for L2, proximal
 *     gradient for L1, the same penalty and no intercept) within 1e-3, on
 *     separable and non-separable toy data, at several C;
 *   - a planted preference on two of four features (different scales) is
 *     recovered: right signs, the ratio of the raw-scale coefficients within
 *     15%, bootstrap intervals that hold the truth and exclude 0;
 *   - the refusals (non-finite value, C <= 0, too few pairs) name the problem;
 *   - same seed, same coefficients. */
#include "alab/cpm.h"
#include "test.h"

typedef struct {
  int n, d;
  double C;
  al_lr_penalty pen;
  double *X;
  int *y;
} problem;

/* n rows of d standard normals; y from w_true: separable = sign of x.w,
 * otherwise a Bernoulli(sigmoid(x.w)) draw. */
static problem make(uint64_t seed, int n, int d, const double *w_true, int separable, double C, al_lr_penalty pen) {
  problem p = {.n = n, .d = d, .C = C, .pen = pen};
  p.X = al_malloc(sizeof(double) * n * d), p.y = al_malloc(sizeof(int) * n);
  al_rng r;
  al_rng_seed(&r, seed);
  for (int i = 0; i < n; i++) {
    double z = 0;
    for (int k = 0; k < d; k++) p.X[i * d + k] = al_rng_normal(&r), z += w_true[k] * p.X[i * d + k];
    p.y[i] = separable ? z > 0 : al_rng_uniform(&r) < 1 / (1 + exp(-z));
  }
  return p;
}

static void write_problem(FILE *f, const problem *p) {
  fprintf(f, "%d %d %.17g %s\n", p->n, p->d, p->C, p->pen == AL_LR_L1 ? "l1" : "l2");
  for (int i = 0; i < p->n; i++) {
    fprintf(f, "%d", p->y[i]);
    for (int k = 0; k < p->d; k++) fprintf(f, " %.17g", p->X[i * p->d + k]);
    fputc('\n', f);
  }
}

static void against_torch(void) {
  enum { NP = 7 };
  double w3[3] = {2, -1, 0.5}, w5[5] = {1, 0, -2, 0.3, 0};
  problem ps[NP] = {
      make(1, 60, 3, w3, 1, 0.1, AL_LR_L2),  make(1, 60, 3, w3, 1, 10, AL_LR_L2), /* separable */
      make(2, 200, 3, w3, 0, 1, AL_LR_L2),   make(3, 300, 5, w5, 0, 0.05, AL_LR_L2),
      make(4, 300, 5, w5, 0, 0.1, AL_LR_L1), make(5, 80, 3, w3, 1, 1, AL_LR_L1), /* separable, L1 */
      make(6, 150, 5, w5, 0, 1, AL_LR_L1),
  };
  char *dir = test_tmpdir("cpm_lr");
  char *path = al_path_join(dir, "problems.txt");
  FILE *f = fopen(path, "w");
  for (int i = 0; i < NP; i++) write_problem(f, &ps[i]);
  fclose(f);
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/lr_torch.py' '%s'", getenv("ALAB_SRC"), path);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "the PyTorch oracle failed (rc %d): is python3-torch installed?", rc);
  const char *q = out ? out : "";
  for (int i = 0; i < NP && rc == 0; i++) {
    problem *p = &ps[i];
    double w[8], wt[8], maxdiff = 0, maxabs = 0;
    al_err err;
    CHECK_OK(al_lr_fit(p->X, p->y, p->n, p->d, p->pen, p->C, 1e-9, w, &err), err);
    for (int k = 0; k < p->d; k++) {
      char *end;
      wt[k] = strtod(q, &end);
      CHECK(end != q, "problem %d: the oracle printed no coefficient %d", i, k);
      q = end;
      maxdiff = fmax(maxdiff, fabs(w[k] - wt[k]));
      maxabs = fmax(maxabs, fabs(wt[k]));
    }
    printf("problem %d (%s, C %g, n %d): max |liblinear - torch| = %.2e (max |w| %.3f)\n", i,
           p->pen == AL_LR_L1 ? "L1" : "L2", p->C, p->n, maxdiff, maxabs);
    CHECK(maxdiff < 1e-3, "problem %d: liblinear and PyTorch differ by %g", i, maxdiff);
    CHECK(maxabs > 0.1, "problem %d: a trivial solution (max |w| %g) tests nothing", i, maxabs);
  }
  free(out), free(path), free(dir);
  for (int i = 0; i < NP; i++) free(ps[i].X), free(ps[i].y);
}

/* Responses with 4 features: f0 a 1-10 score, f1 ~ N(0, 5^2), f2, f3 noise
 * of other scales. The preference: P(A > B) = sigmoid(0.6 (f0a - f0b) - 0.1 (f1a - f1b)). */
static void planted(void) {
  enum { N = 2000, D = 4 };
  const double a0 = 0.6, a1 = -0.1;
  double *fa = al_malloc(sizeof(double) * N * D), *fb = al_malloc(sizeof(double) * N * D);
  int *won = al_malloc(sizeof(int) * N);
  al_rng r;
  al_rng_seed(&r, 7);
  for (int i = 0; i < N; i++) {
    double *f[2] = {fa + i * D, fb + i * D};
    for (int s = 0; s < 2; s++) {
      f[s][0] = 1 + (double)al_rng_below(&r, 10);
      f[s][1] = 5 * al_rng_normal(&r);
      f[s][2] = 3 + 0.2 * al_rng_normal(&r);
      f[s][3] = 1 + (double)al_rng_below(&r, 10);
    }
    double z = a0 * (f[0][0] - f[1][0]) + a1 * (f[0][1] - f[1][1]);
    won[i] = al_rng_uniform(&r) < 1 / (1 + exp(-z));
  }
  const char *names[D] = {"helpfulness", "length", "noise_small", "noise_score"};
  al_cpm_cfg c = al_cpm_defaults();
  al_cpm m, m2;
  al_err err;
  CHECK_OK(al_cpm_train(fa, fb, won, N, D, names, &c, &m, &err), err);
  CHECK_OK(al_cpm_train(fa, fb, won, N, D, names, &c, &m2, &err), err);
  double raw0 = m.w[0] / m.scale[0], raw1 = m.w[1] / m.scale[1];
  printf("planted: C %g; coefficients per raw unit %.4f %.4f (truth %.2f %.2f); ratio %.3f (truth %.1f)\n", m.C,
         raw0, raw1, a0, a1, raw0 / raw1, a0 / a1);
  for (int k = 0; k < D; k++)
    printf("  %-12s coef %.4f [%.4f, %.4f] scale %.3f\n", m.names[k], m.w[k], m.w_lo[k], m.w_hi[k], m.scale[k]);
  CHECK(raw0 > 0 && raw1 < 0, "signs: %g %g", raw0, raw1);
  CHECK(fabs(raw0 / raw1 / (a0 / a1) - 1) < 0.15, "ratio %g against %g", raw0 / raw1, a0 / a1);
  CHECK(m.w_lo[0] > 0 && m.w_hi[1] < 0, "intervals exclude 0: [%g, %g] [%g, %g]", m.w_lo[0], m.w_hi[0], m.w_lo[1],
        m.w_hi[1]);
  CHECK(m.w_lo[0] <= a0 * m.scale[0] && a0 * m.scale[0] <= m.w_hi[0], "the truth %g in [%g, %g]", a0 * m.scale[0],
        m.w_lo[0], m.w_hi[0]);
  CHECK(m.w_lo[1] <= a1 * m.scale[1] && a1 * m.scale[1] <= m.w_hi[1], "the truth %g in [%g, %g]", a1 * m.scale[1],
        m.w_lo[1], m.w_hi[1]);
  for (int k = 2; k < D; k++) CHECK(fabs(m.w[k]) < 0.1 * fabs(m.w[0]), "noise feature %d: %g", k, m.w[k]);
  int same = m.C == m2.C;
  for (int k = 0; k < D; k++) same &= m.w[k] == m2.w[k] && m.w_lo[k] == m2.w_lo[k] && m.w_hi[k] == m2.w_hi[k];
  CHECK(same, "the same seed gave different coefficients");
  /* the reward orders responses as the planted preference does */
  double hi[D] = {9, -5, 3, 5}, lo[D] = {2, 5, 3, 5};
  CHECK(al_cpm_reward(&m, hi) > al_cpm_reward(&m, lo), "reward order");
  json_t *j = al_cpm_json(&m);
  CHECK(json_array_size(json_object_get(j, "features")) == D && json_array_size(json_object_get(j, "cv")) == 13,
        "json shape");
  json_decref(j);
  al_cpm_free(&m), al_cpm_free(&m2);
  free(fa), free(fb), free(won);
}

static void refusals(void) {
  al_err err;
  double X[4] = {1, 2, NAN, 0}, w[2];
  int y[2] = {1, 0};
  CHECK_FAILS_WITH(al_lr_fit(X, y, 2, 2, AL_LR_L2, 1, 1e-6, w, &err), err, "row 1, feature 0");
  X[2] = 3;
  CHECK_FAILS_WITH(al_lr_fit(X, y, 2, 2, AL_LR_L2, 0, 1e-6, w, &err), err, "C = 0");
  int y1[2] = {1, 1}; /* one label: mirrored, fitted, not refused */
  CHECK_OK(al_lr_fit(X, y1, 2, 2, AL_LR_L2, 1, 1e-6, w, &err), err);
  CHECK(w[0] != 0 || w[1] != 0, "mirrored fit is empty");
  int y2[2] = {1, 2};
  CHECK_FAILS_WITH(al_lr_fit(X, y2, 2, 2, AL_LR_L2, 1, 1e-6, w, &err), err, "label 2");
  al_cpm m;
  al_cpm_cfg c = al_cpm_defaults();
  const char *names[2] = {"a", "b"};
  double fa[4] = {1, 2, 3, 4}, fb[4] = {1, INFINITY, 0, 0};
  CHECK_FAILS_WITH(al_cpm_train(fa, fb, y, 2, 2, names, &c, &m, &err), err, "folds");
  c.folds = 0;
  CHECK_FAILS_WITH(al_cpm_train(fa, fb, y, 2, 2, names, &c, &m, &err), err, "feature 'b'");
}

int main(void) {
  against_torch();
  planted();
  refusals();
  return test_summary();
}
