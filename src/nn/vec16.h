/* 16-float vectors (GCC vector extensions, one AVX-512 register where the
 * machine has them) for the kernels that work on rows of arbitrary length
 * in whole blocks of 16 with the lanes past the end masked: selects,
 * reductions in a fixed order (halving: lanes k and k + 8, then k and
 * k + 4, ...), and exp_inline (exp_inline.h) lane by lane. */
#ifndef ALAB_NN_VEC16_H
#define ALAB_NN_VEC16_H
#include <stdint.h>
#include <string.h>

typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));

static inline vf16 vf16_load(const float *p) {
  vf16 v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void vf16_store(float *p, vf16 v) { memcpy(p, &v, sizeof v); }

/* lanes of a where m is all ones, of b elsewhere */
static inline vf16 vf16_select(vi16 m, vf16 a, vf16 b) {
  vi16 ia, ib, r;
  memcpy(&ia, &a, sizeof ia);
  memcpy(&ib, &b, sizeof ib);
  r = (ia & m) | (ib & ~m);
  vf16 out;
  memcpy(&out, &r, sizeof out);
  return out;
}

/* all ones in lanes k < n (n may be <= 0 or >= 16) */
static inline vi16 vf16_first(int n) {
  const vi16 idx = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  return idx < n;
}

static inline float vf16_sum(vf16 v) {
  const vi16 h8 = {8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7}, h4 = {4, 5, 6, 7, 0, 1, 2, 3},
             h2 = {2, 3, 0, 1}, h1 = {1, 0};
  v += __builtin_shuffle(v, h8);
  v += __builtin_shuffle(v, h4);
  v += __builtin_shuffle(v, h2);
  v += __builtin_shuffle(v, h1);
  return v[0];
}

static inline float vf16_max(vf16 v) {
  const vi16 h8 = {8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7}, h4 = {4, 5, 6, 7, 0, 1, 2, 3},
             h2 = {2, 3, 0, 1}, h1 = {1, 0};
  vf16 u = __builtin_shuffle(v, h8);
  v = vf16_select(u > v, u, v);
  u = __builtin_shuffle(v, h4);
  v = vf16_select(u > v, u, v);
  u = __builtin_shuffle(v, h2);
  v = vf16_select(u > v, u, v);
  u = __builtin_shuffle(v, h1);
  v = vf16_select(u > v, u, v);
  return v[0];
}

/* exp_inline's arithmetic on each lane (same clamp, polynomial and 2^n) */
static inline vf16 vf16_exp(vf16 x) {
  const vf16 lo = (vf16){0} - 87.0f, hi = (vf16){0} + 88.0f;
  x = vf16_select(x > lo, x, lo);
  x = vf16_select(x < hi, x, hi);
  vf16 n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  vf16 r = x - n * 0.693145751953125f - n * 1.428606765330187e-6f;
  vf16 p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  vi16 bits = (__builtin_convertvector(n, vi16) + 127) << 23;
  vf16 scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}
#endif
