/* LayerNorm over the channel dimension (biased variance, as torch). */
#include <math.h>
#include <omp.h>
#include "alab/nn.h"

void nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                          int N, int C, float eps) {
#pragma omp parallel for schedule(static) if ((long)N * C >= NN_PARALLEL_MIN)
  for (int n = 0; n < N; n++) {
    const float *x = inp + (long)n * C;
    float *y = out + (long)n * C;
    float m = 0.0f;
#pragma omp simd reduction(+ : m)
    for (int c = 0; c < C; c++) m += x[c];
    m /= C;
    float var = 0.0f;
#pragma omp simd reduction(+ : var)
    for (int c = 0; c < C; c++) var += (x[c] - m) * (x[c] - m);
    var /= C;
    float s = 1.0f / sqrtf(var + eps);
#pragma omp simd
    for (int c = 0; c < C; c++) y[c] = (x[c] - m) * s * w[c] + b[c];
    if (mean) mean[n] = m;
    if (rstd) rstd[n] = s;
  }
}

void nn_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                           const float *mean, const float *rstd, int N, int C) {
  /* rows in parallel for dinp */
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    const float *x = inp + (long)n * C, *g = dout + (long)n * C;
    float *dx = dinp + (long)n * C;
    float m = mean[n], s = rstd[n], sum_g = 0.0f, sum_gx = 0.0f;
#pragma omp simd reduction(+ : sum_g, sum_gx)
    for (int c = 0; c < C; c++) {
      float gw = g[c] * w[c];
      sum_g += gw;
      sum_gx += gw * (x[c] - m) * s;
    }
    sum_g /= C;
    sum_gx /= C;
#pragma omp simd
    for (int c = 0; c < C; c++) dx[c] += s * (g[c] * w[c] - sum_g - (x[c] - m) * s * sum_gx);
  }
  /* columns in parallel for dw, db: each column summed over rows in order */
#pragma omp parallel
  {
    int nt = omp_get_num_threads(), id = omp_get_thread_num();
    int c0 = (int)((long)C * id / nt), c1 = (int)((long)C * (id + 1) / nt);
    for (int n = 0; n < N; n++) {
      const float *x = inp + (long)n * C, *g = dout + (long)n * C;
      float m = mean[n], s = rstd[n];
#pragma omp simd
      for (int c = c0; c < c1; c++) {
        dw[c] += g[c] * (x[c] - m) * s;
        db[c] += g[c];
      }
    }
  }
}
