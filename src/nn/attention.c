/* Causal multi-head self-attention (training path).
 * For each batch b, head h, query t:  s[t2] = q_t . k_t2 / sqrt(hs) for t2 <= t,
 * a = softmax(s), out_t = sum_t2 a[t2] v_t2.  Heads are contiguous hs-sized
 * slices of C within q, k and v; qkv rows are [q | k | v]. */
#include <math.h>
#include <string.h>
#include "alab/nn.h"

void nn_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int H) {
  int hs = C / H, C3 = 3 * C;
  float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for collapse(3) schedule(static)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int t = 0; t < T; t++) {
        const float *q = qkv + ((long)b * T + t) * C3 + h * hs;
        float *a = att + (((long)b * H + h) * T + t) * T;
        float mx = -INFINITY;
        for (int t2 = 0; t2 <= t; t2++) {
          const float *k = qkv + ((long)b * T + t2) * C3 + C + h * hs;
          float s = 0.0f;
#pragma omp simd reduction(+ : s)
          for (int i = 0; i < hs; i++) s += q[i] * k[i];
          s *= scale;
          a[t2] = s;
          mx = s > mx ? s : mx;
        }
        float sum = 0.0f;
        for (int t2 = 0; t2 <= t; t2++) {
          a[t2] = expf(a[t2] - mx);
          sum += a[t2];
        }
        float inv = 1.0f / sum;
        for (int t2 = 0; t2 <= t; t2++) a[t2] *= inv;
        for (int t2 = t + 1; t2 < T; t2++) a[t2] = 0.0f;
        float *o = out + ((long)b * T + t) * C + h * hs;
        memset(o, 0, hs * sizeof(float));
        for (int t2 = 0; t2 <= t; t2++) {
          const float *v = qkv + ((long)b * T + t2) * C3 + 2 * C + h * hs;
          float w = a[t2];
#pragma omp simd
          for (int i = 0; i < hs; i++) o[i] += w * v[i];
        }
      }
}

/* Backward, per (b, h) so that every thread owns its slices of dq, dk, dv:
 * da[t2] = dout_t . v_t2;  dv_t2 += a[t2] dout_t;
 * ds[t2] = a[t2] (da[t2] - sum_j a[j] da[j]);  dq_t += scale ds[t2] k_t2;
 * dk_t2 += scale ds[t2] q_t */
void nn_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att, int B,
                           int T, int C, int H) {
  int hs = C / H, C3 = 3 * C;
  float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      for (int t = 0; t < T; t++) {
        float *row = dqkv + ((long)b * T + t) * C3 + h * hs;
        memset(row, 0, hs * sizeof(float));
        memset(row + C, 0, hs * sizeof(float));
        memset(row + 2 * C, 0, hs * sizeof(float));
      }
      for (int t = 0; t < T; t++) {
        const float *a = att + (((long)b * H + h) * T + t) * T;
        float *da = datt + (((long)b * H + h) * T + t) * T;
        const float *go = dout + ((long)b * T + t) * C + h * hs;
        const float *q = qkv + ((long)b * T + t) * C3 + h * hs;
        float *dq = dqkv + ((long)b * T + t) * C3 + h * hs;
        float dot = 0.0f;
        for (int t2 = 0; t2 <= t; t2++) {
          const float *v = qkv + ((long)b * T + t2) * C3 + 2 * C + h * hs;
          float *dv = dqkv + ((long)b * T + t2) * C3 + 2 * C + h * hs;
          float s = 0.0f, w = a[t2];
#pragma omp simd reduction(+ : s)
          for (int i = 0; i < hs; i++) {
            s += go[i] * v[i];
            dv[i] += w * go[i];
          }
          da[t2] = s;
          dot += w * s;
        }
        for (int t2 = 0; t2 <= t; t2++) {
          const float *k = qkv + ((long)b * T + t2) * C3 + C + h * hs;
          float *dk = dqkv + ((long)b * T + t2) * C3 + C + h * hs;
          float ds = a[t2] * (da[t2] - dot) * scale;
#pragma omp simd
          for (int i = 0; i < hs; i++) {
            dq[i] += ds * k[i];
            dk[i] += ds * q[i];
          }
        }
      }
    }
}
