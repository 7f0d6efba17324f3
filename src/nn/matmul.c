/* Matrix products through OpenBLAS sgemm, plus a streaming few-row kernel for
 * decoding, where one-row sgemm is far below the memory-bandwidth bound.
 *
 * Threads: OpenBLAS runs single-threaded (al_set_threads) and every product
 * is split into row blocks across the OpenMP threads, each calling sgemm on
 * its block. One pool of threads for everything: no OpenBLAS threads
 * spinning against OpenMP's on a small machine, and block boundaries fixed
 * by the thread count, so results are deterministic. */
#include <cblas.h>
#include <string.h>
#include "alab/nn.h"
#include <omp.h>

/* C[M,N] = alpha op(A) op(B) + beta C (row-major), with the M rows of C
 * split across threads: a thread's rows of op(A) start at row r0 of A when A
 * is not transposed, at column r0 when it is. */
static void gemm_rows(int transA, int transB, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                      float beta, float *C, int ldc) {
  enum { MIN_ROWS = 16 };
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
#pragma omp parallel
  {
    int nt = omp_get_num_threads(), id = omp_get_thread_num();
    if (M < MIN_ROWS * nt) nt = 1; /* too small to split: thread 0 does it all */
    if (id < nt) {
      int r0 = (int)((long)M * id / nt), r1 = (int)((long)M * (id + 1) / nt);
      const float *a = transA ? A + r0 : A + (long)r0 * lda;
      if (r1 > r0)
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, r1 - r0, N,
                    K, 1.0f, a, lda, B, ldb, beta, C + (long)r0 * ldc, ldc);
    }
  }
}

/* out[N,OC] = inp[N,IC] @ W[IC,OC] + b */
void nn_matmul_forward(float *out, const float *inp, const float *W, const float *b, int N, int IC, int OC) {
  if (b) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) memcpy(out + (long)n * OC, b, OC * sizeof(float));
  }
  gemm_rows(0, 0, N, OC, IC, inp, IC, W, OC, b ? 1.0f : 0.0f, out, OC);
}

/* dinp[N,IC] = dout[N,OC] @ W^T;  dW[IC,OC] += inp^T @ dout;  db[OC] += sum_n dout[n,:] */
void nn_matmul_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp, const float *W, int N,
                        int IC, int OC) {
  if (dinp) gemm_rows(0, 1, N, IC, OC, dout, OC, W, OC, 0.0f, dinp, IC);
  gemm_rows(1, 0, IC, OC, N, inp, IC, dout, OC, 1.0f, dW, OC);
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

/* Few-row product for decoding: out[r,:] = b + sum_i inp[r,i] * W[i,:].
 * W is streamed once per block of ROWS rows. Each thread owns blocks of
 * COLS columns; a (ROWS x COLS) tile of accumulators stays in vector
 * registers for the whole pass over W's rows (GCC vector extensions, lowered
 * to the machine's widest vectors). Every output element sums in index order
 * whatever n is, so a row's result does not depend on the other rows. */
typedef float vf16 __attribute__((vector_size(64)));

static inline vf16 load16(const float *p) {
  vf16 v;
  memcpy(&v, p, sizeof v);
  return v;
}

enum { COLS = 64, ROWS = 4, NV = COLS / 16 };

/* out rows [0, nr) x columns [c0, c0 + COLS), nr <= ROWS */
static void rows_tile(float *out, const float *inp, const float *W, const float *b, int nr, int IC, int OC, int c0) {
  vf16 acc[ROWS][NV];
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = b ? load16(b + c0 + 16 * v) : (vf16){0};
  for (int i = 0; i < IC; i++) {
    const float *w = W + (long)i * OC + c0;
    vf16 wv[NV];
    for (int v = 0; v < NV; v++) wv[v] = load16(w + 16 * v);
    for (int r = 0; r < ROWS; r++) {
      if (r >= nr) break;
      float x = inp[(long)r * IC + i];
      for (int v = 0; v < NV; v++) acc[r][v] += x * wv[v];
    }
  }
  for (int r = 0; r < nr; r++) memcpy(out + (long)r * OC + c0, acc[r], sizeof acc[r]);
}

void nn_matmul_rows(float *out, const float *inp, const float *W, const float *b, int n, int IC, int OC) {
  int nfull = OC / COLS, tail = nfull * COLS;
#pragma omp parallel for schedule(static)
  for (int blk = 0; blk < nfull; blk++)
    for (int r0 = 0; r0 < n; r0 += ROWS)
      rows_tile(out + (long)r0 * OC, inp + (long)r0 * IC, W, b, n - r0 < ROWS ? n - r0 : ROWS, IC, OC, blk * COLS);
  if (tail < OC) /* leftover columns, plain loops in the same summation order */
    for (int r = 0; r < n; r++)
      for (int c = tail; c < OC; c++) {
        float acc = b ? b[c] : 0.0f;
        for (int i = 0; i < IC; i++) acc += inp[(long)r * IC + i] * W[(long)i * OC + c];
        out[(long)r * OC + c] = acc;
      }
}

/* logits[N,V] = x[N,C] @ wte[V,C]^T */
void nn_lmhead_forward(float *logits, const float *x, const float *wte, int N, int C, int V) {
  if (N <= 8) {
    /* decoding: one pass over wte, each vocabulary row dotted with every x row */
#pragma omp parallel for schedule(static)
    for (int v = 0; v < V; v++) {
      const float *w = wte + (long)v * C;
      for (int n = 0; n < N; n++) {
        const float *xr = x + (long)n * C;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int c = 0; c < C; c++) s += w[c] * xr[c];
        logits[(long)n * V + v] = s;
      }
    }
    return;
  }
  gemm_rows(0, 1, N, V, C, x, C, wte, C, 0.0f, logits, V);
}

/* dx[N,C] = dlogits[N,V] @ wte[V,C];  dwte[V,C] += dlogits^T @ x */
void nn_lmhead_backward(float *dx, float *dwte, const float *dlogits, const float *x, const float *wte, int N, int C,
                        int V) {
  gemm_rows(0, 0, N, C, V, dlogits, V, wte, C, 0.0f, dx, C);
  gemm_rows(1, 0, V, C, N, dlogits, V, x, C, 1.0f, dwte, C);
}
