/* HTTP transport for the OpenAI-compatible provider: a batch of JSON
 * requests sent through libcurl's multi interface with at most `concurrency`
 * in flight, answered from the response cache first, retried with backoff. */
#ifndef ALAB_PROVIDER_HTTP_H
#define ALAB_PROVIDER_HTTP_H
#include <jansson.h>
#include "alab/provider.h"
#include "provider/cache.h"

typedef struct {
  al_http_cfg cfg;    /* strings below are owned copies */
  char *base, *model, *key;
  al_http_stats stats;
  long context;       /* the endpoint's context from /v1/models: -1 not asked yet, 0 not given */
  const al_tok *tok;  /* token-id mode when non-NULL */
  al_tok *own_tok;
  prov_cache *cache;  /* NULL: off */
  uint64_t jitter;    /* state of the backoff jitter's generator */
} http_impl;

/* One request of a batch and its outcome. */
typedef struct {
  const char *endpoint; /* "completions", "chat/completions", "models" (a GET when body is NULL) */
  char *body;           /* JSON text (owned) */
  int cacheable;        /* deterministic: temperature 0 or a seed (or cache_all) */
  json_t *resp;         /* the parsed 200 answer (owned) */
  int failed;           /* 1: err says why (building, a 4xx, or retries used up) */
  al_err err;
} http_req;

/* Sets r's endpoint and body (consumes body) and whether it may be cached. */
void http_req_set(const http_impl *H, http_req *r, const char *endpoint, json_t *body);
void http_req_free(http_req *r, int n);

/* Sends every request not already failed; in the end each has resp or
 * failed set. 429, 5xx, transport errors and a 200 that is not JSON are
 * retried up to max_retries times after backoff_s * 2^attempt * (1/2 + u/2)
 * seconds (u uniform in [0, 1): jitter), capped at max_backoff_s, and never
 * before the server's Retry-After (one over 600 s fails the request); any
 * other status fails that request.
 * Returns 0, or -1 when fail_fast and a request failed (err: its message);
 * requests still in flight are then abandoned. */
int http_send(http_impl *H, http_req *reqs, int n, al_err *err);
#endif
