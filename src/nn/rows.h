/* Decoding's row products for a team of threads sharing one parallel
 * region (src/model/llama_decode.c): each thread computes its own part of
 * the output rows with no OpenMP inside. Same dot products, in the same
 * order, as nn_lmhead_forward's few-row pass (src/nn/matmul_rows.c), so a
 * logit does not depend on how the rows are split among threads. */
#ifndef ALAB_NN_ROWS_H
#define ALAB_NN_ROWS_H
#include <stdint.h>

/* A [V, C] weight matrix as the row kernels read it: fp32, or its bf16
 * copy when the calling thread's bf16 context (nn_bf16_use) holds it.
 * Resolve on the thread that holds the context, before the region. */
typedef struct {
  const void *w;
  int bf16;
} nn_rows_weight;
nn_rows_weight nn_rows_weight_of(const float *W);
/* rw[i] = nn_rows_weight_of(W[i]) for the n matrices of a block */
void nn_rows_weights_of(nn_rows_weight *rw, const float *const *W, int n);

/* For v in [v0, v1) and n < N: t = x[n,:] . W[v,:] (+ b[v] when b), then
 * out[n, v] = t, or out[n, v] += t when accumulate (out[n*V + v]). */
void nn_linear_rows_part(float *out, const float *x, nn_rows_weight W, const float *b, int N, int C, int V, int v0,
                         int v1, int accumulate);

/* nn_matmul_rows (Conv1D layout, W [IC, OC]: out = b + inp W) on part
 * `part` of `parts` of the output columns, whole blocks of the kernel's
 * tile width, the last part also taking the leftover columns; which
 * columns: nn_matmul_rows_cols. */
void nn_matmul_rows_part(float *out, const float *inp, nn_rows_weight W, const float *b, int n, int IC, int OC,
                         int part, int parts);
void nn_matmul_rows_cols(int OC, int part, int parts, int *c0, int *c1);

/* nn_swiglu_forward on channels [i0, i1) of each of the N rows, serial */
void nn_swiglu_forward_part(float *out, const float *gu, int N, int F, int i0, int i1);

#endif
