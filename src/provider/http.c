/* HTTP transport (see http.h): one libcurl multi handle per batch, a slot
 * (easy handle) per request in flight. The API key goes only into the
 * Authorization header; no message, log line or cache entry includes it, nor
 * the base URL (messages name the endpoint: "POST completions failed ..."). 
 *
 * Order of work for a batch: answers from the cache; duplicates of a
 * cacheable body wait for the first copy's answer (a body is sent at most
 * once per batch); the rest go out in input order, retries first once due. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "provider/http.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void http_req_set(const http_impl *H, http_req *r, const char *endpoint, json_t *body) {
  const json_t *t = json_object_get(body, "temperature");
  r->endpoint = endpoint;
  r->cacheable = H->cfg.cache_all || !t || json_number_value(t) == 0 || json_object_get(body, "seed");
  r->body = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
  json_decref(body);
}

void http_req_free(http_req *r, int n) {
  for (int i = 0; r && i < n; i++) {
    free(r[i].body);
    json_decref(r[i].resp);
    r[i].body = NULL, r[i].resp = NULL;
  }
}

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  al_buf_append(ud, p, size * n);
  return size * n;
}

/* The server's error message (OpenAI's {"error": {"message": ...}}), or the
 * body's first bytes, on one line. */
static void error_text(const char *body, char *out, size_t n) {
  json_error_t je;
  json_t *j = body ? json_loads(body, 0, &je) : NULL;
  const json_t *e = j ? json_object_get(j, "error") : NULL;
  const json_t *m = json_is_object(e) ? json_object_get(e, "message") : e;
  if (json_is_string(m)) snprintf(out, n, "%s", json_string_value(m));
  else snprintf(out, n, "%.200s", body ? body : "");
  json_decref(j);
  for (char *c = out; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
}

static char *url_of(const http_impl *H, const char *endpoint) {
  char *url = al_malloc(strlen(H->base) + strlen(endpoint) + 2);
  sprintf(url, "%s/%s", H->base, endpoint);
  return url;
}

/* uniform in [0, 1) from xorshift64* (jitter only: it never changes a result) */
static double jitter_u(http_impl *H) {
  uint64_t x = H->jitter ? H->jitter : 0x9e3779b97f4a7c15ull;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  H->jitter = x;
  return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

typedef struct {
  CURL *e;
  int i; /* the request in flight, -1: free */
  al_buf b;
  char *url;
} slot;

typedef struct {
  http_impl *H;
  http_req *reqs;
  int n, left;              /* requests without an outcome yet */
  int *attempt, *leader;    /* leader[i] >= 0: i waits for that copy's answer */
  double *due;              /* earliest time of the next try */
  int *waiting, nwaiting;   /* retries, by index */
  int fresh;                /* next request never sent */
  uint8_t (*key)[32];
  struct curl_slist *hdr;
  int failed_fast;
  al_err fast_err;
} batch;

static void start(batch *B, CURLM *m, slot *s, int i) {
  http_impl *H = B->H;
  http_req *r = &B->reqs[i];
  s->i = i;
  s->b.len = 0;
  free(s->url);
  s->url = url_of(H, r->endpoint);
  curl_easy_reset(s->e);
  curl_easy_setopt(s->e, CURLOPT_URL, s->url);
  curl_easy_setopt(s->e, CURLOPT_HTTPHEADER, B->hdr);
  if (r->body) {
    curl_easy_setopt(s->e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(s->e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
  } else curl_easy_setopt(s->e, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(s->e, CURLOPT_WRITEDATA, &s->b);
  curl_easy_setopt(s->e, CURLOPT_PRIVATE, s);
  curl_easy_setopt(s->e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(s->e, CURLOPT_TIMEOUT_MS, (long)(H->cfg.timeout_s * 1000));
  curl_easy_setopt(s->e, CURLOPT_CONNECTTIMEOUT_MS, (long)(H->cfg.timeout_s * 1000));
  H->stats.requests++;
  curl_multi_add_handle(m, s->e);
}

static void fail(batch *B, int i, const char *msg) {
  http_req *r = &B->reqs[i];
  r->failed = 1;
  al_fail(&r->err, "%s", msg);
  B->left--;
  if (B->H->cfg.fail_fast && !B->failed_fast) B->failed_fast = 1, B->fast_err = r->err;
}

/* A finished transfer: an answer, a retry later, or a failure. */
static void finish(batch *B, slot *s, CURLcode cc) {
  http_impl *H = B->H;
  int i = s->i;
  http_req *r = &B->reqs[i];
  long status = 0;
  if (cc == CURLE_OK) curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &status);
  al_buf_append(&s->b, "", 1);
  json_error_t je;
  json_t *j = cc == CURLE_OK && status == 200 ? json_loads(s->b.data, 0, &je) : NULL;
  if (j) {
    r->resp = j;
    B->left--;
    const json_t *u = json_object_get(j, "usage");
    H->stats.prompt_tokens += json_integer_value(json_object_get(u, "prompt_tokens"));
    H->stats.completion_tokens += json_integer_value(json_object_get(u, "completion_tokens"));
    al_err e;
    if (H->cache && r->cacheable && prov_cache_put(H->cache, B->key[i], r->endpoint, H->model, s->b.data, &e))
      al_log("warning: %s", e.msg);
    return;
  }
  char why[400];
  if (cc != CURLE_OK) snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
  else if (status == 200) snprintf(why, sizeof why, "HTTP 200 with a body that is not JSON (%s)", je.text);
  else {
    char t[300];
    error_text(s->b.data, t, sizeof t);
    snprintf(why, sizeof why, "HTTP %ld: %s", status, t);
  }
  const char *method = r->body ? "POST" : "GET";
  char m[1024];
  if (!(cc != CURLE_OK || status == 200 || status == 429 || status >= 500)) { /* the request itself is wrong */
    snprintf(m, sizeof m, "%s %s failed: %s", method, r->endpoint, why);
    fail(B, i, m);
    return;
  }
  if (B->attempt[i] >= H->cfg.max_retries) {
    snprintf(m, sizeof m, "%s %s failed after %d attempts: %s", method, r->endpoint, B->attempt[i] + 1, why);
    fail(B, i, m);
    return;
  }
  /* backoff * 2^attempt with jitter in [1/2, 1), capped, never before Retry-After */
  double wait = H->cfg.backoff_s;
  for (int k = 0; k < B->attempt[i] && wait < H->cfg.max_backoff_s; k++) wait *= 2;
  if (wait > H->cfg.max_backoff_s) wait = H->cfg.max_backoff_s;
  wait *= 0.5 + 0.5 * jitter_u(H);
  curl_off_t ra = 0;
  if (cc == CURLE_OK && !curl_easy_getinfo(s->e, CURLINFO_RETRY_AFTER, &ra) && ra > 0 && (double)ra > wait)
    wait = (double)ra;
  if (wait > 600) { /* waiting that long is not a retry: the request fails, saying why */
    snprintf(m, sizeof m, "%s %s failed: %s, and the server asks to wait %.0f s (Retry-After), more than 600 s",
             method, r->endpoint, why, wait);
    fail(B, i, m);
    return;
  }
  B->attempt[i]++;
  H->stats.retries++;
  B->due[i] = al_now() + wait;
  B->waiting[B->nwaiting++] = i;
}

/* The next request to send now: the lowest due retry, else the next fresh
 * one; -1 when none is ready. */
static int next_ready(batch *B, double now) {
  int best = -1;
  for (int k = 0; k < B->nwaiting; k++)
    if (B->due[B->waiting[k]] <= now && (best < 0 || B->waiting[k] < B->waiting[best])) best = k;
  if (best >= 0) {
    int i = B->waiting[best];
    B->waiting[best] = B->waiting[--B->nwaiting];
    return i;
  }
  while (B->fresh < B->n && (B->reqs[B->fresh].resp || B->reqs[B->fresh].failed || B->leader[B->fresh] >= 0))
    B->fresh++;
  return B->fresh < B->n ? B->fresh++ : -1;
}

static batch *sort_ctx;
static int by_key(const void *a, const void *b) {
  int i = *(const int *)a, j = *(const int *)b, c = memcmp(sort_ctx->key[i], sort_ctx->key[j], 32);
  return c ? c : (i > j) - (i < j);
}

/* Cache hits, then duplicates: a cacheable body's later copies wait for the first. */
static void prepare(batch *B) {
  http_impl *H = B->H;
  int *idx = al_malloc((size_t)B->n * sizeof *idx), m = 0;
  for (int i = 0; i < B->n; i++) {
    http_req *r = &B->reqs[i];
    B->leader[i] = -1;
    if (r->failed || r->resp) continue;
    B->left++;
    if (!r->cacheable || !r->body) continue;
    char *url = url_of(H, r->endpoint), *text = NULL;
    prov_cache_key(url, H->model, r->body, B->key[i]);
    free(url);
    al_err e;
    int hit = H->cache ? prov_cache_get(H->cache, B->key[i], &text, &e) : 0;
    if (hit < 0) al_log("warning: %s", e.msg);
    if (hit > 0 && (r->resp = json_loads(text, 0, NULL))) {
      H->stats.cache_hits++;
      B->left--;
    } else idx[m++] = i;
    free(text);
  }
  sort_ctx = B; /* under http_send's lock */
  qsort(idx, (size_t)m, sizeof *idx, by_key);
  for (int k = 1; k < m; k++)
    if (!memcmp(B->key[idx[k]], B->key[idx[k - 1]], 32))
      B->leader[idx[k]] = B->leader[idx[k - 1]] >= 0 ? B->leader[idx[k - 1]] : idx[k - 1], B->left--;
  free(idx);
}

static pthread_mutex_t send_mu = PTHREAD_MUTEX_INITIALIZER;

int http_send(http_impl *H, http_req *reqs, int n, al_err *err) {
  pthread_once(&curl_once, curl_init);
  if (n <= 0) return 0;
  pthread_mutex_lock(&send_mu); /* one batch at a time per process: stats, jitter, the cache handle */
  batch B = {.H = H, .reqs = reqs, .n = n};
  B.attempt = al_calloc((size_t)n, sizeof *B.attempt);
  B.leader = al_malloc((size_t)n * sizeof *B.leader);
  B.due = al_calloc((size_t)n, sizeof *B.due);
  B.waiting = al_malloc((size_t)n * sizeof *B.waiting);
  B.key = al_calloc((size_t)n, sizeof *B.key);
  prepare(&B);
  B.hdr = curl_slist_append(NULL, "Content-Type: application/json");
  B.hdr = curl_slist_append(B.hdr, "Expect:"); /* no 100-continue round trip for large bodies */
  if (H->key && H->key[0]) {
    char *auth = al_malloc(strlen(H->key) + 32);
    sprintf(auth, "Authorization: Bearer %s", H->key);
    B.hdr = curl_slist_append(B.hdr, auth);
    memset(auth, 0, strlen(auth));
    free(auth);
  }
  int ns = H->cfg.concurrency < 1 ? 1 : H->cfg.concurrency, busy = 0;
  if (ns > B.left) ns = B.left > 0 ? B.left : 1;
  slot *S = al_calloc((size_t)ns, sizeof *S);
  CURLM *m = curl_multi_init();
  for (int k = 0; k < ns; k++) S[k].e = curl_easy_init(), S[k].i = -1;
  while (B.left > 0 && !B.failed_fast) {
    double now = al_now();
    for (int k = 0; k < ns; k++) {
      if (S[k].i >= 0) continue;
      int i = next_ready(&B, now);
      if (i < 0) break;
      start(&B, m, &S[k], i);
      busy++;
    }
    int running;
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    int q, finished = 0;
    while ((msg = curl_multi_info_read(m, &q)))
      if (msg->msg == CURLMSG_DONE) {
        slot *s;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        CURLcode cc = msg->data.result;
        curl_multi_remove_handle(m, s->e);
        finish(&B, s, cc);
        s->i = -1;
        busy--;
        finished++;
      }
    if (B.left <= 0 || B.failed_fast) break;
    if (finished) continue; /* a slot is free: fill it before waiting */
    /* sleep until a transfer moves or the next retry is due */
    double wake = 1.0;
    if (busy < ns)
      for (int k = 0; k < B.nwaiting; k++) {
        double d = B.due[B.waiting[k]] - al_now();
        if (d < wake) wake = d;
      }
    if (wake > 0) curl_multi_poll(m, NULL, 0, (int)(wake * 1000) + 1, NULL);
  }
  for (int k = 0; k < ns; k++) {
    if (S[k].i >= 0) curl_multi_remove_handle(m, S[k].e);
    curl_easy_cleanup(S[k].e);
    al_buf_free(&S[k].b);
    free(S[k].url);
  }
  curl_multi_cleanup(m);
  curl_slist_free_all(B.hdr);
  for (int i = 0; i < n; i++) { /* copies take the first copy's outcome */
    int l = B.leader[i];
    if (l < 0) continue;
    if (reqs[l].resp) reqs[i].resp = json_incref(reqs[l].resp);
    else reqs[i].failed = 1, reqs[i].err = reqs[l].failed ? reqs[l].err : (al_err){"not sent: the batch stopped"};
  }
  for (int i = 0; i < n; i++)
    if (!reqs[i].resp && !reqs[i].failed) reqs[i].failed = 1, al_fail(&reqs[i].err, "not sent: --fail-fast stopped the run");
    else H->stats.failures += reqs[i].failed;
  free(S);
  free(B.attempt), free(B.leader), free(B.due), free(B.waiting), free(B.key);
  int rc = 0;
  if (B.failed_fast) *err = B.fast_err, rc = -1;
  pthread_mutex_unlock(&send_mu);
  return rc;
}
