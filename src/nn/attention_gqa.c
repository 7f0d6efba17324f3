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
#include <string.h>
#include "alab/nn.h"
#include "nn/vec16.h"

#define GEMM(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)                                                 \
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, \
              B, ldb, beta, C, ldc)

/* Row t of P is causal: only its first t + 1 entries count. The rows are
 * worked in whole blocks of 16 (src/nn/vec16.h) with the lanes past t
 * masked, not as loops over t + 1 values whose scalar tails (up to 15
 * exp_inline calls a row) cost more than the vector part at short T. */

/* block j of a row of T floats, lanes >= n replaced by fill (a block past
 * the row's end, when T is not a multiple of 16, read through a copy) */
static inline vf16 row_block(const float *row, int j, int n, int T, vf16 fill) {
  vf16 v;
  if (16 * j + 16 <= T) v = vf16_load(row + 16 * j);
  else {
    float b[16] = {0};
    memcpy(b, row + 16 * j, sizeof(float) * (size_t)(T - 16 * j));
    v = vf16_load(b);
  }
  return vf16_select(vf16_first(n - 16 * j), v, fill);
}

static inline void row_store(float *row, int j, int T, vf16 v) {
  if (16 * j + 16 <= T) vf16_store(row + 16 * j, v);
  else {
    float b[16];
    vf16_store(b, v);
    memcpy(row + 16 * j, b, sizeof(float) * (size_t)(T - 16 * j));
  }
}

/* P's rows softmaxed over t2 <= t and zeroed after: exp_inline's arithmetic
 * for a finite row, libm's expf for a row holding a NaN or an infinity, so
 * they propagate */
static void causal_softmax_rows(float *P, int T) {
  const vf16 zero = {0}, ninf = zero - INFINITY;
  for (int t = 0; t < T; t++) {
    float *row = P + (long)t * T;
    int n = t + 1, nb = (n + 15) / 16;
    vf16 m = ninf, bad = zero;
    for (int j = 0; j < nb; j++) {
      vf16 v = row_block(row, j, n, T, ninf);
      m = vf16_select(v > m, v, m);
      bad += vf16_select(vf16_first(n - 16 * j), v * 0.0f, zero);
    }
    if (vf16_sum(bad) != 0.0f) {
      float mx = -INFINITY, sum = 0.0f;
      for (int t2 = 0; t2 <= t; t2++) mx = row[t2] > mx ? row[t2] : mx;
      for (int t2 = 0; t2 <= t; t2++) sum += row[t2] = expf(row[t2] - mx);
      for (int t2 = 0; t2 <= t; t2++) row[t2] /= sum;
      for (int t2 = t + 1; t2 < T; t2++) row[t2] = 0.0f;
      continue;
    }
    float mx = vf16_max(m);
    vf16 acc = zero;
    for (int j = 0; j < nb; j++) {
      vf16 e = vf16_select(vf16_first(n - 16 * j), vf16_exp(row_block(row, j, n, T, zero) - mx), zero);
      acc += e;
      row_store(row, j, T, e);
    }
    float inv = 1.0f / vf16_sum(acc);
    for (int j = 0; j < nb; j++) row_store(row, j, T, row_block(row, j, n, T, zero) * inv);
    if (16 * nb < T) memset(row + 16 * nb, 0, sizeof(float) * (size_t)(T - 16 * nb));
  }
}

/* dP's rows into dS: d = p (d - sum_{t2 <= t} p d) scale over t2 <= t, 0 after */
static void causal_softmax_grad_rows(float *dP, const float *P, int T, float scale) {
  const vf16 zero = {0};
  for (int t = 0; t < T; t++) {
    const float *p = P + (long)t * T;
    float *d = dP + (long)t * T;
    int n = t + 1, nb = (n + 15) / 16;
    vf16 acc = zero;
    for (int j = 0; j < nb; j++) acc += row_block(p, j, n, T, zero) * row_block(d, j, n, T, zero);
    float dot = vf16_sum(acc);
    for (int j = 0; j < nb; j++) {
      vf16 g = row_block(p, j, n, T, zero) * (row_block(d, j, n, T, zero) - dot) * scale;
      row_store(d, j, T, vf16_select(vf16_first(n - 16 * j), g, zero));
    }
    if (16 * nb < T) memset(d + 16 * nb, 0, sizeof(float) * (size_t)(T - 16 * nb));
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
        causal_softmax_grad_rows(dP, P, T, scale);
        GEMM(0, 0, T, hs, T, 1.0f, dP, T, K, W, 0.0f, dQ, W);
        GEMM(1, 0, T, hs, T, 1.0f, dP, T, Q, W, beta, dK, W);
      }
    }
}
