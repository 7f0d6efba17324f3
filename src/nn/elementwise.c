/* Token + position embedding, residual addition, cross-entropy. */
#include <math.h>
#include <omp.h>
#include <string.h>
#include "alab/nn.h"
#include "nn/exp_inline.h"

void nn_embedding_forward(float *x, const int32_t *tok, const float *wte, const float *wpe, int B, int T, int C) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      float *o = x + ((long)b * T + t) * C;
      const float *e = wte + (long)tok[b * T + t] * C, *p = wpe + (long)t * C;
#pragma omp simd
      for (int c = 0; c < C; c++) o[c] = e[c] + p[c];
    }
}

void nn_embedding_backward(float *dwte, float *dwpe, const float *dx, const int32_t *tok, int B, int T, int C) {
  /* channels split across threads; rows visited in order: deterministic */
#pragma omp parallel
  {
    int nt = omp_get_num_threads(), id = omp_get_thread_num();
    int c0 = (int)((long)C * id / nt), c1 = (int)((long)C * (id + 1) / nt);
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        const float *g = dx + ((long)b * T + t) * C;
        float *e = dwte + (long)tok[b * T + t] * C, *p = dwpe + (long)t * C;
#pragma omp simd
        for (int c = c0; c < c1; c++) {
          e[c] += g[c];
          p[c] += g[c];
        }
      }
  }
}

void nn_residual_forward(float *out, const float *a, const float *b, long n) {
#pragma omp parallel for simd schedule(static) if (n >= NN_PARALLEL_MIN)
  for (long i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/* loss = logsumexp(z) - z[target], with the max subtracted for stability.
 * Finite rows take the vectorized exp (exp_inline.h); a row holding a NaN
 * or inf takes libm's expf, so it gives NaN/inf as before. */
int nn_crossentropy_forward(float *losses, const float *logits, const int32_t *targets, int N, int V) {
  int counted = 0;
#pragma omp parallel for schedule(static) reduction(+ : counted)
  for (int n = 0; n < N; n++) {
    if (targets[n] < 0) {
      losses[n] = 0.0f;
      continue;
    }
    const float *z = logits + (long)n * V;
    int finite;
    float mx = row_max_finite(z, V, &finite), s = 0.0f;
    if (finite) s = row_exp_sum(NULL, z, V, mx);
    else
      for (int v = 0; v < V; v++) s += expf(z[v] - mx);
    losses[n] = logf(s) + mx - z[targets[n]];
    counted++;
  }
  return counted;
}

void nn_crossentropy_backward(float *logits, const int32_t *targets, int N, int V, float dloss) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    float *z = logits + (long)n * V;
    if (targets[n] < 0) {
      memset(z, 0, V * sizeof(float));
      continue;
    }
    int finite;
    float mx = row_max_finite(z, V, &finite), s = 0.0f;
    if (finite) s = row_exp_sum(z, z, V, mx);
    else
      for (int v = 0; v < V; v++) {
        z[v] = expf(z[v] - mx);
        s += z[v];
      }
    float k = dloss / s;
#pragma omp simd
    for (int v = 0; v < V; v++) z[v] *= k;
    z[targets[n]] -= dloss;
  }
}
