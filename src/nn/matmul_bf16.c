/* bf16 matrix products with fp32 accumulation (mixed precision), through
 * oneDNN's matmul primitive (the library PyTorch's own bf16 path uses).
 *
 * A context (nn_bf16) owns:
 *   - w: a bf16 copy of a parameter buffer, refreshed by nn_bf16_sync once
 *     per optimiser step, so weights are converted once, not per use;
 *   - scratch for the activations each product converts on the way in;
 *   - one matmul primitive per shape (creating one costs ~0.3 ms, more than
 *     a small product), with its memory objects, looked up by shape.
 * A product C[M,N] (+)= op(A)[M,K] op(B)[K,N] is a primitive over row-major
 * memory with strides: a transposed operand is only other strides, and
 * "+=" is oneDNN's sum post-op (dst = dst + A B), all accumulated in fp32.
 *
 * The calling thread's context is a thread-local pointer (nn_bf16_use), so
 * models on different threads never share one. Built without oneDNN, no
 * context can be made and every product stays fp32. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/base.h"
#include "nn/matmul_internal.h"
#ifdef ALAB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

int nn_precision_parse(const char *s) {
  if (!s) return -1;
  if (!strcmp(s, "fp32")) return NN_FP32;
  if (!strcmp(s, "bf16")) return NN_BF16;
  return -1;
}

const char *nn_precision_name(int precision) { return precision == NN_BF16 ? "bf16" : "fp32"; }

/* Round to nearest even: add 0x7fff plus the lowest kept bit, then keep the
 * top 16 bits (a carry into the exponent is the correct rounding up; finite
 * values beyond bf16's range become infinity). */
void nn_bf16_convert(uint16_t *dst, const float *src, long n) {
#pragma omp parallel for schedule(static) if (n >= NN_PARALLEL_MIN)
  for (long blk = 0; blk < n; blk += 4096) {
    long end = blk + 4096 < n ? blk + 4096 : n;
#pragma omp simd
    for (long i = blk; i < end; i++) {
      uint32_t u;
      memcpy(&u, src + i, 4);
      uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
      dst[i] = (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : r); /* NaN stays a quiet NaN */
    }
  }
}

enum { MAX_PRIMS = 64 };

#ifdef ALAB_HAVE_DNNL
typedef struct {
  int key[10]; /* M, N, K, transA, transB, lda, ldb, ldc, accumulate, threads */
  dnnl_primitive_t prim;
  dnnl_memory_t a, b, c;
} prim_entry;
#endif

struct nn_bf16 {
  const float *params;
  size_t n;
  uint16_t *w;            /* bf16(params) */
  uint16_t *scratch[2];   /* converted activations: [0] the product's input side, [1] the gradient side */
  size_t scratch_cap[2];
#ifdef ALAB_HAVE_DNNL
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  prim_entry prims[MAX_PRIMS];
  int nprims, evict;      /* when full, entries are replaced round-robin */
#endif
};

static _Thread_local nn_bf16 *current;

nn_bf16 *nn_bf16_use(nn_bf16 *b) {
  nn_bf16 *prev = current;
  current = b;
  return prev;
}

const uint16_t *nn_bf16_weight(const float *W) {
  nn_bf16 *b = current;
  if (!b || W < b->params || W >= b->params + b->n) return NULL;
  return b->w + (W - b->params);
}

void nn_bf16_sync(nn_bf16 *b) { nn_bf16_convert(b->w, b->params, (long)b->n); }

/* Scratch slot s with room for n bf16 values (grows; reused across calls). */
static uint16_t *scratch(nn_bf16 *b, int s, size_t n) {
  if (n > b->scratch_cap[s]) {
    free(b->scratch[s]);
    b->scratch[s] = al_malloc(n * sizeof(uint16_t));
    b->scratch_cap[s] = n;
  }
  return b->scratch[s];
}

#ifdef ALAB_HAVE_DNNL
static void dnnl_check(dnnl_status_t s, const char *what) {
  if (s == dnnl_success) return;
  fprintf(stderr, "alab: internal error: oneDNN %s failed (status %d)\n", what, (int)s);
  abort();
}

int nn_bf16_available(char *msg, size_t msglen) {
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  if (((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) != (unsigned)dnnl_cpu_isa_avx512_core_bf16) {
    snprintf(msg, msglen, "--precision bf16 needs a CPU with AVX-512 BF16 (avx512_bf16 in /proc/cpuinfo); this one "
                          "has none (oneDNN ISA 0x%x), where bf16 would be emulated and slower than fp32: use fp32", (unsigned)isa);
    return -1;
  }
  return 0;
}

nn_bf16 *nn_bf16_new(const float *params, size_t n, char *msg, size_t msglen) {
  if (nn_bf16_available(msg, msglen)) return NULL;
  nn_bf16 *b = al_calloc(1, sizeof *b);
  b->params = params;
  b->n = n;
  b->w = al_malloc((n ? n : 1) * sizeof(uint16_t));
  dnnl_check(dnnl_engine_create(&b->engine, dnnl_cpu, 0), "engine creation");
  dnnl_check(dnnl_stream_create(&b->stream, b->engine, dnnl_stream_default_flags), "stream creation");
  nn_bf16_sync(b);
  return b;
}

static void prim_free(prim_entry *e) {
  dnnl_primitive_destroy(e->prim);
  dnnl_memory_destroy(e->a);
  dnnl_memory_destroy(e->b);
  dnnl_memory_destroy(e->c);
}

void nn_bf16_free(nn_bf16 *b) {
  if (!b) return;
  for (int i = 0; i < b->nprims; i++) prim_free(&b->prims[i]);
  dnnl_stream_destroy(b->stream);
  dnnl_engine_destroy(b->engine);
  free(b->scratch[0]);
  free(b->scratch[1]);
  free(b->w);
  free(b);
}

/* A 2-D memory descriptor rows x cols whose element (i, j) is at
 * i * ld + j, or at j * ld + i when trans (the operand is stored transposed). */
static dnnl_memory_desc_t desc(int rows, int cols, int trans, int ld, dnnl_data_type_t dt) {
  dnnl_memory_desc_t d;
  dnnl_dims_t dims = {rows, cols}, strides = {trans ? 1 : ld, trans ? ld : 1};
  dnnl_check(dnnl_memory_desc_init_by_strides(&d, 2, dims, dt, strides), "memory descriptor");
  return d;
}

/* The cached primitive of this shape, made on first use. */
static prim_entry *prim_for(nn_bf16 *b, const int key[10]) {
  for (int i = 0; i < b->nprims; i++)
    if (!memcmp(b->prims[i].key, key, sizeof b->prims[i].key)) return &b->prims[i];
  prim_entry *e;
  if (b->nprims < MAX_PRIMS) e = &b->prims[b->nprims++];
  else {
    e = &b->prims[b->evict];
    b->evict = (b->evict + 1) % MAX_PRIMS;
    prim_free(e);
  }
  memcpy(e->key, key, sizeof e->key);
  int M = key[0], N = key[1], K = key[2];
  dnnl_memory_desc_t a = desc(M, K, key[3], key[5], dnnl_bf16), w = desc(K, N, key[4], key[6], dnnl_bf16),
                     c = desc(M, N, 0, key[7], dnnl_f32);
  dnnl_matmul_desc_t md;
  dnnl_check(dnnl_matmul_desc_init(&md, &a, &w, NULL, &c), "matmul descriptor");
  dnnl_primitive_attr_t attr;
  dnnl_post_ops_t po;
  dnnl_check(dnnl_primitive_attr_create(&attr), "attribute creation");
  dnnl_check(dnnl_post_ops_create(&po), "post-ops creation");
  if (key[8]) dnnl_check(dnnl_post_ops_append_sum(po, 1.0f), "sum post-op"); /* C += A B */
  dnnl_check(dnnl_primitive_attr_set_post_ops(attr, po), "post-ops");
  dnnl_primitive_desc_t pd;
  dnnl_check(dnnl_primitive_desc_create(&pd, &md, attr, b->engine, NULL), "matmul primitive descriptor");
  dnnl_check(dnnl_primitive_create(&e->prim, pd), "matmul primitive");
  dnnl_primitive_desc_destroy(pd);
  dnnl_post_ops_destroy(po);
  dnnl_primitive_attr_destroy(attr);
  dnnl_check(dnnl_memory_create(&e->a, &a, b->engine, DNNL_MEMORY_NONE), "memory");
  dnnl_check(dnnl_memory_create(&e->b, &w, b->engine, DNNL_MEMORY_NONE), "memory");
  dnnl_check(dnnl_memory_create(&e->c, &c, b->engine, DNNL_MEMORY_NONE), "memory");
  return e;
}

/* C[M,N] = op(A) op(B) (+ C when accumulate), A and B bf16, C fp32. */
static void gemm(nn_bf16 *b, int transA, int transB, int M, int N, int K, const uint16_t *A, int lda, const uint16_t *B,
                 int ldb, int accumulate, float *C, int ldc) {
  int key[10] = {M, N, K, transA, transB, lda, ldb, ldc, accumulate, omp_in_parallel() ? 1 : omp_get_max_threads()};
  prim_entry *e = prim_for(b, key);
  dnnl_check(dnnl_memory_set_data_handle(e->a, (void *)A), "memory handle");
  dnnl_check(dnnl_memory_set_data_handle(e->b, (void *)B), "memory handle");
  dnnl_check(dnnl_memory_set_data_handle(e->c, C), "memory handle");
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}};
  dnnl_check(dnnl_primitive_execute(e->prim, b->stream, 3, args), "matmul");
  dnnl_check(dnnl_stream_wait(b->stream), "stream wait");
}
#else
int nn_bf16_available(char *msg, size_t msglen) {
  snprintf(msg, msglen, "--precision bf16 needs oneDNN, and this alab was built without it: install libdnnl-dev "
                        "(scripts/deps.sh) and rebuild, or use fp32");
  return -1;
}

nn_bf16 *nn_bf16_new(const float *params, size_t n, char *msg, size_t msglen) {
  nn_bf16_available(msg, msglen);
  return NULL;
}

void nn_bf16_free(nn_bf16 *b) { (void)b; }

/* never reached: without oneDNN there is no context, so no product routes here */
static void gemm(nn_bf16 *b, int transA, int transB, int M, int N, int K, const uint16_t *A, int lda, const uint16_t *B,
                 int ldb, int accumulate, float *C, int ldc) {
  abort();
}
#endif

/* out = inp @ W, or out += inp @ W when accumulate (out holds the bias) */
void bf16_matmul_forward(float *out, const float *inp, const uint16_t *Wb, int accumulate, int N, int IC, int OC) {
  nn_bf16 *ctx = current;
  uint16_t *a = scratch(ctx, 0, (size_t)N * IC);
  nn_bf16_convert(a, inp, (long)N * IC);
  gemm(ctx, 0, 0, N, OC, IC, a, IC, Wb, OC, accumulate, out, OC);
}

/* dinp = dout @ W^T;  dW += inp^T @ dout  (dout converted once for both) */
void bf16_matmul_backward(float *dinp, float *dW, const float *dout, const float *inp, const uint16_t *Wb, int N, int IC,
                          int OC) {
  nn_bf16 *ctx = current;
  uint16_t *g = scratch(ctx, 1, (size_t)N * OC), *a = scratch(ctx, 0, (size_t)N * IC);
  nn_bf16_convert(g, dout, (long)N * OC);
  if (dinp) gemm(ctx, 0, 1, N, IC, OC, g, OC, Wb, OC, 0, dinp, IC);
  nn_bf16_convert(a, inp, (long)N * IC);
  gemm(ctx, 1, 0, IC, OC, N, a, IC, g, OC, 1, dW, OC);
}

/* logits = x @ E^T */
void bf16_lmhead_forward(float *logits, const float *x, const uint16_t *Eb, int N, int C, int V) {
  nn_bf16 *ctx = current;
  uint16_t *a = scratch(ctx, 0, (size_t)N * C);
  nn_bf16_convert(a, x, (long)N * C);
  gemm(ctx, 0, 1, N, V, C, a, C, Eb, C, 0, logits, V);
}

/* dx = dlogits @ E;  dE += dlogits^T @ x */
void bf16_lmhead_backward(float *dx, float *dwte, const float *dlogits, const float *x, const uint16_t *Eb, int N, int C,
                          int V) {
  nn_bf16 *ctx = current;
  uint16_t *g = scratch(ctx, 1, (size_t)N * V), *a = scratch(ctx, 0, (size_t)N * C);
  nn_bf16_convert(g, dlogits, (long)N * V);
  gemm(ctx, 0, 0, N, C, V, g, V, Eb, C, 0, dx, C);
  nn_bf16_convert(a, x, (long)N * C);
  gemm(ctx, 1, 0, V, C, N, g, V, a, C, 1, dwte, C);
}
