/* SwiGLU (Llama's MLP nonlinearity) over rows [gate (F) | up (F)]:
 *   out = silu(gate) * up,  silu(g) = g * sigmoid(g),
 * sigmoid from the inlined exp (exp_inline.h) so the loops vectorize. */
#include "alab/nn.h"
#include "nn/exp_inline.h"
#include "nn/rows.h"

/* channels [i0, i1) of row n */
static inline void swiglu_row(float *out, const float *gu, int n, int F, int i0, int i1) {
  const float *g = gu + (long)n * 2 * F, *u = g + F;
  float *o = out + (long)n * F;
#pragma omp simd
  for (int i = i0; i < i1; i++) o[i] = g[i] / (1.0f + exp_inline(-g[i])) * u[i];
}

void nn_swiglu_forward(float *out, const float *gu, int N, int F) {
#pragma omp parallel for schedule(static) if ((long)N * F >= NN_PARALLEL_MIN)
  for (int n = 0; n < N; n++) swiglu_row(out, gu, n, F, 0, F);
}

void nn_swiglu_forward_part(float *out, const float *gu, int N, int F, int i0, int i1) {
  for (int n = 0; n < N; n++) swiglu_row(out, gu, n, F, i0, i1);
}

/* dgate = dout * up * sigmoid(g) (1 + g (1 - sigmoid(g))),  dup = dout * silu(g)
 * (overwritten) */
void nn_swiglu_backward(float *dgu, const float *dout, const float *gu, int N, int F) {
#pragma omp parallel for schedule(static) if ((long)N * F >= NN_PARALLEL_MIN)
  for (int n = 0; n < N; n++) {
    const float *g = gu + (long)n * 2 * F, *u = g + F, *d = dout + (long)n * F;
    float *dg = dgu + (long)n * 2 * F, *du = dg + F;
#pragma omp simd
    for (int i = 0; i < F; i++) {
      float sg = 1.0f / (1.0f + exp_inline(-g[i]));
      du[i] = d[i] * g[i] * sg;
      dg[i] = d[i] * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
    }
  }
}
