/* torch.nn.Linear's layout, W [OC, IC] (Llama's projections, unlike GPT-2's
 * Conv1D [IC, OC]): out = inp @ W^T + b. The products are the LM head's
 * (nn_lmhead_*: x @ E^T is the same shape of product), plus the bias. */
#include <omp.h>
#include "alab/nn.h"

void nn_linear_forward(float *out, const float *inp, const float *W, const float *b, int N, int IC, int OC) {
  nn_lmhead_forward(out, inp, W, N, IC, OC);
  if (!b) return;
#pragma omp parallel for schedule(static) if ((long)N * OC >= NN_PARALLEL_MIN)
  for (int n = 0; n < N; n++)
    for (int c = 0; c < OC; c++) out[(long)n * OC + c] += b[c];
}

/* dinp = dout @ W (overwritten); dW += dout^T @ inp; db += sum_rows dout */
void nn_linear_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp, const float *W, int N,
                        int IC, int OC) {
  nn_lmhead_backward(dinp, dW, dout, inp, W, N, IC, OC);
  if (!db) return;
#pragma omp parallel
  {
    int nt = omp_get_num_threads(), id = omp_get_thread_num();
    int c0 = (int)((long)OC * id / nt), c1 = (int)((long)OC * (id + 1) / nt);
    for (int n = 0; n < N; n++)
      for (int c = c0; c < c1; c++) db[c] += dout[(long)n * OC + c];
  }
}
