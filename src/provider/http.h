/* HTTP transport for the OpenAI-compatible provider: JSON POSTs with
 * timeouts, retries with exponential backoff, and a pool of workers. */
#ifndef ALAB_PROVIDER_HTTP_H
#define ALAB_PROVIDER_HTTP_H
#include <curl/curl.h>
#include <jansson.h>
#include "alab/provider.h"

typedef struct {
  al_http_cfg cfg;    /* strings below are owned copies */
  char *base, *model, *key;
  long requests, retries; /* updated atomically */
  long context;           /* the endpoint's context from /v1/models: -1 not asked yet, 0 not given */
  const al_tok *tok;  /* token-id mode when non-NULL */
  al_tok *own_tok;
} http_impl;

/* POSTs body (JSON; NULL: a GET) to base + "/" + endpoint ("completions"); on HTTP 200
 * *resp gets the response body (fresh). Retries 429, 5xx and transport errors
 * up to max_retries times, sleeping backoff_s * 2^attempt between tries. */
int http_post(http_impl *H, CURL *curl, const char *endpoint, const char *body, char **resp, al_err *err);

/* Runs job(ctx, i, curl, err) for i in [0, n) on min(concurrency, n) worker
 * threads, each with its own CURL handle. Returns 0 or -1 with the error of
 * the lowest failing i. */
typedef int (*http_job)(void *ctx, int i, CURL *curl, al_err *err);
int http_run(http_impl *H, int n, http_job job, void *ctx, al_err *err);
#endif
