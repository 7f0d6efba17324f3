/* Every JSON body `alab serve` sends, in OpenAI's shapes:
 *
 * completion: {id, object: "text_completion", created, model,
 *   choices: [{index, text, logprobs, finish_reason}], usage}
 * legacy logprobs (completions): {tokens, token_logprobs, top_logprobs,
 *   text_offset}; an echoed prompt's first token has no log-prob (null in
 *   token_logprobs and top_logprobs); each top_logprobs entry maps token ->
 *   log-prob for the top k and always includes the chosen token, so
 *   lm-evaluation-harness reads is_greedy as lp == max(top.values()).
 * chat: {id, object: "chat.completion", ..., choices: [{index, message:
 *   {role, content}, logprobs: {content: [{token, logprob, bytes,
 *   top_logprobs: [{token, logprob, bytes}]}]}, finish_reason}], usage}
 * streaming: "data: CHUNK\n\n" events (object "text_completion" or
 *   "chat.completion.chunk", chat deltas {role} then {content}), then a last
 *   chunk with "choices": [] and the usage, then "data: [DONE]\n\n".
 * Log-probs are those of the model (log-softmax of its logits), whatever the
 * temperature. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "serve/serve_internal.h"

json_t *sv_error_json(const sv_error *e) {
  return json_pack("{s:{s:s, s:s, s:s?, s:s?}}", "error", "message", e->msg, "type", e->type ? e->type : "invalid_request_error",
                   "param", e->param, "code", e->code);
}

json_t *sv_model_json(const sv_model *m) {
  const al_model_config *c = &m->model.cfg;
  return json_pack("{s:s, s:s, s:I, s:s, s:I, s:i, s:i, s:i, s:i, s:i, s:i}", "id", m->id, "object", "model", "created",
                   (json_int_t)m->created, "owned_by", "alab", "parameters", (json_int_t)m->model.nparams, "context_length",
                   c->n_positions, "max_model_len", c->n_positions, "vocab_size", c->vocab_size, "n_layer", c->n_layer,
                   "n_head", c->n_head, "n_embd", c->n_embd);
}

json_t *sv_models_json(const sv_model *m) { return json_pack("{s:s, s:[o]}", "object", "list", "data", sv_model_json(m)); }

json_t *sv_tokenizer_info_json(const sv_model *m) {
  json_t *eos = m->eot >= 0 ? sv_json_token(m, m->eot) : json_null();
  json_t *eos_id = m->eot >= 0 ? json_integer(m->eot) : json_null();
  /* GPT-2 uses <|endoftext|> as both beginning and end of text */
  return json_pack("{s:s, s:o, s:o, s:O, s:O, s:n, s:i, s:i, s:i, s:s}", "tokenizer_class", "GPT2Tokenizer", "eos_token", eos,
                   "eos_token_id", eos_id, "bos_token", eos, "bos_token_id", eos_id, "pad_token", "vocab_size",
                   al_tok_vocab_size(m->tok), "model_max_length", m->model.cfg.n_positions, "max_model_len",
                   m->model.cfg.n_positions, "chat_template", m->chat.jinja);
}

static json_t *lp_value(float x) { return isnan(x) ? json_null() : json_real(isinf(x) ? -1e30 : (double)x); }

/* Legacy log-probs of tokens [t0, t1) of c. */
static json_t *legacy_logprobs(const sv_model *m, const sv_choice *c, int t0, int t1) {
  json_t *toks = json_array(), *lps = json_array(), *tops = json_array(), *offs = json_array();
  long *co = al_malloc((size_t)(t1 - t0 + 1) * sizeof(long));
  sv_char_offsets(c->text.data, c->text.len, c->off + t0, t1 - t0, co);
  for (int t = t0; t < t1; t++) {
    json_array_append_new(toks, sv_json_token(m, c->ids[t]));
    json_array_append_new(lps, lp_value(c->lp[t]));
    json_array_append_new(offs, json_integer(co[t - t0]));
    if (isnan(c->lp[t])) {
      json_array_append_new(tops, json_null());
      continue;
    }
    json_t *top = json_object();
    for (int j = 0; j < c->k; j++) {
      int32_t id = c->top_id[(size_t)t * c->k + j];
      if (id < 0) continue;
      json_t *key = sv_json_token(m, id);
      json_object_set_new(top, json_string_value(key), lp_value(c->top_lp[(size_t)t * c->k + j]));
      json_decref(key);
    }
    json_t *key = sv_json_token(m, c->ids[t]); /* the chosen token is always listed */
    if (!json_object_get(top, json_string_value(key))) json_object_set_new(top, json_string_value(key), lp_value(c->lp[t]));
    json_decref(key);
    json_array_append_new(tops, top);
  }
  free(co);
  return json_pack("{s:o, s:o, s:o, s:o}", "tokens", toks, "token_logprobs", lps, "top_logprobs", tops, "text_offset", offs);
}

static json_t *token_entry(const sv_model *m, int32_t id, float lp) {
  size_t n = 0;
  const char *s = al_tok_token(m->tok, id, &n);
  json_t *bytes = json_array();
  for (size_t i = 0; s && i < n; i++) json_array_append_new(bytes, json_integer((unsigned char)s[i]));
  return json_pack("{s:o, s:o, s:o}", "token", sv_json_token(m, id), "logprob", lp_value(lp), "bytes", bytes);
}

/* Chat log-probs of tokens [t0, t1) of c. */
static json_t *chat_logprobs(const sv_model *m, const sv_choice *c, int t0, int t1) {
  json_t *content = json_array();
  for (int t = t0; t < t1; t++) {
    json_t *e = token_entry(m, c->ids[t], c->lp[t]), *top = json_array();
    for (int j = 0; j < c->k; j++)
      if (c->top_id[(size_t)t * c->k + j] >= 0)
        json_array_append_new(top, token_entry(m, c->top_id[(size_t)t * c->k + j], c->top_lp[(size_t)t * c->k + j]));
    json_object_set_new(e, "top_logprobs", top);
    json_array_append_new(content, e);
  }
  return json_pack("{s:o}", "content", content);
}

static json_t *logprobs_of(const sv_job *j, const sv_choice *c, int t0, int t1) {
  if (j->req.logprobs < 0) return json_null();
  return j->req.kind == SV_CHAT ? chat_logprobs(j->m, c, t0, t1) : legacy_logprobs(j->m, c, t0, t1);
}

static json_t *usage_json(const sv_job *j) {
  long long prompt = 0, gen = 0;
  for (int i = 0; i < j->req.nprompts; i++) prompt += j->req.prompt_len[i];
  for (int i = 0; i < j->nchoices; i++) gen += j->choices[i].generated;
  return json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)prompt, "completion_tokens", (json_int_t)gen,
                   "total_tokens", (json_int_t)(prompt + gen));
}

static json_t *envelope(const sv_job *j, const char *object) {
  return json_pack("{s:s, s:s, s:I, s:s}", "id", j->id, "object", object, "created", (json_int_t)j->created, "model", j->m->id);
}

json_t *sv_response_json(const sv_job *j) {
  int chat = j->req.kind == SV_CHAT;
  json_t *r = envelope(j, chat ? "chat.completion" : "text_completion"), *choices = json_array();
  for (int i = 0; i < j->nchoices; i++) {
    const sv_choice *c = &j->choices[i];
    json_t *text = sv_json_text(c->text.data + (chat ? c->gen_start : 0), c->text.len - (chat ? c->gen_start : 0));
    json_t *ch = chat ? json_pack("{s:i, s:{s:s, s:o}}", "index", c->index, "message", "role", "assistant", "content", text)
                      : json_pack("{s:i, s:o}", "index", c->index, "text", text);
    json_object_set_new(ch, "logprobs", logprobs_of(j, c, 0, c->ntok));
    json_object_set_new(ch, "finish_reason", json_string(c->finish ? c->finish : "length"));
    json_array_append_new(choices, ch);
  }
  json_object_set_new(r, "choices", choices);
  json_object_set_new(r, "usage", usage_json(j));
  return r;
}

void sv_sse_event(al_buf *b, json_t *obj) {
  char *s = json_dumps(obj, JSON_COMPACT);
  al_buf_printf(b, "data: %s\n\n", s);
  free(s);
  json_decref(obj);
}

void sv_stream_choice(sv_job *j, sv_choice *c) {
  int chat = j->req.kind == SV_CHAT;
  size_t bytes;
  int toks;
  sv_choice_releasable(c, &j->req, &bytes, &toks);
  if (bytes < c->sent_bytes) bytes = c->sent_bytes;
  if (toks < c->sent_tok) toks = c->sent_tok;
  int fin = c->finish && bytes == c->text.len && toks == c->ntok;
  if (chat && !c->role_sent) {
    json_t *ev = envelope(j, "chat.completion.chunk");
    json_object_set_new(ev, "choices", json_pack("[{s:i, s:{s:s, s:s}, s:n, s:n}]", "index", c->index, "delta", "role",
                                                 "assistant", "content", "", "logprobs", "finish_reason"));
    sv_sse_event(&j->sse, ev);
    c->role_sent = 1;
  }
  if (bytes == c->sent_bytes && toks == c->sent_tok && (!fin || c->finish_sent)) return;
  json_t *text = sv_json_text(c->text.data + c->sent_bytes, bytes - c->sent_bytes);
  json_t *ch = chat ? json_pack("{s:i, s:{s:o}}", "index", c->index, "delta", "content", text)
                    : json_pack("{s:i, s:o}", "index", c->index, "text", text);
  json_object_set_new(ch, "logprobs", toks > c->sent_tok ? logprobs_of(j, c, c->sent_tok, toks) : json_null());
  json_object_set_new(ch, "finish_reason", fin ? json_string(c->finish) : json_null());
  json_t *ev = envelope(j, chat ? "chat.completion.chunk" : "text_completion");
  json_object_set_new(ev, "choices", json_pack("[o]", ch));
  sv_sse_event(&j->sse, ev);
  c->sent_bytes = bytes;
  c->sent_tok = toks;
  if (fin) c->finish_sent = 1;
}

void sv_stream_finish(sv_job *j) {
  if (j->failed) {
    sv_sse_event(&j->sse, sv_error_json(&j->err));
    al_buf_append(&j->sse, "data: [DONE]\n\n", 14);
    return;
  }
  json_t *ev = envelope(j, j->req.kind == SV_CHAT ? "chat.completion.chunk" : "text_completion");
  json_object_set_new(ev, "choices", json_array());
  json_object_set_new(ev, "usage", usage_json(j));
  sv_sse_event(&j->sse, ev);
  al_buf_append(&j->sse, "data: [DONE]\n\n", 14);
}
