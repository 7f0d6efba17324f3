/* alab serve over real HTTP (libcurl against the server started in-process on
 * 127.0.0.1, an ephemeral port): echo log-probs equal the engine's
 * al_sequence_logprobs; lm-evaluation-harness's local-completions
 * log-likelihood request parses (exactly as its parse_logprobs does) to
 * al_score_continuation's sum and is_greedy; greedy text equals al_generate;
 * seeded results do not depend on concurrency; streaming equals the plain
 * response; stop strings; chat; tokenizer endpoints; every bad request is a
 * 4xx JSON error and the server keeps serving; API key; body limit; 503 on a
 * full queue. */
#include "test.h"
#include <curl/curl.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include "alab/serve.h"
#include "serve_model.h"

static char base[128];
static al_model LM;
static al_tok *TOK;

typedef struct {
  long status;
  al_buf body;
} resp;

static size_t on_data(char *p, size_t sz, size_t n, void *u) {
  al_buf_append(u, p, sz * n);
  return sz * n;
}

/* One request; body NULL = GET. `hdr` is an extra header or NULL. */
static json_t *http(const char *b, const char *path, const char *body, const char *hdr, long *status, al_buf *raw) {
  CURL *c = curl_easy_init();
  char url[512];
  snprintf(url, sizeof url, "%s%s", b, path);
  resp r = {0};
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  if (hdr) h = curl_slist_append(h, hdr);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  CURLcode cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  *status = cc == CURLE_OK ? r.status : -1;
  json_t *j = r.body.len ? json_loadb(r.body.data, r.body.len, 0, NULL) : NULL;
  if (raw) *raw = r.body;
  else al_buf_free(&r.body);
  return j;
}

static json_t *post(const char *path, const char *body, long *status) { return http(base, path, body, NULL, status, NULL); }

static int encode(const char *s, int32_t **ids) {
  size_t n = 0, cap = 0;
  al_err err;
  *ids = NULL;
  al_tok_encode(TOK, s, strlen(s), 1, ids, &n, &cap, &err);
  return (int)n;
}

static const char *choice_text(json_t *r, int i) {
  return json_string_value(json_object_get(json_array_get(json_object_get(r, "choices"), i), "text"));
}

/* 4xx with {"error": {"message", "type", "code"}} */
static void expect_error(const char *b, const char *path, const char *body, const char *hdr, long want, const char *what) {
  long st;
  json_t *r = http(b, path, body, hdr, &st, NULL);
  json_t *e = json_object_get(r, "error");
  CHECK(st == want && json_is_string(json_object_get(e, "message")) && json_is_string(json_object_get(e, "type")) &&
            json_object_get(e, "code"),
        "%s: status %ld (want %ld)", what, st, want);
  json_decref(r);
}

static void test_echo(al_decoder *d) {
  const char *text = "The quick brown fox jumps over the lazy dog. A caf\xc3\xa9 in Z\xc3\xbcrich.";
  int32_t *ids;
  int n = encode(text, &ids);
  float *lp = al_malloc(n * sizeof(float)), *top_lp = al_malloc(n * 3 * sizeof(float));
  int32_t *top_id = al_malloc(n * 3 * sizeof(int32_t));
  al_err err;
  CHECK_OK(al_sequence_logprobs(d, ids, n, lp, NULL, 3, top_id, top_lp, &err), err);
  json_t *body = json_pack("{s:s, s:s, s:i, s:b, s:i}", "model", "tiny", "prompt", text, "max_tokens", 0, "echo", 1, "logprobs", 3);
  char *bs = json_dumps(body, 0);
  long st;
  json_t *r = post("/v1/completions", bs, &st);
  json_t *ch = json_array_get(json_object_get(r, "choices"), 0), *L = json_object_get(ch, "logprobs");
  json_t *tl = json_object_get(L, "token_logprobs"), *tops = json_object_get(L, "top_logprobs"), *toks = json_object_get(L, "tokens");
  CHECK(st == 200 && json_array_size(tl) == (size_t)n, "echo: %zu log-probs for %d tokens", json_array_size(tl), n);
  CHECK(choice_text(r, 0) && !strcmp(choice_text(r, 0), text), "echo text is the prompt");
  CHECK(!strcmp(json_string_value(json_object_get(ch, "finish_reason")), "length"), "max_tokens 0 finishes by length");
  CHECK(json_is_null(json_array_get(tl, 0)) && json_is_null(json_array_get(tops, 0)), "the first token has no log-prob");
  double maxdiff = 0;
  int top_ok = 1;
  for (int i = 1; i < n && i < (int)json_array_size(tl); i++) {
    double x = json_number_value(json_array_get(tl, i));
    maxdiff = fmax(maxdiff, fabs(x - lp[i]));
    json_t *top = json_array_get(tops, i);
    json_t *mine = json_object_get(top, json_string_value(json_array_get(toks, i)));
    if (!mine || fabs(json_number_value(mine) - lp[i]) > 1e-5) top_ok = 0; /* the chosen token is always listed */
    for (int j = 0; j < 3; j++) {
      size_t l;
      const char *s = al_tok_token(TOK, top_id[i * 3 + j], &l);
      char key[64], bytes_key[256] = "bytes:"; /* a token that is not valid UTF-8 is named by its bytes */
      snprintf(key, sizeof key, "%.*s", (int)l, s);
      for (size_t k = 0; k < l && k < 40; k++) sprintf(bytes_key + strlen(bytes_key), "\\x%02x", (unsigned char)s[k]);
      json_t *v = json_object_get(top, key);
      if (!v) v = json_object_get(top, bytes_key);
      if (!v || fabs(json_number_value(v) - top_lp[i * 3 + j]) > 1e-5) top_ok = 0;
    }
  }
  CHECK(maxdiff <= 1e-5, "echo log-probs equal al_sequence_logprobs (max diff %g)", maxdiff);
  CHECK(top_ok, "top_logprobs hold the engine's top 3 and the chosen token");
  /* text_offset: character offsets of each token in the text */
  json_t *off = json_object_get(L, "text_offset");
  CHECK(json_integer_value(json_array_get(off, 0)) == 0 && json_integer_value(json_array_get(off, n - 1)) < (json_int_t)strlen(text),
        "text offsets");
  json_decref(r);
  json_decref(body);
  free(bs);
  free(ids);
  free(lp);
  free(top_lp);
  free(top_id);
}

/* Exactly lm-evaluation-harness's LocalCompletionsAPI: payload {model, prompt:
 * [ctx+cont token ids, ...], temperature 0, max_tokens 1, logprobs 1, seed
 * 1234, echo true}; parse_logprobs sums token_logprobs[ctxlen:-1] and is_greedy
 * = every token_logprob equals max(top.values()). */
static void test_lm_eval(al_decoder *d) {
  int32_t *ctx1, *ctx2, greedy[4], other[3] = {5, 200, 77};
  int n1 = encode("Alice is the mother of", &ctx1), n2 = encode("Hello, world", &ctx2);
  al_sample_cfg g = {0.0f, 1.0f, 0};
  al_rng rng;
  al_rng_seed(&rng, 1);
  al_err err;
  CHECK(al_generate(d, ctx1, n1, 4, &g, &rng, -1, greedy, NULL, NULL, &err) == 4, "greedy continuation");
  struct { int32_t *ctx; int nctx; int32_t *cont; int ncont; } q[2] = {{ctx1, n1, greedy, 4}, {ctx2, n2, other, 3}};
  json_t *prompts = json_array();
  for (int i = 0; i < 2; i++) {
    json_t *p = json_array();
    for (int k = 0; k < q[i].nctx; k++) json_array_append_new(p, json_integer(q[i].ctx[k]));
    for (int k = 0; k < q[i].ncont; k++) json_array_append_new(p, json_integer(q[i].cont[k]));
    json_array_append_new(prompts, p);
  }
  json_t *body = json_pack("{s:s, s:o, s:i, s:i, s:i, s:i, s:b}", "model", "tiny", "prompt", prompts, "temperature", 0,
                           "max_tokens", 1, "logprobs", 1, "seed", 1234, "echo", 1);
  char *bs = json_dumps(body, 0);
  long st;
  json_t *r = post("/v1/completions", bs, &st);
  json_t *choices = json_object_get(r, "choices");
  CHECK(st == 200 && json_array_size(choices) == 2, "two choices (status %ld)", st);
  for (size_t c = 0; c < json_array_size(choices); c++) {
    json_t *ch = json_array_get(choices, c);
    int idx = (int)json_integer_value(json_object_get(ch, "index"));
    json_t *L = json_object_get(ch, "logprobs"), *tl = json_object_get(L, "token_logprobs"), *tops = json_object_get(L, "top_logprobs");
    int ctxlen = q[idx].nctx, len = (int)json_array_size(tl);
    CHECK(len == q[idx].nctx + q[idx].ncont + 1, "prompt tokens + 1 generated (%d)", len);
    double sum = 0;
    int is_greedy = 1;
    for (int i = ctxlen; i < len - 1; i++) { /* token_logprobs[ctxlen:-1] */
      double tok = json_number_value(json_array_get(tl, i)), mx = -INFINITY;
      sum += tok;
      const char *k;
      json_t *v;
      json_object_foreach(json_array_get(tops, i), k, v) mx = fmax(mx, json_number_value(v));
      if (tok != mx) is_greedy = 0;
    }
    double want;
    int want_greedy;
    CHECK_OK(al_score_continuation(d, q[idx].ctx, q[idx].nctx, q[idx].cont, q[idx].ncont, &want, NULL, &want_greedy, &err), err);
    CHECK(fabs(sum - want) < 1e-4, "choice %d: log-likelihood %.6f vs engine %.6f", idx, sum, want);
    CHECK(is_greedy == want_greedy && is_greedy == (idx == 0), "choice %d: is_greedy %d vs engine %d", idx, is_greedy, want_greedy);
  }
  json_decref(r);
  json_decref(body);
  free(bs);
  free(ctx1);
  free(ctx2);
}

static void test_greedy_and_stop(al_decoder *d) {
  int32_t *p, out[30];
  int np = encode("the cat sat on", &p);
  al_sample_cfg g = {0.0f, 1.0f, 0};
  al_rng rng;
  al_rng_seed(&rng, 1);
  al_err err;
  int n = al_generate(d, p, np, 30, &g, &rng, -1, out, NULL, NULL, &err);
  char *want;
  size_t wl;
  CHECK_OK(al_tok_decode(TOK, out, n, &want, &wl, &err), err);
  long st;
  json_t *r = post("/v1/completions", "{\"prompt\": \"the cat sat on\", \"max_tokens\": 30, \"temperature\": 0, \"logprobs\": 0}", &st);
  const char *got = choice_text(r, 0);
  /* the tokens' bytes, from their names (raw text, or "bytes:\xNN..." when not valid UTF-8) */
  json_t *names = json_object_get(json_object_get(json_array_get(json_object_get(r, "choices"), 0), "logprobs"), "tokens");
  al_buf gb = {0};
  for (size_t i = 0; i < json_array_size(names); i++) {
    const char *nm = json_string_value(json_array_get(names, i));
    if (strncmp(nm, "bytes:", 6) != 0) al_buf_append(&gb, nm, strlen(nm));
    else
      for (const char *q = nm + 6; q[0] == '\\' && q[1] == 'x'; q += 4) {
        char byte = (char)strtol((char[]){q[2], q[3], 0}, NULL, 16);
        al_buf_append(&gb, &byte, 1);
      }
  }
  CHECK(st == 200 && json_array_size(names) == (size_t)n && gb.len == wl && !memcmp(gb.data, want, wl),
        "greedy tokens equal al_generate's (%zu vs %d tokens)", json_array_size(names), n);
  al_buf_free(&gb);
  /* stop at an ASCII character of the greedy text: the text is cut before its first occurrence */
  char stop[2] = {0, 0};
  for (size_t i = 1; got && got[i] && !stop[0]; i++)
    if (got[i] > ' ' && got[i] < 0x7f && got[i] != '"' && got[i] != '\\') stop[0] = got[i];
  if (stop[0]) {
    char body[256];
    snprintf(body, sizeof body, "{\"prompt\": \"the cat sat on\", \"max_tokens\": 30, \"temperature\": 0, \"stop\": [\"%s\"]}", stop);
    json_t *r2 = post("/v1/completions", body, &st);
    const char *cut = choice_text(r2, 0);
    size_t at = strchr(got, stop[0]) - got;
    CHECK(cut && strlen(cut) == at && !strncmp(cut, got, at), "stop '%s' cuts '%s' to '%s'", stop, got, cut);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(json_object_get(r2, "choices"), 0), "finish_reason")), "stop"),
          "finish_reason stop");
    json_decref(r2);
  }
  json_decref(r);
  free(want);
  free(p);
}

typedef struct {
  const char *body;
  char *text; /* the first choice's text */
  long status;
} job_arg;

static void *run_one(void *a) {
  job_arg *j = a;
  json_t *r = post("/v1/completions", j->body, &j->status);
  const char *t = choice_text(r, 0);
  j->text = t ? al_strdup(t) : NULL;
  json_decref(r);
  return NULL;
}

/* The same seeded request alone, among 15 concurrent others, and streamed. */
static void test_determinism(void) {
  const char *req = "{\"prompt\": \"Hello\", \"max_tokens\": 24, \"temperature\": 1, \"seed\": 42, \"n\": 2}";
  long st;
  json_t *alone = post("/v1/completions", req, &st);
  const char *a0 = choice_text(alone, 0), *a1 = choice_text(alone, 1);
  CHECK(st == 200 && a0 && a1 && strcmp(a0, a1) != 0, "two choices of one seed differ");
  pthread_t th[16];
  job_arg args[16];
  for (int i = 0; i < 16; i++) {
    args[i].body = i % 2 ? req : "{\"prompt\": \"Other\", \"max_tokens\": 20, \"temperature\": 1}";
    pthread_create(&th[i], NULL, run_one, &args[i]);
  }
  int same = 1;
  for (int i = 0; i < 16; i++) {
    pthread_join(th[i], NULL);
    if (args[i].status != 200 || (i % 2 && (!args[i].text || strcmp(args[i].text, a0) != 0))) same = 0;
    free(args[i].text);
  }
  CHECK(same, "a seeded request gives the same text under concurrency");
  /* streamed: the chunks of each choice concatenate to the same texts; usage last, then [DONE] */
  al_buf raw;
  json_t *r = http(base, "/v1/completions",
                   "{\"prompt\": \"Hello\", \"max_tokens\": 24, \"temperature\": 1, \"seed\": 42, \"n\": 2, \"stream\": true}",
                   NULL, &st, &raw);
  json_decref(r);
  al_buf_append(&raw, "", 1);
  al_buf t[2] = {{0}, {0}};
  int events = 0, finishes = 0, usage_last = 0, done = 0;
  for (char *line = strtok(raw.data, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "data: ", 6) != 0) continue;
    if (!strcmp(line + 6, "[DONE]")) {
      done = 1;
      continue;
    }
    json_t *ev = json_loads(line + 6, 0, NULL);
    json_t *chs = json_object_get(ev, "choices");
    usage_last = json_array_size(chs) == 0 && json_integer_value(json_object_get(json_object_get(ev, "usage"), "completion_tokens")) > 0;
    for (size_t i = 0; i < json_array_size(chs); i++) {
      json_t *ch = json_array_get(chs, i);
      int idx = (int)json_integer_value(json_object_get(ch, "index"));
      if (idx >= 0 && idx < 2) al_buf_append(&t[idx], json_string_value(json_object_get(ch, "text")), strlen(json_string_value(json_object_get(ch, "text"))));
      finishes += json_is_string(json_object_get(ch, "finish_reason"));
    }
    events++;
    json_decref(ev);
  }
  al_buf_append(&t[0], "", 1);
  al_buf_append(&t[1], "", 1);
  CHECK(st == 200 && events > 4 && done && usage_last && finishes == 2, "SSE: %d events, done %d, usage last %d, finishes %d",
        events, done, usage_last, finishes);
  CHECK(!strcmp(t[0].data, a0) && !strcmp(t[1].data, a1), "streamed text equals the plain response: '%s' vs '%s'", t[0].data, a0);
  al_buf_free(&t[0]);
  al_buf_free(&t[1]);
  al_buf_free(&raw);
  json_decref(alone);
}

static void test_chat_and_tokenizer(void) {
  long st;
  json_t *r = post("/v1/chat/completions", "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                                            "\"max_tokens\": 5, \"seed\": 3, \"logprobs\": true, \"top_logprobs\": 2}", &st);
  json_t *ch = json_array_get(json_object_get(r, "choices"), 0), *msg = json_object_get(ch, "message");
  int32_t *ids;
  int n = encode("<|user|>\nhi\n<|assistant|>\n", &ids);
  CHECK(st == 200 && !strcmp(json_string_value(json_object_get(r, "object")), "chat.completion") &&
            !strcmp(json_string_value(json_object_get(msg, "role")), "assistant") && json_is_string(json_object_get(msg, "content")),
        "chat response shape");
  CHECK(json_integer_value(json_object_get(json_object_get(r, "usage"), "prompt_tokens")) == n, "chat template: %d prompt tokens", n);
  json_t *content = json_object_get(json_object_get(ch, "logprobs"), "content");
  CHECK(json_array_size(content) >= 1 && json_array_size(json_object_get(json_array_get(content, 0), "top_logprobs")) == 2,
        "chat log-probs with top 2");
  json_decref(r);
  free(ids);
  r = http(base, "/tokenizer_info", NULL, NULL, &st, NULL);
  CHECK(st == 200 && !strcmp(json_string_value(json_object_get(r, "eos_token")), "<|endoftext|>") &&
            json_integer_value(json_object_get(r, "eos_token_id")) == al_tok_eot(TOK) && json_is_string(json_object_get(r, "chat_template")),
        "tokenizer_info");
  json_decref(r);
  r = post("/tokenize", "{\"prompt\": \"<|endoftext|>\", \"add_special_tokens\": false}", &st);
  CHECK(json_integer_value(json_array_get(json_object_get(r, "tokens"), 0)) == al_tok_eot(TOK), "eos encodes to eos_token_id");
  json_decref(r);
  r = http(base, "/v1/models", NULL, NULL, &st, NULL);
  json_t *m = json_array_get(json_object_get(r, "data"), 0);
  CHECK(st == 200 && !strcmp(json_string_value(json_object_get(m, "id")), "tiny") &&
            json_integer_value(json_object_get(m, "parameters")) == (json_int_t)LM.nparams &&
            json_integer_value(json_object_get(m, "context_length")) == 128,
        "models");
  json_decref(r);
}

static void test_bad_requests(void) {
  expect_error(base, "/v1/completions", "{\"prompt\": ", NULL, 400, "invalid JSON");
  expect_error(base, "/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": \"3\"}", NULL, 400, "wrong type");
  expect_error(base, "/v1/completions", "{\"prompt\": \"a\", \"model\": \"gpt-4\"}", NULL, 404, "unknown model");
  expect_error(base, "/v1/completions", "{\"prompt\": [1, 100000]}", NULL, 400, "token id out of range");
  expect_error(base, "/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": -2}", NULL, 400, "negative max_tokens");
  expect_error(base, "/v1/chat/completions", "{\"messages\": 3}", NULL, 400, "bad messages");
  expect_error(base, "/detokenize", "{\"tokens\": [-1]}", NULL, 400, "detokenize out of range");
  expect_error(base, "/v1/nothing", NULL, NULL, 404, "unknown path");
  expect_error(base, "/v1/completions", NULL, NULL, 405, "GET on a POST endpoint");
  expect_error(base, "/v1/models/other", NULL, NULL, 404, "unknown model id");
  long st;
  json_t *r = http(base, "/health", NULL, NULL, &st, NULL);
  CHECK(st == 200, "still serving after bad requests");
  json_decref(r);
}

static void test_limits(const char *model_dir) {
  al_serve_cfg c;
  al_serve_defaults(&c);
  c.model_dir = model_dir;
  c.port = 0;
  c.api_key = "sekrit";
  c.max_body = 2048;
  c.workers = 1;
  c.queue = 1;
  c.timeout_s = 1;
  c.request_timeout_s = 1;
  al_server *s;
  al_err err;
  CHECK_OK(al_server_start(&s, &c, &err), err);
  char b[128];
  snprintf(b, sizeof b, "http://127.0.0.1:%d", al_server_port(s));
  /* a slow client (half a body, then nothing) is dropped after --timeout */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)al_server_port(s))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect");
  const char *part = "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{";
  CHECK(write(fd, part, strlen(part)) == (ssize_t)strlen(part), "send half a request");
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char junk[256];
  double t0 = al_now();
  ssize_t got = read(fd, junk, sizeof junk);
  double waited = al_now() - t0;
  CHECK(got == 0 && waited > 0.5 && waited < 5, "slow client closed after %.1f s (read %zd)", waited, got);
  close(fd);
  /* a body trickling in (a byte every 0.3 s resets the idle timeout) gets 408 once --request-timeout has passed */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect");
  const char *head = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekrit\r\nContent-Length: 100\r\n\r\n";
  CHECK(write(fd, head, strlen(head)) == (ssize_t)strlen(head), "send a head");
  t0 = al_now();
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  for (int i = 0; i < 20 && poll(&pfd, 1, 300) == 0; i++) CHECK(send(fd, " ", 1, MSG_NOSIGNAL) == 1, "send a byte");
  got = read(fd, junk, sizeof junk - 1);
  waited = al_now() - t0;
  junk[got > 0 ? got : 0] = 0;
  CHECK(got > 0 && strstr(junk, " 408 ") && strstr(junk, "request_timeout") && waited < 4,
        "trickled body: %.1f s, answer %.60s", waited, junk);
  close(fd);
  const char *ok = "{\"prompt\": \"a\", \"max_tokens\": 2}";
  expect_error(b, "/v1/completions", ok, NULL, 401, "missing key");
  expect_error(b, "/v1/completions", ok, "Authorization: Bearer wrong", 401, "wrong key");
  expect_error(b, "/v1/models", NULL, "Authorization: Bearer sekrit2", 401, "wrong key on models");
  expect_error(b, "/tokenize", "{\"prompt\": \"a\"}", NULL, 401, "missing key on tokenize");
  long st;
  json_t *r = http(b, "/v1/completions", ok, "Authorization: Bearer sekrit", &st, NULL);
  CHECK(st == 200, "right key: %ld", st);
  json_decref(r);
  r = http(b, "/health", NULL, NULL, &st, NULL);
  CHECK(st == 200, "health needs no key");
  json_decref(r);
  char *big = al_malloc(4096);
  snprintf(big, 4096, "{\"prompt\": \"%03000d\"}", 1);
  expect_error(b, "/v1/completions", big, "Authorization: Bearer sekrit", 413, "body over the limit");
  expect_error(b, "/v1/completions", big, "Transfer-Encoding: chunked\r\nAuthorization: Bearer sekrit", 413, "chunked body over the limit");
  free(big);
  r = http(b, "/v1/completions", ok, "Authorization: Bearer sekrit", &st, NULL);
  CHECK(st == 200, "serving after 413: %ld", st);
  json_decref(r);
  al_server_stop(s);
}

/* One raw exchange on a fresh connection: sends req[0..len), reads until the
 * server closes; returns the bytes read into out (NUL-terminated). */
static size_t raw(int port, const char *req, size_t len, char *out, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t got = 0;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
    for (size_t sent = 0; sent < len;) {
      ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
      if (w <= 0) break;
      sent += (size_t)w;
    }
    for (ssize_t r; got + 1 < cap && (r = read(fd, out + got, cap - 1 - got)) > 0;) got += (size_t)r;
  }
  out[got] = 0;
  close(fd);
  return got;
}

/* A raw response: its status, one status line, and an OpenAI-shaped JSON error body. */
static void expect_raw_error(int port, const char *req, size_t len, int want, const char *what) {
  static char out[1 << 16];
  raw(port, req, len, out, sizeof out);
  int status = 0;
  sscanf(out, "HTTP/1.%*d %d", &status);
  const char *body = strstr(out, "\r\n\r\n");
  json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
  int lines = !strncmp(out, "HTTP/1.", 7); /* a response sent twice shows a second status line */
  for (const char *p = out; (p = strstr(p, "\r\nHTTP/1.")); p++) lines++;
  CHECK(status == want && lines == 1 && json_is_string(json_object_get(json_object_get(j, "error"), "message")),
        "%s: status %d (want %d), %d status lines, body %.80s", what, status, want, lines, body ? body + 4 : "(none)");
  json_decref(j);
}

/* Protocol edges: errors made before a request reaches the routes are JSON
 * too, HEAD works, a 413 comes after the body has been read, the Bearer
 * scheme is case-insensitive, an empty key is refused. */
static void test_protocol(const char *model_dir) {
  al_serve_cfg c;
  al_serve_defaults(&c);
  c.model_dir = model_dir;
  c.port = 0;
  c.workers = 1;
  c.max_body = 4096;
  c.api_key = "";
  al_server *s;
  al_err err;
  CHECK(al_server_start(&s, &c, &err) == -1 && strstr(err.msg, "empty"), "an empty API key is refused");
  c.api_key = "sekrit";
  CHECK_OK(al_server_start(&s, &c, &err), err);
  int port = al_server_port(s);
  char b[128];
  snprintf(b, sizeof b, "http://127.0.0.1:%d", port);
  long st;
  json_t *r = http(b, "/v1/models", NULL, "Authorization: bearer sekrit", &st, NULL);
  CHECK(st == 200, "'bearer' (lower case) is the Bearer scheme: %ld", st);
  json_decref(r);
  expect_error(b, "/v1/models", NULL, "Authorization: Bearer ", 401, "an empty key never authenticates");
  expect_error(b, "/v1/models", NULL, "Authorization: Bearer sekri", 401, "a prefix of the key");
#define REQ(s) s, strlen(s)
  static char out[4096];
  raw(port, REQ("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"), out, sizeof out);
  CHECK(!strncmp(out, "HTTP/1.1 200", 12), "HEAD /health: %.40s", out);
  expect_raw_error(port, REQ("GET /health HTTP/1.1\r\n\r\n"), 400, "HTTP/1.1 without Host");
  expect_raw_error(port, REQ("GET /health HTTP/2.0\r\nHost: x\r\n\r\n"), 505, "HTTP/2.0");
  expect_raw_error(port, REQ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n{}"), 400,
                   "a bad Content-Length");
  expect_raw_error(port, REQ("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400,
                   "conflicting Content-Lengths");
  expect_raw_error(port, REQ("GARBAGE\r\n\r\n"), 400, "a malformed request line");
  al_buf big = {0};
  al_buf_printf(&big, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
  for (int i = 0; i < 20000; i++) al_buf_append(&big, "a", 1);
  al_buf_append(&big, "\r\n\r\n", 4);
  expect_raw_error(port, big.data, big.len, 431, "a head over 16 KiB");
  /* a client that sends its whole body before reading (as Python's do) reads the 413 */
  big.len = 0;
  al_buf_printf(&big, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekrit\r\nContent-Length: 3000000\r\n\r\n");
  for (int i = 0; i < 3000000; i++) al_buf_append(&big, " ", 1);
  expect_raw_error(port, big.data, big.len, 413, "413 after a 3 MB body");
  al_buf_free(&big);
  r = http(b, "/health", NULL, NULL, &st, NULL);
  CHECK(st == 200, "serving after the protocol edges");
  json_decref(r);
  al_server_stop(s);
#undef REQ
}

/* Streamed with echo: the chunks hold the prompt's text as well as its log-probs. */
static void test_stream_echo(void) {
  const char *body = "{\"prompt\": \"Hello, world\", \"max_tokens\": 6, \"temperature\": 0, \"echo\": true, \"logprobs\": 1%s}";
  char plain[256], streamed[256];
  snprintf(plain, sizeof plain, body, "");
  snprintf(streamed, sizeof streamed, body, ", \"stream\": true");
  long st;
  json_t *r = post("/v1/completions", plain, &st);
  const char *want = choice_text(r, 0);
  al_buf raw_sse, text = {0};
  json_decref(http(base, "/v1/completions", streamed, NULL, &st, &raw_sse));
  al_buf_append(&raw_sse, "", 1);
  size_t ntok = 0;
  for (char *line = strtok(raw_sse.data, "\n"); line; line = strtok(NULL, "\n")) {
    json_t *ev = strncmp(line, "data: {", 7) ? NULL : json_loads(line + 6, 0, NULL);
    json_t *ch = json_array_get(json_object_get(ev, "choices"), 0);
    const char *t = json_string_value(json_object_get(ch, "text"));
    if (t) al_buf_append(&text, t, strlen(t));
    ntok += json_array_size(json_object_get(json_object_get(ch, "logprobs"), "tokens"));
    json_decref(ev);
  }
  al_buf_append(&text, "", 1);
  size_t want_tok = json_array_size(json_object_get(json_object_get(json_array_get(json_object_get(r, "choices"), 0), "logprobs"), "tokens"));
  CHECK(want && !strncmp(want, "Hello, world", 12) && !strcmp(text.data, want) && ntok == want_tok,
        "streamed echo text '%s' (%zu tokens) equals the plain '%s' (%zu tokens)", text.data, ntok, want ? want : "", want_tok);
  al_buf_free(&text);
  al_buf_free(&raw_sse);
  json_decref(r);
}

static void *hammer(void *a) {
  job_arg *j = a;
  char *b = (char *)j->body;
  json_t *r = http(b, "/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 100, \"temperature\": 1}", NULL, &j->status, NULL);
  json_t *e = json_object_get(r, "error");
  j->text = e ? al_strdup(json_string_value(json_object_get(e, "type"))) : NULL;
  json_decref(r);
  return NULL;
}

/* 1 worker (8 sequences) + a queue of 1: a burst of 24 gets some 503s. */
static void test_queue_full(const char *model_dir) {
  al_serve_cfg c;
  al_serve_defaults(&c);
  c.model_dir = model_dir;
  c.port = 0;
  c.workers = 1;
  c.queue = 1;
  al_server *s;
  al_err err;
  CHECK_OK(al_server_start(&s, &c, &err), err);
  char b[128];
  snprintf(b, sizeof b, "http://127.0.0.1:%d", al_server_port(s));
  pthread_t th[24];
  job_arg args[24];
  for (int i = 0; i < 24; i++) {
    args[i].body = b;
    pthread_create(&th[i], NULL, hammer, &args[i]);
  }
  int ok = 0, busy = 0, other = 0;
  for (int i = 0; i < 24; i++) {
    pthread_join(th[i], NULL);
    if (args[i].status == 200) ok++;
    else if (args[i].status == 503 && args[i].text && !strcmp(args[i].text, "server_error")) busy++;
    else other++;
    free(args[i].text);
  }
  CHECK(ok >= 1 && busy >= 1 && other == 0, "burst: %d ok, %d 503, %d other", ok, busy, other);
  long st;
  json_t *r = http(b, "/health", NULL, NULL, &st, NULL);
  CHECK(st == 200, "serving after the burst");
  json_decref(r);
  al_server_stop(s);
}

int main(void) {
  al_set_threads(1); /* the oracles are tiny; idle OpenMP threads would only spin against the server's */
  curl_global_init(CURL_GLOBAL_ALL);
  char *dir = test_tmpdir("serve_http");
  char *mdir = al_path_join(dir, "tiny");
  al_err err;
  CHECK_OK(serve_make_model(mdir, &err), err);
  CHECK_OK(al_model_load_dir(&LM, mdir, &err), err);
  CHECK_OK(al_tok_load(&TOK, mdir, &err), err);
  al_decoder *d = al_decoder_new(&LM);
  al_serve_cfg c;
  al_serve_defaults(&c);
  c.model_dir = mdir;
  c.port = 0;
  c.workers = 2;
  al_server *s;
  CHECK_OK(al_server_start(&s, &c, &err), err);
  snprintf(base, sizeof base, "http://127.0.0.1:%d", al_server_port(s));
  test_echo(d);
  test_lm_eval(d);
  test_greedy_and_stop(d);
  test_determinism();
  test_chat_and_tokenizer();
  test_bad_requests();
  test_stream_echo();
  al_server_stop(s);
  test_limits(mdir);
  test_protocol(mdir);
  test_queue_full(mdir);
  al_decoder_free(d);
  al_model_free(&LM);
  al_tok_free(TOK);
  free(mdir);
  free(dir);
  curl_global_cleanup();
  return test_summary();
}
