/* The gate: `alab serve`'s own accept loop in front of libmicrohttpd.
 *
 * Every connection waits here, in one poll() loop that costs no thread,
 * until its request head ("METHOD TARGET HTTP/1.x" and the header lines, up
 * to the empty line) has arrived; the head is read with MSG_PEEK, so the
 * bytes stay in the socket for the HTTP library. Only then is the
 * connection handed over (MHD_add_connection), where it gets a thread. So:
 *   - a client that trickles its head (one byte a second) holds no thread
 *     and is answered 408 when --request-timeout has passed since it
 *     connected, however often it sends a byte;
 *   - one client address holds at most --max-connections-per-ip
 *     connections (waiting and served);
 *   - beyond --max-connections served connections, or SV_GATE_WAITING
 *     waiting ones, a connection gets 503 with Retry-After;
 *   - a malformed head gets an OpenAI-shaped JSON error (400 bad request
 *     line, header or Content-Length, or HTTP/1.1 without Host; 431 head
 *     over SV_GATE_HEAD bytes; 505 other HTTP versions), never the
 *     library's HTML;
 *   - a Content-Length over --max-body gets 413 after the body has been
 *     read and dropped, so the client sees the answer, not a broken pipe.
 * An answer sent here is followed by a lingering close: the write side is
 * shut, then input is read and dropped until the client closes (or a
 * deadline), so the kernel never resets the connection over unread bytes
 * before the client has read the answer. */
#define _GNU_SOURCE /* accept4, memmem */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "serve/serve_internal.h"

#define SV_GATE_WAITING 1024 /* connections waiting for their head */
#define SV_GATE_HEAD 16384   /* largest request head */
#define SV_GATE_LINGER 2.0   /* seconds a lingering close waits for the client */

typedef struct {
  int fd, closing;
  double deadline; /* of the head, or of the lingering close */
  struct sockaddr_storage addr;
  socklen_t addrlen;
} gate_conn;

typedef struct {
  struct sockaddr_storage addr; /* port zeroed: the client's address */
  int count;
} gate_ip;

struct sv_gate {
  sv_gate_cfg cfg;
  int listen_fd, wake[2], stop;
  pthread_t th;
  pthread_mutex_t mu; /* guards ips and active (MHD's threads report closes) */
  gate_ip *ips;
  int nips, capips, active;
  gate_conn conn[SV_GATE_WAITING + 64]; /* the extra slots linger over refusals */
  int nconn;
  char head[SV_GATE_HEAD + 1];
};

static void addr_key(const struct sockaddr_storage *in, struct sockaddr_storage *key) {
  memset(key, 0, sizeof *key);
  key->ss_family = in->ss_family;
  if (in->ss_family == AF_INET) ((struct sockaddr_in *)key)->sin_addr = ((const struct sockaddr_in *)in)->sin_addr;
  else if (in->ss_family == AF_INET6) ((struct sockaddr_in6 *)key)->sin6_addr = ((const struct sockaddr_in6 *)in)->sin6_addr;
}

/* Adds d to the count of addr's connections (g->mu held); returns the new count. */
static int ip_add(sv_gate *g, const struct sockaddr_storage *addr, int d) {
  struct sockaddr_storage key;
  addr_key(addr, &key);
  for (int i = 0; i < g->nips; i++)
    if (!memcmp(&g->ips[i].addr, &key, sizeof key)) {
      int n = g->ips[i].count += d;
      if (n <= 0) g->ips[i] = g->ips[--g->nips];
      return n;
    }
  if (d <= 0) return 0;
  if (g->nips == g->capips) {
    g->capips = g->capips ? 2 * g->capips : 64;
    g->ips = al_realloc(g->ips, (size_t)g->capips * sizeof *g->ips);
  }
  g->ips[g->nips].addr = key;
  g->ips[g->nips++].count = d;
  return d;
}

void sv_gate_closed(sv_gate *g, const struct sockaddr *sa) {
  struct sockaddr_storage ss = {0};
  memcpy(&ss, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  pthread_mutex_lock(&g->mu);
  ip_add(g, &ss, -1);
  g->active--;
  pthread_mutex_unlock(&g->mu);
}

void sv_raw_error(al_buf *b, const sv_error *e) {
  static const struct { int status; const char *reason; } reasons[] = {
      {400, "Bad Request"}, {408, "Request Timeout"}, {413, "Content Too Large"}, {431, "Request Header Fields Too Large"},
      {503, "Service Unavailable"}, {505, "HTTP Version Not Supported"}};
  const char *reason = "Error";
  for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    if (reasons[i].status == e->status) reason = reasons[i].reason;
  json_t *j = sv_error_json(e);
  char *body = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  al_buf_printf(b, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
                e->status, reason, strlen(body), e->status == 503 ? "Retry-After: 1\r\n" : "", body);
  free(body);
}

/* Sends an OpenAI-shaped error and starts the lingering close of c. */
static void refuse(gate_conn *c, int status, const char *code, const char *msg, double linger) {
  sv_error e;
  sv_fail(&e, status, code, NULL, "%s", msg);
  al_buf b = {0};
  sv_raw_error(&b, &e);
  ssize_t w = send(c->fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT); /* small: fits the socket's buffer */
  (void)w;
  al_buf_free(&b);
  shutdown(c->fd, SHUT_WR);
  int one = 1;
  setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
  c->closing = 1;
  c->deadline = al_now() + linger;
}

static void drop(sv_gate *g, int i, int counted) {
  gate_conn *c = &g->conn[i];
  if (c->fd >= 0) close(c->fd);
  if (counted) {
    pthread_mutex_lock(&g->mu);
    ip_add(g, &c->addr, -1);
    pthread_mutex_unlock(&g->mu);
  }
  g->conn[i] = g->conn[--g->nconn];
}

/* The value of header `name` in the head (lines after the first), or NULL;
 * *dup is set when it occurs more than once with different values. */
static const char *header(const char *head, const char *name, size_t *vlen, int *dup) {
  const char *found = NULL, *p = strstr(head, "\r\n");
  size_t nl = strlen(name);
  *dup = 0;
  while (p && p[2] != '\r') {
    const char *line = p + 2, *end = strstr(line, "\r\n");
    if (!end) break;
    if ((size_t)(end - line) > nl && line[nl] == ':' && !strncasecmp(line, name, nl)) {
      const char *v = line + nl + 1, *ve = end;
      while (*v == ' ' || *v == '\t') v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      if (found && ((size_t)(ve - v) != *vlen || memcmp(found, v, *vlen))) *dup = 1;
      found = v;
      *vlen = (size_t)(ve - v);
    }
    p = end;
  }
  return found;
}

int sv_check_head(const char *head, size_t len, long max_body, char *msg) {
#define BAD(st, ...) return snprintf(msg, 200, __VA_ARGS__), st
  if (memchr(head, 0, len)) BAD(400, "a NUL byte in the request head");
  const char *eol = strstr(head, "\r\n"), *sp1 = memchr(head, ' ', (size_t)(eol - head));
  const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
  if (!sp1 || !sp2 || sp1 == head || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', (size_t)(eol - sp2 - 1)))
    BAD(400, "malformed request line (want 'METHOD /path HTTP/1.1')");
  for (const char *p = head; p < sp1; p++)
    if (*p < 'A' || *p > 'Z') BAD(400, "malformed request method");
  size_t vl = (size_t)(eol - sp2 - 1);
  int v11 = vl == 8 && !memcmp(sp2 + 1, "HTTP/1.1", 8), v10 = vl == 8 && !memcmp(sp2 + 1, "HTTP/1.0", 8);
  if (!v10 && !v11) {
    if (vl > 5 && !memcmp(sp2 + 1, "HTTP/", 5)) BAD(505, "only HTTP/1.0 and HTTP/1.1 are served");
    BAD(400, "malformed request line (want 'METHOD /path HTTP/1.1')");
  }
  for (const char *line = eol + 2; line < head + len - 2;) { /* every header line is "name: value" */
    const char *end = strstr(line, "\r\n"), *colon = memchr(line, ':', (size_t)(end - line));
    if (!colon || colon == line) BAD(400, "malformed header line (want 'Name: value')");
    for (const char *p = line; p < colon; p++)
      if (*p <= ' ' || *p >= 0x7f) BAD(400, "malformed header name");
    line = end + 2;
  }
  size_t n;
  int dup;
  if (v11 && !header(head, "Host", &n, &dup)) BAD(400, "an HTTP/1.1 request needs a Host header");
  const char *te = header(head, "Transfer-Encoding", &n, &dup);
  if (te && (dup || n != 7 || strncasecmp(te, "chunked", 7)))
    BAD(400, "the only Transfer-Encoding served is chunked (or send Content-Length)");
  const char *cl = header(head, "Content-Length", &n, &dup);
  unsigned long long body = 0;
  if (cl) {
    if (dup) BAD(400, "conflicting Content-Length headers");
    if (n == 0 || n > 18) BAD(400, "Content-Length must be a number of bytes");
    for (size_t i = 0; i < n; i++) {
      if (cl[i] < '0' || cl[i] > '9') BAD(400, "Content-Length must be a number of bytes");
      body = body * 10 + (unsigned)(cl[i] - '0');
    }
    if (header(head, "Transfer-Encoding", &n, &dup)) BAD(400, "both Content-Length and Transfer-Encoding");
    if (body > (unsigned long long)max_body)
      BAD(413, "the request body of %llu bytes is over the limit of %ld (--max-body)", body, max_body);
  }
  return 0;
#undef BAD
}

/* Conn i has sent something: peek at its head and decide. */
static void on_input(sv_gate *g, int i) {
  gate_conn *c = &g->conn[i];
  if (c->closing) {
    char junk[16384];
    ssize_t r = recv(c->fd, junk, sizeof junk, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) drop(g, i, 0);
    return;
  }
  ssize_t r = recv(c->fd, g->head, SV_GATE_HEAD, MSG_PEEK | MSG_DONTWAIT);
  if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
    drop(g, i, 1);
    return;
  }
  if (r < 0) return;
  g->head[r] = 0;
  char *end = memmem(g->head, (size_t)r, "\r\n\r\n", 4);
  if (!end) {
    if (r >= SV_GATE_HEAD) {
      pthread_mutex_lock(&g->mu);
      ip_add(g, &c->addr, -1);
      pthread_mutex_unlock(&g->mu);
      refuse(c, 431, "request_header_too_large", "the request head is over 16384 bytes", SV_GATE_LINGER);
      return;
    }
    int want = (int)r + 1; /* poll again only when more has arrived */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want);
    return;
  }
  end[4] = 0;
  char msg[200];
  int status = sv_check_head(g->head, (size_t)(end + 4 - g->head), g->cfg.max_body, msg);
  pthread_mutex_lock(&g->mu);
  int full = !status && g->active >= g->cfg.max_active;
  if (status || full) ip_add(g, &c->addr, -1);
  else g->active++;
  pthread_mutex_unlock(&g->mu);
  if (status) { /* after a 413 the lingering close reads and drops the body */
    refuse(c, status, status == 413 ? "request_too_large" : status == 505 ? "http_version_not_supported" : "bad_request",
           msg, status == 413 ? g->cfg.request_timeout_s : SV_GATE_LINGER);
    return;
  }
  if (full) {
    refuse(c, 503, "server_overloaded", "the server is busy (all --max-connections are served); retry later", SV_GATE_LINGER);
    return;
  }
  int one = 1;
  setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
  int fd = c->fd;
  struct sockaddr_storage addr = c->addr;
  socklen_t alen = c->addrlen;
  c->fd = -1;
  g->conn[i] = g->conn[--g->nconn];
  if (g->cfg.handoff(g->cfg.ctx, fd, (struct sockaddr *)&addr, alen)) sv_gate_closed(g, (struct sockaddr *)&addr);
}

static void on_accept(sv_gate *g) {
  for (;;) {
    gate_conn c = {.addrlen = sizeof c.addr};
    c.fd = accept4(g->listen_fd, (struct sockaddr *)&c.addr, &c.addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c.fd < 0) return;
    if (g->nconn >= (int)(sizeof g->conn / sizeof g->conn[0])) { /* not even room to linger: just close */
      close(c.fd);
      continue;
    }
    c.deadline = al_now() + g->cfg.request_timeout_s;
    int waiting = 0;
    for (int i = 0; i < g->nconn; i++) waiting += !g->conn[i].closing;
    pthread_mutex_lock(&g->mu);
    int mine = ip_add(g, &c.addr, 1);
    int refused = mine > g->cfg.max_per_ip || waiting >= SV_GATE_WAITING;
    if (refused) ip_add(g, &c.addr, -1);
    pthread_mutex_unlock(&g->mu);
    g->conn[g->nconn++] = c;
    if (refused)
      refuse(&g->conn[g->nconn - 1], 503, "server_overloaded",
             mine > g->cfg.max_per_ip ? "too many connections from this address (--max-connections-per-ip); retry later"
                                      : "too many connections are waiting to send their request; retry later",
             SV_GATE_LINGER);
  }
}

static void *gate_main(void *arg) {
  sv_gate *g = arg;
  struct pollfd *pf = al_malloc((sizeof g->conn / sizeof g->conn[0] + 2) * sizeof *pf);
  while (!__atomic_load_n(&g->stop, __ATOMIC_RELAXED)) {
    pf[0] = (struct pollfd){.fd = g->wake[0], .events = POLLIN};
    pf[1] = (struct pollfd){.fd = g->listen_fd, .events = POLLIN};
    int n = g->nconn;
    for (int i = 0; i < n; i++) pf[i + 2] = (struct pollfd){.fd = g->conn[i].fd, .events = POLLIN};
    if (poll(pf, (nfds_t)n + 2, 100) < 0 && errno != EINTR) break;
    double now = al_now();
    /* downwards: drop() moves the last connection into the freed slot; the deadline comes first, so a
     * client that keeps sending cannot keep a lingering close open */
    for (int i = n - 1; i >= 0; i--) {
      if (now > g->conn[i].deadline) {
        if (g->conn[i].closing) drop(g, i, 0);
        else {
          pthread_mutex_lock(&g->mu);
          ip_add(g, &g->conn[i].addr, -1);
          pthread_mutex_unlock(&g->mu);
          refuse(&g->conn[i], 408, "request_timeout", "the request head did not arrive within --request-timeout",
                 SV_GATE_LINGER);
        }
      } else if (pf[i + 2].revents) on_input(g, i);
    }
    if (pf[1].revents) on_accept(g);
  }
  free(pf);
  return NULL;
}

int sv_gate_start(sv_gate **out, int listen_fd, const sv_gate_cfg *cfg, al_err *err) {
  sv_gate *g = al_calloc(1, sizeof *g);
  g->cfg = *cfg;
  g->listen_fd = listen_fd;
  pthread_mutex_init(&g->mu, NULL);
  if (pipe2(g->wake, O_CLOEXEC | O_NONBLOCK)) {
    free(g);
    return al_fail(err, "serve: cannot create a pipe: %s", strerror(errno));
  }
  if (pthread_create(&g->th, NULL, gate_main, g)) {
    close(g->wake[0]), close(g->wake[1]);
    free(g);
    return al_fail(err, "serve: cannot start the accept thread");
  }
  *out = g;
  return 0;
}

void sv_gate_stop(sv_gate *g) {
  if (!g) return;
  __atomic_store_n(&g->stop, 1, __ATOMIC_RELAXED);
  ssize_t w = write(g->wake[1], "x", 1);
  (void)w;
  pthread_join(g->th, NULL);
  for (int i = 0; i < g->nconn; i++) close(g->conn[i].fd);
  g->nconn = 0;
  close(g->wake[0]), close(g->wake[1]);
}

void sv_gate_free(sv_gate *g) {
  if (!g) return;
  pthread_mutex_destroy(&g->mu);
  free(g->ips);
  free(g);
}
