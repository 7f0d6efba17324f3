/* Providers: one interface to "a language model", whether alab's own engine
 * (a model directory) or any OpenAI-compatible endpoint over HTTP.
 *
 * Three operations:
 *   score    log p(continuation | prompt): the sum, per-token values, and
 *            whether every continuation token is the greedy (argmax) choice;
 *            batched over a list of requests.
 *   generate text after a prompt, with sampling settings and stop strings.
 *   chat     a list of {role, content} messages -> the assistant's reply.
 *
 * Tokenisation rule (both providers, so their scores agree): the prompt and
 * the continuation are encoded separately and concatenated, as the Inverse
 * Scaling Prize and lm-evaluation-harness do with token ids. An HTTP endpoint
 * in text mode tokenises prompt+continuation itself; the continuation's
 * tokens are then the ones whose text_offset (in Unicode code points, as the
 * OpenAI API reports it) is >= the prompt's length. If no token starts
 * exactly at the prompt's end (a token straddles the boundary), the score
 * would mix prompt and continuation, so scoring fails with an error that
 * names the request and suggests token-id mode (--api-tokenizer DIR). */
#ifndef ALAB_PROVIDER_H
#define ALAB_PROVIDER_H
#include <stdint.h>
#include "alab/base.h"
#include "alab/chat_template.h"
#include "alab/model.h"
#include "alab/tok.h"

typedef struct {
  const char *prompt;       /* context text */
  const char *continuation; /* the text scored after it */
} al_score_req;

typedef struct {
  double logprob;   /* sum over the continuation's tokens (natural log) */
  int ntokens;      /* continuation tokens */
  float *token_lp;  /* ntokens per-token log-probs (owned; al_score_res_free) */
  int is_greedy;    /* 1 when every continuation token is the argmax choice */
  int truncated;    /* prompt tokens dropped from the left to fit the context (local provider; 0 over HTTP) */
  uint64_t prompt_key; /* FNV-1a of the prompt tokens actually scored after (local provider; 0 over HTTP) */
  char *error;         /* non-NULL: this request failed (HTTP without fail-fast) and why; the rest is unset */
} al_score_res;
void al_score_res_free(al_score_res *r, int n);

typedef struct {
  int max_tokens;     /* new tokens at most */
  double temperature; /* 0 = greedy */
  double top_p;       /* 1 = off */
  int top_k;          /* 0 = off (local provider only) */
  uint64_t seed;
  const char *const *stop; /* stop strings: output ends before the first one */
  int nstop;
} al_gen_cfg;
al_gen_cfg al_gen_cfg_default(void); /* 64 tokens, greedy, no stops, seed 0 */

/* al_chat_msg {role, content}: alab/chat_template.h */

/* One generation of a batch: a completion of `prompt`, or (msgs non-NULL) a
 * chat reply to msgs[0..nmsgs), optionally continuing the assistant's partial
 * turn `prefill` (the reply returned excludes it). */
typedef struct { char token[32]; double logprob; } al_top_lp;
typedef struct {
  const char *prompt;
  const al_chat_msg *msgs;
  int nmsgs;
  const char *prefill;
  al_gen_cfg g;
  /* top_logprobs > 0 (HTTP): also ask for the first generated token's top
   * log-probs (chat: logprobs + top_logprobs; completions: logprobs); they
   * go to top_out[0..*ntop_out), at most top_logprobs of them (0 when the
   * endpoint gives none) */
  int top_logprobs;
  al_top_lp *top_out;
  int *ntop_out;
} al_gen_req;

typedef struct al_provider al_provider;
struct al_provider {
  const char *kind;  /* "local" or "http" */
  char *model;       /* the model's name (directory or endpoint model name) */
  long long nparams; /* parameter count when known, else -1 */
  al_chat_template chat_template; /* how the model reads a chat: a local model's own; else alab's default (alab serve's) */
  /* out[0..n) are filled (free with al_score_res_free) on success. */
  int (*score)(al_provider *p, const al_score_req *reqs, int n, al_score_res *out, al_err *err);
  /* outs[0..n) get fresh strings: the text after each prompt, stop excluded. */
  int (*generate)(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g, char **outs, al_err *err);
  int (*chat)(al_provider *p, const al_chat_msg *msgs, int n, const al_gen_cfg *g, char **out, al_err *err);
  /* n independent generations (concurrent over HTTP), outs[i] in input order.
   * A request that fails gets outs[i] = NULL and errs[i] (fresh) saying why,
   * and the call still returns 0, unless the provider stops at the first
   * failure (local; HTTP with fail_fast): -1 and err. */
  int (*complete)(al_provider *p, const al_gen_req *reqs, int n, char **outs, char **errs, al_err *err);
  void (*destroy)(al_provider *p);
  void *impl;
};
void al_provider_free(al_provider *p);

/* ---- the local engine ---- */
typedef struct {
  int threads;     /* examples scored in parallel, one decoder each (0 = all cores) */
  int reuse_cache; /* 1: a prompt's forward pass is shared by its continuations
                      (the KV cache is truncated back to the prompt); 0: the
                      naive path, one full forward per continuation */
} al_local_cfg;
al_local_cfg al_local_cfg_default(void);
/* Loads model.safetensors + config.json + tokenizer files from dir. */
int al_provider_local(al_provider **out, const char *dir, const al_local_cfg *cfg, al_err *err);
/* Wraps an already loaded model and tokenizer (borrowed, not freed). */
int al_provider_local_wrap(al_provider **out, const al_model *model, const al_tok *tok, const char *name,
                           const al_local_cfg *cfg, al_err *err);

/* ---- an OpenAI-compatible endpoint ---- */
typedef struct {
  const char *base_url;  /* e.g. http://127.0.0.1:8080/v1 (env ALAB_API_BASE) */
  const char *model;     /* model name sent in requests (env ALAB_MODEL) */
  const char *api_key;   /* Bearer token (env ALAB_API_KEY); never logged or saved */
  const char *tokenizer; /* directory of a tokenizer matching the server's: if
                            set, scoring sends token ids instead of text */
  int concurrency;       /* requests in flight at once (libcurl multi) */
  int max_retries;       /* retries on 429, 5xx, transport errors and non-JSON answers */
  double backoff_s;      /* first retry delay; doubles each retry, with jitter */
  double max_backoff_s;  /* the longest delay between tries (Retry-After may ask for more) */
  double timeout_s;      /* per request */
  const char *cache;     /* SQLite response cache file; NULL or "off": none */
  int cache_all;         /* also cache non-deterministic requests (temperature > 0 without a seed) */
  int fail_fast;         /* stop at the first failed request instead of recording it and going on */
  const char *chat_template; /* how the endpoint renders chat, for an assistant prefill sent to
                                /v1/completions: "alab" (alab serve's), a Jinja file, or NULL: unknown
                                (a prefill is then an error) */
} al_http_cfg;
al_http_cfg al_http_cfg_default(void); /* reads the environment variables */
int al_provider_http(al_provider **out, const al_http_cfg *cfg, al_err *err);

/* What an HTTP provider did so far (results.json's accounting). */
typedef struct {
  long requests;   /* HTTP requests sent, retries included */
  long retries;    /* of those, retries */
  long failures;   /* requests given up on (a 4xx, or retries used up) */
  long cache_hits; /* requests answered by the cache, nothing sent */
  long long prompt_tokens, completion_tokens; /* from the answers' usage */
} al_http_stats;
/* 0 and *s for an HTTP provider; -1 for other providers. */
int al_provider_http_stats(const al_provider *p, al_http_stats *s);
/* Requests sent and retries made by an HTTP provider so far (for tests and
 * logs); -1 for other providers. */
long al_provider_http_requests(const al_provider *p, long *retries);

#endif
