/* Matrix products through OpenBLAS sgemm (fp32), or oneDNN in bf16 when the
 * calling thread has a bf16 context holding the weight (src/nn/matmul_bf16.c);
 * few-row products for decoding are in src/nn/matmul_rows.c.
 *
 * Threads: OpenBLAS runs single-threaded (al_set_threads) and every product
 * is cut into row blocks that the OpenMP threads share, each calling sgemm
 * on its blocks. One pool of threads for everything: no OpenBLAS threads
 * spinning against OpenMP's on a small machine. Block boundaries depend on
 * the shape alone (row_blocks), so a product's bits are the same on any
 * number of threads (tests/test_threads_same.c). */
#include <cblas.h>
#include <string.h>
#include <omp.h>
#include "alab/nn.h"
#include "nn/matmul_internal.h"

/* The row blocks of a product with M rows: a function of M alone, never of
 * the thread count. OpenBLAS picks its kernel, and so its order of sums,
 * from each call's M, N and K (Debian's 0.3.21 sends products with small
 * M*N*K to a small-matrix kernel: a [64,64,512] product split 3 ways, 21-22
 * rows a call, differs in the last bits from the same rows in one call), so
 * blocks cut by the thread count gave a model different numbers on 1, 2
 * and 3 threads. With blocks fixed by the shape every block is the same
 * sgemm call on any number of threads, and so are its bits. At least
 * MIN_ROWS rows a block (each call repacks op(B)), at most MAX_BLOCKS
 * blocks (a power of two: 1, 2, 4 and 8 threads share them evenly). */
enum { MIN_ROWS = 64, MAX_BLOCKS = 8 };
static int row_blocks(int M) {
  int nb = 1;
  while (nb * 2 <= MAX_BLOCKS && (long)M >= (long)MIN_ROWS * nb * 2) nb *= 2;
  return nb;
}

/* C[M,N] = alpha op(A) op(B) + beta C (row-major), the M rows of C cut into
 * row_blocks(M) blocks and the blocks shared across threads in order: a
 * block's rows of op(A) start at row r0 of A when A is not transposed, at
 * column r0 when it is. */
static void gemm_rows(int transA, int transB, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                      float beta, float *C, int ldc) {
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
  int nb = row_blocks(M);
#pragma omp parallel for schedule(static) if (nb > 1)
  for (int k = 0; k < nb; k++) {
    int r0 = (int)((long)M * k / nb), r1 = (int)((long)M * (k + 1) / nb);
    const float *a = transA ? A + r0 : A + (long)r0 * lda;
    if (r1 > r0)
      cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, r1 - r0, N, K,
                  1.0f, a, lda, B, ldb, beta, C + (long)r0 * ldc, ldc);
  }
}

/* out[N,OC] = inp[N,IC] @ W[IC,OC] + b */
void nn_matmul_forward(float *out, const float *inp, const float *W, const float *b, int N, int IC, int OC) {
  if (b) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) memcpy(out + (long)n * OC, b, OC * sizeof(float));
  }
  const uint16_t *wb = nn_bf16_weight(W);
  if (wb) bf16_matmul_forward(out, inp, wb, b != NULL, N, IC, OC);
  else gemm_rows(0, 0, N, OC, IC, inp, IC, W, OC, b ? 1.0f : 0.0f, out, OC);
}

/* dinp[N,IC] = dout[N,OC] @ W^T;  dW[IC,OC] += inp^T @ dout;  db[OC] += sum_n dout[n,:] */
void nn_matmul_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp, const float *W, int N,
                        int IC, int OC) {
  const uint16_t *wb = nn_bf16_weight(W);
  if (wb) bf16_matmul_backward(dinp, dW, dout, inp, wb, N, IC, OC);
  else {
    if (dinp) gemm_rows(0, 1, N, IC, OC, dout, OC, W, OC, 0.0f, dinp, IC);
    gemm_rows(1, 0, IC, OC, N, inp, IC, dout, OC, 1.0f, dW, OC);
  }
  if (db) {
    /* columns split across threads: each sums its columns over all rows in order */
#pragma omp parallel
    {
      int nt = omp_get_num_threads(), id = omp_get_thread_num();
      int c0 = (int)((long)OC * id / nt), c1 = (int)((long)OC * (id + 1) / nt);
      for (int n = 0; n < N; n++) {
        const float *row = dout + (long)n * OC;
#pragma omp simd
        for (int c = c0; c < c1; c++) db[c] += row[c];
      }
    }
  }
}

/* logits[N,V] = x[N,C] @ wte[V,C]^T */
void nn_lmhead_forward(float *logits, const float *x, const float *wte, int N, int C, int V) {
  if (N <= 8) { /* decoding: one pass over wte (src/nn/matmul_rows.c) */
    nn_lmhead_rows(logits, x, wte, N, C, V);
    return;
  }
  const uint16_t *eb = nn_bf16_weight(wte);
  if (eb) {
    bf16_lmhead_forward(logits, x, eb, N, C, V);
    return;
  }
  gemm_rows(0, 1, N, V, C, x, C, wte, C, 0.0f, logits, V);
}

/* dx[N,C] = dlogits[N,V] @ wte[V,C];  dwte[V,C] += dlogits^T @ x */
void nn_lmhead_backward(float *dx, float *dwte, const float *dlogits, const float *x, const float *wte, int N, int C,
                        int V) {
  const uint16_t *eb = nn_bf16_weight(wte);
  if (eb) {
    bf16_lmhead_backward(dx, dwte, dlogits, x, eb, N, C, V);
    return;
  }
  gemm_rows(0, 0, N, C, V, dlogits, V, wte, C, 0.0f, dx, C);
  gemm_rows(1, 0, V, C, N, dlogits, V, x, C, 1.0f, dwte, C);
}
