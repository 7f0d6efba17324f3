/* Rotary position embeddings, Hugging Face's rotate_half convention: in a
 * head of hs channels, channel i < hs/2 pairs with i + hs/2 and the pair is
 * turned by the angle pos * inv_freq[i], inv_freq[i] = theta^(-2i/hs):
 *   x'[i]        = x[i] cos - x[i + hs/2] sin
 *   x'[i + hs/2] = x[i + hs/2] cos + x[i] sin.
 * (Checkpoints in the interleaved convention, pairs (2i, 2i+1), are permuted
 * into this one when loaded.) The angle is formed in float32 as
 * transformers does (float inv_freq times float position), so long contexts
 * round as it rounds. The rotation is orthogonal: its backward is the same
 * rotation by -angle. */
#include <math.h>
#include "alab/nn.h"

void nn_rope_table(float *cs, int T, int hs, float theta) {
  int half = hs / 2;
  for (int i = 0; i < half; i++) {
    float inv = (float)(1.0 / pow((double)theta, (double)(2 * i) / hs));
    for (int t = 0; t < T; t++) {
      float ang = (float)t * inv;
      cs[(long)t * hs + i] = (float)cos((double)ang);
      cs[(long)t * hs + half + i] = (float)sin((double)ang);
    }
  }
}

void nn_rope(float *x, const float *cs, const int *pos, int T, int N, int stride, int nheads, int hs, int inverse) {
  int half = hs / 2;
  float sgn = inverse ? -1.0f : 1.0f;
#pragma omp parallel for schedule(static) if ((long)N * nheads * hs >= NN_PARALLEL_MIN)
  for (int n = 0; n < N; n++) {
    int t = pos ? pos[n] : n % T;
    const float *cosv = cs + (long)t * hs, *sinv = cosv + half;
    for (int h = 0; h < nheads; h++) {
      float *a = x + (long)n * stride + (long)h * hs, *b = a + half;
#pragma omp simd
      for (int i = 0; i < half; i++) {
        float c = cosv[i], s = sgn * sinv[i], xa = a[i], xb = b[i];
        a[i] = xa * c - xb * s;
        b[i] = xb * c + xa * s;
      }
    }
  }
}
