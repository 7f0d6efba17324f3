/* alab serve, without HTTP: request parsing (every field, every error path
 * with its status), the chat template, stop strings and what may be streamed,
 * UTF-8 handling, and a fuzz of the request parser (mutated bodies never
 * crash it and always end in success or a 4xx error). */
#define _GNU_SOURCE /* memmem */
#include "test.h"
#include <jansson.h>
#include "serve/serve_internal.h"
#include "serve_model.h"

static sv_model M;
static const sv_limits LIM = {.max_prompt_tokens = 100, .max_tokens = 50};

static int parse(const char *body, sv_kind kind, sv_request *r, sv_error *e) {
  memset(e, 0, sizeof *e);
  return sv_parse_request(body, strlen(body), kind, &M, &LIM, 777, r, e);
}

/* Expects a failure with this status and code. */
static void expect_error(const char *body, sv_kind kind, int status, const char *code) {
  sv_request r;
  sv_error e;
  int rc = parse(body, kind, &r, &e);
  CHECK(rc == -1 && e.status == status && e.code && !strcmp(e.code, code), "%s -> rc %d status %d code %s (%s)", body, rc,
        e.status, e.code ? e.code : "-", e.msg);
  if (!rc) sv_request_free(&r);
}

static int encode(const char *s, int32_t **ids) {
  size_t n = 0, cap = 0;
  al_err err;
  *ids = NULL;
  al_tok_encode(M.tok, s, strlen(s), 1, ids, &n, &cap, &err);
  return (int)n;
}

static void test_valid(void) {
  sv_request r;
  sv_error e;
  int32_t *ids;
  int n = encode("Hello world", &ids);
  CHECK(parse("{\"model\": \"tiny\", \"prompt\": \"Hello world\"}", SV_COMPLETION, &r, &e) == 0, "%s", e.msg);
  CHECK(r.nprompts == 1 && r.prompt_len[0] == n && !memcmp(r.prompts[0], ids, n * sizeof *ids), "string prompt tokens");
  CHECK(r.max_tokens == 16 && r.n == 1 && r.logprobs == -1 && r.echo == 0 && r.seed == 777 && r.sample.temperature == 1.0f,
        "defaults: max_tokens %d seed %llu", r.max_tokens, (unsigned long long)r.seed);
  sv_request_free(&r);
  CHECK(parse("{\"prompt\": [\"a\", [1, 2, 3], \"bc\"], \"n\": 3, \"max_tokens\": 0, \"echo\": true, \"logprobs\": 5,"
              "\"temperature\": 0, \"top_p\": 0.5, \"seed\": -5, \"stop\": [\"x\", \"yz\"], \"stream\": true}",
              SV_COMPLETION, &r, &e) == 0,
        "%s", e.msg);
  CHECK(r.nprompts == 3 && r.prompt_len[1] == 3 && r.prompts[1][2] == 3 && r.n == 3 && r.max_tokens == 0 && r.echo &&
            r.logprobs == 5 && r.sample.temperature == 0.0f && r.sample.top_p == 0.5f && r.seed == (uint64_t)-5 &&
            r.nstop == 2 && r.stop_len[1] == 2 && !strcmp(r.stop[1], "yz") && r.stream,
        "all fields");
  sv_request_free(&r);
  CHECK(parse("{\"prompt\": [5, 6], \"logprobs\": true, \"stop\": \"\\n\"}", SV_COMPLETION, &r, &e) == 0, "%s", e.msg);
  CHECK(r.nprompts == 1 && r.prompt_len[0] == 2 && r.logprobs == 0 && r.nstop == 1, "token prompt, logprobs flag");
  sv_request_free(&r);
  /* chat: the documented template, encoded as plain text, and its stop "\n<|" */
  free(ids);
  n = encode("<|system|>\nBe brief.\n<|user|>\nhi there\n<|assistant|>\n", &ids);
  CHECK(parse("{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": "
              "[{\"type\": \"text\", \"text\": \"hi \"}, {\"type\": \"text\", \"text\": \"there\"}]}], \"logprobs\": true,"
              "\"top_logprobs\": 3, \"max_completion_tokens\": 7}",
              SV_CHAT, &r, &e) == 0,
        "%s", e.msg);
  CHECK(r.prompt_len[0] == n && !memcmp(r.prompts[0], ids, n * sizeof *ids), "chat template tokens");
  CHECK(r.logprobs == 3 && r.max_tokens == 7 && r.nstop == 1 && !strcmp(r.stop[0], "\n<|"), "chat fields");
  sv_request_free(&r);
  free(ids);
  /* max_tokens not given: clipped so prompt + generation fit the context (128) */
  char body[2048] = "{\"prompt\": [";
  for (int i = 0; i < 100; i++) strcat(body, i ? ",7" : "7");
  strcat(body, "]}");
  CHECK(parse(body, SV_COMPLETION, &r, &e) == 0 && r.max_tokens == 16, "default 16 fits");
  sv_request_free(&r);
  CHECK(parse(body, SV_CHAT, &r, &e) == -1, "chat needs messages");
}

static void test_errors(void) {
  expect_error("{\"prompt\": \"a\",", SV_COMPLETION, 400, "invalid_json");
  expect_error("[1, 2]", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": \"a\", \"max_tokens\": \"5\"}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": \"a\", \"max_tokens\": -1}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": \"a\", \"max_tokens\": 51}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": \"a\", \"model\": \"gpt-4\"}", SV_COMPLETION, 404, "model_not_found");
  expect_error("{\"prompt\": \"a\", \"model\": 3}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": [1, 320]}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": [[1], [-1]]}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": [1, \"a\"]}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": [[1], 2]}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": []}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": 5}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{}", SV_COMPLETION, 400, "missing_field");
  expect_error("{\"prompt\": \"\"}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": \"a\", \"temperature\": 3}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": \"a\", \"top_p\": 0}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": \"a\", \"n\": 0}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": [\"a\", \"b\"], \"n\": 100}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": \"a\", \"echo\": 1}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": \"a\", \"logprobs\": 6}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": \"a\", \"stop\": 4}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": \"a\", \"stop\": [\"\"]}", SV_COMPLETION, 400, "invalid_value");
  expect_error("{\"prompt\": \"a\", \"stop\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}", SV_COMPLETION, 400,
               "invalid_value");
  expect_error("{\"prompt\": \"a\", \"seed\": 1.5}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"prompt\": \"a\", \"stream_options\": 1}", SV_COMPLETION, 400, "invalid_type");
  expect_error("{\"messages\": []}", SV_CHAT, 400, "invalid_type");
  expect_error("{\"messages\": [{\"content\": \"x\"}]}", SV_CHAT, 400, "invalid_type");
  expect_error("{\"messages\": [{\"role\": \"us|er\", \"content\": \"x\"}]}", SV_CHAT, 400, "invalid_type");
  expect_error("{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", SV_CHAT, 400, "invalid_type");
  expect_error("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", SV_CHAT, 400, "invalid_type");
  expect_error("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_logprobs\": 21}", SV_CHAT, 400, "invalid_value");
  /* length limits: the prompt limit (100) and the context (128) */
  char body[4096] = "{\"prompt\": [";
  for (int i = 0; i < 101; i++) strcat(body, i ? ",7" : "7");
  strcat(body, "]}");
  expect_error(body, SV_COMPLETION, 400, "context_length_exceeded");
  /* an echoed prompt (scoring) that does not fit with max_tokens is refused, never cut */
  strcpy(body, "{\"max_tokens\": 40, \"echo\": true, \"prompt\": [");
  for (int i = 0; i < 90; i++) strcat(body, i ? ",7" : "7");
  strcat(body, "]}");
  expect_error(body, SV_COMPLETION, 400, "context_length_exceeded");
  /* generation is fitted as the local provider fits it: max_tokens <= 127, the prompt cut from the left */
  strcpy(body, "{\"max_tokens\": 40, \"prompt\": [");
  for (int i = 0; i < 90; i++) strcat(body, i == 0 ? "1" : i == 1 ? ",2" : i == 2 ? ",3" : ",7");
  strcat(body, "]}");
  sv_request r;
  sv_error e;
  CHECK(parse(body, SV_COMPLETION, &r, &e) == 0 && r.max_tokens == 40 && r.prompt_len[0] == 88 && r.truncated == 2 &&
            r.prompts[0][0] == 3 && r.prompts[0][1] == 7,
        "generation: 90 + 40 tokens fit 128 by dropping the first 2 (len %d, truncated %ld)", r.prompt_len[0], r.truncated);
  sv_request_free(&r);
  /* a response returns at most SV_MAX_RETURN tokens: 128 echoed prompts of 128 tokens fit, with 1 more each they do not */
  al_buf many = {0};
  al_buf_printf(&many, "{\"echo\": true, \"max_tokens\": %d, \"prompt\": [", 0);
  for (int i = 0; i < 128; i++) {
    al_buf_printf(&many, i ? ",[" : "[");
    for (int k = 0; k < 128; k++) al_buf_printf(&many, k ? ",7" : "7");
    al_buf_printf(&many, "]");
  }
  al_buf_printf(&many, "]}");
  static const sv_limits big = {.max_prompt_tokens = 1000, .max_tokens = 50};
  CHECK(sv_parse_request(many.data, many.len, SV_COMPLETION, &M, &big, 1, &r, &e) == 0, "128 x 128 echoed tokens: %s", e.msg);
  sv_request_free(&r);
  many.data[29] = '1';                /* max_tokens 1 */
  M.model.cfg.n_positions = 256;      /* a longer context (the parser reads only the config) */
  CHECK(sv_parse_request(many.data, many.len, SV_COMPLETION, &M, &big, 1, &r, &e) == -1 && strstr(e.msg, "fewer prompts"),
        "128 x (128 + 1) tokens are refused: %s", e.msg);
  M.model.cfg.n_positions = 128;
  al_buf_free(&many);
  /* an empty prompt names lm-eval's max_gen_toks >= max_length; a model name is compared whole (no NUL cut) */
  CHECK(parse("{\"prompt\": [[]], \"max_tokens\": 4}", SV_COMPLETION, &r, &e) == -1 && strstr(e.msg, "max_gen_toks"),
        "empty prompt: %s", e.msg);
  expect_error("{\"prompt\": \"a\", \"model\": \"tiny\\u0000zz\"}", SV_COMPLETION, 404, "model_not_found");
  /* the body is bounded before jansson builds it: nesting, then the count of values */
  al_buf deep = {0};
  al_buf_printf(&deep, "{\"prompt\": \"a\", \"x\": ");
  for (int i = 0; i < 40; i++) al_buf_append(&deep, "[", 1);
  for (int i = 0; i < 40; i++) al_buf_append(&deep, "]", 1);
  al_buf_append(&deep, "}", 2);
  expect_error(deep.data, SV_COMPLETION, 400, "invalid_json");
  deep.len = 0;
  al_buf_printf(&deep, "{\"prompt\": \"a\", \"x\": [");
  for (long i = 0; i < sv_max_values(&M) + 1; i++) al_buf_append(&deep, i ? ",[]" : "[]", i ? 3 : 2);
  al_buf_append(&deep, "]}", 3);
  expect_error(deep.data, SV_COMPLETION, 400, "too_many_values");
  al_buf_free(&deep);
  /* tokenizer endpoints */
  json_t *out = NULL;
  CHECK(sv_tokenize("{\"prompt\": 3}", 13, &M, &out, &e) == -1 && e.status == 400, "tokenize: prompt must be a string");
  CHECK(sv_detokenize("{\"tokens\": [1, 999]}", 20, &M, &out, &e) == -1 && e.status == 400, "detokenize: range");
  CHECK(sv_detokenize("{\"tokens\": \"x\"}", 15, &M, &out, &e) == -1 && e.status == 400, "detokenize: type");
  CHECK(sv_tokenize("nope", 4, &M, &out, &e) == -1 && !strcmp(e.code, "invalid_json"), "tokenize: invalid JSON");
}

static void test_tokenizer_endpoints(void) {
  json_t *out = NULL;
  sv_error e;
  const char *body = "{\"prompt\": \"Hello<|endoftext|>\", \"add_special_tokens\": false}";
  CHECK(sv_tokenize(body, strlen(body), &M, &out, &e) == 0, "%s", e.msg);
  json_t *toks = json_object_get(out, "tokens");
  size_t n = json_array_size(toks);
  CHECK(n >= 2 && json_integer_value(json_array_get(toks, n - 1)) == M.eot, "<|endoftext|> is the eos id %d", M.eot);
  char dbody[1024];
  char *tj = json_dumps(toks, JSON_COMPACT);
  snprintf(dbody, sizeof dbody, "{\"tokens\": %s}", tj);
  free(tj);
  json_decref(out);
  CHECK(sv_detokenize(dbody, strlen(dbody), &M, &out, &e) == 0, "%s", e.msg);
  CHECK(!strcmp(json_string_value(json_object_get(out, "prompt")), "Hello<|endoftext|>"), "detokenize round trip");
  json_decref(out);
}

static void test_choice(void) {
  sv_request r;
  sv_error e;
  CHECK(parse("{\"prompt\": \"a\", \"stop\": [\"xyz\", \"ab\"]}", SV_COMPLETION, &r, &e) == 0, "%s", e.msg);
  sv_choice c;
  sv_choice_init(&c, 0, -1);
  int32_t *ids;
  int n = encode("hello xy", &ids);
  size_t bytes;
  int toks;
  for (int i = 0; i < n; i++) {
    sv_choice_add(&c, &M, ids[i], NAN, NULL, NULL);
    CHECK(!sv_choice_check_stop(&c, &r), "no stop yet");
  }
  sv_choice_releasable(&c, &r, &bytes, &toks);
  CHECK(bytes <= 6 && toks < n, "'xy' (a start of 'xyz') is held back: %zu bytes, %d tokens", bytes, toks);
  free(ids);
  n = encode("z tail", &ids);
  sv_choice_add(&c, &M, ids[0], NAN, NULL, NULL);
  CHECK(sv_choice_check_stop(&c, &r) && !strcmp(c.finish, "stop"), "stop found across tokens");
  CHECK(c.text.len == 6 && !memcmp(c.text.data, "hello ", 6), "text cut at the stop string: '%.*s'", (int)c.text.len, c.text.data);
  sv_choice_releasable(&c, &r, &bytes, &toks);
  CHECK(bytes == 6 && toks == c.ntok, "all released once finished");
  sv_choice_free(&c);
  free(ids);
  sv_request_free(&r);
  /* UTF-8: "é" split over two byte tokens is held until complete; invalid bytes become U+FFFD */
  CHECK(parse("{\"prompt\": \"a\"}", SV_COMPLETION, &r, &e) == 0, "%s", e.msg);
  sv_choice_init(&c, 0, -1);
  int32_t b1 = -1, b2 = -1;
  for (int id = 0; id < M.vocab; id++) {
    size_t l;
    const char *s = al_tok_token(M.tok, id, &l);
    if (s && l == 1 && (unsigned char)s[0] == 0xC3) b1 = id;
    if (s && l == 1 && (unsigned char)s[0] == 0xA9) b2 = id;
  }
  CHECK(b1 >= 0 && b2 >= 0, "byte tokens exist");
  sv_choice_add(&c, &M, 'a', NAN, NULL, NULL);
  sv_choice_add(&c, &M, b1, NAN, NULL, NULL);
  sv_choice_releasable(&c, &r, &bytes, &toks);
  CHECK(bytes == 1 && toks == 1, "an unfinished character is held (%zu)", bytes);
  sv_choice_add(&c, &M, b2, NAN, NULL, NULL);
  sv_choice_releasable(&c, &r, &bytes, &toks);
  CHECK(bytes == 3 && toks == 3, "released once complete (%zu)", bytes);
  json_t *t = sv_json_text(c.text.data, c.text.len);
  CHECK(!strcmp(json_string_value(t), "a\xc3\xa9"), "valid text kept");
  json_decref(t);
  t = sv_json_token(&M, b1);
  CHECK(!strcmp(json_string_value(t), "bytes:\\xc3"), "a partial token is named by its bytes: %s", json_string_value(t));
  json_decref(t);
  t = sv_json_text("a\xff\xc3" "b", 4);
  CHECK(!strcmp(json_string_value(t), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b"), "invalid bytes replaced");
  json_decref(t);
  size_t offs[3] = {0, 1, 3};
  long co[3];
  sv_char_offsets("a\xc3\xa9z", 4, offs, 3, co);
  CHECK(co[0] == 0 && co[1] == 1 && co[2] == 2, "character offsets %ld %ld %ld", co[0], co[1], co[2]);
  sv_choice_free(&c);
  sv_request_free(&r);
}

/* Random edits of valid bodies: the parser must never crash, and must end in
 * success or a 4xx error (ASan and UBSan catch the rest). */
static void test_fuzz(void) {
  static const char *seeds[] = {
      "{\"model\": \"tiny\", \"prompt\": [\"Hello\", [1, 2, 3]], \"max_tokens\": 3, \"echo\": true, \"logprobs\": 2, "
      "\"stop\": [\"\\n\", \"ab\"], \"n\": 2, \"seed\": 7, \"temperature\": 0.5, \"top_p\": 0.9, \"stream\": false}",
      "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"hi\"}]}], \"top_logprobs\": 2, "
      "\"logprobs\": true, \"max_completion_tokens\": 4, \"stream_options\": {\"include_usage\": true}}",
      "{\"prompt\": [[5, 6, 7], [8, 9]], \"max_tokens\": 1, \"echo\": true, \"logprobs\": 1, \"temperature\": 0}",
  };
  static const char *pieces[] = {"{", "}", "[", "]", ",", ":", "\"", "null", "true", "-1", "1e999", "\\u0000",
                                 "\"prompt\"", "\"max_tokens\"", "\"n\"", "[[", "\xff", "99999999999999999999"};
  al_rng rng;
  al_rng_seed(&rng, 5);
  int ok = 0, bad = 0, wrong = 0;
  char buf[1024];
  for (int it = 0; it < 6000; it++) {
    const char *s = seeds[it % 3];
    size_t n = strlen(s);
    memcpy(buf, s, n);
    int edits = 1 + (int)al_rng_below(&rng, 4);
    for (int k = 0; k < edits; k++) {
      size_t at = al_rng_below(&rng, n + 1);
      int op = (int)al_rng_below(&rng, 4);
      if (op == 0 && n > 0) buf[at < n ? at : n - 1] = (char)al_rng_below(&rng, 256); /* flip */
      else if (op == 1 && at < n) {                                                   /* delete a run */
        size_t len = 1 + al_rng_below(&rng, 8);
        if (at + len > n) len = n - at;
        memmove(buf + at, buf + at + len, n - at - len);
        n -= len;
      } else if (op == 2) { /* insert a JSON piece */
        const char *p = pieces[al_rng_below(&rng, sizeof pieces / sizeof *pieces)];
        size_t pl = strlen(p);
        if (n + pl < sizeof buf) {
          memmove(buf + at + pl, buf + at, n - at);
          memcpy(buf + at, p, pl);
          n += pl;
        }
      } else n = at; /* truncate */
    }
    sv_request r;
    sv_error e = {0};
    int rc = sv_parse_request(buf, n, it % 3 == 1 ? SV_CHAT : SV_COMPLETION, &M, &LIM, 1, &r, &e);
    if (rc == 0) {
      ok++;
      sv_request_free(&r);
    } else if (e.status >= 400 && e.status < 500 && e.msg[0]) bad++;
    else wrong++;
    json_t *out = NULL;
    if (sv_tokenize(buf, n, &M, &out, &e) == 0) json_decref(out);
    if (sv_detokenize(buf, n, &M, &out, &e) == 0) json_decref(out);
  }
  CHECK(wrong == 0, "%d mutated bodies failed without a 4xx error", wrong);
  CHECK(ok > 100 && bad > 1000, "the fuzz reaches both outcomes (%d ok, %d rejected)", ok, bad);
}

/* The gate's request-head check: known heads get their status, and random
 * edits of valid heads never crash it and always end in 0 or 400/413/505
 * with a reason. */
static void test_head_fuzz(void) {
  char msg[200];
  static const struct { const char *head; int status; } known[] = {
      {"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 0},
      {"GET /health HTTP/1.0\r\n\r\n", 0},
      {"GET /health HTTP/1.1\r\n\r\n", 400},
      {"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", 0},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET  /health HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"get /health HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /health HTTP/1.1\r\nno colon\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", 0},
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    int st = sv_check_head(known[i].head, strlen(known[i].head), 4096, msg);
    CHECK(st == known[i].status, "head %zu: status %d (want %d)", i, st, known[i].status);
  }
  al_rng rng;
  al_rng_seed(&rng, 11);
  static const char *pieces[] = {"\r\n", ":", " ", "Host: y\r\n", "Content-Length: ", "99999999999999999999", "HTTP/1.1",
                                 "\x80", "\t", "Transfer-Encoding: x\r\n"};
  int wrong = 0, ok = 0;
  char buf[512];
  for (int it = 0; it < 20000; it++) {
    const char *s = known[it % 2 ? 0 : 5].head;
    size_t n = strlen(s) - 4; /* edit the head without its final empty line, then end it */
    memcpy(buf, s, n);
    for (int k = 0, edits = 1 + (int)al_rng_below(&rng, 3); k < edits; k++) {
      size_t at = al_rng_below(&rng, n + 1);
      int op = (int)al_rng_below(&rng, 3);
      if (op == 0 && n > 0) buf[at < n ? at : n - 1] = (char)al_rng_below(&rng, 256);
      else if (op == 1 && at < n) {
        size_t len = 1 + al_rng_below(&rng, 6);
        if (at + len > n) len = n - at;
        memmove(buf + at, buf + at + len, n - at - len);
        n -= len;
      } else {
        const char *p = pieces[al_rng_below(&rng, sizeof pieces / sizeof *pieces)];
        size_t pl = strlen(p);
        if (n + pl + 5 < sizeof buf) {
          memmove(buf + at + pl, buf + at, n - at);
          memcpy(buf + at, p, pl);
          n += pl;
        }
      }
    }
    char *end = memmem(buf, n, "\r\n\r\n", 4); /* the gate checks the head up to its first empty line */
    if (end) n = (size_t)(end - buf);
    memcpy(buf + n, "\r\n\r\n", 5);
    msg[0] = 0;
    int st = sv_check_head(buf, n + 4, 4096, msg);
    if (st == 0) ok++;
    else if (!((st == 400 || st == 413 || st == 505) && msg[0])) wrong++;
  }
  CHECK(wrong == 0 && ok > 100, "head fuzz: %d accepted, %d with a wrong answer", ok, wrong);
}

int main(void) {
  char *dir = test_tmpdir("serve_unit");
  char *mdir = al_path_join(dir, "tiny");
  al_err err;
  CHECK_OK(serve_make_model(mdir, &err), err);
  CHECK_OK(al_model_load_dir(&M.model, mdir, &err), err);
  CHECK_OK(al_tok_load(&M.tok, mdir, &err), err);
  M.id = al_strdup("tiny");
  M.vocab = al_tok_vocab_size(M.tok);
  M.eot = al_tok_eot(M.tok);
  al_chat_template_default(&M.chat);
  test_valid();
  test_errors();
  test_tokenizer_endpoints();
  test_choice();
  test_fuzz();
  test_head_fuzz();
  sv_model_free(&M);
  free(mdir);
  free(dir);
  return test_summary();
}
