/* Every kernel's backward against central finite differences of its forward,
 * and the whole model's through the scalar head.
 *
 * For a kernel y = f(x), the test takes the scalar L = sum(y * R) with a fixed
 * random R, so dL/dy = R, runs backward with dout = R, and compares each
 * analytic dL/dx_i with (L(x + h e_i) - L(x - h e_i)) / 2h, L summed in double.
 * The kernels are float code, so h = 1e-2 (larger h: less float cancellation,
 * O(h^2) truncation) and the tolerance is |a - n| <= 2e-3 + 2e-2 |n|: a wrong
 * formula misses by O(1), float rounding stays below ~1e-3 here. */
#include "alab/model.h"
#include "alab/nn.h"
#include "test.h"

static al_rng rng;
static float *randv(long n, float scale) {
  float *x = al_alloc_floats(n);
  for (long i = 0; i < n; i++) x[i] = scale * (float)al_rng_normal(&rng);
  return x;
}

typedef double (*loss_fn)(void *ctx);
static double dot_r(const float *y, const float *R, long n) {
  double s = 0;
  for (long i = 0; i < n; i++) s += (double)y[i] * R[i];
  return s;
}

/* Compares analytic gradient g of loss wrt x (n entries) at every entry. */
static void check_grad(const char *what, loss_fn f, void *ctx, float *x, const float *g, long n) {
  const float h = 1e-2f;
  int bad = 0;
  double worst = 0;
  for (long i = 0; i < n; i++) {
    float x0 = x[i];
    x[i] = x0 + h;
    double lp = f(ctx);
    x[i] = x0 - h;
    double lm = f(ctx);
    x[i] = x0;
    double num = (lp - lm) / (2.0 * h), diff = fabs(num - g[i]);
    if (diff > 2e-3 + 2e-2 * fabs(num)) {
      if (bad < 3) fprintf(stderr, "%s[%ld]: analytic %.6f numeric %.6f\n", what, i, g[i], num);
      bad++;
    }
    if (diff > worst) worst = diff;
  }
  CHECK(bad == 0, "%s: %d of %ld entries off (worst abs diff %.2e)", what, bad, n, worst);
}

/* ---- matmul ---- */
typedef struct { float *out, *inp, *W, *b, *R; int N, IC, OC; } mm_ctx;
static double mm_loss(void *p) {
  mm_ctx *c = p;
  nn_matmul_forward(c->out, c->inp, c->W, c->b, c->N, c->IC, c->OC);
  return dot_r(c->out, c->R, (long)c->N * c->OC);
}
static void test_matmul(void) {
  mm_ctx c = {.N = 5, .IC = 7, .OC = 6};
  c.inp = randv(c.N * c.IC, 1), c.W = randv(c.IC * c.OC, 1), c.b = randv(c.OC, 1), c.R = randv(c.N * c.OC, 1);
  c.out = al_alloc_floats(c.N * c.OC);
  float *dinp = al_alloc_floats(c.N * c.IC), *dW = al_alloc_floats(c.IC * c.OC), *db = al_alloc_floats(c.OC);
  nn_matmul_backward(dinp, dW, db, c.R, c.inp, c.W, c.N, c.IC, c.OC);
  check_grad("matmul dinp", mm_loss, &c, c.inp, dinp, c.N * c.IC);
  check_grad("matmul dW", mm_loss, &c, c.W, dW, c.IC * c.OC);
  check_grad("matmul db", mm_loss, &c, c.b, db, c.OC);
  /* the decoding kernel computes the same product */
  float *o2 = al_alloc_floats(c.N * c.OC);
  nn_matmul_rows(o2, c.inp, c.W, c.b, c.N, c.IC, c.OC);
  mm_loss(&c);
  double md = 0;
  for (int i = 0; i < c.N * c.OC; i++) md = fmax(md, fabs(o2[i] - c.out[i]));
  CHECK(md < 1e-5, "nn_matmul_rows differs from sgemm by %g", md);
  free(c.inp), free(c.W), free(c.b), free(c.R), free(c.out), free(dinp), free(dW), free(db), free(o2);
  /* the register-tiled path (full 64-column tiles, row blocks, a column tail),
   * and a row's result must not depend on how many rows share the call */
  int IC = 70, OC = 200;
  float *x = randv(8 * IC, 1), *W = randv(IC * OC, 1), *bb = randv(OC, 1);
  float *ref = al_alloc_floats(8 * OC), *got = al_alloc_floats(8 * OC), *one = al_alloc_floats(OC);
  nn_matmul_forward(ref, x, W, bb, 8, IC, OC);
  for (int n = 1; n <= 8; n++) {
    nn_matmul_rows(got, x, W, bb, n, IC, OC);
    double d = 0;
    for (int i = 0; i < n * OC; i++) d = fmax(d, fabs(got[i] - ref[i]));
    CHECK(d < 1e-4, "nn_matmul_rows with %d rows differs from sgemm by %g", n, d);
    nn_matmul_rows(one, x + (long)(n - 1) * IC, W, bb, 1, IC, OC);
    CHECK(!memcmp(one, got + (long)(n - 1) * OC, OC * sizeof(float)), "row %d differs when computed alone", n - 1);
  }
  free(x), free(W), free(bb), free(ref), free(got), free(one);
}

/* ---- lm head ---- */
typedef struct { float *out, *x, *wte, *R; int N, C, V; } lm_ctx;
static double lm_loss(void *p) {
  lm_ctx *c = p;
  nn_lmhead_forward(c->out, c->x, c->wte, c->N, c->C, c->V);
  return dot_r(c->out, c->R, (long)c->N * c->V);
}
static void test_lmhead(void) {
  for (int N = 3; N <= 12; N += 9) { /* both the few-row and the sgemm paths */
    lm_ctx c = {.N = N, .C = 6, .V = 9};
    c.x = randv(N * c.C, 1), c.wte = randv(c.V * c.C, 1), c.R = randv(N * c.V, 1), c.out = al_alloc_floats(N * c.V);
    float *dx = al_alloc_floats(N * c.C), *dw = al_alloc_floats(c.V * c.C);
    nn_lmhead_backward(dx, dw, c.R, c.x, c.wte, N, c.C, c.V);
    check_grad("lmhead dx", lm_loss, &c, c.x, dx, N * c.C);
    check_grad("lmhead dwte", lm_loss, &c, c.wte, dw, c.V * c.C);
    free(c.x), free(c.wte), free(c.R), free(c.out), free(dx), free(dw);
  }
}

/* ---- layernorm ---- */
typedef struct { float *out, *inp, *w, *b, *R, *mean, *rstd; int N, C; } ln_ctx;
static double ln_loss(void *p) {
  ln_ctx *c = p;
  nn_layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b, c->N, c->C, 1e-5f);
  return dot_r(c->out, c->R, (long)c->N * c->C);
}
static void test_layernorm(void) {
  ln_ctx c = {.N = 4, .C = 10};
  c.inp = randv(c.N * c.C, 1), c.w = randv(c.C, 1), c.b = randv(c.C, 1), c.R = randv(c.N * c.C, 1);
  c.out = al_alloc_floats(c.N * c.C), c.mean = al_alloc_floats(c.N), c.rstd = al_alloc_floats(c.N);
  ln_loss(&c);
  float *dinp = al_alloc_floats(c.N * c.C), *dw = al_alloc_floats(c.C), *db = al_alloc_floats(c.C);
  nn_layernorm_backward(dinp, dw, db, c.R, c.inp, c.w, c.mean, c.rstd, c.N, c.C);
  check_grad("layernorm dinp", ln_loss, &c, c.inp, dinp, c.N * c.C);
  check_grad("layernorm dw", ln_loss, &c, c.w, dw, c.C);
  check_grad("layernorm db", ln_loss, &c, c.b, db, c.C);
  /* closed form: normalised rows have mean 0 and biased variance 1 */
  float one = 1, zero = 0, *y = al_alloc_floats(c.C);
  (void)one, (void)zero;
  float *ones = al_alloc_floats(c.C), *zeros = al_alloc_floats(c.C);
  for (int i = 0; i < c.C; i++) ones[i] = 1;
  nn_layernorm_forward(y, NULL, NULL, c.inp, ones, zeros, 1, c.C, 1e-5f);
  double m = 0, v = 0;
  for (int i = 0; i < c.C; i++) m += y[i];
  m /= c.C;
  for (int i = 0; i < c.C; i++) v += (y[i] - m) * (y[i] - m);
  v /= c.C;
  CHECK(fabs(m) < 1e-6 && fabs(v - 1) < 1e-3, "layernorm output mean %g var %g", m, v);
  free(c.inp), free(c.w), free(c.b), free(c.R), free(c.out), free(c.mean), free(c.rstd), free(dinp), free(dw), free(db);
  free(y), free(ones), free(zeros);
}

/* ---- gelu ---- */
typedef struct { float *out, *inp, *R; int n; } ge_ctx;
static double ge_loss(void *p) {
  ge_ctx *c = p;
  nn_gelu_forward(c->out, c->inp, c->n);
  return dot_r(c->out, c->R, c->n);
}
static void test_gelu(void) {
  ge_ctx c = {.n = 40};
  c.inp = randv(c.n, 2), c.R = randv(c.n, 1), c.out = al_alloc_floats(c.n);
  float *d = al_alloc_floats(c.n);
  nn_gelu_backward(d, c.inp, c.R, c.n);
  check_grad("gelu", ge_loss, &c, c.inp, d, c.n);
  /* closed form values: gelu(0) = 0, gelu(1) = 0.5 (1 + tanh(sqrt(2/pi) 1.044715)) */
  float x[2] = {0, 1}, y[2];
  nn_gelu_forward(y, x, 2);
  CHECK(y[0] == 0 && fabs(y[1] - 0.5 * (1 + tanh(sqrt(2 / M_PI) * 1.044715))) < 1e-6, "gelu(1) = %g", y[1]);
  /* the inlined tanh against libm's over the range that matters (and the tails) */
  enum { NG = 20001 };
  float *xs = al_alloc_floats(NG), *ys = al_alloc_floats(NG);
  for (int i = 0; i < NG; i++) xs[i] = -12.0f + 24.0f * i / (NG - 1);
  nn_gelu_forward(ys, xs, NG);
  double worst = 0;
  for (int i = 0; i < NG; i++) {
    double x = xs[i], want = 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    worst = fmax(worst, fabs(ys[i] - want) / fmax(1.0, fabs(want)));
  }
  CHECK(worst < 1e-6, "gelu differs from the double-precision formula by %g", worst);
  free(xs), free(ys);
  free(c.inp), free(c.R), free(c.out), free(d);
}

/* ---- attention ---- */
typedef struct { float *out, *att, *qkv, *R; int B, T, C, H; } at_ctx;
static double at_loss(void *p) {
  at_ctx *c = p;
  nn_attention_forward(c->out, c->att, c->qkv, c->B, c->T, c->C, c->H);
  return dot_r(c->out, c->R, (long)c->B * c->T * c->C);
}
/* T = 5 and T = 37: rows shorter and longer than one 16-float vector, as
 * at the experiments' contexts */
static void test_attention_at(int B, int T, int C, int H) {
  at_ctx c = {.B = B, .T = T, .C = C, .H = H};
  long n = (long)c.B * c.T * c.C;
  c.qkv = randv(3 * n, 1), c.R = randv(n, 1), c.out = al_alloc_floats(n), c.att = al_alloc_floats(c.B * c.H * c.T * c.T);
  at_loss(&c);
  float *dqkv = al_alloc_floats(3 * n), *datt = al_alloc_floats(c.B * c.H * c.T * c.T);
  nn_attention_backward(dqkv, datt, c.R, c.qkv, c.att, c.B, c.T, c.C, c.H);
  check_grad("attention dqkv", at_loss, &c, c.qkv, dqkv, 3 * n);
  /* causality: each attention row sums to one over t2 <= t and is zero after */
  int ok = 1;
  for (int bh = 0; bh < c.B * c.H; bh++)
    for (int t = 0; t < c.T; t++) {
      double s = 0;
      for (int t2 = 0; t2 < c.T; t2++) {
        float a = c.att[((long)bh * c.T + t) * c.T + t2];
        if (t2 > t && a != 0) ok = 0;
        s += a;
      }
      if (fabs(s - 1) > 1e-5) ok = 0;
    }
  CHECK(ok, "attention rows are not causal probability vectors (T %d)", T);
  free(c.qkv), free(c.R), free(c.out), free(c.att), free(dqkv), free(datt);
}

static void test_attention(void) {
  test_attention_at(2, 5, 8, 2);
  test_attention_at(1, 37, 8, 2);
}

/* ---- embedding ---- */
typedef struct { float *x, *wte, *wpe, *R; int32_t *tok; int B, T, C; } em_ctx;
static double em_loss(void *p) {
  em_ctx *c = p;
  nn_embedding_forward(c->x, c->tok, c->wte, c->wpe, c->B, c->T, c->C);
  return dot_r(c->x, c->R, (long)c->B * c->T * c->C);
}
static void test_embedding(void) {
  em_ctx c = {.B = 2, .T = 3, .C = 4};
  int V = 5;
  int32_t tok[6] = {1, 4, 1, 0, 1, 2}; /* a repeated token accumulates */
  c.tok = tok, c.wte = randv(V * c.C, 1), c.wpe = randv(c.T * c.C, 1), c.R = randv(c.B * c.T * c.C, 1);
  c.x = al_alloc_floats(c.B * c.T * c.C);
  float *dwte = al_alloc_floats(V * c.C), *dwpe = al_alloc_floats(c.T * c.C);
  nn_embedding_backward(dwte, dwpe, c.R, tok, c.B, c.T, c.C);
  check_grad("embedding dwte", em_loss, &c, c.wte, dwte, V * c.C);
  check_grad("embedding dwpe", em_loss, &c, c.wpe, dwpe, c.T * c.C);
  free(c.wte), free(c.wpe), free(c.R), free(c.x), free(dwte), free(dwpe);
}

/* ---- cross-entropy ---- */
typedef struct { float *logits, *work, *losses; int32_t *tg; int N, V; } ce_ctx;
static double ce_loss(void *p) {
  ce_ctx *c = p;
  nn_crossentropy_forward(c->losses, c->logits, c->tg, c->N, c->V);
  double s = 0;
  for (int i = 0; i < c->N; i++) s += c->losses[i];
  return s;
}
static void test_crossentropy(void) {
  ce_ctx c = {.N = 4, .V = 7};
  int32_t tg[4] = {3, -1, 0, 6}; /* -1: ignored row */
  c.tg = tg, c.logits = randv(c.N * c.V, 2), c.losses = al_alloc_floats(c.N);
  float *g = al_alloc_floats(c.N * c.V);
  memcpy(g, c.logits, sizeof(float) * c.N * c.V);
  nn_crossentropy_backward(g, tg, c.N, c.V, 1.0f);
  check_grad("crossentropy", ce_loss, &c, c.logits, g, c.N * c.V);
  /* closed form: uniform logits give loss log V */
  float z[7] = {0};
  int32_t t0 = 2;
  float l;
  nn_crossentropy_forward(&l, z, &t0, 1, 7);
  CHECK(fabs(l - log(7.0)) < 1e-6, "uniform loss %g != log 7", l);
  free(c.logits), free(c.losses), free(g);
}

/* ---- AdamW against the closed form of its first step ---- */
static void test_adamw(void) {
  /* step 1: m = (1-b1) g, v = (1-b2) g^2, so mhat = g, vhat = g^2 and
   * p1 = p0 (1 - lr wd) - lr g / (|g| + eps) */
  float p[3] = {1, -2, 0.5f}, g[3] = {0.3f, -0.1f, 2}, m[3] = {0}, v[3] = {0};
  nn_adamw_cfg cfg = {.lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
  float p0[3];
  memcpy(p0, p, sizeof p);
  nn_adamw_update(p, g, m, v, 3, 1, &cfg, 1);
  for (int i = 0; i < 3; i++) {
    double want = p0[i] * (1 - 0.1 * 0.1) - 0.1 * g[i] / (fabs(g[i]) + 1e-8);
    CHECK(fabs(p[i] - want) < 1e-6, "adamw p[%d] = %g want %g", i, p[i], want);
  }
  float gn[5] = {3, 4, 0, 0, 12};
  CHECK(fabs(nn_global_norm(gn, 5) - 13) < 1e-12, "global norm %g", nn_global_norm(gn, 5));
}

/* ---- the whole model through the scalar head ----
 * L = sum_b R[b] * values[b], values[b] = score . h[b, pos[b]]: the gradient
 * of every parameter (score.weight, ln_f, the blocks, wte, wpe) from
 * al_model_backward_scalar against finite differences of
 * al_model_forward_scalar. */
typedef struct { al_model *m; const int32_t *in, *pos; float *values, *R; int B, T; } sc_ctx;
static double sc_loss(void *p) {
  sc_ctx *c = p;
  al_err err;
  CHECK_OK(al_model_forward_scalar(c->m, c->in, c->pos, c->B, c->T, c->values, &err), err);
  return dot_r(c->values, c->R, c->B);
}
static void test_scalar_head(void) {
  al_model_config cfg = {.vocab_size = 11, .n_positions = 6, .n_layer = 2, .n_head = 2, .n_embd = 8, .init_std = 0.3f,
                         .scalar_head = 1};
  al_model m;
  al_err err;
  CHECK_OK(al_model_init(&m, &cfg, 5, &err), err);
  for (size_t i = 0; i < m.nparams; i++) m.params[i] += 0.1f * (float)al_rng_normal(&rng); /* biases and norms too */
  int32_t in[10] = {1, 4, 9, 2, 7, 3, 3, 10, 0, 5}, pos[2] = {4, 2};
  sc_ctx c = {&m, in, pos, al_alloc_floats(2), randv(2, 1), 2, 5};
  sc_loss(&c);
  al_model_zero_grad(&m);
  al_model_backward_scalar(&m, c.R);
  float *g = al_alloc_floats(m.nparams);
  memcpy(g, m.grads, m.nparams * sizeof(float));
  for (int i = 0; i < m.ntensors; i++) {
    const al_tensor *t = &m.tensors[i];
    check_grad(t->name, sc_loss, &c, m.params + t->offset, g + t->offset, (long)t->numel);
  }
  /* position 5 of sequence 1 is past T = 5: refused, naming it */
  int32_t bad[2] = {4, 5};
  CHECK_FAILS_WITH(al_model_forward_scalar(&m, in, bad, 2, 5, c.values, &err), err, "position 5 of sequence 1");
  free(g), free(c.values), free(c.R);
  al_model_free(&m);
}

int main(void) {
  al_rng_seed(&rng, 1234);
  test_matmul();
  test_lmhead();
  test_layernorm();
  test_gelu();
  test_attention();
  test_embedding();
  test_crossentropy();
  test_adamw();
  test_scalar_head();
  return test_summary();
}
