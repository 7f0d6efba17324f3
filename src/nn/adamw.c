/* AdamW (decoupled weight decay), step for step the same as torch.optim.AdamW
 * with amsgrad off, and the global gradient norm used for clipping. */
#include <math.h>
#include <stdlib.h>
#include "alab/nn.h"

void nn_adamw_update(float *p, const float *g, float *m, float *v, long n, int t, const nn_adamw_cfg *c, int decay) {
  float bc1 = 1.0f - powf(c->beta1, (float)t), bc2 = 1.0f - powf(c->beta2, (float)t);
  float step = c->lr / bc1, bc2_sqrt = sqrtf(bc2), shrink = decay ? 1.0f - c->lr * c->weight_decay : 1.0f;
#pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; i++) {
    float pi = p[i] * shrink;
    float mi = m[i] + (g[i] - m[i]) * (1.0f - c->beta1); /* torch: exp_avg.lerp_(grad, 1 - beta1) */
    float vi = v[i] * c->beta2 + (1.0f - c->beta2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - step * (mi / (sqrtf(vi) / bc2_sqrt + c->eps));
  }
}

double nn_global_norm(const float *g, long n) {
  enum { CHUNK = 1 << 16 };
  long nchunks = (n + CHUNK - 1) / CHUNK;
  double *part = malloc((nchunks ? nchunks : 1) * sizeof(double));
  /* fixed chunks, summed in index order: the same result for any thread count */
#pragma omp parallel for schedule(static)
  for (long k = 0; k < nchunks; k++) {
    long a = k * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
    double s = 0.0;
    for (long i = a; i < b; i++) s += (double)g[i] * g[i];
    part[k] = s;
  }
  double total = 0.0;
  for (long k = 0; k < nchunks; k++) total += part[k];
  free(part);
  return sqrt(total);
}
