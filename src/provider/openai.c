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
#include <unistd.h>
#include "provider/http.h"
#include "provider/provider_internal.h"

al_http_cfg al_http_cfg_default(void) {
  al_http_cfg c = {.base_url = getenv("ALAB_API_BASE"),
                   .model = getenv("ALAB_MODEL"),
                   .api_key = getenv("ALAB_API_KEY"),
                   .tokenizer = NULL,
                   .concurrency = 16,
                   .max_retries = 5,
                   .backoff_s = 0.5,
                   .max_backoff_s = 30,
                   .timeout_s = 120,
                   .cache = NULL,
                   .cache_all = 0,
                   .fail_fast = 1,
                   .chat_template = NULL};
  return c;
}

int al_provider_http_stats(const al_provider *p, al_http_stats *s) {
  if (!p || strcmp(p->kind, "http")) return -1;
  *s = ((const http_impl *)p->impl)->stats;
  return 0;
}

long al_provider_http_requests(const al_provider *p, long *retries) {
  al_http_stats s;
  if (al_provider_http_stats(p, &s)) return -1;
  if (retries) *retries = s.retries;
  return s.requests;
}

/* One request on its own; *out is the parsed answer. */
static int send_one(http_impl *H, const char *endpoint, json_t *body, json_t **out, al_err *err) {
  http_req r = {0};
  if (body) http_req_set(H, &r, endpoint, body);
  else r.endpoint = endpoint;
  int fast = H->cfg.fail_fast;
  H->cfg.fail_fast = 1;
  http_send(H, &r, 1, err);
  H->cfg.fail_fast = fast;
  if (r.failed) *err = r.err;
  *out = r.resp;
  r.resp = NULL;
  http_req_free(&r, 1);
  return *out ? 0 : -1;
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
 * context_length of the model in /v1/models; 0 when it gives neither. */
static long endpoint_context(http_impl *H) {
  if (H->context >= 0) return H->context;
  json_t *j;
  al_err e;
  H->context = 0;
  if (!send_one(H, "models", NULL, &j, &e)) {
    json_t *d = json_object_get(j, "data");
    for (size_t k = 0; k < json_array_size(d); k++) {
      json_t *m = json_array_get(d, k), *id = json_object_get(m, "id");
      json_t *v = json_object_get(m, "max_model_len");
      if (!json_is_integer(v)) v = json_object_get(m, "context_length");
      if (json_is_string(id) && !strcmp(json_string_value(id), H->model) && json_is_integer(v))
        H->context = (long)json_integer_value(v);
    }
    json_decref(j);
  }
  return H->context;
}

/* Request i's body (or r->failed): prompt + continuation as text, or as
 * token ids cut from the left to the context; *np, *nc the token counts
 * in token-id mode (-1 in text mode). */
static void score_request(http_impl *H, const al_score_req *q, int i, http_req *r, long *np, long *nc) {
  json_t *prompt;
  *np = *nc = -1;
  if (H->tok) {
    int32_t *p = NULL, *k = NULL;
    size_t pn = 0, pc = 0, kn = 0, kc = 0;
    if (al_tok_encode(H->tok, q->prompt, strlen(q->prompt), 0, &p, &pn, &pc, &r->err) < 0 ||
        al_tok_encode(H->tok, q->continuation, strlen(q->continuation), 0, &k, &kn, &kc, &r->err) < 0) {
      free(p), free(k);
      r->failed = 1;
      al_fail_prefix(&r->err, "request %d", i);
      return;
    }
    if (!pn && al_tok_eot(H->tok) >= 0) {
      p = al_realloc(p, sizeof(int32_t));
      p[0] = al_tok_eot(H->tok);
      pn = 1;
    }
    /* the local provider's rule: a prompt too long for the context loses tokens from the left */
    long ctx = endpoint_context(H), drop = ctx > 0 && (long)(pn + kn) > ctx ? (long)(pn + kn) - ctx : 0;
    if (drop >= (long)pn) {
      free(p), free(k);
      r->failed = 1;
      al_fail(&r->err, "request %d: continuation of %zu tokens does not fit the endpoint's context of %ld", i, kn, ctx);
      return;
    }
    memmove(p, p + drop, (pn - (size_t)drop) * sizeof *p);
    pn -= (size_t)drop;
    prompt = ids_json(p, pn, k, kn);
    *np = (long)pn, *nc = (long)kn;
    free(p), free(k);
  } else {
    size_t pl = strlen(q->prompt), cl = strlen(q->continuation);
    char *full = al_malloc(pl + cl + 1);
    memcpy(full, q->prompt, pl);
    memcpy(full + pl, q->continuation, cl + 1);
    prompt = json_string(full);
    free(full);
    if (!prompt) {
      r->failed = 1;
      al_fail(&r->err, "request %d: text is not valid UTF-8", i);
      return;
    }
  }
  http_req_set(H, r, "completions",
               json_pack("{s:s, s:o, s:i, s:b, s:i, s:f}", "model", H->model, "prompt", prompt, "max_tokens", 0, "echo",
                         1, "logprobs", 1, "temperature", 0.0));
}

/* A failed request: -1 with err under fail-fast, else its error recorded
 * in *slot (fresh) and 0. */
static int record_failure(const http_impl *H, const al_err *e, char **slot, al_err *err) {
  if (H->cfg.fail_fast) {
    *err = *e;
    return -1;
  }
  *slot = al_strdup(e->msg);
  return 0;
}

static int http_score(al_provider *p, const al_score_req *reqs, int n, al_score_res *out, al_err *err) {
  http_impl *H = p->impl;
  memset(out, 0, (size_t)n * sizeof *out);
  http_req *r = al_calloc((size_t)n, sizeof *r);
  long *np = al_malloc(2 * (size_t)n * sizeof *np), *nc = np + n;
  for (int i = 0; i < n; i++) {
    const al_score_req *q = &reqs[i];
    if (!q->prompt || !q->continuation) r[i].failed = 1, al_fail(&r[i].err, "request %d: prompt or continuation missing", i);
    else if (!q->continuation[0]) r[i].resp = json_object(); /* log p = 0: nothing to send */
    else score_request(H, q, i, &r[i], &np[i], &nc[i]);
    if (r[i].failed && H->cfg.fail_fast) {
      *err = r[i].err;
      goto fail;
    }
  }
  if (http_send(H, r, n, err)) goto fail;
  for (int i = 0; i < n; i++) {
    al_err e;
    if (!r[i].failed && !reqs[i].continuation[0]) {
      out[i].token_lp = al_malloc(sizeof(float));
      out[i].is_greedy = 1;
      continue;
    }
    if (r[i].failed) e = r[i].err;
    if (r[i].failed || parse_score(H, r[i].resp, i, &reqs[i], np[i], nc[i], &out[i], &e)) {
      if (strncmp(e.msg, "request ", 8)) al_fail_prefix(&e, "request %d", i);
      if (record_failure(H, &e, &out[i].error, err)) goto fail;
    }
  }
  http_req_free(r, n);
  free(r), free(np);
  return 0;
fail:
  al_score_res_free(out, n);
  http_req_free(r, n);
  free(r), free(np);
  return -1;
}

/* ---- generation and chat ---- */
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

/* Request i's body: a completion, a chat, or a prefilled chat rendered
 * through the endpoint's template as a completion. */
static void gen_request(http_impl *H, const al_provider *p, const al_gen_req *q, int i, http_req *r) {
  json_t *body = gen_body(H, &q->g);
  const char *endpoint = "completions";
  json_t *text = NULL;
  if (q->msgs && q->prefill && q->prefill[0]) {
    if (!H->cfg.chat_template) {
      json_decref(body);
      r->failed = 1;
      al_fail(&r->err, "request %d: an assistant prefill cannot be sent as a chat (/v1/chat/completions has no partial "
                       "assistant turn) and the endpoint's chat template is unknown, so it cannot go to /v1/completions "
                       "either; give --api-chat-template alab (alab serve's) or the template's Jinja file, or drop the "
                       "prefill", i);
      return;
    }
    const char *chat_stop;
    char *t = prov_chat_prompt(p, q->msgs, q->nmsgs, q->prefill, &chat_stop);
    text = json_string(t);
    free(t);
    json_t *st = json_object_get(body, "stop");
    if (!st) json_object_set_new(body, "stop", st = json_array());
    json_array_append_new(st, json_string(chat_stop));
  } else if (q->msgs) {
    json_t *m = json_array();
    for (int k = 0; k < q->nmsgs; k++) {
      json_t *c = json_string(q->msgs[k].content ? q->msgs[k].content : "");
      if (!c) {
        json_decref(m), json_decref(body);
        r->failed = 1;
        al_fail(&r->err, "request %d: message %d is not valid UTF-8", i, k);
        return;
      }
      json_array_append_new(m, json_pack("{s:s, s:o}", "role", q->msgs[k].role ? q->msgs[k].role : "user", "content", c));
    }
    json_object_set_new(body, "messages", m);
    endpoint = "chat/completions";
  } else text = json_string(q->prompt ? q->prompt : "");
  if (q->top_logprobs > 0 && q->msgs && !(q->prefill && q->prefill[0]))
    json_object_set_new(body, "logprobs", json_true()), json_object_set_new(body, "top_logprobs", json_integer(q->top_logprobs));
  else if (q->top_logprobs > 0) json_object_set_new(body, "logprobs", json_integer(q->top_logprobs));
  if (!q->msgs || (q->prefill && q->prefill[0])) {
    if (!text) {
      json_decref(body);
      r->failed = 1;
      al_fail(&r->err, "prompt %d is not valid UTF-8", i);
      return;
    }
    json_object_set_new(body, "prompt", text);
  }
  http_req_set(H, r, endpoint, body);
}

/* The first generated token's top log-probs: chat's
 * logprobs.content[0].top_logprobs [{token, logprob}], or completions'
 * logprobs.top_logprobs[0] {token: logprob}; what is missing is left out. */
static void first_top(const json_t *ch, int chat, const al_gen_req *q, al_top_lp *out, int *nout) {
  const json_t *lp = json_object_get(ch, "logprobs");
  *nout = 0;
  if (chat) {
    const json_t *top = json_object_get(json_array_get(json_object_get(lp, "content"), 0), "top_logprobs");
    for (size_t k = 0; k < json_array_size(top) && *nout < q->top_logprobs; k++) {
      const json_t *e = json_array_get(top, k), *tk = json_object_get(e, "token"), *v = json_object_get(e, "logprob");
      if (!json_is_string(tk) || !json_is_number(v)) continue;
      snprintf(out[*nout].token, sizeof out->token, "%s", json_string_value(tk));
      out[(*nout)++].logprob = json_number_value(v);
    }
  } else {
    const char *key;
    const json_t *v;
    json_object_foreach(json_array_get(json_object_get(lp, "top_logprobs"), 0), key, v) {
      if (*nout >= q->top_logprobs || !json_is_number(v)) continue;
      snprintf(out[*nout].token, sizeof out->token, "%s", key);
      out[(*nout)++].logprob = json_number_value(v);
    }
  }
}

/* The reply's text (stops applied), or -1 with e. */
static int gen_reply(const al_provider *p, const json_t *resp, const al_gen_req *q, int i, char **out, al_err *e) {
  char where[64];
  snprintf(where, sizeof where, "request %d", i);
  int chat = q->msgs && !(q->prefill && q->prefill[0]);
  const json_t *ch = first_choice(resp, where, e), *t = NULL;
  if (!ch) return -1;
  t = chat ? json_object_get(json_object_get(ch, "message"), "content") : json_object_get(ch, "text");
  if (!json_is_string(t)) return al_fail(e, "%s: response has no %s", where, chat ? "message.content" : "text");
  if (q->top_logprobs > 0 && q->top_out && q->ntop_out) first_top(ch, chat, q, q->top_out, q->ntop_out);
  const char *s = json_string_value(t);
  size_t keep = prov_stop_at(s, strlen(s), q->g.stop, q->g.nstop);
  if (!chat && q->msgs && p->chat_template.stop)
    keep = prov_stop_at(s, keep, (const char *const[]){p->chat_template.stop}, 1);
  *out = al_malloc(keep + 1);
  memcpy(*out, s, keep);
  (*out)[keep] = 0;
  return 0;
}

static int http_complete(al_provider *p, const al_gen_req *reqs, int n, char **outs, char **errs, al_err *err) {
  http_impl *H = p->impl;
  memset(outs, 0, (size_t)n * sizeof *outs);
  memset(errs, 0, (size_t)n * sizeof *errs);
  http_req *r = al_calloc((size_t)n, sizeof *r);
  int rc = 0;
  for (int i = 0; i < n && !rc; i++) {
    gen_request(H, p, &reqs[i], i, &r[i]);
    if (r[i].failed && H->cfg.fail_fast) *err = r[i].err, rc = -1;
  }
  if (!rc) rc = http_send(H, r, n, err);
  for (int i = 0; i < n && !rc; i++) {
    al_err e;
    if (r[i].failed) e = r[i].err;
    if (r[i].failed || gen_reply(p, r[i].resp, &reqs[i], i, &outs[i], &e)) {
      if (strncmp(e.msg, "request ", 8)) al_fail_prefix(&e, "request %d", i);
      rc = record_failure(H, &e, &errs[i], err);
    }
  }
  if (rc)
    for (int i = 0; i < n; i++) free(outs[i]), free(errs[i]), outs[i] = errs[i] = NULL;
  http_req_free(r, n);
  free(r);
  return rc;
}

/* generate and chat: batches of one settings, failing at the first failure */
static int complete_all(al_provider *p, al_gen_req *q, int n, char **outs, al_err *err) {
  char **errs = al_calloc((size_t)n, sizeof *errs);
  int rc = http_complete(p, q, n, outs, errs, err);
  for (int i = 0; i < n; i++) {
    if (errs[i] && !rc) al_fail(err, "%s", errs[i]), rc = -1;
    free(errs[i]);
  }
  if (rc)
    for (int i = 0; i < n; i++) free(outs[i]), outs[i] = NULL;
  free(errs);
  return rc;
}

static int http_generate(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g, char **outs,
                         al_err *err) {
  al_gen_req *q = al_calloc((size_t)(n > 0 ? n : 1), sizeof *q);
  for (int i = 0; i < n; i++) q[i].prompt = prompts[i], q[i].g = *g;
  int rc = complete_all(p, q, n, outs, err);
  free(q);
  return rc;
}

static int http_chat(al_provider *p, const al_chat_msg *msgs, int n, const al_gen_cfg *g, char **out, al_err *err) {
  al_gen_req q = {.msgs = msgs, .nmsgs = n, .g = *g};
  return complete_all(p, &q, 1, out, err);
}

static void http_destroy(al_provider *p) {
  http_impl *H = p->impl;
  free(H->base);
  free(H->model);
  if (H->key) memset(H->key, 0, strlen(H->key));
  free(H->key);
  if (H->own_tok) al_tok_free(H->own_tok);
  prov_cache_close(H->cache);
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
  H->jitter = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(al_now() * 1e9);
  if (H->cfg.max_backoff_s <= 0) H->cfg.max_backoff_s = 30;
  if (cfg->cache && cfg->cache[0] && strcmp(cfg->cache, "off") && prov_cache_open(&H->cache, cfg->cache, err)) {
    free(H->base), free(H->model), free(H);
    return al_fail_prefix(err, "--cache");
  }
  H->key = cfg->api_key ? al_strdup(cfg->api_key) : NULL;
  H->cfg.base_url = H->cfg.model = H->cfg.api_key = H->cfg.cache = NULL;
  H->cfg.chat_template = NULL; /* set below once the provider's template is read */
  if (cfg->tokenizer) {
    if (al_tok_load(&H->own_tok, cfg->tokenizer, err)) {
      prov_cache_close(H->cache);
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
  p->complete = http_complete;
  /* the endpoint's chat template (for a prefill): alab serve's, or a Jinja file */
  if (cfg->chat_template && strcmp(cfg->chat_template, "alab")) {
    al_chat_template_free(&p->chat_template);
    if (al_chat_template_load_file(&p->chat_template, cfg->chat_template, err)) {
      al_chat_template_default(&p->chat_template);
      al_provider_free(p);
      return al_fail_prefix(err, "--api-chat-template");
    }
  }
  if (cfg->chat_template) H->cfg.chat_template = "set";
  p->destroy = http_destroy;
  *out = p;
  return 0;
}
