/* A vectorizable e^x shared by the activation kernels (gelu.c, swiglu.c)
 * and the softmax rows of cross-entropy and attention (row_max_finite,
 * row_exp_sum): libm's expf is a scalar call that keeps loops from
 * vectorizing. */
#ifndef ALAB_NN_EXP_INLINE_H
#define ALAB_NN_EXP_INLINE_H
#include <stdint.h>
#include <string.h>

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

/* max_i x[i] over n >= 1 values, and *finite = 0 when some x[i] is NaN or
 * infinite (x * 0 is NaN exactly then). exp_inline clamps, so it would
 * turn a NaN into a number: callers take libm's path for such a row and
 * keep NaN/inf propagating as before. */
static inline float row_max_finite(const float *x, int n, int *finite) {
  float mx = x[0], zero = 0.0f;
#pragma omp simd reduction(max : mx) reduction(+ : zero)
  for (int i = 0; i < n; i++) {
    mx = x[i] > mx ? x[i] : mx;
    zero += x[i] * 0.0f;
  }
  *finite = zero == 0.0f;
  return mx;
}

/* sum_i e^(x[i] - mx) over a finite row; out[i] = e^(x[i] - mx) when out is
 * not NULL (out may be x). */
static inline float row_exp_sum(float *out, const float *x, int n, float mx) {
  float s = 0.0f;
  if (out) {
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) {
      out[i] = exp_inline(x[i] - mx);
      s += out[i];
    }
  } else {
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) s += exp_inline(x[i] - mx);
  }
  return s;
}
#endif
