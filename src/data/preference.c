/* Preference pairs from JSONL: TRL's explicit, implicit and conversational
 * forms and Anthropic HH-RLHF's strings (the rules are in
 * include/alab/preference.h). Each line is parsed, validated, split into
 * prompt + responses and appended; the first bad line stops the read with
 * FILE:LINE and what was wrong. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alab/chat_template.h"
#include "alab/preference.h"
#include "data/preference_shp.h"

static const char *HH_HUMAN = "\n\nHuman:", *HH_ASSISTANT = "\n\nAssistant:";

const char *al_pref_form_name(al_pref_form f) {
  static const char *names[] = {"explicit", "implicit", "hh-rlhf", "conversational", "shp"};
  return (unsigned)f < 5 ? names[f] : "?";
}

/* A line being read: where it is, for every error. */
typedef struct {
  const char *where;
  long line;
  const al_chat_template *tmpl;
  al_err *err;
} line_ctx;

static int bad(const line_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const line_ctx *c, const char *fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return al_fail(c->err, "%s:%ld: %s", c->where, c->line, what);
}

static const char *kind(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "a list";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: case JSON_REAL: return "a number";
  case JSON_TRUE: case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

static char *dup_n(const char *s, size_t n) {
  char *d = al_malloc(n + 1);
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

/* Implicit prompt: the shared prefix, cut back to the last whitespace in it
 * (the whitespace goes with the responses); HH-RLHF strings: the shared
 * prefix through its last "\n\nAssistant:". Returns the prompt's length. */
static size_t implicit_split(const char *a, const char *b, int hh) {
  size_t n = 0;
  while (a[n] && a[n] == b[n]) n++;
  if (hh) {
    size_t la = strlen(HH_ASSISTANT), cut = 0;
    for (size_t i = 0; i + la <= n; i++)
      if (!memcmp(a + i, HH_ASSISTANT, la)) cut = i + la;
    return cut;
  }
  if (a[n] == 0 && b[n] == 0) return n; /* identical: the caller counts it */
  while (n > 0 && !strchr(" \t\n\r", a[n - 1])) n--;
  while (n > 0 && strchr(" \t\n\r", a[n - 1])) n--;
  return n;
}

static int is_hh(const char *s) { return !strncmp(s, HH_HUMAN, strlen(HH_HUMAN)); }

/* Checks a list of {"role", "content"} messages and fills msgs (borrowed
 * strings; free the array). */
static int read_messages(const line_ctx *c, const json_t *list, const char *field, al_chat_msg **msgs, int *n) {
  size_t len = json_array_size(list);
  *msgs = al_calloc(len + 1, sizeof **msgs);
  *n = (int)len;
  for (size_t i = 0; i < len; i++) {
    const json_t *m = json_array_get(list, i), *role = json_object_get(m, "role"),
                 *content = json_object_get(m, "content");
    if (!json_is_object(m)) return bad(c, "\"%s\"[%zu] must be a {\"role\", \"content\"} object, got %s", field, i, kind(m));
    if (!json_is_string(role)) return bad(c, "\"%s\"[%zu].role must be a string, got %s", field, i, role ? kind(role) : "nothing");
    if (!json_is_string(content))
      return bad(c, "\"%s\"[%zu].content must be a string, got %s", field, i, content ? kind(content) : "nothing");
    (*msgs)[i] = (al_chat_msg){json_string_value(role), json_string_value(content)};
  }
  return 0;
}

static int same_msg(const al_chat_msg *a, const al_chat_msg *b) {
  return !strcmp(a->role, b->role) && !strcmp(a->content, b->content);
}

/* prompt msgs [0, np) then response msgs: the response's text after the
 * prompt's (rendered with the generation prompt, else without it). */
static int render_response(const line_ctx *c, const al_chat_msg *prompt, int np, const al_chat_msg *resp, int nr,
                           const char *field, char **ptext, char **rtext) {
  al_chat_msg *all = al_malloc(sizeof *all * (size_t)(np + nr + 1));
  memcpy(all, prompt, sizeof *all * (size_t)np);
  memcpy(all + np, resp, sizeof *all * (size_t)nr);
  size_t nf, ng, n0;
  char *full = al_chat_render(c->tmpl, all, np + nr, 0, &nf, NULL, NULL);
  char *pg = al_chat_render(c->tmpl, prompt, np, 1, &ng, NULL, NULL);
  char *p0 = al_chat_render(c->tmpl, prompt, np, 0, &n0, NULL, NULL);
  free(all);
  int rc = 0;
  size_t cut = 0;
  if (ng <= nf && !memcmp(full, pg, ng)) cut = ng;
  else if (n0 <= nf && !memcmp(full, p0, n0)) cut = n0;
  else rc = bad(c, "the chat template renders the prompt differently before \"%s\" than alone", field);
  if (!rc) {
    *ptext = dup_n(full, cut);
    *rtext = dup_n(full + cut, nf - cut);
  }
  free(full), free(pg), free(p0);
  return rc;
}

static int conversational(const line_ctx *c, const json_t *prompt, const json_t *cj, const json_t *rj, al_pref_pair *p) {
  if (!c->tmpl)
    return bad(c, "conversational pairs (lists of messages) need the model's chat template to render them");
  al_chat_msg *pm = NULL, *cm = NULL, *rm = NULL;
  int np = 0, nc = 0, nr = 0, rc = -1;
  char *pc = NULL, *pr = NULL;
  if (read_messages(c, cj, "chosen", &cm, &nc) || read_messages(c, rj, "rejected", &rm, &nr)) goto done;
  if (prompt) {
    if (read_messages(c, prompt, "prompt", &pm, &np)) goto done;
  } else { /* implicit: the shared leading messages */
    while (np < nc && np < nr && same_msg(&cm[np], &rm[np])) np++;
    if (np == nc && np == nr) { /* identical conversations */
      p->chosen = al_strdup(""), p->rejected = al_strdup(""), p->prompt = al_strdup("");
      rc = 0;
      goto done;
    }
    pm = al_malloc(sizeof *pm * (size_t)(np + 1));
    memcpy(pm, cm, sizeof *pm * (size_t)np);
  }
  if (nc - (prompt ? 0 : np) < 1 || nr - (prompt ? 0 : np) < 1) {
    rc = bad(c, "\"%s\" has no messages after the prompt", nc - (prompt ? 0 : np) < 1 ? "chosen" : "rejected");
    goto done;
  }
  int off = prompt ? 0 : np;
  if (render_response(c, pm, np, cm + off, nc - off, "chosen", &pc, &p->chosen) ||
      render_response(c, pm, np, rm + off, nr - off, "rejected", &pr, &p->rejected))
    goto done;
  if (strcmp(pc, pr)) {
    bad(c, "the chat template renders the shared prompt differently before \"chosen\" and \"rejected\"");
    goto done;
  }
  p->prompt = pc, pc = NULL;
  rc = 0;
done:
  free(pm), free(cm), free(rm), free(pc), free(pr);
  return rc;
}

/* One non-blank line into p (strings owned by p). */
static int parse_line(const line_ctx *c, const char *text, size_t n, al_pref_pair *p) {
  json_error_t je;
  json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
  if (!root) return bad(c, "invalid JSON at column %d: %s", je.column, je.text);
  int rc = -1;
  const json_t *prompt = json_object_get(root, "prompt"), *cj = json_object_get(root, "chosen"),
               *rj = json_object_get(root, "rejected"), *mj = json_object_get(root, "margin");
  if (!json_is_object(root)) {
    bad(c, "a preference pair must be a JSON object, got %s", kind(root));
    goto done;
  }
  if (json_object_get(root, "human_ref_A")) { /* Stanford SHP */
    char why[160];
    rc = al_pref_shp_pair(root, p, why, sizeof why) ? bad(c, "%s", why) : 0;
    goto done;
  }
  if (!cj || !rj) {
    bad(c, "field \"%s\" is missing (a pair needs \"chosen\" and \"rejected\")", cj ? "rejected" : "chosen");
    goto done;
  }
  if (mj && !json_is_null(mj)) {
    if (!json_is_number(mj)) {
      bad(c, "field \"margin\" must be a number, got %s", kind(mj));
      goto done;
    }
    p->margin = json_number_value(mj);
  }
  if (prompt && json_is_null(prompt)) prompt = NULL;
  if (json_is_array(cj)) {
    if (!json_is_array(rj) || (prompt && !json_is_array(prompt))) {
      bad(c, "\"chosen\" is a list of messages, so \"%s\" must be one too, got %s", !json_is_array(rj) ? "rejected" : "prompt",
          kind(!json_is_array(rj) ? rj : prompt));
      goto done;
    }
    p->form = AL_PREF_CONVERSATIONAL;
    rc = conversational(c, prompt, cj, rj, p);
    goto done;
  }
  if (!json_is_string(cj) || !json_is_string(rj) || (prompt && !json_is_string(prompt))) {
    const char *f = !json_is_string(cj) ? "chosen" : !json_is_string(rj) ? "rejected" : "prompt";
    const json_t *v = !json_is_string(cj) ? cj : !json_is_string(rj) ? rj : prompt;
    bad(c, "field \"%s\" must be a string or a list of messages, got %s", f, kind(v));
    goto done;
  }
  const char *cs = json_string_value(cj), *rs = json_string_value(rj);
  if (prompt) {
    p->form = AL_PREF_EXPLICIT;
    p->prompt = al_strdup(json_string_value(prompt));
    p->chosen = al_strdup(cs), p->rejected = al_strdup(rs);
  } else {
    int hh = is_hh(cs) && is_hh(rs);
    size_t cut = implicit_split(cs, rs, hh);
    if (hh && cut == 0) hh = 0, cut = implicit_split(cs, rs, 0);
    p->form = hh ? AL_PREF_HH : AL_PREF_IMPLICIT;
    p->prompt = dup_n(cs, cut);
    p->chosen = al_strdup(cs + cut), p->rejected = al_strdup(rs + cut);
  }
  rc = 0;
done:
  json_decref(root);
  if (!rc && strcmp(p->chosen, p->rejected) && (!p->chosen[0] || !p->rejected[0]))
    rc = bad(c, "the %s response is empty", !p->chosen[0] ? "chosen" : "rejected");
  return rc;
}

static void pair_free(al_pref_pair *p) {
  free(p->prompt), free(p->chosen), free(p->rejected);
  memset(p, 0, sizeof *p);
}

void al_pref_set_free(al_pref_set *s) {
  for (long i = 0; i < s->n; i++) pair_free(&s->pairs[i]);
  free(s->pairs);
  memset(s, 0, sizeof *s);
}

int al_pref_read_buf(const char *data, size_t len, const char *where, const al_chat_template *tmpl, al_pref_set *out,
                     al_err *err) {
  memset(out, 0, sizeof *out);
  long cap = 0;
  line_ctx c = {where, 0, tmpl, err};
  for (size_t at = 0; at < len;) {
    const char *line = data + at, *nl = memchr(line, '\n', len - at);
    size_t n = nl ? (size_t)(nl - line) : len - at;
    at += n + (nl != NULL);
    c.line = ++out->lines;
    size_t k = 0;
    while (k < n && strchr(" \t\r", line[k])) k++;
    if (k == n) continue;
    al_pref_pair p = {0};
    p.line = c.line;
    if (parse_line(&c, line, n, &p)) {
      pair_free(&p);
      al_pref_set_free(out);
      return -1;
    }
    if (!strcmp(p.chosen, p.rejected)) { /* no preference to learn */
      if (!out->identical++) out->first_identical = c.line;
      pair_free(&p);
      continue;
    }
    if (out->n == cap) out->pairs = al_realloc(out->pairs, sizeof *out->pairs * (size_t)(cap = cap ? 2 * cap : 64));
    out->by_form[p.form]++;
    out->pairs[out->n++] = p;
  }
  if (out->n == 0) {
    long lines = out->lines, same = out->identical;
    al_pref_set_free(out);
    if (same) return al_fail(err, "%s: no usable pair: all %ld have chosen equal to rejected", where, same);
    return al_fail(err, "%s: no preference pairs (%ld lines, all blank)", where, lines);
  }
  return 0;
}

int al_pref_read(const char *path, const al_chat_template *tmpl, al_pref_set *out, al_err *err) {
  char *data;
  size_t len;
  if (al_read_file(path, &data, &len, err)) return -1;
  int rc = al_pref_read_buf(data, len, path, tmpl, out, err);
  free(data);
  return rc;
}
