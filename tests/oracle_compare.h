/* Comparing alab's tensors with an oracle's safetensors output: agreement
 * per tensor is max|alab - ref| / max|ref| (a relative error per element
 * would divide by gradients that are zero up to rounding). */
#ifndef ALAB_TEST_ORACLE_COMPARE_H
#define ALAB_TEST_ORACLE_COMPARE_H
#include "alab/model.h"
#include "alab/safetensors.h"
#include "test.h"

static inline double tensor_rel_err(const float *a, const float *b, size_t n) {
  double md = 0, mb = 0;
  for (size_t i = 0; i < n; i++) {
    md = fmax(md, fabs((double)a[i] - b[i]));
    mb = fmax(mb, fabs((double)b[i]));
  }
  return md / fmax(mb, 1e-30);
}

/* mine[0..n) against the oracle's tensor `name`, within tol; returns the error. */
static inline double compare_tol(const al_st_file *f, const char *name, const float *mine, size_t n, double tol,
                                 const char *what) {
  al_err err;
  const al_st_entry *e = al_st_find(f, name);
  CHECK(e != NULL && e->numel == n, "%s: oracle output '%s' missing or wrong size", what, name);
  if (!e || e->numel != n) return INFINITY;
  float *ref = al_alloc_floats(n);
  CHECK_OK(al_st_read_f32(f, e, ref, &err), err);
  double r = tensor_rel_err(mine, ref, n);
  CHECK(r <= tol, "%s: %s differs from the oracle: max rel err %.3e (tolerance %.1e)", what, name, r, tol);
  free(ref);
  return r;
}

/* Every tensor of buf (laid out like m's params) against the oracle's "<prefix>.<name>". */
static inline double compare_model(const al_st_file *f, const char *prefix, const al_model *m, const float *buf,
                                   double tol, const char *what) {
  char nm[160];
  double worst = 0;
  for (int i = 0; i < m->ntensors; i++) {
    snprintf(nm, sizeof nm, "%s.%s", prefix, m->tensors[i].name);
    worst = fmax(worst, compare_tol(f, nm, buf + m->tensors[i].offset, m->tensors[i].numel, tol, what));
  }
  return worst;
}
#endif
