/* RMSNorm over the channel dimension (Llama's norm; as Hugging Face's
 * LlamaRMSNorm, in float32):
 *   rstd = 1 / sqrt(mean_c x^2 + eps),  y = x * rstd * w. */
#include <math.h>
#include <omp.h>
#include "alab/nn.h"

void nn_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps) {
#pragma omp parallel for schedule(static) if ((long)N * C >= NN_PARALLEL_MIN)
  for (int n = 0; n < N; n++) {
    const float *x = inp + (long)n * C;
    float *y = out + (long)n * C, ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int c = 0; c < C; c++) ss += x[c] * x[c];
    float s = 1.0f / sqrtf(ss / C + eps);
#pragma omp simd
    for (int c = 0; c < C; c++) y[c] = x[c] * s * w[c];
    if (rstd) rstd[n] = s;
  }
}

/* With xhat = x * rstd and g = dout * w:
 *   dx += rstd * (g - xhat * mean_c(g * xhat));  dw += sum_rows dout * xhat. */
void nn_rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *rstd,
                         int N, int C) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    const float *x = inp + (long)n * C, *g = dout + (long)n * C;
    float *dx = dinp + (long)n * C, s = rstd[n], sum_gx = 0.0f;
#pragma omp simd reduction(+ : sum_gx)
    for (int c = 0; c < C; c++) sum_gx += g[c] * w[c] * x[c] * s;
    sum_gx /= C;
#pragma omp simd
    for (int c = 0; c < C; c++) dx[c] += s * (g[c] * w[c] - x[c] * s * sum_gx);
  }
  /* columns split across threads, rows summed in order: deterministic */
#pragma omp parallel
  {
    int nt = omp_get_num_threads(), id = omp_get_thread_num();
    int c0 = (int)((long)C * id / nt), c1 = (int)((long)C * (id + 1) / nt);
    for (int n = 0; n < N; n++) {
      const float *x = inp + (long)n * C, *g = dout + (long)n * C;
      float s = rstd[n];
#pragma omp simd
      for (int c = c0; c < c1; c++) dw[c] += g[c] * x[c] * s;
    }
  }
}
