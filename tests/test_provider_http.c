/* The HTTP provider against a real HTTP server: a libmicrohttpd server on
 * 127.0.0.1 (ephemeral port) that answers /v1/completions like an
 * OpenAI-compatible endpoint, computing log-probs with the engine on a tiny
 * random model. The client must get exactly the local provider's scores (text
 * and token-id modes), hand-checked fixed log-probs, retries on 429/503,
 * a clear error when the endpoint gives no prompt log-probs or a token
 * straddles the boundary, generation/chat with stop strings, concurrency, and
 * never leak the API key. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "alab/eval.h"
#include "alab/json.h"
#include "alab/provider.h"
#include "test.h"
#include "test_provider_model.h"

enum { MODE_ENGINE, MODE_FIXED, MODE_NOLOGPROBS, MODE_NOECHO, MODE_FUZZ };

static struct {
  const al_model *m;
  const al_tok *tok;
  int mode, fail_next, fail_status, slow;
  int inflight, max_inflight;
  char auth[256];
  json_t *last; /* the last request body */
  al_rng rng;   /* MODE_FUZZ: mutations of FIXED */
  pthread_mutex_t mu;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static char *score_response(const json_t *req) {
  const json_t *pr = json_object_get(req, "prompt");
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  al_err err;
  if (json_is_string(pr)) al_tok_encode(S.tok, json_string_value(pr), json_string_length(pr), 0, &ids, &n, &cap, &err);
  else {
    n = json_array_size(pr);
    ids = malloc((n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = (int32_t)json_integer_value(json_array_get(pr, i));
  }
  float *lp = malloc((n + 1) * sizeof *lp), *top_lp = malloc((n + 1) * sizeof *top_lp);
  int32_t *top_id = malloc((n + 1) * sizeof *top_id);
  al_decoder *d = al_decoder_new(S.m);
  al_sequence_logprobs(d, ids, (int)n, lp, NULL, 1, top_id, top_lp, &err);
  al_decoder_free(d);
  json_t *toks = json_array(), *tl = json_array(), *off = json_array(), *top = json_array();
  long o = 0;
  for (size_t i = 0; i < n; i++) {
    char t[16];
    if (ids[i] >= 32 && ids[i] < 127) snprintf(t, sizeof t, "%c", ids[i]);
    else snprintf(t, sizeof t, "<%d>", ids[i]);
    json_array_append_new(toks, json_string(t));
    json_array_append_new(off, json_integer(o));
    o += ids[i] < 256 ? ((ids[i] & 0xC0) != 0x80) : 0; /* code points, as OpenAI counts */
    if (i == 0) {
      json_array_append_new(tl, json_null());
      json_array_append_new(top, json_null());
      continue;
    }
    json_array_append_new(tl, json_real(lp[i]));
    char k[16];
    snprintf(k, sizeof k, "<%d>", top_id[i]);
    json_array_append_new(top, json_pack("{s:f}", k, (double)top_lp[i]));
  }
  json_t *r = json_pack("{s:s, s:[{s:s, s:i, s:{s:o, s:o, s:o, s:o}}]}", "object", "text_completion", "choices", "text",
                        json_is_string(pr) ? json_string_value(pr) : "", "index", 0, "logprobs", "tokens", toks,
                        "token_logprobs", tl, "text_offset", off, "top_logprobs", top);
  free(ids), free(lp), free(top_lp), free(top_id);
  char *s = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(r);
  return s;
}

/* "Hello world!": tokens Hello | world | !, hand-checked values */
static const char *FIXED =
    "{\"choices\":[{\"text\":\"Hello world!\",\"logprobs\":{\"tokens\":[\"Hello\",\" world\",\"!\"],"
    "\"token_logprobs\":[null,-1.25,-0.5],\"text_offset\":[0,5,11],"
    "\"top_logprobs\":[null,{\" world\":-1.25},{\"?\":-0.25,\"!\":-0.5}]}}]}";

static char *answer(const char *url, const json_t *req, int *status) {
  *status = 200;
  if (!strcmp(url, "/v1/chat/completions"))
    return strdup("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"Hi there.\\nBye\"}}]}");
  if (strcmp(url, "/v1/completions")) {
    *status = 404;
    return strdup("{\"error\":{\"message\":\"no such endpoint\"}}");
  }
  if (!json_is_true(json_object_get(req, "echo")))
    return strdup("{\"choices\":[{\"text\":\" Paris\\nQ: next\"}]}");
  if (S.mode == MODE_FIXED) return strdup(FIXED);
  if (S.mode == MODE_FUZZ) { /* 1-4 random byte edits of a valid response */
    char *b = strdup(FIXED);
    size_t n = strlen(b);
    static const char alpha[] = "{}[]\",:0123456789.-enul ";
    pthread_mutex_lock(&S.mu);
    int k = 1 + (int)al_rng_below(&S.rng, 4);
    for (int i = 0; i < k; i++) {
      size_t at = al_rng_below(&S.rng, n);
      if (al_rng_below(&S.rng, 4)) b[at] = alpha[al_rng_below(&S.rng, sizeof alpha - 1)];
      else memmove(b + at, b + at + 1, n - at), n--;
    }
    pthread_mutex_unlock(&S.mu);
    return b;
  }
  if (S.mode == MODE_NOLOGPROBS) return strdup("{\"choices\":[{\"text\":\"x\",\"logprobs\":null}]}");
  if (S.mode == MODE_NOECHO)
    return strdup("{\"choices\":[{\"text\":\"!\",\"logprobs\":{\"tokens\":[\"!\"],\"token_logprobs\":[-0.1],"
                  "\"text_offset\":[12],\"top_logprobs\":[{\"!\":-0.1}]}}]}");
  return score_response(req);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **con_cls) {
  al_buf *b = *con_cls;
  if (!b) {
    *con_cls = calloc(1, sizeof(al_buf));
    return MHD_YES;
  }
  if (*size) {
    al_buf_append(b, data, *size);
    *size = 0;
    return MHD_YES;
  }
  pthread_mutex_lock(&S.mu);
  int fail = S.fail_next > 0 ? (S.fail_next--, S.fail_status) : 0;
  if (++S.inflight > S.max_inflight) S.max_inflight = S.inflight;
  const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  snprintf(S.auth, sizeof S.auth, "%s", auth ? auth : "");
  pthread_mutex_unlock(&S.mu);
  if (S.slow) usleep(30000);
  json_error_t je;
  json_t *req = json_loadb(b->data ? b->data : "", b->len, 0, &je);
  int status;
  char *body;
  if (fail) status = fail, body = strdup("{\"error\":{\"message\":\"overloaded, try later\"}}");
  else if (!req) status = 400, body = strdup("{\"error\":{\"message\":\"bad json\"}}");
  else body = answer(url, req, &status);
  pthread_mutex_lock(&S.mu);
  S.inflight--;
  if (req) {
    json_decref(S.last);
    S.last = json_incref(req);
  }
  pthread_mutex_unlock(&S.mu);
  json_decref(req);
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t) {
  al_buf *b = *con_cls;
  if (b) al_buf_free(b), free(b);
  *con_cls = NULL;
}

static const char *PROMPTS[] = {"The cat sat on the", "Once upon a time, there was a little girl named Lily. She lived in a small", "Q"};
static const char *CONTS[] = {" mat", " hat.", " dog ran", " 42"};

int main(void) {
  al_err err;
  al_model m;
  al_tok *tok;
  if (tiny_model(&m, &tok, 128, 7)) return 1;
  S.m = &m;
  S.tok = tok;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                                          handler, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
                                          completed, NULL, MHD_OPTION_END);
  CHECK(d != NULL, "server starts");
  if (!d) return test_summary();
  int port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
  char base[64];
  snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);
  char *dir = test_tmpdir("provider_http");
  CHECK_OK(al_tok_save(tok, dir, &err), err);

  enum { NQ = 12 };
  al_score_req q[NQ];
  for (int i = 0; i < NQ; i++) q[i] = (al_score_req){PROMPTS[i / 4], CONTS[i % 4]};
  al_local_cfg lc = al_local_cfg_default();
  lc.reuse_cache = 0;
  lc.threads = 1;
  al_provider *local, *http, *httpt;
  CHECK_OK(al_provider_local_wrap(&local, &m, tok, "tiny", &lc, &err), err);
  al_score_res want[NQ], got[NQ], gott[NQ];
  CHECK_OK(local->score(local, q, NQ, want, &err), err);

  al_http_cfg hc = al_http_cfg_default();
  hc.base_url = base;
  hc.model = "tiny-remote";
  hc.api_key = "sk-secret-123";
  hc.backoff_s = 0.01;
  hc.concurrency = 4;
  hc.timeout_s = 20;
  CHECK_OK(al_provider_http(&http, &hc, &err), err);
  hc.tokenizer = dir;
  CHECK_OK(al_provider_http(&httpt, &hc, &err), err);
  hc.tokenizer = NULL;

  /* 1. exactly the local provider's scores, text and token-id modes */
  S.mode = MODE_ENGINE;
  CHECK_OK(http->score(http, q, NQ, got, &err), err);
  CHECK_OK(httpt->score(httpt, q, NQ, gott, &err), err);
  for (int i = 0; i < NQ; i++) {
    int same = got[i].ntokens == want[i].ntokens && gott[i].ntokens == want[i].ntokens;
    for (int k = 0; same && k < want[i].ntokens; k++)
      same = got[i].token_lp[k] == want[i].token_lp[k] && gott[i].token_lp[k] == want[i].token_lp[k];
    CHECK(same && got[i].logprob == want[i].logprob && gott[i].logprob == want[i].logprob,
          "req %d: http %.9g / ids %.9g vs local %.9g", i, got[i].logprob, gott[i].logprob, want[i].logprob);
    CHECK(got[i].is_greedy == want[i].is_greedy && gott[i].is_greedy == want[i].is_greedy, "req %d greedy", i);
  }
  CHECK(!strcmp(S.auth, "Bearer sk-secret-123"), "API key sent as a Bearer token");
  CHECK(!strcmp(json_string_value(json_object_get(S.last, "model")), "tiny-remote") &&
            json_integer_value(json_object_get(S.last, "max_tokens")) == 0 &&
            json_is_true(json_object_get(S.last, "echo")) && json_integer_value(json_object_get(S.last, "logprobs")) == 1,
        "the lm-evaluation-harness scoring request");
  al_score_res_free(got, NQ);
  al_score_res_free(gott, NQ);
  /* an empty prompt: token-id mode starts from <|endoftext|> like the local provider */
  {
    al_score_req e = {"", " start"};
    al_score_res a, b;
    CHECK_OK(local->score(local, &e, 1, &a, &err), err);
    CHECK_OK(httpt->score(httpt, &e, 1, &b, &err), err);
    CHECK(a.logprob == b.logprob, "empty prompt %.9g vs %.9g", a.logprob, b.logprob);
    al_score_res_free(&a, 1);
    al_score_res_free(&b, 1);
    CHECK_FAILS_WITH(http->score(http, &e, 1, &b, &err), err, "non-empty prompt");
  }

  /* 2. hand-checked fixed log-probs: continuation " world!" = tokens " world", "!" */
  S.mode = MODE_FIXED;
  {
    al_score_req f = {"Hello", " world!"};
    al_score_res r;
    CHECK_OK(http->score(http, &f, 1, &r, &err), err);
    CHECK(r.ntokens == 2 && r.logprob == -1.75 && r.token_lp[0] == -1.25f && r.token_lp[1] == -0.5f,
          "fixed: n %d sum %g", r.ntokens, r.logprob);
    CHECK(r.is_greedy == 0, "'!' is not the top token");
    al_score_res_free(&r, 1);
    al_score_req g = {"Hello world", "!"};
    CHECK_OK(http->score(http, &g, 1, &r, &err), err);
    CHECK(r.ntokens == 1 && r.logprob == -0.5, "last token only: %g", r.logprob);
    al_score_res_free(&r, 1);
    al_score_req s = {"Hello w", "orld!"}; /* " world" straddles the boundary */
    CHECK_FAILS_WITH(http->score(http, &s, 1, &r, &err), err, "straddle");
    CHECK(strstr(err.msg, "--api-tokenizer") != NULL, "suggests token-id mode: %s", err.msg);
    al_score_req w = {"Hello wor", "ld"}; /* the continuation lies inside " world": still a straddle, not the server's fault */
    CHECK_FAILS_WITH(http->score(http, &w, 1, &r, &err), err, "straddle");
    CHECK(strstr(err.msg, "--api-tokenizer") != NULL, "suggests token-id mode: %s", err.msg);
  }

  /* 2b. fuzz: mutated responses must give a score or an error, never a crash */
  {
    S.mode = MODE_FUZZ;
    al_rng_seed(&S.rng, 3);
    al_score_req f = {"Hello", " world!"};
    int ok = 0, bad = 0;
    al_http_cfg fc = hc;
    fc.max_retries = 0; /* a body that is not JSON would be retried (with a fresh mutation) */
    al_provider *fz;
    CHECK_OK(al_provider_http(&fz, &fc, &err), err);
    for (int it = 0; it < 600; it++) {
      al_score_res r;
      if (!fz->score(fz, &f, 1, &r, &err)) {
        ok++;
        CHECK(r.ntokens >= 1 && r.token_lp != NULL, "fuzz: a score has tokens");
        al_score_res_free(&r, 1);
      } else bad++;
    }
    CHECK(ok > 10 && bad > 10, "fuzz: %d scored, %d rejected", ok, bad);
    al_provider_free(fz);
  }

  /* 3. endpoints without prompt log-probs: a clear error, not a score */
  al_score_res r1;
  S.mode = MODE_NOLOGPROBS;
  CHECK_FAILS_WITH(http->score(http, q, 1, &r1, &err), err, "returned no prompt log-probs");
  S.mode = MODE_NOECHO;
  al_score_req hw = {"Hello", " world!"};
  CHECK_FAILS_WITH(http->score(http, &hw, 1, &r1, &err), err, "returned no prompt log-probs");
  CHECK_FAILS_WITH(httpt->score(httpt, q, 1, &r1, &err), err, "returned no prompt log-probs");

  /* 4. retries with backoff on 503 and 429; give up after max_retries */
  S.mode = MODE_FIXED;
  long retries0, retries1;
  al_provider_http_requests(http, &retries0);
  S.fail_status = 503;
  S.fail_next = 2;
  CHECK_OK(http->score(http, &hw, 1, &r1, &err), err);
  al_score_res_free(&r1, 1);
  S.fail_status = 429;
  S.fail_next = 3;
  CHECK_OK(http->score(http, &hw, 1, &r1, &err), err);
  al_score_res_free(&r1, 1);
  al_provider_http_requests(http, &retries1);
  CHECK(retries1 - retries0 == 5, "retries %ld", retries1 - retries0);
  S.fail_status = 503;
  S.fail_next = 100;
  CHECK_FAILS_WITH(http->score(http, &hw, 1, &r1, &err), err, "failed after 6 attempts: HTTP 503: overloaded, try later");
  CHECK(!strstr(err.msg, "sk-secret"), "no key in errors");
  S.fail_next = 0;
  S.fail_status = 400; /* not retried */
  S.fail_next = 1;
  al_provider_http_requests(http, &retries0);
  CHECK_FAILS_WITH(http->score(http, &hw, 1, &r1, &err), err, "HTTP 400");
  al_provider_http_requests(http, &retries1);
  CHECK(retries1 == retries0, "400 is not retried");
  S.fail_next = 0;

  /* 5. concurrency: up to 4 requests in flight */
  S.mode = MODE_ENGINE;
  S.slow = 1;
  S.max_inflight = 0;
  CHECK_OK(http->score(http, q, NQ, got, &err), err);
  al_score_res_free(got, NQ);
  S.slow = 0;
  CHECK(S.max_inflight >= 2 && S.max_inflight <= 4, "max in flight %d", S.max_inflight);

  /* 6. generation and chat, stop strings applied */
  al_gen_cfg g = al_gen_cfg_default();
  const char *stops[1] = {"\n"};
  g.stop = stops;
  g.nstop = 1;
  g.max_tokens = 7;
  char *outs[2];
  const char *const gp[2] = {"Q: capital of France?\nA:", "Q: again?\nA:"};
  CHECK_OK(http->generate(http, gp, 2, &g, outs, &err), err);
  CHECK(!strcmp(outs[0], " Paris") && !strcmp(outs[1], " Paris"), "generate '%s'", outs[0]);
  free(outs[0]), free(outs[1]);
  CHECK(json_integer_value(json_object_get(S.last, "max_tokens")) == 7 &&
            !strcmp(json_string_value(json_array_get(json_object_get(S.last, "stop"), 0)), "\n"),
        "generation request fields");
  al_chat_msg msg[2] = {{"system", "Be brief."}, {"user", "Hello?"}};
  char *reply;
  CHECK_OK(http->chat(http, msg, 2, &g, &reply, &err), err);
  CHECK(!strcmp(reply, "Hi there."), "chat '%s'", reply);
  free(reply);
  CHECK(json_array_size(json_object_get(S.last, "messages")) == 2, "chat messages sent");

  /* 7. a whole evaluation over HTTP equals the local one; no key or URL in results */
  {
    char path[600], out1[600], out2[600];
    snprintf(path, sizeof path, "%s/task.csv", dir);
    const char *csv = "prompt,classes,answer_index\n\"The cat sat on the\",\"[' mat', ' hat', ' dog']\",0\n"
                      "\"Once, a girl\",\"[' ran', ' sat']\",1\n";
    al_write_file_atomic(path, csv, strlen(csv), &err);
    al_task t;
    CHECK_OK(al_task_load(&t, path, "auto", &err), err);
    al_eval_cfg ec = al_eval_cfg_default();
    snprintf(out1, sizeof out1, "%s/local", dir);
    snprintf(out2, sizeof out2, "%s/http", dir);
    al_eval_result a, b;
    ec.out_dir = out1;
    CHECK_OK(al_eval_task(local, &t, &ec, &a, &err), err);
    ec.out_dir = out2;
    CHECK_OK(al_eval_task(http, &t, &ec, &b, &err), err);
    CHECK(al_eval_metric(&a, "loss")->mean == al_eval_metric(&b, "loss")->mean, "eval loss equal over HTTP");
    char *res, rp[700];
    size_t len;
    snprintf(rp, sizeof rp, "%s/results.json", out2);
    CHECK_OK(al_read_file(rp, &res, &len, &err), err);
    CHECK(res && !strstr(res, "sk-secret") && !strstr(res, "127.0.0.1") && strstr(res, "tiny-remote"),
          "results.json has the model name but no key or URL");
    free(res);
    al_task_free(&t);
    /* a generation task: the server answers " Paris\nQ: next"; the row's stop cuts at the newline */
    snprintf(path, sizeof path, "%s/gen.jsonl", dir);
    const char *gen = "{\"prompt\":\"Q: capital of France?\\nA:\",\"target\":\"Paris\",\"stop\":\"\\n\"}\n"
                      "{\"prompt\":\"Q: capital of England?\\nA:\",\"targets\":[\"London\",\"Londres\"],\"stop\":\"\\n\"}\n";
    al_write_file_atomic(path, gen, strlen(gen), &err);
    CHECK_OK(al_task_load(&t, path, "auto", &err), err);
    ec.out_dir = NULL;
    CHECK_OK(al_eval_task(http, &t, &ec, &b, &err), err);
    CHECK(al_eval_metric(&b, "accuracy")->mean == 0.5 && al_eval_metric(&b, "error")->mean == 0.5,
          "generation accuracy %g", al_eval_metric(&b, "accuracy")->mean);
    t.match = AL_MATCH_REGEX; /* "P.r" matches " Paris", "^Lon" matches neither */
    free(t.ex[0].targets[0]);
    t.ex[0].targets[0] = strdup("P.r");
    CHECK_OK(al_eval_task(http, &t, &ec, &b, &err), err);
    CHECK(al_eval_metric(&b, "accuracy")->mean == 0.5, "regex accuracy");
    al_task_free(&t);
    /* the reversal CSV through chat: per-direction accuracy (the reply never names the parent) */
    snprintf(path, sizeof path, "%s/celebs.csv", dir);
    const char *cel = "child,parent,parent_type\nTom Cruise,Mary Lee Pfeiffer,mother\nAnn,Hi there,father\n";
    al_write_file_atomic(path, cel, strlen(cel), &err);
    CHECK_OK(al_task_load(&t, path, "auto", &err), err);
    ec.chat = 1;
    CHECK_OK(al_eval_task(http, &t, &ec, &b, &err), err);
    const al_metric *cp = al_eval_metric(&b, "accuracy[child->parent]"), *pc = al_eval_metric(&b, "accuracy[parent->child]");
    CHECK(cp && pc && cp->n == 2 && cp->mean == 0.5 && pc->mean == 0, "reversal per direction: %g %g",
          cp ? cp->mean : -1, pc ? pc->mean : -1);
    al_task_free(&t);
  }

  /* 8. configuration errors and an unreachable server */
  al_provider *bad;
  al_http_cfg nc = hc;
  nc.base_url = NULL;
  CHECK_FAILS_WITH(al_provider_http(&bad, &nc, &err), err, "ALAB_API_BASE");
  nc.base_url = "ftp://x";
  CHECK_FAILS_WITH(al_provider_http(&bad, &nc, &err), err, "http://");
  nc.base_url = base;
  nc.model = "";
  CHECK_FAILS_WITH(al_provider_http(&bad, &nc, &err), err, "ALAB_MODEL");
  al_provider_free(http);
  al_provider_free(httpt);
  MHD_stop_daemon(d);
  nc.model = "x";
  nc.max_retries = 1;
  CHECK_OK(al_provider_http(&bad, &nc, &err), err);
  CHECK_FAILS_WITH(bad->score(bad, &hw, 1, &r1, &err), err, "failed after 2 attempts");
  al_provider_free(bad);

  al_score_res_free(want, NQ);
  al_provider_free(local);
  json_decref(S.last);
  al_model_free(&m);
  al_tok_free(tok);
  free(dir);
  return test_summary();
}
