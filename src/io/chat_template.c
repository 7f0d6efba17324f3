/* Chat templates (the shape alab renders is in include/alab/chat_template.h).
 *
 * Reading a template is two steps. First the Jinja source becomes a list of
 * items, applying Jinja's rules as transformers configures them: a single
 * newline at the end of the source is dropped (keep_trailing_newline off);
 * "{%- " / "{{- " / "{#- " strip the whitespace before the tag and " -%}"
 * etc. the whitespace after it; after a {% %} or {# #} tag its first newline
 * is dropped (trim_blocks, unless "+%}"); spaces and tabs between the start
 * of a line and a {% %} or {# #} tag are dropped (lstrip_blocks, unless
 * "{%+"); comments vanish; {{ a + b }} is {{ a }}{{ b }} and a string
 * literal's output is text. Second, the items must be exactly the shape:
 * TEXT0? FOR P? ROLE M? CONTENT Q? ENDFOR (IF_GEN G? ENDIF)?, after the
 * no-op preamble "if not add_generation_prompt is defined / set ... / endif".
 * Inside a tag, tokens are compared, not characters: whitespace and the
 * quote character do not matter, and message.role is message['role']. */
#include <stdlib.h>
#include <string.h>
#include "alab/chat_template.h"
#include "alab/json.h"

const char AL_CHAT_TEMPLATE_DEFAULT[] =
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";
const char AL_CHAT_TEMPLATE_CHATML[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

enum { IT_TEXT, IT_ROLE, IT_CONTENT, IT_FOR, IT_ENDFOR, IT_IF_GEN, IT_ENDIF, IT_IF_UNDEF, IT_SET_FALSE, IT_END };
static const char *const ITEM_NAME[] = {"text", "{{ message['role'] }}", "{{ message['content'] }}",
                                        "{% for message in messages %}", "{% endfor %}", "{% if add_generation_prompt %}",
                                        "{% endif %}", "{% if not add_generation_prompt is defined %}",
                                        "{% set add_generation_prompt = false %}", "the end of the template"};
/* The statements and expressions alab reads, as canonical token strings. */
static const struct { const char *canon; int kind; } KNOWN[] = {
    {"for message in messages", IT_FOR},   {"endfor", IT_ENDFOR},
    {"if add_generation_prompt", IT_IF_GEN}, {"endif", IT_ENDIF},
    {"if not add_generation_prompt is defined", IT_IF_UNDEF}, {"set add_generation_prompt = false", IT_SET_FALSE},
    {"message [ 'role' ]", IT_ROLE},       {"message [ 'content' ]", IT_CONTENT}};

typedef struct { int kind; al_buf text; size_t at; } item;
typedef struct {
  item *v;
  int n, cap;
  const char *src, *where;
  al_err *err;
} reader;

static item *push(reader *r, int kind, size_t at) {
  if (kind == IT_TEXT && r->n && r->v[r->n - 1].kind == IT_TEXT) return &r->v[r->n - 1];
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 16;
    r->v = al_realloc(r->v, (size_t)r->cap * sizeof *r->v);
  }
  item *it = &r->v[r->n++];
  memset(it, 0, sizeof *it);
  it->kind = kind;
  it->at = at;
  al_buf_append(&it->text, "", 0);
  return it;
}

static void push_text(reader *r, const char *s, size_t len, size_t at) {
  if (len) al_buf_append(&push(r, IT_TEXT, at)->text, s, len);
}

static int fail_at(reader *r, size_t at, const char *what, const char *s, size_t len) {
  return al_fail(r->err, "%s: this model's chat template is not one alab can render: byte %zu: %s%s%.*s%s", r->where, at,
                 what, s ? " '" : "", (int)(len > 80 ? 80 : len), s ? s : "", s ? (len > 80 ? "...'" : "'") : "");
}

/* ---- tokens inside a tag ---- */
typedef struct { char kind; al_buf s; } token; /* kind: 'n' name or number, 's' string, 'o' operator */
#define MAX_TOKENS 64

/* Splits src[a, b) into tokens; string literals are decoded (\n \t \r \\ \' \"). */
static int tokenize(reader *r, size_t a, size_t b, token *t, int *nt) {
  const char *s = r->src;
  *nt = 0;
  for (size_t i = a; i < b;) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      i++;
      continue;
    }
    if (*nt == MAX_TOKENS) return fail_at(r, a, "a tag of more than 64 tokens", NULL, 0);
    token *k = &t[(*nt)++];
    k->s.len = 0;
    al_buf_append(&k->s, "", 0);
    if (c == '\'' || c == '"') {
      k->kind = 's';
      size_t j = i + 1;
      for (; j < b && s[j] != c; j++) {
        char x = s[j];
        if (x == '\\') {
          if (++j >= b) break;
          x = s[j] == 'n' ? '\n' : s[j] == 't' ? '\t' : s[j] == 'r' ? '\r' : s[j];
          if (!strchr("ntr\\'\"", s[j])) return fail_at(r, j - 1, "an escape alab does not read", s + j - 1, 2);
        }
        al_buf_append(&k->s, &x, 1);
      }
      if (j >= b) return fail_at(r, i, "an unterminated string", s + i, b - i);
      i = j + 1;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
      k->kind = 'n';
      size_t j = i;
      while (j < b && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= '0' && s[j] <= '9') ||
                       s[j] == '_'))
        j++;
      al_buf_append(&k->s, s + i, j - i);
      i = j;
    } else {
      k->kind = 'o';
      size_t n = i + 1 < b && s[i + 1] == '=' && strchr("=!<>", c) ? 2 : 1;
      al_buf_append(&k->s, s + i, n);
      i += n;
    }
  }
  return 0;
}

/* Tokens t[0, n) as one string: single spaces between tokens, strings in
 * single quotes, and "x . name" written "x [ 'name' ]". */
static void canon(const token *t, int n, al_buf *out) {
  out->len = 0;
  al_buf_append(out, "", 0);
  for (int i = 0; i < n; i++) {
    if (i) al_buf_append(out, " ", 1);
    if (t[i].kind == 'o' && !strcmp(t[i].s.data, ".") && i + 1 < n && t[i + 1].kind == 'n') {
      al_buf_printf(out, "[ '%s' ]", t[i + 1].s.data);
      i++;
    } else if (t[i].kind == 's') {
      al_buf_append(out, "'", 1);
      for (size_t j = 0; j < t[i].s.len; j++) {
        char c = t[i].s.data[j];
        if (c == '\\' || c == '\'') al_buf_append(out, "\\", 1);
        al_buf_append(out, &c, 1);
      }
      al_buf_append(out, "'", 1);
    } else al_buf_append(out, t[i].s.data, t[i].s.len);
  }
}

static int known_kind(const char *canon_text) {
  for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
    if (!strcmp(canon_text, KNOWN[i].canon)) return KNOWN[i].kind;
  return -1;
}

/* A tag's inside src[a, b): type '{' (an expression: a + b + ...) or '%';
 * the tag opens at src[at]. */
static int read_tag(reader *r, char type, size_t at, size_t a, size_t b) {
  token t[MAX_TOKENS];
  memset(t, 0, sizeof t);
  int nt = 0, rc = tokenize(r, a, b, t, &nt);
  al_buf c = {0};
  for (int i = 0, start = 0; !rc && i <= nt; i++) {
    if (type == '{' && i < nt && !(t[i].kind == 'o' && !strcmp(t[i].s.data, "+"))) continue;
    if (type == '%' && i < nt) continue;
    /* t[start, i) is one statement, or one term of the expression */
    canon(t + start, i - start, &c);
    int kind = known_kind(c.data);
    if (type == '{' && i - start == 1 && t[start].kind == 's') push_text(r, t[start].s.data, t[start].s.len, at);
    else if (kind >= 0 && (type == '{') == (kind == IT_ROLE || kind == IT_CONTENT)) push(r, kind, at);
    else rc = fail_at(r, at, type == '{' ? "an expression alab does not render" : "a statement alab does not render", c.data, c.len);
    start = i + 1;
  }
  for (int i = 0; i < MAX_TOKENS; i++) al_buf_free(&t[i].s);
  al_buf_free(&c);
  return rc;
}

/* Where the tag opened at src[q] closes: the offset of its "}}", "%}" or
 * "#}", strings skipped; 0 when it does not close. */
static size_t tag_close(const char *s, size_t q, size_t end) {
  char type = s[q + 1], close = type == '{' ? '}' : type;
  char quote = 0;
  for (size_t i = q + 2; i + 1 < end; i++) {
    if (quote) {
      if (s[i] == '\\') i++;
      else if (s[i] == quote) quote = 0;
    } else if (type != '#' && (s[i] == '\'' || s[i] == '"')) quote = s[i];
    else if (s[i] == close && s[i + 1] == '}') return i;
  }
  return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Source to items, Jinja's whitespace rules applied (see the top). */
static int read_items(reader *r) {
  const char *s = r->src;
  size_t end = strlen(s), pos = 0;
  if (end && s[end - 1] == '\n') end--;
  int strip_after = 0, newline_after = 0;
  for (;;) {
    size_t q = pos;
    while (q + 1 < end && !(s[q] == '{' && (s[q + 1] == '{' || s[q + 1] == '%' || s[q + 1] == '#'))) q++;
    if (q + 1 >= end) q = end;
    size_t a = pos, b = q; /* the text before the tag */
    if (strip_after)
      while (a < b && is_blank(s[a])) a++;
    else if (newline_after && a < b && s[a] == '\n') a++;
    if (q == end) {
      push_text(r, s + a, b - a, a);
      break;
    }
    char type = s[q + 1], mark = q + 2 < end ? s[q + 2] : 0;
    if (mark == '-')
      while (b > a && is_blank(s[b - 1])) b--;
    else if (type != '{' && mark != '+') { /* lstrip_blocks */
      size_t k = q;
      while (k > pos && (s[k - 1] == ' ' || s[k - 1] == '\t')) k--;
      if ((k == 0 || s[k - 1] == '\n') && k >= a) b = k;
    }
    push_text(r, s + a, b - a, a);
    size_t close = tag_close(s, q, end);
    if (!close) return fail_at(r, q, "a tag that is not closed", s + q, end - q);
    size_t ia = q + 2 + (mark == '-' || mark == '+'), ib = close;
    char cm = ib > ia ? s[ib - 1] : 0;
    if (cm == '-' || (cm == '+' && type != '{')) ib--;
    strip_after = cm == '-';
    newline_after = type != '{' && cm != '+';
    if (type != '#' && read_tag(r, type, q, ia, ib)) return -1;
    pos = close + 2;
  }
  return 0;
}

static char *take_text(reader *r, int *i) {
  if (*i < r->n && r->v[*i].kind == IT_TEXT) return al_strdup(r->v[(*i)++].text.data);
  return al_strdup("");
}

static int expect(reader *r, int *i, int kind) {
  if (kind == IT_END && *i == r->n) return 0;
  if (*i < r->n && r->v[*i].kind == kind) {
    (*i)++;
    return 0;
  }
  int got = *i < r->n ? r->v[*i].kind : IT_END;
  size_t at = *i < r->n ? r->v[*i].at : strlen(r->src);
  char what[160];
  snprintf(what, sizeof what, "expected %s, found %s", ITEM_NAME[kind], ITEM_NAME[got]);
  return fail_at(r, at, what, NULL, 0);
}

static void set_stop(al_chat_template *t) {
  size_t a = 0, b = strlen(t->q);
  while (a < b && is_blank(t->q[a])) a++;
  while (b > a && is_blank(t->q[b - 1])) b--;
  al_buf s = {0};
  if (b > a) al_buf_append(&s, t->q + a, b - a);
  else al_buf_printf(&s, "%s%s", t->q, t->p);
  al_buf_append(&s, "", 0);
  t->stop = s.data;
}

int al_chat_template_parse(al_chat_template *t, const char *jinja, const char *where, al_err *err) {
  memset(t, 0, sizeof *t);
  reader r = {.src = jinja, .where = where, .err = err};
  int i = 0, rc = read_items(&r);
  if (!rc && r.n >= 3 && r.v[0].kind == IT_IF_UNDEF && r.v[1].kind == IT_SET_FALSE && r.v[2].kind == IT_ENDIF) i = 3;
  if (!rc) {
    t->text0 = take_text(&r, &i);
    rc = expect(&r, &i, IT_FOR);
  }
  char **fixed[3] = {&t->p, &t->m, &t->q}; /* the loop's body: P role M content Q */
  static const int after[3] = {IT_ROLE, IT_CONTENT, IT_ENDFOR};
  for (int k = 0; k < 3 && !rc; k++) {
    *fixed[k] = take_text(&r, &i);
    rc = expect(&r, &i, after[k]);
  }
  if (!rc && i < r.n && r.v[i].kind == IT_IF_GEN) {
    i++;
    t->g = take_text(&r, &i);
    rc = expect(&r, &i, IT_ENDIF);
  }
  if (!rc) rc = expect(&r, &i, IT_END);
  for (int k = 0; k < r.n; k++) al_buf_free(&r.v[k].text);
  free(r.v);
  if (rc) {
    al_chat_template_free(t);
    char why[640];
    snprintf(why, sizeof why, "%.639s", err->msg); /* the reason, then what alab reads */
    return al_fail(err, "%s; alab renders the templates of one shape: TEXT {%% for message in messages %%} TEXT "
                        "{{ message['role'] }} TEXT {{ message['content'] }} TEXT {%% endfor %%} {%% if "
                        "add_generation_prompt %%} TEXT {%% endif %%} (alab's default and ChatML are two): put one "
                        "in tokenizer_config.json's chat_template (alab serve: or pass --chat-template FILE)",
                   why);
  }
  if (!t->g) t->g = al_strdup("");
  t->jinja = al_strdup(jinja);
  set_stop(t);
  return 0;
}

void al_chat_template_default(al_chat_template *t) {
  al_err err;
  if (al_chat_template_parse(t, AL_CHAT_TEMPLATE_DEFAULT, "alab's default", &err)) abort(); /* tested */
  t->is_default = 1;
}

void al_chat_template_free(al_chat_template *t) {
  if (!t) return;
  free(t->jinja), free(t->text0), free(t->p), free(t->m), free(t->q), free(t->g), free(t->stop);
  memset(t, 0, sizeof *t);
}

int al_chat_template_load_file(al_chat_template *t, const char *path, al_err *err) {
  char *text;
  size_t len;
  if (al_read_file(path, &text, &len, err)) return -1;
  int rc = strlen(text) != len ? al_fail(err, "%s: a chat template file holds a NUL byte", path)
                               : al_chat_template_parse(t, text, path, err);
  free(text);
  return rc;
}

/* chat_template.jinja when the directory has one (newer transformers save
 * the template there, and it overrides the JSON), else tokenizer_config.json's
 * "chat_template": a string, or Hugging Face's list of {name, template} (the
 * one named "default" is used). */
int al_chat_template_load(al_chat_template *t, const char *dir, al_err *err) {
  char *path = al_path_join(dir, "chat_template.jinja");
  if (al_file_exists(path)) {
    int rc = al_chat_template_load_file(t, path, err);
    free(path);
    return rc;
  }
  free(path);
  path = al_path_join(dir, "tokenizer_config.json");
  json_t *j = NULL, *ct = NULL;
  int rc = 0;
  if (al_file_exists(path)) {
    rc = al_json_load_file(path, &j, err);
    if (!rc && !json_is_object(j)) rc = al_fail(err, "%s: expected a JSON object", path);
    if (!rc) ct = json_object_get(j, "chat_template");
    for (size_t i = 0; !rc && json_is_array(ct) && i < json_array_size(ct); i++) {
      json_t *e = json_array_get(ct, i), *name = json_object_get(e, "name");
      if (json_is_string(name) && !strcmp(json_string_value(name), "default")) ct = json_object_get(e, "template");
    }
    if (!rc && ct && !json_is_null(ct) && !json_is_string(ct))
      rc = al_fail(err, "%s: field 'chat_template' must be a string (or a list holding one named 'default')", path);
    if (!rc && json_is_string(ct) && strlen(json_string_value(ct)) != json_string_length(ct))
      rc = al_fail(err, "%s: field 'chat_template' holds a NUL character", path);
  }
  if (!rc && json_is_string(ct)) rc = al_chat_template_parse(t, json_string_value(ct), path, err);
  else if (!rc) {
    al_chat_template_default(t);
    al_log("%s has no chat template: using alab's default (each message '<|ROLE|>\\nCONTENT\\n', then '<|assistant|>\\n')",
           dir);
  }
  json_decref(j);
  free(path);
  return rc;
}

char *al_chat_render(const al_chat_template *t, const al_chat_msg *msgs, int n, int add_generation_prompt, size_t *len,
                     al_chat_span **spans, int *nspans) {
  al_buf b = {0};
  al_buf_append(&b, t->text0, strlen(t->text0));
  if (spans) *spans = NULL, *nspans = 0;
  for (int i = 0; i < n; i++) {
    const char *role = msgs[i].role ? msgs[i].role : "user", *content = msgs[i].content ? msgs[i].content : "";
    al_buf_printf(&b, "%s%s%s", t->p, role, t->m);
    size_t start = b.len;
    al_buf_printf(&b, "%s%s", content, t->q);
    if (spans && !strcmp(role, "assistant")) {
      *spans = al_realloc(*spans, (size_t)(*nspans + 1) * sizeof **spans);
      (*spans)[(*nspans)++] = (al_chat_span){start, b.len};
    }
  }
  if (add_generation_prompt) al_buf_append(&b, t->g, strlen(t->g));
  al_buf_append(&b, "", 0);
  if (len) *len = b.len;
  return b.data;
}

int al_tokenizer_config_save(const char *dir, const char *special, int model_max_length, al_err *err) {
  json_t *j = json_object();
  json_object_set_new(j, "tokenizer_class", json_string("GPT2Tokenizer"));
  json_object_set_new(j, "add_prefix_space", json_false());
  if (special) {
    json_object_set_new(j, "bos_token", json_string(special));
    json_object_set_new(j, "eos_token", json_string(special));
    json_object_set_new(j, "unk_token", json_string(special));
  }
  json_object_set_new(j, "model_max_length", json_integer(model_max_length));
  json_object_set_new(j, "clean_up_tokenization_spaces", json_false());
  json_object_set_new(j, "chat_template", json_string(AL_CHAT_TEMPLATE_DEFAULT));
  char *path = al_path_join(dir, "tokenizer_config.json");
  int rc = al_json_save_file(path, j, err);
  free(path);
  json_decref(j);
  return rc;
}
