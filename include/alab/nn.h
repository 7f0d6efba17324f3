/* Tensor kernels: forward/backward pairs over flat float arrays (row-major).
 * N = number of rows (B*T), C = channels. Backward functions ADD into
 * parameter gradients (so micro-batches accumulate) and either overwrite or
 * add into input gradients as each one states. All kernels are
 * deterministic for a fixed thread count. */
#ifndef ALAB_NN_H
#define ALAB_NN_H
#include <stddef.h>
#include <stdint.h>

/* Elementwise kernels on fewer elements than this run on the calling thread:
 * below it a parallel region costs more than it saves (decoding one token
 * runs hundreds of them). */
#define NN_PARALLEL_MIN 32768

/* out[N,OC] = inp[N,IC] @ W[IC,OC] + b[OC]  (HF Conv1D layout; b may be NULL) */
void nn_matmul_forward(float *out, const float *inp, const float *W, const float *b, int N, int IC, int OC);
/* dinp = dout @ W^T (overwritten; skipped if NULL); dW += inp^T @ dout; db += sum_rows dout */
void nn_matmul_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp, const float *W, int N,
                        int IC, int OC);
/* Few-row product for decoding: same math as nn_matmul_forward, streaming W
 * once for all n rows (memory-bound; OpenBLAS's one-row sgemm is slow). */
void nn_matmul_rows(float *out, const float *inp, const float *W, const float *b, int n, int IC, int OC);

/* logits[N,V] = x[N,C] @ wte[V,C]^T  (the tied output head) */
void nn_lmhead_forward(float *logits, const float *x, const float *wte, int N, int C, int V);
/* dx = dlogits @ wte (overwritten); dwte += dlogits^T @ x */
void nn_lmhead_backward(float *dx, float *dwte, const float *dlogits, const float *x, const float *wte, int N, int C,
                        int V);

/* LayerNorm over the last dim: y = (x - mean) * rstd * w + b, rstd = 1/sqrt(var + eps),
 * var the biased variance. mean/rstd [N] are saved for backward (may be NULL). */
void nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                          int N, int C, float eps);
/* dinp += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * w;
 * dw += sum_rows dout * xhat; db += sum_rows dout */
void nn_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                           const float *mean, const float *rstd, int N, int C);

/* GELU, tanh form: y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
void nn_gelu_forward(float *out, const float *inp, long n);
/* dinp = dout * gelu'(inp) (overwritten) */
void nn_gelu_backward(float *dinp, const float *inp, const float *dout, long n);

/* Causal multi-head self-attention over qkv[B,T,3C] (q | k | v, heads
 * contiguous within each): out[B,T,C]; att[B,H,T,T] keeps the softmax
 * probabilities for backward. scale = 1/sqrt(C/H). */
void nn_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C, int H);
/* dqkv (overwritten) from dout; datt is scratch [B,H,T,T]. */
void nn_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att, int B,
                           int T, int C, int H);

/* x[b,t,:] = wte[tok[b,t],:] + wpe[t,:] */
void nn_embedding_forward(float *x, const int32_t *tok, const float *wte, const float *wpe, int B, int T, int C);
/* dwte[tok] += dx; dwpe[t] += dx */
void nn_embedding_backward(float *dwte, float *dwpe, const float *dx, const int32_t *tok, int B, int T, int C);

/* Softmax cross-entropy per row: losses[n] = logsumexp(logits[n]) - logits[n, target[n]];
 * rows with target < 0 are ignored (loss 0). Returns the number of counted rows. */
int nn_crossentropy_forward(float *losses, const float *logits, const int32_t *targets, int N, int V);
/* In place: logits[n] := (softmax(logits[n]) - onehot(target)) * dloss, rows
 * with target < 0 get zero gradient. */
void nn_crossentropy_backward(float *logits, const int32_t *targets, int N, int V, float dloss);

/* out = a + b */
void nn_residual_forward(float *out, const float *a, const float *b, long n);

/* AdamW exactly as torch.optim.AdamW: p *= 1 - lr*wd (only where decay);
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).  t counts from 1. */
typedef struct { float lr, beta1, beta2, eps, weight_decay; } nn_adamw_cfg;
void nn_adamw_update(float *p, const float *g, float *m, float *v, long n, int t, const nn_adamw_cfg *c, int decay);
/* sqrt(sum g^2), accumulated in double in a fixed order. */
double nn_global_norm(const float *g, long n);
/* ---- Llama's kernels ----
 * torch.nn.Linear layout, W [OC, IC]: out[N,OC] = inp[N,IC] @ W^T + b (b may be NULL) */
void nn_linear_forward(float *out, const float *inp, const float *W, const float *b, int N, int IC, int OC);
/* dinp = dout @ W (overwritten); dW += dout^T @ inp; db += sum_rows dout (db may be NULL) */
void nn_linear_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp, const float *W, int N,
                        int IC, int OC);
/* RMSNorm: y = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps) saved [N] (may be NULL) */
void nn_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps);
/* dinp += rstd * (g - xhat * mean(g * xhat)), g = dout * w, xhat = x * rstd; dw += sum_rows dout * xhat */
void nn_rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *rstd,
                         int N, int C);
/* Rotary embeddings (HF rotate_half). cs [T][hs]: cos of the hs/2 angles of
 * position t, then their sin; angle = t * theta^(-2i/hs). */
void nn_rope_table(float *cs, int T, int hs, float theta);
/* In place on N rows of x (row stride `stride` floats), each holding nheads
 * heads of hs channels from its start: row n is at position pos[n] (pos NULL:
 * n % T). inverse != 0 rotates by -angle (the backward). */
void nn_rope(float *x, const float *cs, const int *pos, int T, int N, int stride, int nheads, int hs, int inverse);
/* SwiGLU over rows [gate (F) | up (F)] of gu: out[N,F] = silu(gate) * up */
void nn_swiglu_forward(float *out, const float *gu, int N, int F);
/* dgu [N, 2F] (overwritten) from dout [N, F] */
void nn_swiglu_backward(float *dgu, const float *dout, const float *gu, int N, int F);
/* Causal grouped-query attention over qkv [B,T,(H+2*KVH)*hs] (q | k | v, heads
 * contiguous), query head h reading key/value head h/(H/KVH): out [B,T,H*hs];
 * att [B,H,T,T] keeps the probabilities. scale 1/sqrt(hs). */
void nn_attention_gqa_forward(float *out, float *att, const float *qkv, int B, int T, int H, int KVH, int hs);
/* dqkv (overwritten) from dout; datt is scratch [B,H,T,T]. */
void nn_attention_gqa_backward(float *dqkv, float *datt, const float *dout, const float *qkv, const float *att, int B,
                               int T, int H, int KVH, int hs);

/* ---- bf16 matrix products (mixed precision) ----
 * A bf16 context holds a bf16 copy of a parameter buffer (round to nearest
 * even), oneDNN matmul primitives cached per shape, and scratch for the
 * activations converted to bf16. While a context is the calling thread's
 * (nn_bf16_use), every matrix product above (nn_matmul_*, nn_lmhead_*,
 * nn_linear_*) whose weight lies inside that buffer multiplies bf16 inputs
 * with fp32 accumulation into fp32 outputs; biases, gradients and
 * everything else stay fp32. Other products, and other threads, are
 * unaffected. Precision values: */
enum { NN_FP32 = 0, NN_BF16 = 1 };
/* "fp32" or "bf16" to NN_FP32 / NN_BF16; -1 for anything else. */
int nn_precision_parse(const char *s);
const char *nn_precision_name(int precision);
typedef struct nn_bf16 nn_bf16;
/* 0 when bf16 products can run here; else -1 with msg (msglen bytes)
 * saying why: alab built without oneDNN (libdnnl-dev), or a CPU without
 * AVX-512 BF16 (oneDNN would emulate it, slower than fp32). */
int nn_bf16_available(char *msg, size_t msglen);
/* A context over params[0, n): NULL (msg filled) when not available. Its
 * copy is taken now; call nn_bf16_sync after every change of params. */
nn_bf16 *nn_bf16_new(const float *params, size_t n, char *msg, size_t msglen);
void nn_bf16_sync(nn_bf16 *b);
void nn_bf16_free(nn_bf16 *b);
/* Makes b the calling thread's context (NULL: none); returns the previous
 * one, for the caller to restore. A context serves one thread at a time. */
nn_bf16 *nn_bf16_use(nn_bf16 *b);
/* dst[i] = bf16(src[i]), round to nearest even (NaN stays NaN). */
void nn_bf16_convert(uint16_t *dst, const float *src, long n);
#endif
