/* The HTTP side of `alab serve` on libmicrohttpd: connections come from the
 * gate (gate.c) with a checked request head; one thread per connection (so a
 * connection may wait for its job, and an SSE stream may block until the
 * next token); one request per connection (every response says
 * "Connection: close", so every request passes the gate); a body limit and a
 * deadline while the body is read; at most SV_PARSE_SLOTS bodies parsed at
 * once; Bearer-token auth; routing; server start/stop.
 *
 * Memory: a connection holds its body (at most 2 x --max-body of buffer,
 * freed once parsed) or its response (at most SV_MAX_RETURN tokens, ~4 MB),
 * a 64 KiB buffer and a thread's stack in use; a body being parsed costs at
 * most about 8x its size (the jansson tree, bounded by the value count
 * checked first, and the prompt's token ids), a response being built about
 * 6x its text, and SV_PARSE_SLOTS of those run at once. So the server's
 * memory is bounded by the model, the workers' KV caches,
 * --max-connections x (max(2 x --max-body, 4 MiB) + 192 KiB) and
 * SV_PARSE_SLOTS x 8 x max(--max-body, 4 MiB) (README gives the figures). */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "serve/serve_internal.h"

#define SV_PARSE_SLOTS 4 /* request bodies parsed, or responses built, at once */

struct al_server {
  al_serve_cfg cfg;
  sv_model m;
  sv_limits lim;
  sv_pool pool;
  int pool_started;
  struct MHD_Daemon *daemon;
  sv_gate *gate;
  int gate_started, listen_fd, port;
  uint64_t seed_state;
  pthread_mutex_t parse_mu;
  pthread_cond_t parse_cv;
  int parsing;
};

void al_serve_defaults(al_serve_cfg *c) {
  memset(c, 0, sizeof *c);
  c->host = "127.0.0.1";
  c->port = 8000;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  c->workers = cores > 1 ? (cores < 8 ? (int)cores : 8) : 1;
  c->threads = 1;
  c->batch = SV_BATCH;
  c->queue = 64;
  c->max_body = 1 << 20;
  c->max_prompt_tokens = 1 << 20;
  c->max_tokens = 4096;
  c->timeout_s = 10;
  c->request_timeout_s = 20;
  c->max_connections = 256;
  c->max_connections_per_ip = 64;
}

typedef struct {
  al_buf body;
  double t0; /* when the head arrived: the body must follow within --request-timeout */
  int too_big, responded;
} sv_conn;

/* Every response closes its connection, so the next request passes the gate. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r) {
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *obj) {
  char *s = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  if (!s) return MHD_NO;
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  return queue(c, status, r);
}

static enum MHD_Result send_error(struct MHD_Connection *c, const sv_error *e) {
  json_t *body = sv_error_json(e);
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  if (e->status == 401) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
  if (e->status == 503) MHD_add_response_header(r, "Retry-After", "1");
  return queue(c, (unsigned)e->status, r);
}

static enum MHD_Result fail(struct MHD_Connection *c, int status, const char *code, const char *fmt, const char *arg) {
  sv_error e;
  sv_fail(&e, status, code, NULL, fmt, arg);
  return send_error(c, &e);
}

/* "Authorization: Bearer KEY" (the scheme is case-insensitive, RFC 9110),
 * compared in a time that depends only on the key's length. */
static int authorized(const al_server *s, struct MHD_Connection *c) {
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!h || strncasecmp(h, "Bearer ", 7) != 0) return 0;
  const char *got = h + 7, *want = s->cfg.api_key;
  while (*got == ' ') got++;
  size_t n = strlen(want), gl = strlen(got);
  unsigned char diff = gl != n;
  for (size_t i = 0; i < n; i++) diff |= (unsigned char)((i < gl ? got[i] : 0) ^ want[i]);
  return diff == 0;
}

/* At most SV_PARSE_SLOTS bodies are parsed, or responses built, at once
 * (a body may cost 8x its size; a response's tree 6x its text). */
static void parse_begin(al_server *s) {
  pthread_mutex_lock(&s->parse_mu);
  while (s->parsing >= SV_PARSE_SLOTS) pthread_cond_wait(&s->parse_cv, &s->parse_mu);
  s->parsing++;
  pthread_mutex_unlock(&s->parse_mu);
}

static void parse_end(al_server *s) {
  pthread_mutex_lock(&s->parse_mu);
  s->parsing--;
  pthread_cond_signal(&s->parse_cv);
  pthread_mutex_unlock(&s->parse_mu);
}

static uint64_t fresh_seed(al_server *s) {
  uint64_t x = __atomic_add_fetch(&s->seed_state, 0x9E3779B97F4A7C15ULL, __ATOMIC_RELAXED);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  return x ^ (x >> 31);
}

/* ---- server-sent events: the connection thread blocks here for new bytes ---- */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max) {
  sv_job *j = cls;
  (void)pos;
  pthread_mutex_lock(&j->mu);
  while (j->sse_sent == j->sse.len && !j->done) pthread_cond_wait(&j->cv, &j->mu);
  if (j->sse_sent == j->sse.len) {
    pthread_mutex_unlock(&j->mu);
    return MHD_CONTENT_READER_END_OF_STREAM;
  }
  size_t n = j->sse.len - j->sse_sent < max ? j->sse.len - j->sse_sent : max;
  memcpy(buf, j->sse.data + j->sse_sent, n);
  j->sse_sent += n;
  if (j->sse_sent == j->sse.len) j->sse.len = j->sse_sent = 0; /* keep the buffer small */
  pthread_mutex_unlock(&j->mu);
  return (ssize_t)n;
}

static void sse_done(void *cls) {
  sv_job *j = cls;
  __atomic_store_n(&j->cancelled, 1, __ATOMIC_RELAXED); /* a client gone early stops its sequences */
  sv_job_unref(j);
}

static enum MHD_Result completions(al_server *s, struct MHD_Connection *c, sv_kind kind, sv_conn *cc) {
  sv_request r;
  sv_error e;
  parse_begin(s);
  int prc = sv_parse_request(cc->body.data ? cc->body.data : "", cc->body.len, kind, &s->m, &s->lim, fresh_seed(s), &r, &e);
  parse_end(s);
  al_buf_free(&cc->body);
  if (prc) return send_error(c, &e);
  sv_job *j = sv_job_new(&s->m, &r);
  if (sv_pool_submit(&s->pool, j)) {
    sv_job_unref(j);
    return fail(c, 503, "server_overloaded", "the server is busy: %s; retry later", "its request queue is full");
  }
  if (j->req.stream) {
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, j, sse_done);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return queue(c, MHD_HTTP_OK, resp);
  }
  pthread_mutex_lock(&j->mu);
  while (!j->done) pthread_cond_wait(&j->cv, &j->mu);
  pthread_mutex_unlock(&j->mu);
  parse_begin(s); /* a response's JSON tree costs about 1.5 KiB per returned token with top log-probs */
  enum MHD_Result ret = j->failed ? send_error(c, &j->err) : send_json(c, MHD_HTTP_OK, sv_response_json(j));
  parse_end(s);
  sv_job_unref(j);
  return ret;
}

static enum MHD_Result route(al_server *s, struct MHD_Connection *c, const char *url, const char *method, sv_conn *cc) {
  int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
  const char *body = cc->body.data ? cc->body.data : "";
  json_t *out = NULL;
  sv_error e;
  static const struct { const char *path; int post; } routes[] = {
      {"/health", 0}, {"/v1/models", 0}, {"/tokenizer_info", 0}, {"/v1/completions", 1},
      {"/v1/chat/completions", 1}, {"/tokenize", 1}, {"/detokenize", 1}, {"/classify", 1}, {"/v1/classify", 1}};
  int known = -1;
  for (int i = 0; i < (int)(sizeof routes / sizeof routes[0]); i++)
    if (!strcmp(url, routes[i].path)) known = i;
  if (!strncmp(url, "/v1/models/", 11) && get) {
    if (strcmp(url + 11, s->m.id) != 0) return fail(c, 404, "model_not_found", "the model '%.200s' does not exist", url + 11);
    return send_json(c, MHD_HTTP_OK, sv_model_json(&s->m));
  }
  if (known < 0) return fail(c, 404, "not_found", "no endpoint %.200s", url);
  if (routes[known].post ? !post : !get)
    return fail(c, 405, "method_not_allowed", "use %s for this endpoint", routes[known].post ? "POST" : "GET (or HEAD)");
  switch (known) {
    case 0: return send_json(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
    case 1: return send_json(c, MHD_HTTP_OK, sv_models_json(&s->m));
    case 2: return send_json(c, MHD_HTTP_OK, sv_tokenizer_info_json(&s->m));
    case 3: return completions(s, c, SV_COMPLETION, cc);
    case 4: return completions(s, c, SV_CHAT, cc);
    case 7:
    case 8: {
      parse_begin(s);
      int rc = sv_classify(body, cc->body.len, &s->m, &out, &e);
      parse_end(s);
      return rc ? send_error(c, &e) : send_json(c, MHD_HTTP_OK, out);
    }
    default: {
      parse_begin(s);
      int rc = known == 5 ? sv_tokenize(body, cc->body.len, &s->m, &out, &e) : sv_detokenize(body, cc->body.len, &s->m, &out, &e);
      parse_end(s);
      return rc ? send_error(c, &e) : send_json(c, MHD_HTTP_OK, out);
    }
  }
}

/* Called once with the headers, once per piece of body, and once at the end. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  al_server *s = cls;
  sv_conn *cc = *con_cls;
  (void)version;
  if (!cc) { /* the head (checked by the gate, Content-Length included) */
    cc = al_calloc(1, sizeof *cc);
    *con_cls = cc;
    cc->t0 = al_now();
    if (s->cfg.api_key && strcmp(url, "/health") != 0 && !authorized(s, c)) {
      cc->responded = 1;
      return fail(c, 401, "invalid_api_key", "%s", "missing or wrong API key (send 'Authorization: Bearer KEY')");
    }
    return MHD_YES;
  }
  if (*upload_size) {
    if (!cc->responded && al_now() - cc->t0 > s->cfg.request_timeout_s) {
      /* a body trickling in: libmicrohttpd sends no response before the body is whole, so the 408 is
       * written to the socket here, then the connection is closed (MHD_NO) */
      sv_error e;
      sv_fail(&e, 408, "request_timeout", NULL, "the request body did not arrive within --request-timeout");
      al_buf b = {0};
      sv_raw_error(&b, &e);
      const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      if (ci && send(ci->connect_fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) shutdown(ci->connect_fd, SHUT_WR);
      al_buf_free(&b);
      return MHD_NO;
    }
    if (!cc->responded && !cc->too_big) {
      if (cc->body.len + *upload_size > (size_t)s->cfg.max_body) {
        cc->too_big = 1;
        al_buf_free(&cc->body);
      } else al_buf_append(&cc->body, upload, *upload_size);
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (cc->responded) return MHD_YES;
  cc->responded = 1;
  if (cc->too_big) return fail(c, 413, "request_too_large", "the request body is over the limit (%s)", "--max-body");
  return route(s, c, url, method, cc);
}

/* A connection handed over by the gate has closed: give its slot back. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code) {
  al_server *s = cls;
  (void)socket_context;
  if (code != MHD_CONNECTION_NOTIFY_CLOSED) return;
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && s->gate_started) sv_gate_closed(s->gate, ci->client_addr);
}

static int handoff(void *ctx, int fd, const struct sockaddr *addr, socklen_t len) {
  al_server *s = ctx;
  return MHD_add_connection(s->daemon, fd, addr, len) == MHD_YES ? 0 : -1;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why) {
  sv_conn *cc = *con_cls;
  (void)cls, (void)c, (void)why;
  if (!cc) return;
  al_buf_free(&cc->body);
  free(cc);
  *con_cls = NULL;
}

static int load_model(sv_model *m, const al_serve_cfg *cfg, al_err *err) {
  memset(m, 0, sizeof *m);
  if (!cfg->model_dir) return al_fail(err, "serve: --model DIR is required");
  if (al_model_load_tok(&m->model, &m->tok, cfg->model_dir, cfg->tokenizer, err)) return al_fail_prefix(err, "serve");
  pthread_mutex_init(&m->score_mu, NULL);
  if (cfg->model_id) m->id = al_strdup(cfg->model_id);
  else { /* the directory's base name */
    char *d = al_strdup(cfg->model_dir);
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/') d[--n] = 0;
    const char *b = strrchr(d, '/');
    m->id = al_strdup(b && b[1] ? b + 1 : d);
    free(d);
  }
  m->vocab = al_tok_vocab_size(m->tok); /* <= the model's: al_model_load_dir_tok refuses more */
  m->eot = al_tok_eot(m->tok) < m->vocab ? al_tok_eot(m->tok) : -1;
  m->created = (long long)time(NULL);
  m->precision = cfg->precision;
  char why[256];
  if (m->precision == NN_BF16 && m->model.score &&
      !(m->score_bf = nn_bf16_new(m->model.params, m->model.nparams, why, sizeof why))) {
    sv_model_free(m);
    return al_fail(err, "serve: --precision bf16: %s", why);
  }
  int rc = cfg->chat_template ? al_chat_template_load_file(&m->chat, cfg->chat_template, err)
                              : al_chat_template_load(&m->chat, cfg->model_dir, err);
  if (rc) {
    sv_model_free(m);
    return al_fail_prefix(err, "serve");
  }
  return 0;
}

void sv_model_free(sv_model *m) {
  if (m->tok) pthread_mutex_destroy(&m->score_mu);
  nn_bf16_free(m->score_bf);
  al_model_free(&m->model);
  al_tok_free(m->tok);
  al_chat_template_free(&m->chat);
  free(m->id);
  memset(m, 0, sizeof *m);
}

/* A listening socket on host:port; its fd, or -1 with err. */
static int listen_on(const char *host, int port, al_err *err) {
  struct addrinfo hints = {0}, *res;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  char ports[16];
  snprintf(ports, sizeof ports, "%d", port);
  int rc = getaddrinfo(host, ports, &hints, &res);
  if (rc) return al_fail(err, "serve: --host %s: %s", host, gai_strerror(rc));
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
    int e = errno;
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
    return al_fail(err, "serve: cannot listen on %s:%d: %s", host, port, strerror(e));
  }
  freeaddrinfo(res);
  return fd;
}

static int bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len)) return -1;
  return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
}

int al_server_start(al_server **out, const al_serve_cfg *cfg, al_err *err) {
  if (cfg->port < 0 || cfg->port > 65535) return al_fail(err, "serve: --port must be 0..65535 (got %d)", cfg->port);
  if (cfg->max_body < 1 || cfg->max_tokens < 0 || cfg->max_prompt_tokens < 1 || cfg->timeout_s < 1 ||
      cfg->request_timeout_s < 1 || cfg->max_connections < 1 || cfg->max_connections_per_ip < 1)
    return al_fail(err, "serve: --max-body, --max-prompt-tokens, --timeout, --request-timeout and the connection limits must "
                        "be positive, --max-tokens >= 0");
  if (cfg->api_key && !cfg->api_key[0])
    return al_fail(err, "serve: the API key is empty (an empty key would let 'Authorization: Bearer ' in); give a key or none");
  char why[256];
  if (cfg->precision != NN_FP32 && cfg->precision != NN_BF16)
    return al_fail(err, "serve: precision %d is not NN_FP32 or NN_BF16", cfg->precision);
  if (cfg->precision == NN_BF16 && nn_bf16_available(why, sizeof why)) return al_fail(err, "serve: %s", why);
  al_server *s = al_calloc(1, sizeof *s);
  s->cfg = *cfg;
  s->lim.max_prompt_tokens = cfg->max_prompt_tokens;
  s->lim.max_tokens = cfg->max_tokens;
  s->seed_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  pthread_mutex_init(&s->parse_mu, NULL);
  pthread_cond_init(&s->parse_cv, NULL);
  s->listen_fd = listen_on(cfg->host, cfg->port, err);
  if (s->listen_fd < 0 || load_model(&s->m, cfg, err)) {
    if (s->listen_fd >= 0) close(s->listen_fd);
    free(s);
    return -1;
  }
  s->port = bound_port(s->listen_fd);
  if (sv_pool_start(&s->pool, &s->m, cfg, err)) goto fail;
  s->pool_started = 1;
  /* connections come from the gate; MHD's own limit is a backstop above the gate's */
  s->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                                   MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
                               0, NULL, NULL, on_request, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections + 64,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                               MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
  if (!s->daemon) {
    al_fail(err, "serve: cannot start the HTTP daemon");
    goto fail;
  }
  sv_gate_cfg g = {.max_active = cfg->max_connections, .max_per_ip = cfg->max_connections_per_ip,
                   .request_timeout_s = cfg->request_timeout_s, .max_body = cfg->max_body, .handoff = handoff, .ctx = s};
  if (sv_gate_start(&s->gate, s->listen_fd, &g, err)) goto fail;
  s->gate_started = 1;
  *out = s;
  return 0;
fail:
  if (s->daemon) MHD_stop_daemon(s->daemon);
  if (s->pool_started) sv_pool_stop(&s->pool);
  sv_model_free(&s->m);
  close(s->listen_fd);
  free(s);
  return -1;
}

int al_server_port(const al_server *s) { return s->port; }

void al_server_stop(al_server *s) {
  if (!s) return;
  sv_gate_stop(s->gate);      /* no new connections */
  MHD_stop_daemon(s->daemon); /* joins connection threads: their jobs finish first */
  sv_gate_free(s->gate);
  close(s->listen_fd);
  if (s->pool_started) sv_pool_stop(&s->pool);
  sv_model_free(&s->m);
  pthread_mutex_destroy(&s->parse_mu);
  pthread_cond_destroy(&s->parse_cv);
  free(s);
}

int al_serve_run(const al_serve_cfg *cfg, al_err *err) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits this; the main thread waits below */
  signal(SIGPIPE, SIG_IGN);
  al_set_threads(cfg->threads); /* the main thread's team; each worker sets its own */
  al_server *s;
  if (al_server_start(&s, cfg, err)) return -1;
  printf("alab serve: model '%s' (%zu parameters, context %d), %d workers x %d sequences, listening on http://%s%s%s:%d\n",
         s->m.id, s->m.model.nparams, s->m.model.cfg.n_positions, cfg->workers, cfg->batch, strchr(cfg->host, ':') ? "[" : "",
         cfg->host, strchr(cfg->host, ':') ? "]" : "", s->port);
  fflush(stdout);
  int sig;
  sigwait(&set, &sig);
  al_log("alab serve: %s, stopping", sig == SIGINT ? "interrupted" : "terminated");
  al_server_stop(s);
  return 0;
}
