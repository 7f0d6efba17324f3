/* Causal grouped-query self-attention (training path): H query heads share
 * KVH key/value heads, query head h reading key/value head h / (H / KVH)
 * (KVH = H is multi-head attention, GPT-2's: src/nn/attention.c). Rows of
 * qkv are [q (H*hs) | k (KVH*hs) | v (KVH*hs)]; for each batch b and query
 * head h, with Q, K, V the [T, hs] slices:
 *   S = Q K^T / sqrt(hs),  P = softmax(S) row-wise over t2 <= t (0 above),
 *   O = P V  into out [B, T, H*hs].
 * Each (b, h) is a few single-threaded sgemm calls on strided views, spread
 * across threads; results do not depend on scheduling. att keeps P. */
#include <cblas.h>
#include <math.h>
#include "alab/nn.h"
#include "nn/exp_inline.h"

#define GEMM(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)                                                 \
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, \
              B, ldb, beta, C, ldc)

/* P's rows softmaxed over t2 <= t and zeroed after: the vectorized exp for a
 * finite row (exp_inline.h), libm's otherwise so NaN/inf propagate */
static void causal_softmax_rows(float *P, int T) {
  for (int t = 0; t < T; t++) {
    float *row = P + (long)t * T, sum = 0.0f;
    int finite;
    float mx = row_max_finite(row, t + 1, &finite);
    if (finite) sum = row_exp_sum(row, row, t + 1, mx);
    else
      for (int t2 = 0; t2 <= t; t2++) {
        row[t2] = expf(row[t2] - mx);
        sum += row[t2];
      }
    float inv = 1.0f / sum;
    for (int t2 = 0; t2 <= t; t2++) row[t2] *= inv;
    for (int t2 = t + 1; t2 < T; t2++) row[t2] = 0.0f;
  }
}

void nn_attention_gqa_forward(float *out, float *att, const float *qkv, int B, int T, int H, int KVH, int hs) {
  int C = H * hs, W = (H + 2 * KVH) * hs, group = H / KVH;
  float scale = 1.0f / sqrtf((float)hs);
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      const float *Q = qkv + (long)b * T * W + h * hs, *K = qkv + (long)b * T * W + C + (h / group) * hs;
      const float *V = K + KVH * hs;
      float *P = att + ((long)b * H + h) * T * T;
      GEMM(0, 1, T, T, hs, scale, Q, W, K, W, 0.0f, P, T);
      causal_softmax_rows(P, T);
      GEMM(0, 0, T, hs, T, 1.0f, P, T, V, W, 0.0f, out + (long)b * T * C + h * hs, C);
    }
}

/* Per query head: dP = dO V^T; dS = P * (dP - rowsum(P * dP)) / sqrt(hs);
 * dQ = dS K; and, summed over the heads of a group in head order,
 * dK = sum dS^T Q, dV = sum P^T dO. Work is split by (b, key/value head), so
 * each dK/dV slice has one writer. datt is scratch [B, H, T, T]. */
void nn_attention_gqa_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att, int B,
                               int T, int H, int KVH, int hs) {
  int C = H * hs, W = (H + 2 * KVH) * hs, group = H / KVH;
  float scale = 1.0f / sqrtf((float)hs);
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int kh = 0; kh < KVH; kh++) {
      const float *K = qkv + (long)b * T * W + C + kh * hs, *V = K + KVH * hs;
      float *dK = dqkv + (long)b * T * W + C + kh * hs, *dV = dK + KVH * hs;
      for (int h = kh * group; h < (kh + 1) * group; h++) {
        const float *Q = qkv + (long)b * T * W + h * hs;
        const float *P = att + ((long)b * H + h) * T * T, *dO = dout + (long)b * T * C + h * hs;
        float *dQ = dqkv + (long)b * T * W + h * hs, *dP = datt + ((long)b * H + h) * T * T;
        float beta = h == kh * group ? 0.0f : 1.0f;
        GEMM(1, 0, T, hs, T, 1.0f, P, T, dO, C, beta, dV, W);
        GEMM(0, 1, T, T, hs, 1.0f, dO, C, V, W, 0.0f, dP, T);
        for (int t = 0; t < T; t++) {
          const float *p = P + (long)t * T;
          float *d = dP + (long)t * T, dot = 0.0f;
          for (int t2 = 0; t2 <= t; t2++) dot += p[t2] * d[t2];
          for (int t2 = 0; t2 <= t; t2++) d[t2] = p[t2] * (d[t2] - dot) * scale;
          for (int t2 = t + 1; t2 < T; t2++) d[t2] = 0.0f;
        }
        GEMM(0, 0, T, hs, T, 1.0f, dP, T, K, W, 0.0f, dQ, W);
        GEMM(1, 0, T, hs, T, 1.0f, dP, T, Q, W, beta, dK, W);
      }
    }
}
