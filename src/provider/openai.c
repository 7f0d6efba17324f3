/* The OpenAI-compatible provider (llama.cpp's server, vLLM, Ollama, hosted
 * APIs, `alab serve`).
 *
 * Scoring sends what lm-evaluation-harness sends to /v1/completions:
 *   {"model", "prompt": prompt + continuation (text) or its token ids,
 *    "max_tokens": 0, "echo": true, "logprobs": 1, "temperature": 0}
 * and reads choices[0].logprobs {tokens, token_logprobs, text_offset,
 * top_logprobs}. Text mode: the continuation's tokens are those whose
 * text_offset (code points) lies in [len(prompt), len(prompt+continuation));
 * one must start exactly at len(prompt) (else a token straddles the boundary
 * and the request fails: use token-id mode). Token-id mode: they are the
 * positions np .. np+nc-1 of the echoed prompt, and a prompt too long for the
 * endpoint's context (max_model_len in /v1/models) loses tokens from the
 * left, as the local provider's does. A token is greedy when its
 * log-prob equals the best of top_logprobs (is_greedy = -1 when the endpoint
 * gives no top_logprobs). An endpoint that returns no prompt log-probs gets a
 * clear error, never a score.
 * Generation: /v1/completions {prompt, max_tokens, temperature, top_p, seed,
 * stop}; chat: /v1/chat/completions {messages, ...}. Stop strings are also
 * applied here, in case a server ignores them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "provider/http.h"
#include "provider/provider_internal.h"

al_http_cfg al_http_cfg_default(void) {
  al_http_cfg c = {.base_url = getenv("ALAB_API_BASE"),
                   .model = getenv("ALAB_MODEL"),
                   .api_key = getenv("ALAB_API_KEY"),
                   .tokenizer = NULL,
                   .concurrency = 4,
                   .max_retries = 5,
                   .backoff_s = 0.5,
                   .timeout_s = 120};
  return c;
}

long al_provider_http_requests(const al_provider *p, long *retries) {
  if (!p || strcmp(p->kind, "http")) return -1;
  const http_impl *H = p->impl;
  if (retries) *retries = __atomic_load_n(&H->retries, __ATOMIC_RELAXED);
  return __atomic_load_n(&H->requests, __ATOMIC_RELAXED);
}

static char *dump(json_t *body) {
  char *s = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(body);
  return s;
}

/* POST + parse; *out is the parsed response. */
static int call(http_impl *H, CURL *curl, const char *endpoint, json_t *body, json_t **out, al_err *err) {
  char *b = dump(body), *resp = NULL;
  int rc = http_post(H, curl, endpoint, b, &resp, err);
  free(b);
  if (rc) return -1;
  json_error_t je;
  *out = json_loads(resp, 0, &je);
  free(resp);
  if (!*out) return al_fail(err, "%s/%s: response is not JSON (line %d: %s)", H->base, endpoint, je.line, je.text);
  return 0;
}

static const json_t *first_choice(const json_t *r, const char *where, al_err *err) {
  const json_t *ch = json_object_get(r, "choices");
  if (!json_is_array(ch) || !json_array_size(ch)) {
    al_fail(err, "%s: response has no 'choices'", where);
    return NULL;
  }
  return json_array_get(ch, 0);
}

/* ---- scoring ---- */
typedef struct {
  http_impl *H;
  const al_score_req *reqs;
  al_score_res *out;
} score_ctx;

static int no_prompt_logprobs(al_err *err, const http_impl *H, int i, const char *why) {
  return al_fail(err,
                 "request %d: the endpoint %s (model '%s') returned no prompt log-probs (%s); scoring needs an "
                 "OpenAI-compatible /v1/completions that supports echo=true with logprobs (e.g. vLLM); use a "
                 "generation task instead, or another server",
                 i, H->base, H->model, why);
}

static int parse_score(const http_impl *H, const json_t *r, int i, const al_score_req *q, long np_tok, long nc_tok,
                       al_score_res *res, al_err *err) {
  char where[64];
  snprintf(where, sizeof where, "request %d", i);
  const json_t *c = first_choice(r, where, err);
  if (!c) return -1;
  const json_t *lp = json_object_get(c, "logprobs");
  if (!json_is_object(lp)) return no_prompt_logprobs(err, H, i, "'logprobs' is missing or null");
  const json_t *tl = json_object_get(lp, "token_logprobs"), *off = json_object_get(lp, "text_offset");
  const json_t *top = json_object_get(lp, "top_logprobs");
  if (!json_is_array(tl) || !json_array_size(tl)) return no_prompt_logprobs(err, H, i, "no 'token_logprobs'");
  long ntok = (long)json_array_size(tl), a, b;
  if (np_tok >= 0) { /* token-id mode */
    if (ntok < np_tok + nc_tok)
      return no_prompt_logprobs(err, H, i, "fewer token log-probs than prompt tokens: echo ignored?");
    a = np_tok, b = np_tok + nc_tok;
  } else {
    if (!json_is_array(off) || (long)json_array_size(off) != ntok)
      return no_prompt_logprobs(err, H, i, "'text_offset' missing or of the wrong length");
    size_t pl = strlen(q->prompt), cl = strlen(q->continuation);
    long plen = prov_utf8_count(q->prompt, pl), flen = plen + prov_utf8_count(q->continuation, cl);
    if (json_integer_value(json_array_get(off, 0)) != 0)
      return no_prompt_logprobs(err, H, i, "the first token is not at offset 0: echo ignored?");
    a = 0;
    while (a < ntok && json_integer_value(json_array_get(off, (size_t)a)) < plen) a++;
    b = a;
    while (b < ntok && json_integer_value(json_array_get(off, (size_t)b)) < flen) b++;
    /* no token starts at the prompt's end: one straddles it (it may hold the whole continuation) */
    if (a == ntok || json_integer_value(json_array_get(off, (size_t)a)) != plen)
      return al_fail(err,
                     "request %d: the server's tokens straddle the prompt/continuation boundary (no token starts at "
                     "character %ld), so the continuation's log-prob is not defined; use token-id mode "
                     "(--api-tokenizer DIR)",
                     i, plen);
  }
  if (a == 0) return al_fail(err, "request %d: the continuation starts the text; give a non-empty prompt", i);
  res->ntokens = (int)(b - a);
  res->token_lp = al_malloc((size_t)(b - a) * sizeof(float));
  res->logprob = 0;
  res->is_greedy = json_is_array(top) ? 1 : -1;
  for (long k = a; k < b; k++) {
    const json_t *v = json_array_get(tl, (size_t)k);
    if (!json_is_number(v)) {
      free(res->token_lp);
      res->token_lp = NULL;
      return no_prompt_logprobs(err, H, i, "a prompt token's log-prob is null");
    }
    double x = json_number_value(v);
    res->token_lp[k - a] = (float)x;
    res->logprob += (float)x;
    const json_t *t = json_is_array(top) ? json_array_get(top, (size_t)k) : NULL;
    if (json_is_object(t) && json_object_size(t)) {
      double best = -INFINITY;
      const char *key;
      const json_t *val;
      json_object_foreach((json_t *)t, key, val) if (json_is_number(val)) best = fmax(best, json_number_value(val));
      if (x < best - 1e-6 * fmax(1.0, fabs(best))) res->is_greedy = 0;
    } else if (res->is_greedy == 1) res->is_greedy = -1;
  }
  return 0;
}

static json_t *ids_json(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
  json_t *arr = json_array();
  for (size_t i = 0; i < na; i++) json_array_append_new(arr, json_integer(a[i]));
  for (size_t i = 0; i < nb; i++) json_array_append_new(arr, json_integer(b[i]));
  return arr;
}

/* The endpoint's context in tokens: max_model_len (vLLM, alab serve) or
 * context_length of the model in /v1/models; 0 when it gives neither.
 * Asked once (concurrent first askers may both ask: the answer is the same). */
static long endpoint_context(http_impl *H, CURL *curl) {
  long c = __atomic_load_n(&H->context, __ATOMIC_RELAXED);
  if (c >= 0) return c;
  char *resp = NULL;
  al_err e;
  c = 0;
  if (!http_post(H, curl, "models", NULL, &resp, &e)) {
    json_t *j = json_loads(resp, 0, NULL), *d = json_object_get(j, "data");
    for (size_t k = 0; k < json_array_size(d); k++) {
      json_t *m = json_array_get(d, k), *id = json_object_get(m, "id");
      json_t *v = json_object_get(m, "max_model_len");
      if (!json_is_integer(v)) v = json_object_get(m, "context_length");
      if (json_is_string(id) && !strcmp(json_string_value(id), H->model) && json_is_integer(v)) c = (long)json_integer_value(v);
    }
    json_decref(j);
  }
  free(resp);
  __atomic_store_n(&H->context, c, __ATOMIC_RELAXED);
  return c;
}

static int score_job(void *vctx, int i, CURL *curl, al_err *err) {
  score_ctx *c = vctx;
  http_impl *H = c->H;
  const al_score_req *q = &c->reqs[i];
  if (!q->prompt || !q->continuation) return al_fail(err, "request %d: prompt or continuation missing", i);
  if (!q->continuation[0]) {
    c->out[i].token_lp = al_malloc(sizeof(float));
    c->out[i].is_greedy = 1;
    return 0;
  }
  json_t *prompt;
  long np = -1, nc = -1;
  if (H->tok) {
    int32_t *p = NULL, *k = NULL;
    size_t pn = 0, pc = 0, kn = 0, kc = 0;
    if (al_tok_encode(H->tok, q->prompt, strlen(q->prompt), 0, &p, &pn, &pc, err) < 0 ||
        al_tok_encode(H->tok, q->continuation, strlen(q->continuation), 0, &k, &kn, &kc, err) < 0) {
      free(p), free(k);
      return al_fail_prefix(err, "request %d", i);
    }
    if (!pn && al_tok_eot(H->tok) >= 0) {
      p = al_realloc(p, sizeof(int32_t));
      p[0] = al_tok_eot(H->tok);
      pn = 1;
    }
    /* the local provider's rule: a prompt too long for the context loses tokens from the left */
    long ctx = endpoint_context(H, curl), drop = ctx > 0 && (long)(pn + kn) > ctx ? (long)(pn + kn) - ctx : 0;
    if (drop >= (long)pn) {
      free(p), free(k);
      return al_fail(err, "request %d: continuation of %zu tokens does not fit the endpoint's context of %ld", i, kn, ctx);
    }
    memmove(p, p + drop, (pn - (size_t)drop) * sizeof *p);
    pn -= (size_t)drop;
    prompt = ids_json(p, pn, k, kn);
    np = (long)pn, nc = (long)kn;
    free(p), free(k);
  } else {
    size_t pl = strlen(q->prompt), cl = strlen(q->continuation);
    char *full = al_malloc(pl + cl + 1);
    memcpy(full, q->prompt, pl);
    memcpy(full + pl, q->continuation, cl + 1);
    prompt = json_string(full);
    free(full);
    if (!prompt) return al_fail(err, "request %d: text is not valid UTF-8", i);
  }
  json_t *body = json_pack("{s:s, s:o, s:i, s:b, s:i, s:f}", "model", H->model, "prompt", prompt, "max_tokens", 0,
                           "echo", 1, "logprobs", 1, "temperature", 0.0);
  json_t *r;
  if (call(H, curl, "completions", body, &r, err)) return al_fail_prefix(err, "request %d", i);
  int rc = parse_score(H, r, i, q, np, nc, &c->out[i], err);
  json_decref(r);
  return rc;
}

static int http_score(al_provider *p, const al_score_req *reqs, int n, al_score_res *out, al_err *err) {
  memset(out, 0, (size_t)n * sizeof *out);
  score_ctx c = {.H = p->impl, .reqs = reqs, .out = out};
  if (http_run(p->impl, n, score_job, &c, err)) {
    al_score_res_free(out, n);
    return -1;
  }
  return 0;
}

/* ---- generation and chat ---- */
typedef struct {
  http_impl *H;
  const char *const *prompts;
  const al_chat_msg *msgs;
  int nmsgs;
  const al_gen_cfg *g;
  char **outs;
} gen_ctx;

static json_t *gen_body(const http_impl *H, const al_gen_cfg *g) {
  json_t *b = json_pack("{s:s, s:i, s:f, s:f, s:I}", "model", H->model, "max_tokens", g->max_tokens, "temperature",
                        g->temperature, "top_p", g->top_p, "seed", (json_int_t)g->seed);
  if (g->nstop) {
    json_t *s = json_array();
    for (int k = 0; k < g->nstop; k++) json_array_append_new(s, json_string(g->stop[k]));
    json_object_set_new(b, "stop", s);
  }
  return b;
}

static int gen_job(void *vctx, int i, CURL *curl, al_err *err) {
  gen_ctx *c = vctx;
  json_t *body = gen_body(c->H, c->g), *r;
  const char *endpoint = c->msgs ? "chat/completions" : "completions";
  if (c->msgs) {
    json_t *m = json_array();
    for (int k = 0; k < c->nmsgs; k++)
      json_array_append_new(m, json_pack("{s:s, s:s}", "role", c->msgs[k].role ? c->msgs[k].role : "user", "content",
                                         c->msgs[k].content ? c->msgs[k].content : ""));
    json_object_set_new(body, "messages", m);
  } else {
    json_t *s = json_string(c->prompts[i]);
    if (!s) {
      json_decref(body);
      return al_fail(err, "prompt %d is not valid UTF-8", i);
    }
    json_object_set_new(body, "prompt", s);
  }
  if (call(c->H, curl, endpoint, body, &r, err)) return al_fail_prefix(err, "prompt %d", i);
  char where[64];
  snprintf(where, sizeof where, "prompt %d", i);
  const json_t *ch = first_choice(r, where, err), *t = NULL;
  if (ch) t = c->msgs ? json_object_get(json_object_get(ch, "message"), "content") : json_object_get(ch, "text");
  if (ch && !json_is_string(t)) al_fail(err, "%s: response has no %s", where, c->msgs ? "message.content" : "text");
  if (!json_is_string(t)) {
    json_decref(r);
    return -1;
  }
  const char *s = json_string_value(t);
  size_t keep = prov_stop_at(s, strlen(s), c->g->stop, c->g->nstop);
  c->outs[i] = al_malloc(keep + 1);
  memcpy(c->outs[i], s, keep);
  c->outs[i][keep] = 0;
  json_decref(r);
  return 0;
}

static int run_gen(gen_ctx *c, int n, al_err *err) {
  memset(c->outs, 0, (size_t)n * sizeof *c->outs);
  if (http_run(c->H, n, gen_job, c, err)) {
    for (int i = 0; i < n; i++) free(c->outs[i]), c->outs[i] = NULL;
    return -1;
  }
  return 0;
}

static int http_generate(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g, char **outs,
                         al_err *err) {
  gen_ctx c = {.H = p->impl, .prompts = prompts, .g = g, .outs = outs};
  return run_gen(&c, n, err);
}

static int http_chat(al_provider *p, const al_chat_msg *msgs, int n, const al_gen_cfg *g, char **out, al_err *err) {
  gen_ctx c = {.H = p->impl, .msgs = msgs, .nmsgs = n, .g = g, .outs = out};
  return run_gen(&c, 1, err);
}

static void http_destroy(al_provider *p) {
  http_impl *H = p->impl;
  free(H->base);
  free(H->model);
  if (H->key) memset(H->key, 0, strlen(H->key));
  free(H->key);
  if (H->own_tok) al_tok_free(H->own_tok);
  free(H);
}

int al_provider_http(al_provider **out, const al_http_cfg *cfg, al_err *err) {
  if (!cfg->base_url || !cfg->base_url[0])
    return al_fail(err, "no endpoint: pass --api-base URL or set ALAB_API_BASE (e.g. http://127.0.0.1:8080/v1)");
  if (!cfg->model || !cfg->model[0]) return al_fail(err, "no model name: pass --api-model NAME or set ALAB_MODEL");
  if (strncmp(cfg->base_url, "http://", 7) && strncmp(cfg->base_url, "https://", 8))
    return al_fail(err, "--api-base must start with http:// or https:// (got '%.60s')", cfg->base_url);
  http_impl *H = al_calloc(1, sizeof *H);
  H->cfg = *cfg;
  /* base ends in /v1: endpoints are appended ("completions"); else "/v1" is added */
  size_t l = strlen(cfg->base_url);
  while (l && cfg->base_url[l - 1] == '/') l--;
  H->base = al_malloc(l + 4);
  memcpy(H->base, cfg->base_url, l);
  H->base[l] = 0;
  if (l < 3 || strcmp(H->base + l - 3, "/v1")) strcat(H->base, "/v1");
  H->model = al_strdup(cfg->model);
  H->context = -1;
  H->key = cfg->api_key ? al_strdup(cfg->api_key) : NULL;
  H->cfg.base_url = H->cfg.model = H->cfg.api_key = NULL;
  if (cfg->tokenizer) {
    if (al_tok_load(&H->own_tok, cfg->tokenizer, err)) {
      free(H->base), free(H->model), free(H->key), free(H);
      return al_fail_prefix(err, "--api-tokenizer");
    }
    H->tok = H->own_tok;
  }
  al_provider *p = prov_new("http", cfg->model);
  p->impl = H;
  p->score = http_score;
  p->generate = http_generate;
  p->chat = http_chat;
  p->destroy = http_destroy;
  *out = p;
  return 0;
}
