/* Request bodies of the completion and tokenizer endpoints: JSON in, a
 * checked sv_request out. Every field is checked for type and range and
 * every problem is a 4xx sv_error naming the field (OpenAI's "param").
 * Unknown fields are ignored, as OpenAI-compatible servers do. */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include "alab/json.h"
#include "serve/serve_internal.h"

int sv_fail(sv_error *e, int status, const char *code, const char *param, const char *fmt, ...) {
  e->status = status;
  e->type = status == 401 ? "authentication_error" : status >= 500 ? "server_error" : "invalid_request_error";
  e->code = code;
  e->param = param;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return -1;
}

static json_t *opt(const json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return v && !json_is_null(v) ? v : NULL;
}

static int opt_bool(const json_t *o, const char *k, int *out, sv_error *e) {
  json_t *v = opt(o, k);
  if (!v) return 0;
  if (!json_is_boolean(v)) return sv_fail(e, 400, "invalid_type", k, "'%s' must be a boolean", k);
  *out = json_is_true(v);
  return 0;
}

/* An integer (or an integral number) in [lo, hi]. */
static int opt_int(const json_t *o, const char *k, long long lo, long long hi, long long *out, sv_error *e) {
  json_t *v = opt(o, k);
  if (!v) return 0;
  long long x;
  if (json_is_integer(v)) x = json_integer_value(v);
  else if (json_is_real(v) && fabs(json_real_value(v)) < 9e18 && json_real_value(v) == floor(json_real_value(v)))
    x = (long long)json_real_value(v);
  else return sv_fail(e, 400, "invalid_type", k, "'%s' must be an integer", k);
  if (x < lo || x > hi) return sv_fail(e, 400, "invalid_value", k, "'%s' must be between %lld and %lld (got %lld)", k, lo, hi, x);
  *out = x;
  return 0;
}

static int opt_num(const json_t *o, const char *k, double lo, double hi, double *out, sv_error *e) {
  json_t *v = opt(o, k);
  if (!v) return 0;
  if (!json_is_number(v)) return sv_fail(e, 400, "invalid_type", k, "'%s' must be a number", k);
  double x = json_number_value(v);
  if (!(x >= lo && x <= hi)) return sv_fail(e, 400, "invalid_value", k, "'%s' must be between %g and %g (got %g)", k, lo, hi, x);
  *out = x;
  return 0;
}

static int check_model(const json_t *root, const sv_model *m, sv_error *e) {
  json_t *v = opt(root, "model");
  if (!v) return 0;
  if (!json_is_string(v)) return sv_fail(e, 400, "invalid_type", "model", "'model' must be a string");
  if (json_string_length(v) != strlen(m->id) || memcmp(json_string_value(v), m->id, json_string_length(v)) != 0)
    return sv_fail(e, 404, "model_not_found", "model", "the model '%.200s' does not exist (this server serves '%.200s')",
                   json_string_value(v), m->id);
  return 0;
}

/* A cheap pass over the body before jansson sees it: parsing costs about 60
 * bytes per JSON value (a 4 MB body of "[]," is 1.4M values), so the values
 * (counted as the '[', '{', ',' and ':' outside strings, an upper bound) and
 * the nesting are bounded first. */
static int prescan(const char *s, size_t len, long max_values, sv_error *e) {
  long values = 0;
  int depth = 0, in_str = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\') i++;
      else if (c == '"') in_str = 0;
      continue;
    }
    if (c == '"') in_str = 1;
    else if (c == '[' || c == '{') {
      values++;
      if (++depth > SV_MAX_DEPTH)
        return sv_fail(e, 400, "invalid_json", NULL, "the request body nests deeper than %d levels", SV_MAX_DEPTH);
    } else if (c == ']' || c == '}') depth--;
    else if (c == ',' || c == ':') values++;
    if (values > max_values)
      return sv_fail(e, 400, "too_many_values", NULL,
                     "the request body has more than %ld JSON values (this model's limit: prompts x context + 4096)",
                     max_values);
  }
  return 0;
}

static int parse_body(const char *body, size_t len, long max_values, json_t **root, sv_error *e) {
  al_err err;
  if (prescan(body, len, max_values, e)) return -1;
  if (al_json_parse(body, len, "request body", root, &err)) return sv_fail(e, 400, "invalid_json", NULL, "%s", err.msg);
  if (!json_is_object(*root)) {
    json_decref(*root);
    *root = NULL;
    return sv_fail(e, 400, "invalid_type", NULL, "the request body must be a JSON object");
  }
  return 0;
}

/* Token ids of a JSON array, each in [0, vocab) and known to the tokenizer. */
static int token_array(const json_t *a, const sv_model *m, const char *param, int32_t **ids, int *n, sv_error *e) {
  size_t na = json_array_size(a);
  *ids = al_malloc((na ? na : 1) * sizeof(int32_t));
  *n = 0;
  for (size_t i = 0; i < na; i++) {
    json_t *v = json_array_get(a, i);
    size_t tl;
    if (!json_is_integer(v)) return sv_fail(e, 400, "invalid_type", param, "'%s' token %zu is not an integer", param, i);
    json_int_t x = json_integer_value(v);
    if (x < 0 || x >= m->vocab || !al_tok_token(m->tok, (int32_t)x, &tl))
      return sv_fail(e, 400, "invalid_value", param, "'%s' token id %lld at index %zu is out of range [0, %d)", param,
                     (long long)x, i, m->vocab);
    (*ids)[(*n)++] = (int32_t)x;
  }
  return 0;
}

static int encode(const sv_model *m, const char *s, size_t len, int allow_special, int32_t **ids, int *n,
                  const char *param, sv_error *e) {
  size_t cnt = 0, cap = 0;
  al_err err;
  *ids = NULL;
  /* a prompt (special tokens allowed) is a whole text: the tokenizer's BOS first, if it adds one; a chat
   * message list is the template's text, which writes its own */
  if ((allow_special ? al_tok_encode_start : al_tok_encode)(m->tok, s, len, allow_special, ids, &cnt, &cap, &err) < 0)
    return sv_fail(e, 400, "invalid_value", param, "'%s': %s", param, err.msg);
  if (cnt > (size_t)1 << 30) return sv_fail(e, 400, "invalid_value", param, "'%s' is too long", param);
  *n = (int)cnt;
  return 0;
}

static void add_prompt(sv_request *r, int32_t *ids, int n) {
  r->prompts = al_realloc(r->prompts, (size_t)(r->nprompts + 1) * sizeof *r->prompts);
  r->prompt_len = al_realloc(r->prompt_len, (size_t)(r->nprompts + 1) * sizeof *r->prompt_len);
  r->prompts[r->nprompts] = ids;
  r->prompt_len[r->nprompts++] = n;
}

/* prompt: a string, a list of strings, a list of token ids, or a list of
 * lists of token ids. */
static int parse_prompt(const json_t *root, const sv_model *m, sv_request *r, sv_error *e) {
  json_t *p = json_object_get(root, "prompt");
  int32_t *ids = NULL;
  int n = 0;
  if (!p || json_is_null(p)) return sv_fail(e, 400, "missing_field", "prompt", "'prompt' is required");
  if (json_is_string(p)) {
    int rc = encode(m, json_string_value(p), json_string_length(p), 1, &ids, &n, "prompt", e);
    add_prompt(r, ids, n);
    return rc;
  }
  if (!json_is_array(p) || json_array_size(p) == 0)
    return sv_fail(e, 400, "invalid_type", "prompt",
                   "'prompt' must be a string, a list of strings, a list of token ids or a list of such lists");
  json_t *first = json_array_get(p, 0);
  if (json_is_integer(first)) {
    int rc = token_array(p, m, "prompt", &ids, &n, e);
    add_prompt(r, ids, n);
    return rc;
  }
  size_t np = json_array_size(p);
  if (np > SV_MAX_CHOICES) return sv_fail(e, 400, "invalid_value", "prompt", "at most %d prompts per request", SV_MAX_CHOICES);
  for (size_t i = 0; i < np; i++) {
    json_t *v = json_array_get(p, i);
    int rc;
    if (json_is_string(v)) rc = encode(m, json_string_value(v), json_string_length(v), 1, &ids, &n, "prompt", e);
    else if (json_is_array(v)) rc = token_array(v, m, "prompt", &ids, &n, e);
    else
      return sv_fail(e, 400, "invalid_type", "prompt", "'prompt' item %zu must be a string or a list of token ids", i);
    add_prompt(r, ids, n);
    if (rc) return -1;
  }
  return 0;
}

/* A message's content: a string or a list of {"type": "text", "text": ...}
 * parts (joined), appended to t NUL-ended; NULL content is "". */
static int message_content(const json_t *content, size_t i, al_buf *t, sv_error *e) {
  if (json_is_string(content)) al_buf_append(t, json_string_value(content), json_string_length(content));
  else if (json_is_array(content)) {
    for (size_t j = 0; j < json_array_size(content); j++) {
      json_t *part = json_array_get(content, j), *type = json_object_get(part, "type"), *text = json_object_get(part, "text");
      if (!json_is_string(type) || strcmp(json_string_value(type), "text") != 0 || !json_is_string(text))
        return sv_fail(e, 400, "invalid_type", "messages", "message %zu: content parts must be {\"type\": \"text\", \"text\": string}", i);
      al_buf_append(t, json_string_value(text), json_string_length(text));
    }
  } else if (content && !json_is_null(content))
    return sv_fail(e, 400, "invalid_type", "messages", "message %zu: 'content' must be a string or a list of text parts", i);
  if (memchr(t->data ? t->data : "", 0, t->len))
    return sv_fail(e, 400, "invalid_value", "messages", "message %zu: 'content' holds a NUL character", i);
  al_buf_append(t, "", 1);
  return 0;
}

/* The model's chat template (alab/chat_template.h) over the messages, with
 * the generation prompt; encoded without special tokens. A role is a plain
 * word (no '|', '<', '>' or newline, so it cannot forge a turn). */
static int parse_messages(const json_t *root, const sv_model *m, sv_request *r, sv_error *e) {
  json_t *msgs = json_object_get(root, "messages");
  if (!json_is_array(msgs) || json_array_size(msgs) == 0)
    return sv_fail(e, 400, "invalid_type", "messages", "'messages' must be a non-empty list of {role, content} objects");
  size_t n = json_array_size(msgs);
  al_chat_msg *cm = al_calloc(n, sizeof *cm);
  al_buf *content = al_calloc(n, sizeof *content);
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    json_t *msg = json_array_get(msgs, i), *role = json_object_get(msg, "role");
    if (!json_is_object(msg) || !json_is_string(role) || json_string_length(role) == 0 || json_string_length(role) > 64 ||
        strpbrk(json_string_value(role), "|<>\n") || strlen(json_string_value(role)) != json_string_length(role))
      rc = sv_fail(e, 400, "invalid_type", "messages", "message %zu needs a 'role' string (a plain word)", i);
    else rc = message_content(json_object_get(msg, "content"), i, &content[i], e);
    cm[i] = (al_chat_msg){json_string_value(role), content[i].data};
  }
  if (!rc) {
    size_t len;
    char *text = al_chat_render(&m->chat, cm, (int)n, 1, &len, NULL, NULL);
    int32_t *ids = NULL;
    int nids = 0;
    rc = encode(m, text, len, 0, &ids, &nids, "messages", e);
    free(text);
    add_prompt(r, ids, nids);
  }
  for (size_t i = 0; i < n; i++) al_buf_free(&content[i]);
  free(content);
  free(cm);
  return rc;
}

static int parse_stop(const json_t *root, sv_request *r, sv_error *e) {
  json_t *s = opt(root, "stop");
  if (!s) return 0;
  size_t ns = json_is_string(s) ? 1 : json_is_array(s) ? json_array_size(s) : 0;
  if (!json_is_string(s) && !json_is_array(s))
    return sv_fail(e, 400, "invalid_type", "stop", "'stop' must be a string or a list of strings");
  if (ns > SV_MAX_STOP) return sv_fail(e, 400, "invalid_value", "stop", "at most %d stop strings", SV_MAX_STOP);
  for (size_t i = 0; i < ns; i++) {
    json_t *v = json_is_string(s) ? s : json_array_get(s, i);
    if (!json_is_string(v)) return sv_fail(e, 400, "invalid_type", "stop", "'stop' item %zu must be a string", i);
    size_t l = json_string_length(v);
    if (l == 0 || l > SV_MAX_STOP_LEN)
      return sv_fail(e, 400, "invalid_value", "stop", "stop strings must have 1 to %d bytes", SV_MAX_STOP_LEN);
    r->stop[r->nstop] = al_malloc(l + 1);
    memcpy(r->stop[r->nstop], json_string_value(v), l + 1);
    r->stop_len[r->nstop++] = l;
  }
  return 0;
}

/* What must fit the context of ctx tokens: the prompt and max_tokens.
 * A request that echoes its prompt (scoring) is never cut: a prompt longer
 * than the context, or one with max_tokens that does not fit, is 400
 * context_length_exceeded, as vLLM does. Any other request is fitted as the
 * local provider fits it (so `alab eval` gets one result locally and over
 * HTTP): max_tokens is cut to ctx - 1, then the prompt loses its first
 * tokens until prompt + max_tokens <= ctx (llama.cpp's left truncation).
 * Without max_tokens: 16 for completions, what fits (at least 16) for chat. */
static int limit_context(sv_request *r, sv_kind kind, int ctx, const sv_limits *lim, long long *max_tokens, int given,
                         sv_error *e) {
  int longest = 0;
  for (int i = 0; i < r->nprompts; i++) {
    if (r->prompt_len[i] == 0)
      return sv_fail(e, 400, "invalid_value", "prompt",
                     "prompt %d is empty (lm-evaluation-harness sends empty prompts when max_gen_toks >= max_length: set "
                     "max_gen_toks below max_length in --model_args)", i);
    if (r->prompt_len[i] > lim->max_prompt_tokens)
      return sv_fail(e, 400, "context_length_exceeded", "prompt", "prompt %d has %d tokens; this server's limit is %d (--max-prompt-tokens)",
                     i, r->prompt_len[i], lim->max_prompt_tokens);
    if (r->prompt_len[i] > longest) longest = r->prompt_len[i];
  }
  if (!given) *max_tokens = kind == SV_COMPLETION ? 16 : ctx - longest > 16 ? ctx - longest : 16;
  if (*max_tokens > lim->max_tokens) *max_tokens = lim->max_tokens;
  if (r->echo) {
    if (longest + *max_tokens <= ctx) return 0;
    if (!given && longest <= ctx) {
      *max_tokens = ctx - longest;
      return 0;
    }
    return sv_fail(e, 400, "context_length_exceeded", longest > ctx ? "prompt" : "max_tokens",
                   "this model's context is %d tokens, but %lld were requested (%d in the prompt, %lld to generate); an "
                   "echoed prompt is never truncated: send at most %d tokens (lm-evaluation-harness: max_length=%d in "
                   "--model_args; alab eval: --api-tokenizer DIR truncates as the local provider does)",
                   ctx, longest + *max_tokens, longest, *max_tokens, ctx - (int)*max_tokens, ctx);
  }
  if (*max_tokens > ctx - 1) *max_tokens = ctx - 1;
  int keep = ctx - (int)*max_tokens;
  for (int i = 0; i < r->nprompts; i++)
    if (r->prompt_len[i] > keep) {
      int drop = r->prompt_len[i] - keep;
      memmove(r->prompts[i], r->prompts[i] + drop, (size_t)keep * sizeof(int32_t));
      r->prompt_len[i] = keep;
      r->truncated += drop;
    }
  return 0;
}

static int parse_fields(const json_t *root, sv_kind kind, const sv_model *m, const sv_limits *lim, uint64_t fresh_seed,
                        sv_request *r, sv_error *e) {
  int ctx = m->model.cfg.n_positions;
  long long max_tokens = -1, n = 1, seed = 0, top_k = 0, logprobs = -1;
  double temperature = 1.0, top_p = 1.0;
  if (check_model(root, m, e)) return -1;
  if (kind == SV_COMPLETION ? parse_prompt(root, m, r, e) : parse_messages(root, m, r, e)) return -1;
  if (opt_int(root, "max_tokens", 0, lim->max_tokens, &max_tokens, e)) return -1;
  if (kind == SV_CHAT && opt_int(root, "max_completion_tokens", 0, lim->max_tokens, &max_tokens, e)) return -1;
  if (opt_num(root, "temperature", 0.0, 2.0, &temperature, e) || opt_num(root, "top_p", 0.0, 1.0, &top_p, e) ||
      opt_int(root, "top_k", -1, 1 << 30, &top_k, e) || opt_int(root, "n", 1, SV_MAX_CHOICES, &n, e) ||
      opt_int(root, "seed", INT64_MIN, INT64_MAX, &seed, e) || opt_bool(root, "stream", &r->stream, e) || parse_stop(root, r, e))
    return -1;
  if (top_p <= 0.0) return sv_fail(e, 400, "invalid_value", "top_p", "'top_p' must be in (0, 1]");
  json_t *so = opt(root, "stream_options");
  if (so && !json_is_object(so)) return sv_fail(e, 400, "invalid_type", "stream_options", "'stream_options' must be an object");
  if (kind == SV_COMPLETION) {
    if (opt_bool(root, "echo", &r->echo, e)) return -1;
    json_t *lp = opt(root, "logprobs");
    if (lp && json_is_boolean(lp)) logprobs = json_is_true(lp) ? 0 : -1;
    else if (opt_int(root, "logprobs", 0, 5, &logprobs, e)) return -1;
  } else {
    int want = 0;
    long long top = 0;
    if (opt_bool(root, "logprobs", &want, e) || opt_int(root, "top_logprobs", 0, SV_MAX_TOP, &top, e)) return -1;
    if (want) logprobs = top;
  }
  if (n * r->nprompts > SV_MAX_CHOICES)
    return sv_fail(e, 400, "invalid_value", "n", "prompts x n must be at most %d", SV_MAX_CHOICES);
  if (limit_context(r, kind, ctx, lim, &max_tokens, opt(root, "max_tokens") || (kind == SV_CHAT && opt(root, "max_completion_tokens")),
                    e))
    return -1;
  long long returned = 0; /* a response's size: what it echoes and generates, over all choices */
  for (int i = 0; i < r->nprompts; i++) returned += n * ((r->echo ? r->prompt_len[i] : 0) + max_tokens);
  if (returned > SV_MAX_RETURN)
    return sv_fail(e, 400, "invalid_value", "prompt",
                   "this request would return %lld tokens (prompts x n x (echoed + max_tokens)); at most %d per "
                   "request: send fewer prompts per request", returned, SV_MAX_RETURN);
  r->max_tokens = (int)max_tokens;
  r->n = (int)n;
  r->logprobs = (int)logprobs;
  r->sample.temperature = (float)temperature;
  r->sample.top_p = (float)top_p;
  r->sample.top_k = top_k > 0 ? (int)top_k : 0;
  r->seed = opt(root, "seed") ? (uint64_t)seed : fresh_seed;
  if (kind == SV_CHAT && r->nstop < SV_MAX_STOP && m->chat.stop[0]) { /* where the template ends a turn */
    r->stop[r->nstop] = al_strdup(m->chat.stop);
    r->stop_len[r->nstop++] = strlen(m->chat.stop);
  }
  return 0;
}

int sv_parse_request(const char *body, size_t len, sv_kind kind, const sv_model *m, const sv_limits *lim,
                     uint64_t fresh_seed, sv_request *r, sv_error *e) {
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->logprobs = -1;
  json_t *root;
  if (parse_body(body, len, sv_max_values(m), &root, e)) return -1;
  int rc = parse_fields(root, kind, m, lim, fresh_seed, r, e);
  json_decref(root);
  if (rc) sv_request_free(r);
  return rc;
}

void sv_request_free(sv_request *r) {
  for (int i = 0; i < r->nprompts; i++) free(r->prompts[i]);
  free(r->prompts);
  free(r->prompt_len);
  for (int i = 0; i < r->nstop; i++) free(r->stop[i]);
  memset(r, 0, sizeof *r);
}

int sv_tokenize(const char *body, size_t len, const sv_model *m, json_t **out, sv_error *e) {
  json_t *root;
  if (parse_body(body, len, sv_max_values(m), &root, e)) return -1;
  json_t *p = json_object_get(root, "prompt");
  int special = 1, rc = -1, n = 0;
  int32_t *ids = NULL;
  if (check_model(root, m, e) || opt_bool(root, "add_special_tokens", &special, e)) goto done;
  if (!json_is_string(p)) {
    sv_fail(e, 400, "invalid_type", "prompt", "'prompt' must be a string");
    goto done;
  }
  /* GPT-2 adds no special tokens; <|endoftext|> in the text is recognised (as Hugging Face does) */
  if (encode(m, json_string_value(p), json_string_length(p), 1, &ids, &n, "prompt", e)) goto done;
  json_t *toks = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(toks, json_integer(ids[i]));
  *out = json_pack("{s:o, s:i, s:i}", "tokens", toks, "count", n, "max_model_len", m->model.cfg.n_positions);
  rc = 0;
done:
  free(ids);
  json_decref(root);
  return rc;
}

int sv_detokenize(const char *body, size_t len, const sv_model *m, json_t **out, sv_error *e) {
  json_t *root;
  if (parse_body(body, len, sv_max_values(m), &root, e)) return -1;
  json_t *t = json_object_get(root, "tokens");
  int32_t *ids = NULL;
  int n = 0, rc = -1;
  if (check_model(root, m, e)) goto done;
  if (!json_is_array(t)) {
    sv_fail(e, 400, "invalid_type", "tokens", "'tokens' must be a list of token ids");
    goto done;
  }
  if (token_array(t, m, "tokens", &ids, &n, e)) goto done;
  char *text;
  size_t tl;
  al_err err;
  if (al_tok_decode(m->tok, ids, (size_t)n, &text, &tl, &err)) {
    sv_fail(e, 400, "invalid_value", "tokens", "%s", err.msg);
    goto done;
  }
  *out = json_pack("{s:o}", "prompt", sv_json_text(text, tl));
  free(text);
  rc = 0;
done:
  free(ids);
  json_decref(root);
  return rc;
}

/* For the other endpoints' files (src/serve/classify.c). */
int sv_parse_body(const char *body, size_t len, long max_values, json_t **root, sv_error *e) {
  return parse_body(body, len, max_values, root, e);
}
int sv_check_model(const json_t *root, const sv_model *m, sv_error *e) { return check_model(root, m, e); }
int sv_opt_bool(const json_t *o, const char *k, int *out, sv_error *e) { return opt_bool(o, k, out, e); }
int sv_encode(const sv_model *m, const char *s, size_t len, int allow_special, int32_t **ids, int *n, const char *param,
              sv_error *e) {
  return encode(m, s, len, allow_special, ids, n, param, e);
}
