/* Fixed-length responses (al_rl_cfg.min_new, al_bon_sample_min): the
 * end-of-text is never one of a response's first min_new tokens, and the
 * policy trained is the distribution sampled.
 * - Sampling against the closed form: a GPT-2 whose logits are set by hand
 *   (every weight 0, ln_f.bias = e_0, wte[v][0] = l_v: logits l_v at every
 *   position) gives the stop token probability 0.51 unmasked; over 4,000
 *   responses of 3 tokens with min_new 2, the stop token never appears in
 *   the first 2, the other tokens' frequencies there match l's softmax
 *   renormalised without the stop token (within 4.5 standard errors), and
 *   at the third token the stop token's frequency matches the unmasked
 *   softmax. min_new 0 is al_bon_sample byte for byte.
 * - The log-probs: after al_rl_mask_logits, al_rl_token_logprobs is
 *   log softmax over the other tokens on the masked rows (closed form) and
 *   the plain one elsewhere; its backward matches central finite
 *   differences of that function (double precision), 0 on the masked logit.
 * - Through the loop: a briefly pretrained policy of the RL world ends some
 *   responses early (max_new 12: mean length below 12); with min_new 12
 *   every response of every batch is 12 tokens, and each step's log-probs
 *   equal the rollout's (policy/approxkl_avg 0 with one step per batch: a
 *   mask in one of the two passes and not the other fails it); the probe (al_rl_cfg.probe)
 *   is the mean of its function per batch (here the gold: it equals the
 *   logged gold). */
#include <jansson.h>
#include "alab/bon.h"
#include "alab/rl.h"
#include "alab/rl_world.h"
#include "test.h"

enum { V = 8, STOP = 7, N = 4000 };
static const float L[V] = {0.0f, 0.5f, -0.5f, 1.0f, 0.2f, -1.0f, 0.3f, 2.0f};

static void set_logits_model(al_model *m) {
  al_err err;
  al_model_config cfg = {.vocab_size = V, .n_positions = 16, .n_layer = 1, .n_head = 2, .n_embd = 8};
  CHECK_OK(al_model_alloc(m, &cfg, &err), err);
  const al_tensor *b = al_model_tensor(m, "ln_f.bias"), *w = al_model_tensor(m, "wte.weight");
  CHECK(b && w, "ln_f.bias and wte.weight exist");
  if (!b || !w) return;
  m->params[b->offset] = 1;
  for (int v = 0; v < V; v++) m->params[w->offset + (size_t)v * cfg.n_embd] = L[v];
}

static void sampling(void) {
  al_err err;
  al_model m;
  set_logits_model(&m);
  double z = 0, zm = 0, p[V], pm[V];
  for (int v = 0; v < V; v++) z += exp(L[v]), zm += v == STOP ? 0 : exp(L[v]);
  for (int v = 0; v < V; v++) p[v] = exp(L[v]) / z, pm[v] = v == STOP ? 0 : exp(L[v]) / zm;
  int32_t prompt[2] = {1, 2}, *out = malloc(sizeof(int32_t) * N * 3), *out0 = malloc(sizeof(int32_t) * N * 3);
  int *lens = malloc(sizeof(int) * N), *lens0 = malloc(sizeof(int) * N);
  al_sample_cfg sc = {.temperature = 1, .top_p = 1, .top_k = 0};
  CHECK_OK(al_bon_sample_min(&m, prompt, 2, N, 3, 2, &sc, 42, STOP, out, lens, &err), err);
  long count[V] = {0}, stop3 = 0, short_ = 0;
  for (int i = 0; i < N; i++) {
    short_ += lens[i] != 3;
    for (int t = 0; t < 2; t++) count[out[i * 3 + t]]++;
    stop3 += out[i * 3 + 2] == STOP;
  }
  CHECK(short_ == 0 && count[STOP] == 0, "the stop token in the first 2 tokens: %ld times, %ld short responses", count[STOP], short_);
  for (int v = 0; v < V; v++) {
    double f = count[v] / (2.0 * N), se = sqrt(pm[v] * (1 - pm[v]) / (2.0 * N));
    CHECK(fabs(f - pm[v]) <= 4.5 * se + 1e-12, "token %d: frequency %.4f, masked softmax %.4f (unmasked %.4f, se %.4f)", v, f,
          pm[v], p[v], se);
  }
  double f3 = stop3 / (double)N, se3 = sqrt(p[STOP] * (1 - p[STOP]) / N);
  CHECK(fabs(f3 - p[STOP]) <= 4.5 * se3, "the third token is the stop token %.4f of the time, softmax %.4f", f3, p[STOP]);
  CHECK_OK(al_bon_sample_min(&m, prompt, 2, N, 3, 0, &sc, 42, STOP, out, lens, &err), err);
  CHECK_OK(al_bon_sample(&m, prompt, 2, N, 3, &sc, 42, STOP, out0, lens0, &err), err);
  int same = !memcmp(lens, lens0, sizeof(int) * N);
  for (int i = 0; same && i < N; i++) same = !memcmp(out + i * 3, out0 + i * 3, sizeof(int32_t) * (size_t)lens[i]);
  CHECK(same, "min_new 0 is al_bon_sample");
  free(out), free(out0), free(lens), free(lens0);
  al_model_free(&m);
}

/* log softmax of row x at y over the tokens other than `ban` (ban < 0: all), in double */
static double lp_of(const double *x, int y, int ban) {
  double mx = -1e300, s = 0;
  for (int v = 0; v < V; v++)
    if (v != ban && x[v] > mx) mx = x[v];
  for (int v = 0; v < V; v++)
    if (v != ban) s += exp(x[v] - mx);
  return x[y] - mx - log(s);
}

static void logprobs(void) {
  enum { B = 2, T = 6, R = 4 };
  int start[B] = {2, 1}, len[B] = {4, 3}, upto = 2;
  int32_t in[B * T];
  float x[B * T * V], lp[B * R], dlp[B * R];
  al_rng r;
  al_rng_seed(&r, 3);
  for (int i = 0; i < B * T; i++) in[i] = (int32_t)al_rng_below(&r, V - 1); /* the response never holds the stop token */
  for (int i = 0; i < B * T * V; i++) x[i] = (float)al_rng_normal(&r);
  for (int i = 0; i < B * R; i++) dlp[i] = (float)al_rng_normal(&r);
  float orig[B * T * V];
  static double expect[B * T * V]; /* the gradient by finite differences */
  memcpy(orig, x, sizeof x);
  al_rl_mask_logits(x, start, len, B, T, V, STOP, upto);
  al_rl_token_logprobs(x, in, start, len, B, T, V, R, lp, NULL);
  double worst = 0, worst_g = 0;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < len[b]; t++) {
      size_t row = (size_t)b * T + start[b] + t - 1;
      double xd[V];
      for (int v = 0; v < V; v++) xd[v] = orig[row * V + v];
      int ban = t < upto ? STOP : -1, y = in[row + 1];
      worst = fmax(worst, fabs(lp[b * R + t] - lp_of(xd, y, ban)));
      for (int v = 0; v < V; v++) { /* d (dlp lp) / d x_v, central differences of the masked function */
        double h = 1e-4, keep = xd[v];
        xd[v] = keep + h;
        double up = lp_of(xd, y, ban);
        xd[v] = keep - h;
        double down = lp_of(xd, y, ban);
        xd[v] = keep;
        expect[row * V + v] = dlp[b * R + t] * (up - down) / (2 * h);
      }
    }
  CHECK(worst < 1e-5, "masked log-probs against the closed form: worst %.2g", worst);
  al_rl_token_logprobs_backward(x, in, start, len, dlp, B, T, V, R);
  for (int b = 0; b < B; b++)
    for (int t = 0; t < len[b]; t++) {
      size_t row = (size_t)b * T + start[b] + t - 1;
      for (int v = 0; v < V; v++) worst_g = fmax(worst_g, fabs(x[row * V + v] - expect[row * V + v]));
      if (t < upto) CHECK(x[row * V + STOP] == 0, "row %zu: no gradient into the masked logit (%g)", row, x[row * V + STOP]);
    }
  CHECK(worst_g < 1e-4, "the backward against finite differences: worst %.2g", worst_g);
}

static void loop(void) {
  al_err err;
  al_model base, pol;
  al_tok *tok = NULL;
  CHECK_OK(al_rlw_pretrain(&base, &tok, 1, 2, 16, 20, 7, &err), err);
  int np;
  const char *const *prompts = al_rlw_prompts(&np);
  al_bon_scorer gold = {NULL, NULL, al_rlw_gold};
  for (int fixed = 0; fixed < 2; fixed++) {
    al_rl_cfg r;
    al_rl_defaults(&r, AL_RL_RLOO);
    r.max_new = RLW_LEN, r.min_new = fixed ? RLW_LEN : 0, r.probe = &gold;
    al_rl_setup s = {&r, &base, tok, prompts, np, &gold, &gold};
    al_train_cfg tc;
    al_train_defaults(&tc);
    tc.lr = 1e-3, tc.warmup_steps = 0, tc.min_lr_frac = 1, tc.weight_decay = 0, tc.eval_every = 0;
    CHECK_OK(al_model_alloc(&pol, &base.cfg, &err), err);
    memcpy(pol.params, base.params, sizeof(float) * base.nparams);
    al_rl_run_cfg rc = {4, 0};
    al_rl_log log = {0};
    char *dir = test_tmpdir(fixed ? "rl_mask_fixed" : "rl_mask_free");
    CHECK_OK(al_rl_train(&pol, &s, &tc, &rc, dir, NULL, &log, &err), err);
    /* one step per batch, taken at the parameters that sampled it: the step's log-probs are the rollout's old
     * ones, so policy/approxkl_avg is 0 unless the two are masked differently */
    char *met = al_path_join(dir, "trainer/metrics.jsonl"), *text = NULL;
    size_t tlen = 0;
    CHECK_OK(al_read_file(met, &text, &tlen, &err), err);
    double akl = 0;
    int lines = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
      json_t *j = json_loads(line, 0, NULL);
      const json_t *v = j ? json_object_get(j, "policy/approxkl_avg") : NULL;
      if (json_is_number(v)) akl = fmax(akl, json_number_value(v)), lines++;
      json_decref(j);
    }
    CHECK(lines == 4 && akl < 1e-9, "min_new %d: policy/approxkl_avg at most %g over %d steps (0: log-probs as sampled)",
          r.min_new, akl, lines);
    free(text), free(met), free(dir);
    double mean = 0, lo = 1e9, probe_gap = 0;
    for (long i = 0; i < log.nbatches; i++)
      mean += log.len[i] / log.nbatches, lo = fmin(lo, log.len[i]), probe_gap = fmax(probe_gap, fabs(log.probe[i] - log.gold[i]));
    printf("min_new %d: response tokens %.2f on average, %.2f in the shortest batch\n", r.min_new, mean, lo);
    CHECK(log.nbatches == 4 && probe_gap < 1e-6, "the probe is its function's batch mean: %ld batches, gap %g",
          log.nbatches, probe_gap);
    if (fixed) CHECK(lo == RLW_LEN && mean == RLW_LEN, "every response is %d tokens: mean %g, least %g", RLW_LEN, mean, lo);
    else CHECK(mean < RLW_LEN, "unmasked, the briefly pretrained policy ends early: mean %g tokens", mean);
    al_rl_log_free(&log);
    al_model_free(&pol);
  }
  al_rl_cfg r;
  al_rl_defaults(&r, AL_RL_RLOO);
  r.max_new = 4, r.min_new = 5;
  al_rl_setup s = {&r, &base, tok, prompts, np, &gold, NULL};
  al_train_cfg tc;
  al_train_defaults(&tc);
  al_objective o;
  CHECK_FAILS_WITH(al_objective_rl(&o, &base, &tc, &s, &err), err, "min_new (5)");
  al_model_free(&base);
  al_tok_free(tok);
}

int main(void) {
  sampling();
  logprobs();
  loop();
  return test_summary();
}
