/* The softmax rows of cross-entropy and attention (vectorized exp,
 * src/nn/exp_inline.h) against the closed forms in double precision:
 *   loss = logsumexp(z) - z[t],  dloss/dz = (softmax(z) - onehot(t)) * k,
 *   attention row t of P = softmax(q_t K^T / sqrt(hs)) over t2 <= t, 0 above;
 * on rows of width 1 to 517 (every remainder of the vector width), logits
 * spread up to +-60 (exp arguments down to -120, past exp_inline's clamp at
 * -87), and rows holding a NaN or an infinity, which must come out NaN or
 * infinite as libm's expf gives them (the clamp alone would turn them into
 * numbers). Tolerance 2e-6 (the loss's relative to 1 + max logit, since
 * float's lse - z[t] cancels): the float sums' rounding is ~1e-7 per
 * term here; a 4th-degree polynomial in exp_inline misses by ~1e-5. */
#include "alab/nn.h"
#include "test.h"

static al_rng rng;

static void test_crossentropy(void) {
  int widths[] = {1, 2, 7, 15, 16, 17, 31, 64, 129, 512, 517};
  float spreads[] = {0.1f, 3.0f, 60.0f};
  double worst_loss = 0, worst_grad = 0;
  for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++)
    for (size_t si = 0; si < 3; si++) {
      int V = widths[wi], N = 3;
      float *z = al_alloc_floats((size_t)N * V), *g = al_alloc_floats((size_t)N * V), loss[3];
      int32_t t[3];
      for (int i = 0; i < N * V; i++) z[i] = spreads[si] * (float)al_rng_normal(&rng) + 5.0f;
      for (int n = 0; n < N; n++) t[n] = (int32_t)(al_rng_u64(&rng) % (uint64_t)V);
      t[2] = -1; /* ignored position */
      memcpy(g, z, sizeof(float) * N * V);
      int counted = nn_crossentropy_forward(loss, z, t, N, V);
      nn_crossentropy_backward(g, t, N, V, 0.5f);
      CHECK(counted == 2, "V %d: %d counted, want 2", V, counted);
      for (int n = 0; n < N; n++) {
        const float *r = z + (size_t)n * V;
        double mx = r[0], s = 0;
        for (int v = 1; v < V; v++) mx = r[v] > mx ? r[v] : mx;
        for (int v = 0; v < V; v++) s += exp((double)r[v] - mx);
        if (t[n] < 0) {
          CHECK(loss[n] == 0.0f, "ignored row loss %g", loss[n]);
          for (int v = 0; v < V; v++) CHECK(g[(size_t)n * V + v] == 0.0f, "ignored row gradient %g", g[(size_t)n * V + v]);
          continue;
        }
        double want = log(s) + mx - r[t[n]], e = fabs(loss[n] - want) / (1.0 + fabs(mx)); /* float's cancellation in lse - z[t] */
        worst_loss = e > worst_loss ? e : worst_loss;
        for (int v = 0; v < V; v++) {
          double p = exp((double)r[v] - mx) / s, gw = 0.5 * (p - (v == t[n]));
          double eg = fabs(g[(size_t)n * V + v] - gw);
          worst_grad = eg > worst_grad ? eg : worst_grad;
        }
      }
      free(z), free(g);
    }
  CHECK(worst_loss < 2e-6, "cross-entropy loss: worst error relative to 1 + max logit %.3g", worst_loss);
  CHECK(worst_grad < 2e-6, "cross-entropy gradient: worst abs error %.3g (scale 0.5)", worst_grad);
  printf("cross-entropy: loss rel err %.3g, gradient abs err %.3g\n", worst_loss, worst_grad);
}

/* A row with a NaN gives a NaN loss and NaN gradients; a +inf logit gives
 * a non-finite loss; -inf is an ordinary zero-probability logit. */
static void test_crossentropy_nonfinite(void) {
  enum { V = 40 };
  float z[3 * V], g[3 * V], loss[3];
  int32_t t[3] = {3, 5, 7};
  for (int i = 0; i < 3 * V; i++) z[i] = (float)al_rng_normal(&rng);
  z[17] = NAN, z[V + 20] = INFINITY, z[2 * V + 9] = -INFINITY;
  memcpy(g, z, sizeof g);
  nn_crossentropy_forward(loss, z, t, 3, V);
  nn_crossentropy_backward(g, t, 3, V, 1.0f);
  CHECK(isnan(loss[0]), "NaN logit: loss %g, want NaN", loss[0]);
  CHECK(isnan(g[0]) && isnan(g[17]), "NaN logit: gradient %g %g, want NaN", g[0], g[17]);
  CHECK(!isfinite(loss[1]), "+inf logit: loss %g, want non-finite", loss[1]);
  CHECK(isfinite(loss[2]) && g[2 * V + 9] == 0.0f, "-inf logit: loss %g, its gradient %g", loss[2], g[2 * V + 9]);
}

/* Attention probabilities (kept in att) against softmax of the scores in
 * double, for T = 1..70 and scores of spread up to ~50; NaN in one query
 * makes that row NaN. */
static void test_attention(void) {
  int B = 1, H = 2, hs = 8, C = H * hs;
  double worst = 0;
  for (int T = 1; T <= 70; T += 23) {
    float *qkv = al_alloc_floats((size_t)T * 3 * C), *out = al_alloc_floats((size_t)T * C);
    float *att = al_alloc_floats((size_t)B * H * T * T);
    for (int i = 0; i < T * 3 * C; i++) qkv[i] = 2.5f * (float)al_rng_normal(&rng);
    if (T > 1) qkv[(size_t)(T - 1) * 3 * C + 1] = NAN; /* query of the last position, head 0 */
    nn_attention_forward(out, att, qkv, B, T, C, H);
    for (int h = 0; h < H; h++)
      for (int t = 0; t < T; t++) {
        const float *q = qkv + (size_t)t * 3 * C + h * hs, *p = att + ((size_t)h * T + t) * T;
        if (h == 0 && t == T - 1 && T > 1) {
          CHECK(isnan(p[0]), "T %d: NaN query: P[0] = %g, want NaN", T, p[0]);
          continue;
        }
        double sc[70], mx = -1e300, s = 0;
        for (int t2 = 0; t2 <= t; t2++) {
          const float *k = qkv + (size_t)t2 * 3 * C + C + h * hs;
          double d = 0;
          for (int i = 0; i < hs; i++) d += (double)q[i] * k[i];
          sc[t2] = d / sqrt(hs);
          mx = sc[t2] > mx ? sc[t2] : mx;
        }
        for (int t2 = 0; t2 <= t; t2++) s += exp(sc[t2] - mx);
        for (int t2 = 0; t2 < T; t2++) {
          double want = t2 <= t ? exp(sc[t2] - mx) / s : 0.0, e = fabs(p[t2] - want);
          worst = e > worst ? e : worst;
        }
      }
    free(qkv), free(out), free(att);
  }
  CHECK(worst < 2e-6, "attention probabilities: worst abs error %.3g", worst);
  printf("attention: probability abs err %.3g\n", worst);
}

int main(void) {
  al_rng_seed(&rng, 22);
  test_crossentropy();
  test_crossentropy_nonfinite();
  test_attention();
  return test_summary();
}
