/* GELU, tanh approximation (HF "gelu_new"):
 * y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
 * dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3*0.044715 x^2)
 *
 * tanh comes from an inlined exp so the loops vectorize (libm's tanhf is a
 * scalar call and was 30% of a small model's training time):
 * tanh(u) = 1 - 2 / (e^{2u} + 1), absolute error below 2e-7. */
#include <math.h>
#include <stdint.h>
#include <omp.h>
#include <string.h>
#include "alab/nn.h"

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

/* e^x for x in [-87, 88]: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two
 * for exactness), e^r by its degree-6 Taylor polynomial (relative error
 * < r^7/5040 ~ 1.2e-7), times 2^n built in the exponent bits. The clamp is
 * written so that NaN fails both comparisons and becomes -87: the exponent
 * arithmetic then stays defined (a NaN would make (int32_t)n undefined and
 * the shift of a negative value), and gelu's 0.5 x (...) still gives NaN. */
static inline float exp_inline(float x) {
  x = x > -87.0f ? x : -87.0f;
  x = x < 88.0f ? x : 88.0f;
  /* round to nearest by the 1.5 * 2^23 trick (floorf would block vectorization) */
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693145751953125f - n * 1.428606765330187e-6f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float tanh_inline(float u) { return 1.0f - 2.0f / (exp_inline(2.0f * u) + 1.0f); }

/* Threads take contiguous spans; each span is a plain vectorizable loop. */
#define SPANS(n, body)                                                        \
  _Pragma("omp parallel if ((n) >= NN_PARALLEL_MIN)") {                       \
    int nt_ = omp_get_num_threads(), id_ = omp_get_thread_num();              \
    long lo = (n) * id_ / nt_, hi = (n) * (id_ + 1) / nt_;                    \
    body                                                                      \
  }

static void gelu_fwd_span(float *restrict out, const float *restrict inp, long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) {
    float x = inp[i];
    out[i] = 0.5f * x * (1.0f + tanh_inline(GELU_K * (x + 0.044715f * x * x * x)));
  }
}

static void gelu_bwd_span(float *dinp, const float *restrict inp, const float *dout, long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) {
    float x = inp[i], t = tanh_inline(GELU_K * (x + 0.044715f * x * x * x));
    float d = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] = d * dout[i];
  }
}

void nn_gelu_forward(float *out, const float *inp, long n) { SPANS(n, gelu_fwd_span(out, inp, lo, hi);) }

/* dinp may alias dout (the model computes the gradient in place) */
void nn_gelu_backward(float *dinp, const float *inp, const float *dout, long n) {
  SPANS(n, gelu_bwd_span(dinp, inp, dout, lo, hi);)
}
