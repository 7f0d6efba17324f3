/* Internal to src/nn's matrix products: the bf16 paths the public ones
 * (src/nn/matmul.c, src/nn/matmul_rows.c) take when the calling thread has
 * a bf16 context (nn_bf16_use) whose parameter buffer holds the weight. */
#ifndef ALAB_NN_MATMUL_INTERNAL_H
#define ALAB_NN_MATMUL_INTERNAL_H
#include <stdint.h>
#include "alab/nn.h"

/* The bf16 copy of W in the calling thread's context, or NULL when there is
 * no context or W does not lie inside its parameters. */
const uint16_t *nn_bf16_weight(const float *W);

/* The same products as nn_matmul_forward/backward and nn_lmhead_forward/
 * backward with bf16 inputs (Wb: W's bf16 copy) and fp32 accumulation and
 * outputs (src/nn/matmul_bf16.c); accumulate: out += the product (out
 * holds the bias). */
void bf16_matmul_forward(float *out, const float *inp, const uint16_t *Wb, int accumulate, int N, int IC, int OC);
void bf16_matmul_backward(float *dinp, float *dW, const float *dout, const float *inp, const uint16_t *Wb, int N, int IC,
                          int OC);
void bf16_lmhead_forward(float *logits, const float *x, const uint16_t *Eb, int N, int C, int V);
void bf16_lmhead_backward(float *dx, float *dwte, const float *dlogits, const float *x, const uint16_t *Eb, int N, int C,
                          int V);

/* The LM head's decoding pass (N <= 8 rows, src/nn/matmul_rows.c): one
 * pass over E [V, C], fp32 or bf16 as nn_bf16_weight(E) says. */
void nn_lmhead_rows(float *logits, const float *x, const float *E, int N, int C, int V);

#endif
