/* SFT examples from JSONL in TRL's formats (the rules are in
 * include/alab/sft.h): each line is parsed, checked, cut into parts with a
 * loss flag (prompt 0, completion 1; a rendered chat's assistant spans 1),
 * and each part tokenized on its own and appended; the first bad line stops
 * the read with FILE:LINE and what was wrong. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alab/sft.h"

typedef struct {
  const char *where;
  long line;
  const al_chat_template *tmpl;
  const al_tok *tok;
  int all_tokens;
  al_sft_data *d;
  size_t cap, lcap;
  al_err *err;
} reader;

static int bad(const reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const reader *r, const char *fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return al_fail(r->err, "%s:%ld: %s", r->where, r->line, what);
}

const char *al_sft_form_name(int form) {
  static const char *names[] = {"prompt-completion", "messages", "conversational prompt-completion", "text"};
  return form >= 0 && form < AL_SFT_NFORMS ? names[form] : "?";
}

static const char *kind(const json_t *v) {
  static const char *k[] = {"an object", "a list", "a string", "an integer", "a number", "true", "false", "null"};
  return v ? k[json_typeof(v)] : "nothing";
}

/* Appends text[0..len) as tokens whose loss flag is `loss` (or 1 with all_tokens). */
static int part(reader *r, const char *text, size_t len, int loss) {
  al_sft_data *d = r->d;
  size_t n0 = d->off[d->n + 1], n = n0; /* the open example ends at off[n + 1] */
  if (len && al_tok_encode(r->tok, text, len, 0, &d->ids, &n, &r->cap, r->err) < 0) return al_fail_prefix(r->err, "%s:%ld", r->where, r->line);
  if (n + 1 > r->cap) d->ids = al_realloc(d->ids, sizeof *d->ids * (r->cap = 2 * (n + 1)));
  if (r->lcap < r->cap) d->loss = al_realloc(d->loss, r->lcap = r->cap);
  memset(d->loss + n0, loss || r->all_tokens, n - n0);
  d->off[d->n + 1] = n;
  return 0;
}

/* Checks a list of {"role", "content"} messages into msgs (borrowed strings). */
static int messages(reader *r, const json_t *list, const char *field, al_chat_msg **msgs, int *n) {
  if (!json_is_array(list)) return bad(r, "\"%s\" must be a list of messages, got %s", field, kind(list));
  size_t len = json_array_size(list);
  *msgs = al_calloc(len + 1, sizeof **msgs);
  *n = (int)len;
  for (size_t i = 0; i < len; i++) {
    const json_t *m = json_array_get(list, i), *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
    if (!json_is_object(m)) return bad(r, "\"%s\"[%zu] must be a {\"role\", \"content\"} object, got %s", field, i, kind(m));
    if (!json_is_string(role)) return bad(r, "\"%s\"[%zu].role must be a string, got %s", field, i, kind(role));
    if (!json_is_string(content)) return bad(r, "\"%s\"[%zu].content must be a string, got %s", field, i, kind(content));
    (*msgs)[i] = (al_chat_msg){json_string_value(role), json_string_value(content)};
  }
  return 0;
}

/* A rendered chat: its assistant spans with loss 1, the rest 0. */
static int chat(reader *r, const al_chat_msg *m, int n) {
  al_chat_span *sp = NULL;
  int ns = 0, rc = 0;
  size_t len, at = 0;
  char *text = al_chat_render(r->tmpl, m, n, 0, &len, &sp, &ns);
  for (int i = 0; i < ns && !rc; i++) {
    if (sp[i].end <= at) continue;
    size_t s = sp[i].start > at ? sp[i].start : at;
    rc = part(r, text + at, s - at, 0) || part(r, text + s, sp[i].end - s, 1);
    at = sp[i].end;
  }
  if (!rc) rc = part(r, text + at, len - at, 0);
  free(text), free(sp);
  return rc;
}

static int line_example(reader *r, const json_t *o, int *form, int *last_assistant) {
  const json_t *pj = json_object_get(o, "prompt"), *cj = json_object_get(o, "completion"), *mj = json_object_get(o, "messages"),
               *tj = json_object_get(o, "text");
  al_chat_msg *pm = NULL, *cm = NULL, *all = NULL;
  int np = 0, nc = 0, rc = 0;
  *last_assistant = 1;
  if (mj || (json_is_array(pj) && cj)) {
    if (!r->tmpl) return bad(r, "conversational examples (lists of messages) need the model's chat template to render them");
    if (mj) {
      *form = AL_SFT_MESSAGES;
      if (!(rc = messages(r, mj, "messages", &pm, &np))) {
        if (np == 0) rc = bad(r, "\"messages\" is empty");
        else {
          *last_assistant = !strcmp(pm[np - 1].role ? pm[np - 1].role : "user", "assistant");
          rc = chat(r, pm, np);
        }
      }
    } else {
      *form = AL_SFT_CONV_PROMPT_COMPLETION;
      if (!(rc = messages(r, pj, "prompt", &pm, &np)) && !(rc = messages(r, cj, "completion", &cm, &nc))) {
        if (nc == 0) rc = bad(r, "\"completion\" is empty");
        else {
          size_t pl, fl;
          all = al_malloc(sizeof *all * (size_t)(np + nc));
          memcpy(all, pm, sizeof *all * np), memcpy(all + np, cm, sizeof *all * nc);
          char *ptext = al_chat_render(r->tmpl, pm, np, 1, &pl, NULL, NULL), *full = al_chat_render(r->tmpl, all, np + nc, 0, &fl, NULL, NULL);
          if (pl > fl || memcmp(ptext, full, pl)) rc = bad(r, "the chat template renders the prompt differently before \"completion\" than alone");
          else rc = part(r, full, pl, 0) || part(r, full + pl, fl - pl, 1);
          free(ptext), free(full);
        }
      }
    }
  } else if (pj || cj) {
    *form = AL_SFT_PROMPT_COMPLETION;
    if (!cj) return bad(r, "field \"completion\" is missing (\"prompt\" needs one)");
    if (!pj) return bad(r, "field \"prompt\" is missing (\"completion\" needs one)");
    if (!json_is_string(pj) || !json_is_string(cj)) {
      const char *f = !json_is_string(pj) ? "prompt" : "completion";
      return bad(r, "field \"%s\" must be a string or a list of messages, got %s", f, kind(!json_is_string(pj) ? pj : cj));
    }
    if (!json_string_length(cj)) return bad(r, "field \"completion\" is empty");
    rc = part(r, json_string_value(pj), json_string_length(pj), 0) || part(r, json_string_value(cj), json_string_length(cj), 1);
  } else if (tj) {
    *form = AL_SFT_TEXT;
    if (!json_is_string(tj)) return bad(r, "field \"text\" must be a string, got %s", kind(tj));
    if (!json_string_length(tj)) return bad(r, "field \"text\" is empty");
    rc = part(r, json_string_value(tj), json_string_length(tj), 1);
  } else
    rc = bad(r, "an example needs \"prompt\" and \"completion\", \"messages\" or \"text\"");
  free(pm), free(cm), free(all);
  return rc;
}

void al_sft_data_free(al_sft_data *d) {
  free(d->ids), free(d->loss), free(d->off), free(d->line);
  memset(d, 0, sizeof *d);
}

int al_sft_read_buf(const char *data, size_t len, const char *where, const al_chat_template *tmpl, const al_tok *tok,
                    int all_tokens, al_sft_data *d, al_err *err) {
  memset(d, 0, sizeof *d);
  int eot = al_tok_eot(tok);
  if (eot < 0) return al_fail(err, "the tokenizer has no end-of-text token, which SFT ends examples with");
  reader r = {where, 0, tmpl, tok, all_tokens, d, 0, 0, err};
  long cap = 16;
  d->off = al_calloc((size_t)cap + 1, sizeof *d->off);
  d->line = al_malloc(sizeof *d->line * (size_t)cap);
  for (size_t at = 0; at < len;) {
    const char *line = data + at, *nl = memchr(line, '\n', len - at);
    size_t n = nl ? (size_t)(nl - line) : len - at, k = 0;
    at += n + (nl != NULL);
    r.line++;
    while (k < n && strchr(" \t\r", line[k])) k++;
    if (k == n) continue;
    json_error_t je;
    json_t *o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
    int form = 0, last_asst = 1, rc;
    d->off[d->n + 1] = d->off[d->n];
    if (!o) rc = bad(&r, "invalid JSON at column %d: %s", je.column, je.text);
    else if (!json_is_object(o)) rc = bad(&r, "an example must be a JSON object, got %s", kind(o));
    else rc = line_example(&r, o, &form, &last_asst);
    json_decref(o);
    size_t start = d->off[d->n];
    if (!rc && !(rc = part(&r, "", 0, 0))) { /* end-of-text closes the example (part made room for it) */
      size_t e = d->off[d->n + 1];
      d->ids[e] = eot, d->loss[e] = (uint8_t)(last_asst || all_tokens), d->off[d->n + 1] = e + 1;
      long learn = 0;
      for (size_t i = start + 1; i <= e; i++) learn += d->loss[i]; /* the first token is never predicted */
      if (!learn) rc = bad(&r, "the example has no token to learn from");
      d->loss_tokens += learn;
    }
    if (rc) {
      al_sft_data_free(d);
      return -1;
    }
    d->by_form[form]++;
    d->line[d->n++] = r.line;
    if (d->n == cap) {
      d->off = al_realloc(d->off, sizeof *d->off * (size_t)(2 * cap + 1));
      d->line = al_realloc(d->line, sizeof *d->line * (size_t)(2 * cap));
      cap *= 2;
    }
    d->off[d->n + 1] = d->off[d->n];
  }
  if (d->n == 0) {
    al_sft_data_free(d);
    return al_fail(err, "%s: no examples (%ld lines, all blank)", where, r.line);
  }
  return 0;
}

int al_sft_read(const char *path, const al_chat_template *tmpl, const al_tok *tok, int all_tokens, al_sft_data *d,
                al_err *err) {
  char *data;
  size_t len;
  if (al_read_file(path, &data, &len, err)) return -1;
  int rc = al_sft_read_buf(data, len, path, tmpl, tok, all_tokens, d, err);
  free(data);
  return rc;
}
