/* A fault-injecting OpenAI-compatible endpoint on loopback, for the HTTP
 * provider's tests and bench/bench_provider.sh.
 *
 *   fault_server [--port N] [--log FILE] [--delay-ms MS] [--rate R] [--seed S]
 *                [--key KEY] [--hold-after K]
 *
 * Prints "listening on http://127.0.0.1:PORT" when ready. Each request gets,
 * by a hash of (its body, how many times this body came before), one of:
 * 429 with Retry-After: 1, 500, 503, a truncated body, invalid JSON with
 * status 200, a dropped connection, a slow answer (300 ms), or the answer;
 * each fault has probability R (--rate, default 0), and a body gets at most
 * 3 faults, so 5 retries always reach an answer. A prompt containing "BAD"
 * is a 400 naming the field "prompt", always.
 *
 * Answers are closed forms the tests recompute:
 *   /v1/completions, echo (scoring): one token per byte; the log-prob of byte
 *     c at position k > 0 is -(0.05 + ((7c + 3k) mod 97) / 50).
 *   /v1/completions (generation): the prompt reversed.
 *   /v1/chat/completions: every message's content joined by "|", reversed;
 *     with "logprobs": true, the first token's top log-probs are
 *     Yes -0.25 and No -1.75.
 *   GET /v1/models: model "m" with max_model_len 4096.
 * --persona NAME: generations (completions and chats, the chat written in
 * alab's chat format) are answered by a scripted assistant instead
 * (tests/syco_persona.c: "caver", "steadfast").
 * --delay-ms delays every answer (a model's latency). --hold-after K answers
 * the first K requests, then holds later ones unanswered until SIGUSR1
 * (a request whose client went away meanwhile is dropped, unanswered).
 *
 * The log (--log) gets one line per request: "SECONDS BODYHASH ACTION"
 * (monotonic clock), ACTION one of
 * ok 429 500 503 trunc badjson drop 400 401 gone; "ok" and "400" are answers,
 * the others faults the client must retry ("gone": the client left). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "syco_persona.h"

static double rate;
static int delay_ms, hold_after = -1;
static uint64_t seed = 1;
static const char *key, *persona;
static FILE *logf;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t released;
static long answered, admitted;

enum { NSEEN = 1 << 16 };
static struct { uint64_t h; int n; } seen[NSEEN]; /* body hash -> requests so far */

static uint64_t fnv(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static uint64_t mix(uint64_t x) { /* splitmix64 */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static int times_seen(uint64_t h) { /* under mu */
  for (size_t i = h & (NSEEN - 1);; i = (i + 1) & (NSEEN - 1)) {
    if (!seen[i].n) seen[i].h = h;
    if (seen[i].h == h) return seen[i].n++;
  }
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts)) {}
}

static void send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return;
    p += w, n -= (size_t)w;
  }
}

static void respond(int fd, int status, const char *extra, const char *body, size_t send_len) {
  char head[256];
  size_t bl = strlen(body);
  int hl = snprintf(head, sizeof head,
                    "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
                    status, bl, extra);
  send_all(fd, head, (size_t)hl);
  send_all(fd, body, send_len < bl ? send_len : bl);
}

static char *reversed(const char *s) {
  size_t n = strlen(s);
  char *r = malloc(n + 1);
  for (size_t i = 0; i < n; i++) r[i] = s[n - 1 - i];
  r[n] = 0;
  return r;
}

static double byte_lp(unsigned char c, size_t k) { return -(0.05 + (double)((7 * c + 3 * k) % 97) / 50.0); }

/* The answer to a well-formed request; NULL with *status 400 otherwise. */
static char *answer(const char *path, json_t *req, int *status) {
  *status = 200;
  json_t *r = NULL;
  if (!strcmp(path, "/v1/models")) r = json_pack("{s:[{s:s, s:i}]}", "data", "id", "m", "max_model_len", 4096);
  else if (!strcmp(path, "/v1/completions")) {
    const char *p = json_string_value(json_object_get(req, "prompt"));
    if (!p) return *status = 400, strdup("{\"error\":{\"message\":\"field 'prompt' must be a string\"}}");
    if (strstr(p, "BAD")) return *status = 400, strdup("{\"error\":{\"message\":\"field 'prompt' is rejected\"}}");
    size_t n = strlen(p);
    if (json_is_true(json_object_get(req, "echo"))) {
      json_t *tok = json_array(), *tl = json_array(), *off = json_array(), *top = json_array();
      for (size_t k = 0; k < n; k++) {
        char t[2] = {p[k], 0};
        json_array_append_new(tok, json_string(t));
        json_array_append_new(off, json_integer((json_int_t)k));
        json_array_append_new(tl, k ? json_real(byte_lp((unsigned char)p[k], k)) : json_null());
        json_array_append_new(top, k ? json_pack("{s:f}", t, byte_lp((unsigned char)p[k], k)) : json_null());
      }
      r = json_pack("{s:[{s:s, s:i, s:{s:o, s:o, s:o, s:o}}], s:{s:i, s:i}}", "choices", "text", p, "index", 0,
                    "logprobs", "tokens", tok, "token_logprobs", tl, "text_offset", off, "top_logprobs", top, "usage",
                    "prompt_tokens", (int)n, "completion_tokens", 0);
    } else {
      char *t = persona ? syco_persona_reply(persona, p) : reversed(p);
      r = json_pack("{s:[{s:s, s:i}], s:{s:i, s:i}}", "choices", "text", t, "index", 0, "usage", "prompt_tokens",
                    (int)n, "completion_tokens", (int)n);
      free(t);
    }
  } else if (!strcmp(path, "/v1/chat/completions")) {
    json_t *m = json_object_get(req, "messages");
    if (!json_is_array(m) || !json_array_size(m))
      return *status = 400, strdup("{\"error\":{\"message\":\"field 'messages' must be a non-empty array\"}}");
    size_t len = 0;
    char all[8192] = "";
    for (size_t i = 0; i < json_array_size(m); i++) {
      const char *c = json_string_value(json_object_get(json_array_get(m, i), "content"));
      len += (size_t)snprintf(all + len, len < sizeof all ? sizeof all - len : 0, "%s%s", i ? "|" : "", c ? c : "");
      if (len >= sizeof all) len = sizeof all - 1;
    }
    char *t = reversed(all);
    if (persona) { /* the chat in alab's format, for the persona */
      char *conv = NULL;
      size_t cl = 0;
      FILE *f = open_memstream(&conv, &cl);
      for (size_t i = 0; i < json_array_size(m); i++) {
        json_t *mi = json_array_get(m, i);
        const char *role = json_string_value(json_object_get(mi, "role")), *c = json_string_value(json_object_get(mi, "content"));
        fprintf(f, "<|%s|>\n%s\n", role ? role : "user", c ? c : "");
      }
      fclose(f);
      free(t);
      t = syco_persona_reply(persona, conv);
      free(conv);
    }
    r = json_pack("{s:[{s:{s:s, s:s}, s:i, s:s}], s:{s:i, s:i}}", "choices", "message", "role", "assistant", "content",
                  t, "index", 0, "finish_reason", "stop", "usage", "prompt_tokens", (int)len, "completion_tokens",
                  (int)len);
    if (json_is_true(json_object_get(req, "logprobs"))) /* the first token's top log-probs: Yes -0.25, No -1.75 */
      json_object_set_new(json_array_get(json_object_get(r, "choices"), 0), "logprobs",
                          json_pack("{s:[{s:s, s:f, s:[{s:s, s:f}, {s:s, s:f}]}]}", "content", "token", "Yes", "logprob",
                                    -0.25, "top_logprobs", "token", "Yes", "logprob", -0.25, "token", "No", "logprob",
                                    -1.75));
    free(t);
  } else return *status = 404, strdup("{\"error\":{\"message\":\"no such endpoint\"}}");
  char *s = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(r);
  return s;
}

static int peer_gone(int fd) {
  struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
  char c;
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR) || recv(fd, &c, 1, MSG_PEEK) <= 0);
}

static void log_line(uint64_t h, const char *action) {
  if (!logf) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  fprintf(logf, "%.3f %016llx %s\n", (double)ts.tv_sec + ts.tv_nsec * 1e-9, (unsigned long long)h, action);
  fflush(logf);
}

static void *serve(void *arg) {
  int fd = (int)(intptr_t)arg;
  char *buf = malloc(1 << 20);
  size_t len = 0;
  char *body = NULL;
  long clen = -1;
  for (;;) { /* the head, then Content-Length bytes of body */
    ssize_t r = recv(fd, buf + len, (1 << 20) - 1 - len, 0);
    if (r <= 0) goto out;
    len += (size_t)r;
    buf[len] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (!end) continue;
    if (clen < 0) {
      char *cl = strcasestr(buf, "\r\ncontent-length:");
      clen = cl && cl < end ? atol(cl + 17) : 0;
    }
    if ((long)(len - (size_t)(end + 4 - buf)) >= clen) {
      body = end + 4;
      body[clen] = 0;
      break;
    }
  }
  char path[256] = "";
  sscanf(buf, "%*s %255s", path);
  uint64_t h = fnv(body, strlen(body)) ^ fnv(path, strlen(path));
  if (key) {
    char want[512];
    snprintf(want, sizeof want, "\r\nAuthorization: Bearer %s\r\n", key);
    if (!strstr(buf, want)) {
      pthread_mutex_lock(&mu);
      log_line(h, "401");
      pthread_mutex_unlock(&mu);
      respond(fd, 401, "", "{\"error\":{\"message\":\"bad key\"}}", (size_t)-1);
      goto out;
    }
  }
  pthread_mutex_lock(&mu);
  int nth = times_seen(h);
  pthread_mutex_unlock(&mu);
  double u = (double)(mix(h ^ mix(seed + (uint64_t)nth)) >> 11) / 9007199254740992.0;
  int fault = nth < 3 ? (int)(u / rate) : 99; /* 0..6: a fault; else answer */
  if (rate <= 0) fault = 99;
  if (fault == 6) sleep_ms(300), fault = 99; /* slow, then the answer */
  if (fault < 6) {
    static const char *names[] = {"429", "500", "503", "trunc", "badjson", "drop"};
    pthread_mutex_lock(&mu);
    log_line(h, names[fault]);
    pthread_mutex_unlock(&mu);
    if (fault == 0) respond(fd, 429, "Retry-After: 1\r\n", "{\"error\":{\"message\":\"slow down\"}}", (size_t)-1);
    if (fault == 1) respond(fd, 500, "", "{\"error\":{\"message\":\"internal\"}}", (size_t)-1);
    if (fault == 2) respond(fd, 503, "", "{\"error\":{\"message\":\"overloaded\"}}", (size_t)-1);
    if (fault == 3) {
      int st;
      json_t *req = json_loads(body, 0, NULL);
      char *a = answer(path, req, &st);
      json_decref(req);
      respond(fd, 200, "", a, strlen(a) / 2);
      free(a);
    }
    if (fault == 4) respond(fd, 200, "", "{\"choices\": [{\"text\": \"x\"", (size_t)-1);
    goto out;
  }
  if (delay_ms) sleep_ms(delay_ms);
  pthread_mutex_lock(&mu);
  int hold = hold_after >= 0 && admitted >= hold_after; /* the first K to get here are answered */
  admitted += !hold;
  pthread_mutex_unlock(&mu);
  while (hold) { /* until released; a client that left meanwhile gets nothing */
    if (peer_gone(fd)) {
      pthread_mutex_lock(&mu);
      log_line(h, "gone");
      pthread_mutex_unlock(&mu);
      goto out;
    }
    if (released) break;
    sleep_ms(20);
  }
  int st;
  json_t *req = json_loads(body, 0, NULL);
  char *a = answer(path, req, &st);
  json_decref(req);
  pthread_mutex_lock(&mu);
  answered++;
  log_line(h, st == 200 ? "ok" : "400");
  pthread_mutex_unlock(&mu);
  respond(fd, st, "", a, (size_t)-1);
  free(a);
out:
  shutdown(fd, SHUT_WR);
  close(fd);
  free(buf);
  return NULL;
}

static void on_usr1(int s) { (void)s, released = 1; }

int main(int argc, char **argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--log")) logf = fopen(argv[i + 1], "a");
    else if (!strcmp(argv[i], "--delay-ms")) delay_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--key")) key = argv[i + 1];
    else if (!strcmp(argv[i], "--hold-after")) hold_after = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--persona")) persona = argv[i + 1];
    else return fprintf(stderr, "fault_server: unknown flag %s\n", argv[i]), 2;
  }
  if (rate * 7 > 1) return fprintf(stderr, "fault_server: --rate at most 1/7\n"), 2;
  char *probe = persona ? syco_persona_reply(persona, "") : NULL;
  if (persona && !probe) return fprintf(stderr, "fault_server: unknown --persona %s\n", persona), 2;
  free(probe);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGUSR1, on_usr1);
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 512) || getsockname(s, (struct sockaddr *)&a, &al))
    return fprintf(stderr, "fault_server: %s\n", strerror(errno)), 1;
  printf("listening on http://127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept(s, NULL, NULL);
    if (fd < 0) continue;
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 << 10);
    if (pthread_create(&t, &at, serve, (void *)(intptr_t)fd)) close(fd);
    pthread_attr_destroy(&at);
  }
}
