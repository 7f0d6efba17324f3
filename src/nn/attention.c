/* Causal multi-head self-attention (GPT-2's): grouped-query attention with
 * one key/value head per query head (src/nn/attention_gqa.c), C = H * hs. */
#include "alab/nn.h"

void nn_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int H) {
  nn_attention_gqa_forward(out, att, qkv, B, T, H, H, C / H);
}

void nn_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att, int B,
                           int T, int C, int H) {
  nn_attention_gqa_backward(dqkv, datt, dout, qkv, att, B, T, H, H, C / H);
}
