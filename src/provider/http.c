/* HTTP transport: libcurl easy handles, one per worker thread. The API key
 * goes only into the Authorization header; no message ever includes it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "provider/http.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  al_buf_append(ud, p, size * n);
  return size * n;
}

static void sleep_s(double s) {
  if (s <= 0) return;
  struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts)) {}
}

/* The server's error message (OpenAI's {"error": {"message": ...}}), or the
 * body's first bytes. */
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

int http_post(http_impl *H, CURL *curl, const char *endpoint, const char *body, char **resp, al_err *err) {
  char *url = al_malloc(strlen(H->base) + strlen(endpoint) + 2);
  sprintf(url, "%s/%s", H->base, endpoint);
  struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
  if (H->key && H->key[0]) {
    char *auth = al_malloc(strlen(H->key) + 32);
    sprintf(auth, "Authorization: Bearer %s", H->key);
    hdr = curl_slist_append(hdr, auth);
    memset(auth, 0, strlen(auth));
    free(auth);
  }
  int rc = -1;
  for (int attempt = 0;; attempt++) {
    al_buf b = {0};
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
    if (body) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(H->cfg.timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(H->cfg.timeout_s * 1000));
    __atomic_add_fetch(&H->requests, 1, __ATOMIC_RELAXED);
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    if (cc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    al_buf_append(&b, "", 1);
    b.len--;
    if (cc == CURLE_OK && status == 200) {
      *resp = b.data;
      rc = 0;
      break;
    }
    int retryable = cc != CURLE_OK || status == 429 || status >= 500;
    if (!retryable || attempt >= H->cfg.max_retries) {
      char msg[300];
      if (cc != CURLE_OK) snprintf(msg, sizeof msg, "%s", curl_easy_strerror(cc));
      else {
        char t[256];
        error_text(b.data, t, sizeof t);
        snprintf(msg, sizeof msg, "HTTP %ld: %s", status, t);
      }
      al_fail(err, "%s %s failed%s: %s", body ? "POST" : "GET", url, retryable ? " after retries" : "", msg);
      if (retryable) {
        char tail[64];
        snprintf(tail, sizeof tail, " (%d attempts)", attempt + 1);
        size_t l = strlen(err->msg);
        snprintf(err->msg + l, sizeof err->msg - l, "%s", tail);
      }
      al_buf_free(&b);
      break;
    }
    al_buf_free(&b);
    __atomic_add_fetch(&H->retries, 1, __ATOMIC_RELAXED);
    double wait = H->cfg.backoff_s;
    for (int k = 0; k < attempt; k++) wait *= 2;
    sleep_s(wait);
  }
  curl_slist_free_all(hdr);
  free(url);
  return rc;
}

typedef struct {
  http_impl *H;
  int n, next, first_fail;
  http_job job;
  void *ctx;
  al_err err;
  pthread_mutex_t mu;
} pool;

static void *worker(void *vp) {
  pool *P = vp;
  CURL *curl = curl_easy_init();
  for (;;) {
    pthread_mutex_lock(&P->mu);
    int i = P->next < P->n && P->first_fail < 0 ? P->next++ : -1;
    pthread_mutex_unlock(&P->mu);
    if (i < 0) break;
    al_err e;
    if (!curl) {
      al_fail(&e, "cannot create a libcurl handle");
    } else if (!P->job(P->ctx, i, curl, &e)) continue;
    pthread_mutex_lock(&P->mu);
    if (P->first_fail < 0 || i < P->first_fail) P->first_fail = i, P->err = e;
    pthread_mutex_unlock(&P->mu);
  }
  if (curl) curl_easy_cleanup(curl);
  return NULL;
}

int http_run(http_impl *H, int n, http_job job, void *ctx, al_err *err) {
  pthread_once(&curl_once, curl_init);
  if (n <= 0) return 0;
  pool P = {.H = H, .n = n, .next = 0, .first_fail = -1, .job = job, .ctx = ctx};
  pthread_mutex_init(&P.mu, NULL);
  int nw = H->cfg.concurrency < 1 ? 1 : H->cfg.concurrency;
  if (nw > n) nw = n;
  pthread_t *th = al_malloc((size_t)nw * sizeof *th);
  int started = 0;
  for (int i = 0; i < nw; i++)
    if (!pthread_create(&th[i], NULL, worker, &P)) started++;
    else break;
  if (!started) worker(&P);
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  free(th);
  pthread_mutex_destroy(&P.mu);
  if (P.first_fail >= 0) {
    *err = P.err;
    return -1;
  }
  return 0;
}
