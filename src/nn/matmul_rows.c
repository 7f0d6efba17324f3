/* Few-row products for decoding, where one-row sgemm is far below the
 * memory-bandwidth bound: out[r,:] = b + sum_i inp[r,i] * W[i,:] for n <= 8
 * rows, and the LM head's logits = x E^T, each streaming the weights once
 * for all rows. Decoding is bound by the bytes of weights read per token, so
 * with a bf16 context holding the weight (nn_bf16_use) the same loops read
 * its bf16 copy, 2 bytes per weight instead of 4: each value is widened
 * exactly to fp32 (bits << 16) and the arithmetic stays fp32.
 *
 * W is streamed once per block of ROWS rows. Each thread owns blocks of COLS
 * columns; a (ROWS x COLS) tile of accumulators stays in vector registers
 * for the whole pass over W's rows (GCC vector extensions, lowered to the
 * machine's widest vectors). Every output element sums in index order
 * whatever n is, so a row's result does not depend on the other rows. */
#include <string.h>
#include "nn/matmul_internal.h"
#include "nn/rows.h"

typedef float vf16 __attribute__((vector_size(64)));
typedef uint16_t vh16 __attribute__((vector_size(32)));
typedef uint32_t vu16 __attribute__((vector_size(64)));

/* element i of a weight array, fp32 or bf16 (the top 16 bits of a float) */
static inline float weight_at(const void *W, int bf16, long i) {
  if (!bf16) return ((const float *)W)[i];
  union { uint32_t u; float f; } v = {(uint32_t)((const uint16_t *)W)[i] << 16};
  return v.f;
}

/* 16 consecutive weights from element i as floats */
static inline vf16 load16(const void *W, int bf16, long i) {
  vf16 f;
  if (bf16) {
    vh16 h;
    memcpy(&h, (const uint16_t *)W + i, sizeof h);
    vu16 u = __builtin_convertvector(h, vu16) << 16;
    memcpy(&f, &u, sizeof f);
  } else
    memcpy(&f, (const float *)W + i, sizeof f);
  return f;
}

enum { COLS = 64, ROWS = 4, NV = COLS / 16 };

/* out rows [0, nr) x columns [c0, c0 + COLS), nr <= ROWS */
static inline __attribute__((always_inline)) void rows_tile(float *out, const float *inp, const void *W, int bf16,
                                                            const float *b, int nr, int IC, int OC, int c0) {
  vf16 acc[ROWS][NV];
  for (int r = 0; r < ROWS; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = b ? load16(b, 0, c0 + 16 * v) : (vf16){0};
  for (int i = 0; i < IC; i++) {
    vf16 wv[NV];
    for (int v = 0; v < NV; v++) wv[v] = load16(W, bf16, (long)i * OC + c0 + 16 * v);
    for (int r = 0; r < ROWS; r++) {
      if (r >= nr) break;
      float x = inp[(long)r * IC + i];
      for (int v = 0; v < NV; v++) acc[r][v] += x * wv[v];
    }
  }
  for (int r = 0; r < nr; r++) memcpy(out + (long)r * OC + c0, acc[r], sizeof acc[r]);
}

/* every row's columns of block blk (COLS wide) */
static inline __attribute__((always_inline)) void rows_block(float *out, const float *inp, const void *W, int bf16,
                                                             const float *b, int n, int IC, int OC, int blk) {
  for (int r0 = 0; r0 < n; r0 += ROWS)
    rows_tile(out + (long)r0 * OC, inp + (long)r0 * IC, W, bf16, b, n - r0 < ROWS ? n - r0 : ROWS, IC, OC, blk * COLS);
}

/* the leftover columns [OC - OC % COLS, OC), plain loops in the same summation order */
static inline __attribute__((always_inline)) void rows_tail(float *out, const float *inp, const void *W, int bf16,
                                                            const float *b, int n, int IC, int OC) {
  for (int r = 0; r < n; r++)
    for (int c = OC / COLS * COLS; c < OC; c++) {
      float acc = b ? b[c] : 0.0f;
      for (int i = 0; i < IC; i++) acc += inp[(long)r * IC + i] * weight_at(W, bf16, (long)i * OC + c);
      out[(long)r * OC + c] = acc;
    }
}

static inline __attribute__((always_inline)) void rows(float *out, const float *inp, const void *W, int bf16,
                                                       const float *b, int n, int IC, int OC) {
#pragma omp parallel for schedule(static)
  for (int blk = 0; blk < OC / COLS; blk++) rows_block(out, inp, W, bf16, b, n, IC, OC, blk);
  rows_tail(out, inp, W, bf16, b, n, IC, OC);
}

void nn_matmul_rows(float *out, const float *inp, const float *W, const float *b, int n, int IC, int OC) {
  const uint16_t *wb = nn_bf16_weight(W);
  if (wb) rows(out, inp, wb, 1, b, n, IC, OC);
  else rows(out, inp, W, 0, b, n, IC, OC);
}

/* the n < 16 elements from element i, then zeros */
static inline vf16 load_tail(const void *W, int bf16, long i, int n) {
  vf16 f = {0};
  for (int k = 0; k < n; k++) f[k] = weight_at(W, bf16, i + k);
  return f;
}

/* E[e0 .. e0+C) . x[0 .. C): 16 lanes of partial sums (lane k over the
 * elements c = k mod 16, in order; a tail of C mod 16 elements zero-padded
 * into the lanes by the same vector arithmetic, so fp32 and bf16 weights
 * give the same sums of the same values), then the lanes in order */
static inline __attribute__((always_inline)) float dot(const void *E, int bf16, long e0, const float *x, int C) {
  vf16 acc = {0};
  int c = 0;
  for (; c + 16 <= C; c += 16) acc += load16(E, bf16, e0 + c) * load16(x, 0, c);
  if (c < C) acc += load_tail(E, bf16, e0 + c, C - c) * load_tail(x, 0, c, C - c);
  float s = 0.0f;
  for (int k = 0; k < 16; k++) s += acc[k];
  return s;
}

/* logits[n, v] = x[n,:] . E[v,:]: one pass over E, each vocabulary row
 * dotted with every x row while it is in cache */
static inline __attribute__((always_inline)) void lmhead_rows(float *logits, const float *x, const void *E, int bf16,
                                                              int N, int C, int V) {
#pragma omp parallel for schedule(static)
  for (int v = 0; v < V; v++)
    for (int n = 0; n < N; n++) logits[(long)n * V + v] = dot(E, bf16, (long)v * C, x + (long)n * C, C);
}

void nn_lmhead_rows(float *logits, const float *x, const float *E, int N, int C, int V) {
  const uint16_t *eb = nn_bf16_weight(E);
  if (eb) lmhead_rows(logits, x, eb, 1, N, C, V);
  else lmhead_rows(logits, x, E, 0, N, C, V);
}

nn_rows_weight nn_rows_weight_of(const float *W) {
  const uint16_t *wb = nn_bf16_weight(W);
  return wb ? (nn_rows_weight){wb, 1} : (nn_rows_weight){W, 0};
}

void nn_rows_weights_of(nn_rows_weight *rw, const float *const *W, int n) {
  for (int i = 0; i < n; i++) rw[i] = nn_rows_weight_of(W[i]);
}

/* nn_linear_forward's few-row result on a part of the rows: the dot, then
 * the bias (as nn_linear_forward adds it), then the residual */
static inline __attribute__((always_inline)) void rows_part(float *out, const float *x, const void *W, int bf16,
                                                            const float *b, int N, int C, int V, int v0, int v1,
                                                            int accumulate) {
  for (int v = v0; v < v1; v++)
    for (int n = 0; n < N; n++) {
      float t = dot(W, bf16, (long)v * C, x + (long)n * C, C);
      if (b) t += b[v];
      float *o = out + (long)n * V + v;
      *o = accumulate ? *o + t : t;
    }
}

void nn_linear_rows_part(float *out, const float *x, nn_rows_weight W, const float *b, int N, int C, int V, int v0,
                         int v1, int accumulate) {
  if (W.bf16) rows_part(out, x, W.w, 1, b, N, C, V, v0, v1, accumulate);
  else rows_part(out, x, W.w, 0, b, N, C, V, v0, v1, accumulate);
}

void nn_matmul_rows_part(float *out, const float *inp, nn_rows_weight W, const float *b, int n, int IC, int OC,
                         int part, int parts) {
  int nblk = OC / COLS, b0 = (int)((long)nblk * part / parts), b1 = (int)((long)nblk * (part + 1) / parts);
  for (int blk = b0; blk < b1; blk++)
    if (W.bf16) rows_block(out, inp, W.w, 1, b, n, IC, OC, blk);
    else rows_block(out, inp, W.w, 0, b, n, IC, OC, blk);
  if (part == parts - 1) {
    if (W.bf16) rows_tail(out, inp, W.w, 1, b, n, IC, OC);
    else rows_tail(out, inp, W.w, 0, b, n, IC, OC);
  }
}

void nn_matmul_rows_cols(int OC, int part, int parts, int *c0, int *c1) {
  int nblk = OC / COLS;
  *c0 = (int)((long)nblk * part / parts) * COLS;
  *c1 = part == parts - 1 ? OC : (int)((long)nblk * (part + 1) / parts) * COLS;
}
