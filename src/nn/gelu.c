/* GELU, tanh approximation (HF "gelu_new"):
 * y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
 * dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3*0.044715 x^2) */
#include <math.h>
#include "alab/nn.h"

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

void nn_gelu_forward(float *out, const float *inp, long n) {
#pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; i++) {
    float x = inp[i];
    out[i] = 0.5f * x * (1.0f + tanhf(GELU_K * (x + 0.044715f * x * x * x)));
  }
}

void nn_gelu_backward(float *dinp, const float *inp, const float *dout, long n) {
#pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; i++) {
    float x = inp[i], t = tanhf(GELU_K * (x + 0.044715f * x * x * x));
    float d = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] = d * dout[i];
  }
}
