/* `alab serve --precision bf16` (issue 21) over real HTTP (curl) against
 * the library and `alab sample --precision bf16`, for a GPT-2 and a Llama:
 * - a sampled completion (seed 5, temperature 1, logprobs) of a 10-token
 *   prompt has the tokens of the library's bf16 decoder (al_generate with a
 *   bf16 context, nn_bf16_use) and its per-token log-probs (within 1e-5:
 *   the bf16 decoder fed those tokens as al_generate feeds them), and
 *   `alab sample --precision bf16` prints exactly that text for the seed;
 * - those log-probs are not fp32's: the fp32 decoder fed the same tokens
 *   gives log-probs more than 1e-4 away somewhere, and logits whose
 *   relative error to bf16's lies in (1e-5, 0.03) (8 x 2^-8, the bound
 *   test_llama_decode uses);
 * - echo + logprobs scores a prompt with the bf16 weights too: a short
 *   prompt (the row kernels) and one of more than 8 tokens (oneDNN's bf16
 *   products, activations rounded to bf16) get the library's bf16
 *   al_sequence_logprobs within 1e-5, and not the fp32 ones;
 * - /classify on a reward model scores with the bf16 weights (the library's
 *   al_rm_score_ids under a bf16 context, not fp32's);
 * - --precision fp16 is a usage error (exit 2) naming the flag. Where bf16
 *   is not available (alab without oneDNN, a CPU without AVX-512 BF16) the
 *   test instead checks that the server refuses to start (exit 1) saying
 *   why. */
#include <jansson.h>
#include <signal.h>
#include "alab/nn.h"
#include "alab/reward.h"
#include "model/arch.h"
#include "oracle_compare.h"
#include "serve_model.h"
#include "serve_proc.h"
#include "test.h"

enum { MAXGEN = 24 };

typedef struct {
  int n;
  int32_t tok[MAXGEN];
} gen_rec;

static int on_token(void *p, int32_t t) {
  gen_rec *g = p;
  g->tok[g->n++] = t;
  return 0;
}

/* POSTs body to path on the server; the answer as JSON (NULL on failure) */
static json_t *post(int port, const char *path, const char *body) {
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "curl -s localhost:%d%s -H 'Content-Type: application/json' -d '%s'", port, path, body);
  int rc = test_sh(cmd, &out);
  json_t *j = rc == 0 && out ? json_loads(out, 0, NULL) : NULL;
  if (!j) printf("no JSON from %s: %s\n", path, out ? out : "");
  free(out);
  return j;
}

static const json_t *choice_logprobs(const json_t *j, const char *key) {
  return json_object_get(json_object_get(json_array_get(json_object_get(j, "choices"), 0), "logprobs"), key);
}

/* log-probs lp[i] of tok[i] and logits [n][V] of the fp32 decoder (bf NULL)
 * or the bf16 one fed prompt ids[0..np) as al_generate feeds it (all but
 * the last token, then the last), then tok[0..n) one at a time */
static void teacher_force(const al_model *m, nn_bf16 *bf, const int32_t *ids, int np, const int32_t *tok, int n,
                          float *lp, float *logits) {
  al_err err;
  int V = m->cfg.vocab_size;
  nn_bf16 *prev = nn_bf16_use(bf);
  al_decoder *d = al_decoder_new(m);
  CHECK_OK(al_decoder_feed(d, ids, np - 1, NULL, &err), err);
  CHECK_OK(al_decoder_feed(d, ids + np - 1, 1, NULL, &err), err);
  for (int i = 0; i < n; i++) {
    const float *z = al_decoder_logits(d);
    memcpy(logits + (size_t)i * V, z, (size_t)V * sizeof(float));
    lp[i] = z[tok[i]] - al_logsumexp(z, V);
    if (i + 1 < n) CHECK_OK(al_decoder_feed(d, tok + i, 1, NULL, &err), err);
  }
  al_decoder_free(d);
  nn_bf16_use(prev);
}

/* the sampled completion: server, library, `alab sample` */
static void check_completion(const char *dir, const al_model *m, const al_tok *tok, nn_bf16 *bf, int port,
                             const char *what) {
  al_err err;
  const char *prompt = "The quick brown";
  int32_t *ids = NULL;
  size_t np = 0, cap = 0;
  CHECK(al_tok_encode_start(tok, prompt, strlen(prompt), 1, &ids, &np, &cap, &err) >= 0, "%s: %s", what, err.msg);
  /* more than 8 tokens: all but the last go through oneDNN's bf16 products
   * (activations rounded to bf16), the last through the row kernel, in the
   * server and in al_generate alike */
  CHECK(np > AL_DECODE_SMALL_ROWS, "%s: the prompt is %zu tokens (the check needs more than 8)", what, np);
  gen_rec g = {0};
  al_sample_cfg sc = {1.0f, 1.0f, 0};
  al_rng rng;
  al_rng_seed_stream(&rng, 5, 0);
  nn_bf16 *prev = nn_bf16_use(bf);
  al_decoder *d = al_decoder_new(m);
  int got = al_generate(d, ids, (int)np, MAXGEN, &sc, &rng, al_tok_eot(tok), g.tok, on_token, &g, &err);
  al_decoder_free(d);
  nn_bf16_use(prev);
  CHECK(got == g.n && got > 0, "%s: the library generates (%d): %s", what, got, err.msg);
  al_buf text = {0};
  for (int i = 0; i < g.n; i++) {
    size_t len;
    const char *s = al_tok_token(tok, g.tok[i], &len);
    if (g.tok[i] != al_tok_eot(tok)) al_buf_append(&text, s, len);
  }
  al_buf_append(&text, "", 1);
  /* the bf16 and fp32 decoders' log-probs and logits along those tokens */
  int V = m->cfg.vocab_size;
  float *z16 = al_alloc_floats((size_t)g.n * V), *z32 = al_alloc_floats((size_t)g.n * V);
  float lp16[MAXGEN], lp32[MAXGEN];
  teacher_force(m, bf, ids, (int)np, g.tok, g.n, lp16, z16);
  teacher_force(m, NULL, ids, (int)np, g.tok, g.n, lp32, z32);

  char body[512];
  snprintf(body, sizeof body, "{\"prompt\":\"%s\",\"max_tokens\":%d,\"seed\":5,\"temperature\":1,\"logprobs\":0}", prompt,
           MAXGEN);
  json_t *j = post(port, "/v1/completions", body);
  const json_t *tl = choice_logprobs(j, "token_logprobs"), *ts = choice_logprobs(j, "tokens");
  int same = tl && ts && (int)json_array_size(tl) == g.n && (int)json_array_size(ts) == g.n;
  double dmax = 0, d32 = 0;
  for (int i = 0; same && i < g.n; i++) {
    size_t len;
    const char *s = al_tok_token(tok, g.tok[i], &len);
    json_t *want = json_stringn(s, len); /* NULL: not valid UTF-8 on its own, sent as "bytes:..." */
    const char *have = json_string_value(json_array_get(ts, (size_t)i));
    same = have && (want ? !strcmp(have, json_string_value(want)) : !strncmp(have, "bytes:", 6));
    json_decref(want);
    double v = json_number_value(json_array_get(tl, (size_t)i));
    dmax = fmax(dmax, fabs(v - lp16[i]));
    d32 = fmax(d32, fabs(v - lp32[i]));
  }
  CHECK(same && dmax <= 1e-5, "%s: the server's bf16 completion is the library's bf16 decoder's (%d tokens, log-probs "
        "within %.1e)", what, g.n, dmax);
  json_t *want_text = json_string(text.data);
  const char *have_text = json_string_value(json_object_get(json_array_get(json_object_get(j, "choices"), 0), "text"));
  if (want_text) CHECK(have_text && !strcmp(have_text, text.data), "%s: the server's text is the library's", what);
  json_decref(want_text);
  json_decref(j);

  /* not fp32's */
  double e = tensor_rel_err(z16, z32, (size_t)g.n * V);
  CHECK(d32 > 1e-4, "%s: the server's log-probs are not the fp32 decoder's (%.3e apart)", what, d32);
  CHECK(e > 1e-5 && e < 0.03, "%s: bf16 logits' relative error to fp32 %.3e (expected about 2^-8)", what, e);
  printf("%s: bf16 vs fp32 along %d sampled tokens: log-probs differ by up to %.3e, logits' relative error %.3e\n",
         what, g.n, d32, e);
  free(z16), free(z32);

  /* `alab sample --precision bf16`, same seed and prompt */
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' sample --model '%s' --prompt '%s' --tokens %d --seed 5 --precision bf16 --threads 1 "
           "2>/dev/null", getenv("ALAB_BIN"), dir, prompt, MAXGEN);
  int rc = test_sh(cmd, &out);
  size_t pl = strlen(prompt);
  CHECK(rc == 0 && out && !strncmp(out, prompt, pl) && !strncmp(out + pl, text.data, text.len - 1) &&
            !strcmp(out + pl + text.len - 1, "\n"),
        "%s: alab sample --precision bf16 prints the library's bf16 text (rc %d)", what, rc);
  free(out);
  al_buf_free(&text);
  free(ids);
}

/* echo + logprobs of prompt: the server's against the library's bf16 and fp32 */
static void check_echo(const al_model *m, const al_tok *tok, nn_bf16 *bf, int port, const char *prompt, int min_tokens,
                       const char *what) {
  al_err err;
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  CHECK(al_tok_encode_start(tok, prompt, strlen(prompt), 1, &ids, &n, &cap, &err) >= 0, "%s: %s", what, err.msg);
  CHECK((int)n >= min_tokens, "%s: the prompt is %zu tokens (the check needs %d)", what, n, min_tokens);
  float *lp16 = al_alloc_floats(n), *lp32 = al_alloc_floats(n);
  al_decoder *d = al_decoder_new(m);
  CHECK_OK(al_sequence_logprobs(d, ids, (int)n, lp32, NULL, 0, NULL, NULL, &err), err);
  nn_bf16 *prev = nn_bf16_use(bf);
  CHECK_OK(al_sequence_logprobs(d, ids, (int)n, lp16, NULL, 0, NULL, NULL, &err), err);
  nn_bf16_use(prev);
  al_decoder_free(d);
  char body[1024];
  snprintf(body, sizeof body, "{\"prompt\":\"%s\",\"max_tokens\":0,\"echo\":true,\"logprobs\":0}", prompt);
  json_t *j = post(port, "/v1/completions", body);
  const json_t *tl = choice_logprobs(j, "token_logprobs");
  int ok = tl && json_array_size(tl) == n;
  double d16 = 0, d32 = 0;
  for (size_t i = 1; ok && i < n; i++) {
    double v = json_number_value(json_array_get(tl, i));
    d16 = fmax(d16, fabs(v - lp16[i]));
    d32 = fmax(d32, fabs(v - lp32[i]));
  }
  CHECK(ok && d16 <= 1e-5 && d32 > 1e-4, "%s: echo log-probs of %zu tokens are the bf16 library's (%.1e), not fp32's "
        "(%.3e)", what, n, d16, d32);
  json_decref(j);
  free(lp16), free(lp32), free(ids);
}

static void run(const char *arch, const char *dir) {
  al_err err;
  char *mdir = al_path_join(dir, arch);
  CHECK_OK(serve_make_model_arch(mdir, arch, 2, 32, 2, 128, 1, &err), err);
  al_model m;
  al_tok *tok = NULL;
  CHECK_OK(al_model_load_dir_tok(&m, &tok, mdir, &err), err);
  char msg[256];
  nn_bf16 *bf = nn_bf16_new(m.params, m.nparams, msg, sizeof msg);
  CHECK(bf != NULL, "%s: %s", arch, msg);
  int port = 0;
  pid_t srv = start_server_precision(mdir, "bf16", &port);
  CHECK(port > 0, "%s: alab serve --precision bf16 starts", arch);
  if (bf && port > 0) {
    check_completion(mdir, &m, tok, bf, port, arch);
    char what[64];
    snprintf(what, sizeof what, "%s short echo", arch);
    check_echo(&m, tok, bf, port, "the cat sat", 2, what);
    snprintf(what, sizeof what, "%s long echo", arch);
    check_echo(&m, tok, bf, port, "Hello, world! Hello again, world. Alice is the mother of Bob.", 10, what);
  }
  if (srv > 0) kill(srv, SIGTERM), waitpid(srv, NULL, 0);
  nn_bf16_free(bf);
  al_tok_free(tok);
  al_model_free(&m);
  free(mdir);
}

/* /classify on a reward model made from the GPT-2 (alab rm train --init) */
static void run_classify(const char *dir) {
  al_err err;
  char *prefs = al_path_join(dir, "prefs.jsonl"), cmd[4096], *out = NULL;
  const char *pairs = "{\"prompt\":\"the cat\",\"chosen\":\" sat on the mat.\",\"rejected\":\" sat on the dog.\"}\n"
                      "{\"prompt\":\"Hello\",\"chosen\":\", world!\",\"rejected\":\" again.\"}\n";
  CHECK_OK(al_write_file_atomic(prefs, pairs, strlen(pairs), &err), err);
  snprintf(cmd, sizeof cmd, "'%s' rm train --data '%s' --init '%s/gpt2' --out '%s/rm' --steps 2 --seq-len 32 "
           "--val-frac 0 --threads 1 --quiet 2>&1", getenv("ALAB_BIN"), prefs, dir, dir);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "rm train --init: rc %d: %s", rc, out);
  free(out);
  char *rdir = al_path_join(dir, "rm");
  al_model m;
  al_tok *tok = NULL;
  CHECK_OK(al_model_load_dir_tok(&m, &tok, rdir, &err), err);
  if (!err.msg[0] && m.score) {
    const char *text = "the cat sat on the mat. Hello, world!";
    int32_t *ids = NULL;
    size_t n = 0, cap = 0, off[2] = {0, 0};
    CHECK(al_tok_encode_start(tok, text, strlen(text), 1, &ids, &n, &cap, &err) >= 0, "%s", err.msg); /* as /classify */
    off[1] = n;
    float r32 = NAN, r16 = NAN;
    CHECK_OK(al_rm_score_ids(&m, ids, off, 1, al_tok_eot(tok), &r32, &err), err);
    char msg[256];
    nn_bf16 *bf = nn_bf16_new(m.params, m.nparams, msg, sizeof msg);
    nn_bf16 *prev = nn_bf16_use(bf);
    CHECK_OK(al_rm_score_ids(&m, ids, off, 1, al_tok_eot(tok), &r16, &err), err);
    nn_bf16_use(prev);
    nn_bf16_free(bf);
    int port = 0;
    pid_t srv = start_server_precision(rdir, "bf16", &port);
    char body[256];
    snprintf(body, sizeof body, "{\"input\":\"%s\",\"use_activation\":false}", text);
    json_t *j = port > 0 ? post(port, "/classify", body) : NULL;
    double r = json_number_value(json_object_get(json_array_get(json_object_get(j, "data"), 0), "reward"));
    CHECK(fabs(r - r16) <= 1e-5 * fmax(1, fabs(r16)) && fabs(r16 - r32) > 1e-6 * fmax(1, fabs(r32)),
          "/classify under bf16 gives the library's bf16 reward %.7f (got %.7f; fp32 %.7f)", r16, r, r32);
    json_decref(j);
    if (srv > 0) kill(srv, SIGTERM), waitpid(srv, NULL, 0);
    free(ids);
  }
  al_tok_free(tok);
  al_model_free(&m);
  free(rdir), free(prefs);
}

int main(void) {
  al_set_threads(1);
  const char *bin = getenv("ALAB_BIN");
  char *dir = test_tmpdir("serve_bf16"), cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' serve --model '%s' --precision fp16 2>&1", bin, dir);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 2 && out && strstr(out, "--precision 'fp16'"), "--precision fp16 is a usage error naming it: rc %d: %s",
        rc, out);
  free(out);
  char why[256];
  if (nn_bf16_available(why, sizeof why)) { /* here: the refusal */
    al_err err;
    char *g = al_path_join(dir, "gpt2");
    CHECK_OK(serve_make_model_arch(g, "gpt2", 2, 32, 2, 128, 1, &err), err);
    snprintf(cmd, sizeof cmd, "'%s' serve --model '%s' --port 0 --precision bf16 2>&1", bin, g);
    rc = test_sh(cmd, &out);
    CHECK(rc == 1 && out && strstr(out, why), "without bf16 the server refuses to start saying why: rc %d: %s", rc, out);
    free(out), free(g);
  } else {
    run("gpt2", dir);
    run("llama", dir);
    run_classify(dir);
  }
  free(dir);
  return test_summary();
}
