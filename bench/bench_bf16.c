/* bf16 against fp32 matrix products at alab's shapes, kernel by kernel, in
 * CPU time (so the ratio holds on a busy machine): the training products
 * (forward, and backward's dinp and dW) at the tiny and GPT-2 small layer
 * shapes, the LM head, and decoding's few-row products (weights streamed
 * once per token). Each line: GFLOP per CPU-second in fp32 and in bf16
 * (nn_bf16_use around the same call) and their ratio.
 *
 * build: cmake --build build --target bench_bf16; run: build/tests/bench_bf16 [threads] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "alab/base.h"
#include "alab/nn.h"

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
  int N, IC, OC;
  float *W, *b, *in, *out, *dout, *din, *dW, *db;
} layer;

enum { FWD, BWD, ROWS, HEAD };

/* Decoding reads each weight from memory once per token: the few-row
 * products cycle through COPIES of W (> 200 MB in all at GPT-2's fc
 * shape) so that they are not served from cache. */
enum { COPIES = 24 };
static int turn;

static void call(const layer *l, int what) {
  const float *W = l->W + (what == ROWS ? (size_t)(turn++ % COPIES) * l->IC * l->OC : 0);
  switch (what) {
  case FWD: nn_matmul_forward(l->out, l->in, W, l->b, l->N, l->IC, l->OC); break;
  case BWD: nn_matmul_backward(l->din, l->dW, l->db, l->dout, l->in, W, l->N, l->IC, l->OC); break;
  case ROWS: nn_matmul_rows(l->out, l->in, W, NULL, l->N, l->IC, l->OC); break;
  case HEAD: nn_lmhead_forward(l->out, l->in, W, l->N, l->IC, l->OC); break;
  }
}

/* GFLOP per CPU-second of `what` over at least 0.3 CPU-s */
static double rate(const layer *l, int what) {
  double flops = 2.0 * l->N * l->IC * l->OC * (what == BWD ? 2 : 1);
  call(l, what); /* warm: primitive creation, first touch */
  int it = 0;
  double t0 = cpu_now(), dt;
  do {
    call(l, what);
    it++;
  } while ((dt = cpu_now() - t0) < 0.3);
  return flops * it / dt / 1e9;
}

static void row(const char *name, int N, int IC, int OC, int what) {
  al_rng r;
  al_rng_seed(&r, 1);
  layer l = {.N = N, .IC = IC, .OC = OC};
  size_t nw = (size_t)IC * OC * (what == ROWS ? COPIES : 1);
  l.W = al_alloc_floats(nw + OC);
  l.b = l.W + nw;
  l.in = al_alloc_floats((size_t)N * IC);
  l.din = al_alloc_floats((size_t)N * IC);
  l.out = al_alloc_floats((size_t)N * OC);
  l.dout = al_alloc_floats((size_t)N * OC);
  l.dW = al_alloc_floats((size_t)IC * OC);
  l.db = al_alloc_floats(OC);
  for (size_t i = 0; i < nw + OC; i++) l.W[i] = (float)(0.02 * al_rng_normal(&r));
  for (size_t i = 0; i < (size_t)N * IC; i++) l.in[i] = (float)al_rng_normal(&r);
  for (size_t i = 0; i < (size_t)N * OC; i++) l.dout[i] = (float)(1e-3 * al_rng_normal(&r));
  double f = rate(&l, what);
  char msg[256];
  nn_bf16 *ctx = nn_bf16_new(l.W, nw + OC, msg, sizeof msg);
  if (!ctx) {
    printf("%s\n", msg);
    exit(1);
  }
  nn_bf16 *prev = nn_bf16_use(ctx);
  double h = rate(&l, what);
  nn_bf16_use(prev);
  nn_bf16_free(ctx);
  printf("%-28s N %5d IC %5d OC %6d  fp32 %7.1f  bf16 %7.1f GFLOP/cpu-s  %5.2fx\n", name, N, IC, OC, f, h, h / f);
  free(l.W), free(l.in), free(l.din), free(l.out), free(l.dout), free(l.dW), free(l.db);
}

int main(int argc, char **argv) {
  al_set_threads(argc > 1 ? atoi(argv[1]) : 1);
  row("tiny qkv forward", 2048, 128, 384, FWD);
  row("tiny fc backward", 2048, 128, 512, BWD);
  row("tiny lm head", 2048, 128, 512, HEAD);
  row("gpt2 qkv forward", 2048, 768, 2304, FWD);
  row("gpt2 fc backward", 2048, 768, 3072, BWD);
  row("gpt2 fc proj backward", 2048, 3072, 768, BWD);
  row("gpt2 lm head", 2048, 768, 50257, HEAD);
  row("decode gpt2 fc, 1 row", 1, 768, 3072, ROWS);
  row("decode gpt2 fc proj, 1 row", 1, 3072, 768, ROWS);
  row("decode gpt2 fc, 8 rows", 8, 768, 3072, ROWS);
  row("decode gpt2 lm head, 1 row", 1, 768, 50257, HEAD);
  row("decode llama 15M head, 1 row", 1, 288, 32000, HEAD);
  row("decode llama 110M head, 1 row", 1, 768, 32000, HEAD);
  return 0;
}
