/* Causal multi-head self-attention (training path).
 * For each batch b and head h, with Q, K, V the [T, hs] slices of qkv
 * (rows [q | k | v], heads contiguous hs-sized slices of C):
 *   S = Q K^T / sqrt(hs),  P = softmax(S) row-wise over t2 <= t (0 above),
 *   O = P V.
 * Each (b, h) is a few single-threaded sgemm calls on strided views; the
 * (b, h) pairs are spread across threads, so results do not depend on
 * scheduling. att keeps P for backward. */
#include <cblas.h>
#include <math.h>
#include <string.h>
#include "alab/nn.h"
#include "nn/exp_inline.h"

#define GEMM(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)                                                 \
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, \
              B, ldb, beta, C, ldc)

void nn_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int H) {
  int hs = C / H, C3 = 3 * C;
  float scale = 1.0f / sqrtf((float)hs);
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      const float *Q = qkv + (long)b * T * C3 + h * hs, *K = Q + C, *V = Q + 2 * C;
      float *P = att + ((long)b * H + h) * T * T;
      GEMM(0, 1, T, T, hs, scale, Q, C3, K, C3, 0.0f, P, T);
      for (int t = 0; t < T; t++) {
        /* vectorized exp for a finite row (exp_inline.h), libm's otherwise so NaN/inf propagate */
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
      GEMM(0, 0, T, hs, T, 1.0f, P, T, V, C3, 0.0f, out + (long)b * T * C + h * hs, C);
    }
}

/* dV = P^T dO;  dP = dO V^T;  dS = P * (dP - rowsum(P * dP)) / sqrt(hs);
 * dQ = dS K;  dK = dS^T Q.  datt is scratch for dP/dS. */
void nn_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att, int B,
                           int T, int C, int H) {
  int hs = C / H, C3 = 3 * C;
  float scale = 1.0f / sqrtf((float)hs);
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      const float *Q = qkv + (long)b * T * C3 + h * hs, *K = Q + C, *V = Q + 2 * C;
      const float *P = att + ((long)b * H + h) * T * T, *dO = dout + (long)b * T * C + h * hs;
      float *dQ = dqkv + (long)b * T * C3 + h * hs, *dK = dQ + C, *dV = dQ + 2 * C;
      float *dP = datt + ((long)b * H + h) * T * T;
      GEMM(1, 0, T, hs, T, 1.0f, P, T, dO, C, 0.0f, dV, C3);
      GEMM(0, 1, T, T, hs, 1.0f, dO, C, V, C3, 0.0f, dP, T);
      for (int t = 0; t < T; t++) {
        const float *p = P + (long)t * T;
        float *d = dP + (long)t * T, dot = 0.0f;
        for (int t2 = 0; t2 <= t; t2++) dot += p[t2] * d[t2];
        for (int t2 = 0; t2 <= t; t2++) d[t2] = p[t2] * (d[t2] - dot) * scale;
        for (int t2 = t + 1; t2 < T; t2++) d[t2] = 0.0f;
      }
      GEMM(0, 0, T, hs, T, 1.0f, dP, T, K, C3, 0.0f, dQ, C3);
      GEMM(1, 0, T, hs, T, 1.0f, dP, T, Q, C3, 0.0f, dK, C3);
    }
}
