/* bf16 matrix products (src/nn/matmul_bf16.c, src/nn/matmul_rows_bf16.c)
 * against the exact product (double), within bf16's error bound:
 *
 * bf16 keeps 8 significant bits, so rounding x to nearest even gives
 * x(1 + d) with |d| <= u = 2^-8 (half the spacing 2^-7 of [1, 2)). A
 * product of two rounded inputs is a w (1 + d1)(1 + d2): its error is at
 * most (2u + u^2)|a w| (one rounded input, as in decoding where only the
 * weight is bf16: u |a w|). The product of two bf16 values is exact in fp32
 * (16 <= 24 significant bits), and adding m terms in fp32 in any order errs
 * by at most gamma_m = m eps / (1 - m eps), eps = 2^-24, times the sum of
 * their magnitudes. So, with S = sum_k |a_k w_k| and c the value the
 * product adds to (a bias or an accumulated gradient, 0 if none):
 *
 *   |computed - exact| <= r S + gamma_{K+1} (|c| + (1 + r) S),
 *   r = (1 + u)^k - 1, k the rounded inputs per term (2, or 1 in decoding)
 *
 * plus K 2^-126 for products flushed to zero (VDPBF16PS flushes denormals;
 * nothing here comes near). Every product the models use is checked: the
 * Conv1D forward with bias, its backward (dinp = dout W^T, dW += inp^T dout:
 * the transposed variants), the LM head both ways, and the decoding
 * kernels, at the tiny and GPT-2 small layer shapes and odd ones. Then: the
 * bf16 path really is bf16 (its error is far above fp32's), a weight
 * outside the context's buffer stays fp32 bit for bit, and 2 threads give
 * the same bits twice. Skipped (77) where bf16 is not available. */
#include <stdint.h>
#include "alab/nn.h"
#include "test.h"

static const double U = 1.0 / 256, EPS32 = 1.0 / 16777216;

static double gamma_m(int m) { return m * EPS32 / (1 - m * EPS32); }

static float *randn(al_rng *r, size_t n, double scale) {
  float *x = al_alloc_floats(n);
  for (size_t i = 0; i < n; i++) x[i] = (float)(scale * al_rng_normal(r));
  return x;
}

/* Largest error relative to its bound over M x N outputs of C = c0 + op(A) op(B);
 * A(i,k) = A[i*sai + k*sak], B(k,j) = B[k*sbk + j*sbj]. Also the largest
 * error relative to S (how far from fp32 the result is) in *rel. */
static double worst(const float *C, const float *c0, const float *A, long sai, long sak, const float *B, long sbk,
                    long sbj, int M, int N, int K, int rounded, double *rel) {
  double r = rounded == 2 ? 2 * U + U * U : U, w = 0, wr = 0;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double s = 0, S = 0, c = c0 ? c0[(long)i * N + j] : 0;
      for (int k = 0; k < K; k++) {
        double p = (double)A[i * sai + k * sak] * B[k * sbk + j * sbj];
        s += p;
        S += fabs(p);
      }
      double err = fabs(C[(long)i * N + j] - (c + s));
      double bound = r * S + gamma_m(K + 1) * (fabs(c) + (1 + r) * S) + K * 0x1p-126;
      if (err / bound > w) w = err / bound;
      if (S > 0 && err / S > wr) wr = err / S;
    }
  if (rel) *rel = wr;
  return w;
}

/* One layer product of shape (N, IC, OC) with W and b inside the context's
 * buffer: forward with bias, backward into dinp and an accumulated dW. */
static void check_layer(al_rng *rng, int N, int IC, int OC) {
  size_t nw = (size_t)IC * OC;
  float *params = randn(rng, nw + OC, 0.05), *W = params, *b = params + nw;
  float *inp = randn(rng, (size_t)N * IC, 1.0), *dout = randn(rng, (size_t)N * OC, 0.01);
  float *out = al_alloc_floats((size_t)N * OC), *dinp = al_alloc_floats((size_t)N * IC);
  float *dW = randn(rng, nw, 0.01), *dW0 = al_alloc_floats(nw), *db = al_alloc_floats(OC);
  float *bias_rows = al_alloc_floats((size_t)N * OC), *ref = al_alloc_floats((size_t)N * OC);
  memcpy(dW0, dW, nw * sizeof(float));
  for (int n = 0; n < N; n++) memcpy(bias_rows + (size_t)n * OC, b, OC * sizeof(float));
  char msg[512];
  nn_bf16 *ctx = nn_bf16_new(params, nw + OC, msg, sizeof msg);
  nn_bf16 *prev = nn_bf16_use(ctx);
  nn_matmul_forward(out, inp, W, b, N, IC, OC);
  nn_matmul_backward(dinp, dW, db, dout, inp, W, N, IC, OC);
  CHECK(nn_bf16_use(prev) == ctx, "nn_bf16_use returns the context it replaces");
  double rel, e;
  e = worst(out, bias_rows, inp, IC, 1, W, OC, 1, N, OC, IC, 2, &rel);
  CHECK(e <= 1, "forward (%d,%d,%d): error %.3g of the bound", N, IC, OC, e);
  /* bf16 is really in use: fp32's own error here is ~1e-7 of S */
  CHECK(rel > 1e-5, "forward (%d,%d,%d): largest error %.3g of S looks like fp32, not bf16", N, IC, OC, rel);
  nn_matmul_forward(ref, inp, W, b, N, IC, OC); /* no context now: fp32 */
  double e32 = worst(ref, bias_rows, inp, IC, 1, W, OC, 1, N, OC, IC, 2, NULL);
  CHECK(e32 < 0.05 * e || e == 0, "fp32 (%.3g of the bound) is far more accurate than bf16 (%.3g)", e32, e);
  e = worst(dinp, NULL, dout, OC, 1, W, 1, OC, N, IC, OC, 2, NULL); /* dinp = dout W^T: B(k=o, j=i) = W[i*OC + o] */
  CHECK(e <= 1, "dinp (%d,%d,%d): error %.3g of the bound", N, IC, OC, e);
  e = worst(dW, dW0, inp, 1, IC, dout, OC, 1, IC, OC, N, 2, NULL); /* dW += inp^T dout: A(i, k=n) = inp[n*IC + i] */
  CHECK(e <= 1, "dW (%d,%d,%d): error %.3g of the bound", N, IC, OC, e);
  free(params), free(inp), free(dout), free(out), free(dinp), free(dW), free(dW0), free(db), free(bias_rows), free(ref);
  nn_bf16_free(ctx);
}

/* The LM head over E [V, C]: logits = x E^T, dx = dlogits E, dE += dlogits^T x. */
static void check_lmhead(al_rng *rng, int N, int C, int V) {
  float *E = randn(rng, (size_t)V * C, 0.05), *x = randn(rng, (size_t)N * C, 1.0), *g = randn(rng, (size_t)N * V, 0.01);
  float *logits = al_alloc_floats((size_t)N * V), *dx = al_alloc_floats((size_t)N * C);
  float *dE = randn(rng, (size_t)V * C, 0.01), *dE0 = al_alloc_floats((size_t)V * C);
  memcpy(dE0, dE, (size_t)V * C * sizeof(float));
  char msg[512];
  nn_bf16 *ctx = nn_bf16_new(E, (size_t)V * C, msg, sizeof msg), *prev = nn_bf16_use(ctx);
  nn_lmhead_forward(logits, x, E, N, C, V);
  nn_lmhead_backward(dx, dE, g, x, E, N, C, V);
  nn_bf16_use(prev);
  double e;
  int rounded = N <= 8 ? 1 : 2; /* up to 8 rows: the decoding pass, fp32 x against bf16 E */
  e = worst(logits, NULL, x, C, 1, E, 1, C, N, V, C, rounded, NULL);
  CHECK(e <= 1, "lm head forward (%d,%d,%d): error %.3g of the bound", N, C, V, e);
  e = worst(dx, NULL, g, V, 1, E, C, 1, N, C, V, 2, NULL);
  CHECK(e <= 1, "lm head dx (%d,%d,%d): error %.3g of the bound", N, C, V, e);
  e = worst(dE, dE0, g, 1, V, x, C, 1, V, C, N, 2, NULL);
  CHECK(e <= 1, "lm head dE (%d,%d,%d): error %.3g of the bound", N, C, V, e);
  free(E), free(x), free(g), free(logits), free(dx), free(dE), free(dE0);
  nn_bf16_free(ctx);
}

/* Decoding: n <= 8 rows against bf16 weights (only W rounded); a row's
 * result does not depend on how many rows are stepped together. */
static void check_rows(al_rng *rng, int IC, int OC) {
  float *W = randn(rng, (size_t)IC * OC + OC, 0.05), *b = W + (size_t)IC * OC, *inp = randn(rng, (size_t)8 * IC, 1.0);
  float *out = al_alloc_floats((size_t)8 * OC), *one = al_alloc_floats(OC), *bias_rows = al_alloc_floats((size_t)8 * OC);
  for (int n = 0; n < 8; n++) memcpy(bias_rows + (size_t)n * OC, b, OC * sizeof(float));
  char msg[512];
  nn_bf16 *ctx = nn_bf16_new(W, (size_t)IC * OC + OC, msg, sizeof msg), *prev = nn_bf16_use(ctx);
  for (int n = 1; n <= 8; n++) {
    nn_matmul_rows(out, inp, W, b, n, IC, OC);
    double e = worst(out, bias_rows, inp, IC, 1, W, OC, 1, n, OC, IC, 1, NULL);
    CHECK(e <= 1, "rows n=%d (%d,%d): error %.3g of the bound", n, IC, OC, e);
    nn_matmul_rows(one, inp + (size_t)(n - 1) * IC, W, b, 1, IC, OC);
    CHECK(!memcmp(one, out + (size_t)(n - 1) * OC, OC * sizeof(float)), "rows n=%d: last row differs from alone", n);
  }
  nn_bf16_use(prev);
  free(W), free(inp), free(out), free(one), free(bias_rows);
  nn_bf16_free(ctx);
}

int main(void) {
  char msg[512];
  CHECK(nn_precision_parse("fp32") == NN_FP32 && nn_precision_parse("bf16") == NN_BF16, "precision names");
  CHECK(nn_precision_parse("fp16") == -1 && nn_precision_parse("") == -1 && nn_precision_parse(NULL) == -1,
        "unknown precisions are refused");
  if (nn_bf16_available(msg, sizeof msg)) {
    printf("skipped: %s\n", msg);
    return test_failed ? 1 : 77;
  }
  /* rounding: exact cases of round to nearest even */
  float xs[] = {1.0f, 1.0f + 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-9f, 1.0f + 0x1p-7f + 0x1p-8f, -2.5f, INFINITY, NAN};
  uint16_t want[] = {0x3f80, 0x3f80, 0x3f81, 0x3f82, 0xc020, 0x7f80, 0}, got[7];
  nn_bf16_convert(got, xs, 7);
  for (int i = 0; i < 6; i++) CHECK(got[i] == want[i], "bf16(%.9g) = 0x%04x, want 0x%04x", xs[i], got[i], want[i]);
  CHECK((got[6] & 0x7f80) == 0x7f80 && (got[6] & 0x7f), "NaN stays NaN (0x%04x)", got[6]);
  al_rng rng;
  al_rng_seed(&rng, 22);
  /* tiny (C 128): qkv, proj, fc, fc proj; GPT-2 small (C 768) with few rows; odd */
  int layers[][3] = {{64, 128, 384}, {64, 128, 128}, {64, 128, 512}, {64, 512, 128},
                     {16, 768, 2304}, {16, 3072, 768}, {37, 50, 70}, {1, 33, 17}};
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) check_layer(&rng, layers[i][0], layers[i][1], layers[i][2]);
  check_lmhead(&rng, 64, 128, 512);
  check_lmhead(&rng, 24, 96, 1000);
  check_lmhead(&rng, 3, 128, 515); /* decoding's few-row pass */
  check_rows(&rng, 128, 384);
  check_rows(&rng, 96, 200); /* 200 = 3 x 64 + a tail of 8 columns */

  /* a weight outside the context's buffer is multiplied in fp32, bit for bit */
  float *P = randn(&rng, 64, 1), *W = randn(&rng, 96 * 80, 0.1), *x = randn(&rng, 40 * 96, 1);
  float *y0 = al_alloc_floats(40 * 80), *y1 = al_alloc_floats(40 * 80);
  nn_matmul_forward(y0, x, W, NULL, 40, 96, 80);
  nn_bf16 *ctx = nn_bf16_new(P, 64, msg, sizeof msg), *prev = nn_bf16_use(ctx);
  nn_matmul_forward(y1, x, W, NULL, 40, 96, 80);
  CHECK(!memcmp(y0, y1, sizeof(float) * 40 * 80), "a weight outside the context stays fp32");
  nn_bf16_use(prev);
  nn_bf16_free(ctx);

  /* same threads, same bits: 2 threads, twice */
  al_set_threads(2);
  float *Wd = randn(&rng, 256 * 512, 0.05), *xd = randn(&rng, 512 * 256, 1), *o1 = al_alloc_floats(512 * 512),
        *o2 = al_alloc_floats(512 * 512);
  ctx = nn_bf16_new(Wd, 256 * 512, msg, sizeof msg);
  prev = nn_bf16_use(ctx);
  nn_matmul_forward(o1, xd, Wd, NULL, 512, 256, 512);
  nn_matmul_forward(o2, xd, Wd, NULL, 512, 256, 512);
  CHECK(!memcmp(o1, o2, sizeof(float) * 512 * 512), "2 threads: the same product twice gives the same bits");
  nn_bf16_use(prev);
  nn_bf16_free(ctx);
  free(P), free(W), free(x), free(y0), free(y1), free(Wd), free(xd), free(o1), free(o2);
  return test_summary();
}
