/* Corpora: plain text split at "<|endoftext|>", and JSONL with a text field;
 * tokenizing them into memory or into a shard. Rules in include/alab/data.h. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alab/data.h"

static const char SEP[] = "<|endoftext|>";
#define SEP_LEN (sizeof SEP - 1)

int al_corpus_format_parse(const char *s, al_corpus_format *out, al_err *err) {
  if (!strcmp(s, "text")) *out = AL_CORPUS_TEXT;
  else if (!strcmp(s, "jsonl")) *out = AL_CORPUS_JSONL;
  else return al_fail(err, "corpus format '%s' is not known (use text or jsonl)", s);
  return 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

static int deliver(al_doc_fn fn, void *ctx, const char *doc, size_t len, al_corpus_stats *st, al_err *err) {
  if (!len) return 0;
  st->docs++;
  st->bytes += len;
  return fn(ctx, doc, len, err);
}

static int is_newline(char c) { return c == '\n' || c == '\r'; }

static int each_text_doc(const char *data, size_t len, al_doc_fn fn, void *ctx, al_corpus_stats *st,
                         al_progress *prog, al_err *err) {
  const char *p = data, *end = data + len;
  int after_sep = 0;
  while (p < end) {
    const char *sep = memmem(p, end - p, SEP, SEP_LEN);
    const char *a = p, *b = sep ? sep : end;
    if (after_sep)
      while (a < b && is_newline(*a)) a++;
    if (sep)
      while (b > a && is_newline(b[-1])) b--;
    if (deliver(fn, ctx, a, b - a, st, err)) return -1;
    if (!sep) break;
    p = sep + SEP_LEN;
    after_sep = 1;
    if (prog) al_progress_update(prog, p - data);
  }
  return 0;
}

static const char *json_kind(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
  }
}

/* Parses one JSONL line into its text field; fails naming where:line. */
static int jsonl_line(const char *line, size_t n, const char *field, const char *where, uint64_t lineno,
                      json_t **root, const char **text, size_t *tlen, al_err *err) {
  json_error_t je;
  *root = json_loadb(line, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
  if (!*root)
    return al_fail(err, "%s:%llu:%d: invalid JSON: %s", where, (unsigned long long)lineno, je.column, je.text);
  if (!json_is_object(*root))
    return al_fail(err, "%s:%llu: expected a JSON object with a \"%s\" field, got %s", where,
                   (unsigned long long)lineno, field, json_kind(*root));
  const json_t *v = json_object_get(*root, field);
  if (!v) return al_fail(err, "%s:%llu: field \"%s\" is missing", where, (unsigned long long)lineno, field);
  if (!json_is_string(v))
    return al_fail(err, "%s:%llu: field \"%s\" must be a string, got %s", where, (unsigned long long)lineno, field,
                   json_kind(v));
  *text = json_string_value(v);
  *tlen = json_string_length(v);
  return 0;
}

static int each_jsonl_doc(const char *data, size_t len, const char *where, const al_corpus_opts *o, al_doc_fn fn,
                          void *ctx, al_corpus_stats *st, al_progress *prog, al_err *err) {
  const char *field = o->field ? o->field : "text";
  const char *p = data, *end = data + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', end - p), *e = nl ? nl : end;
    const char *line = p;
    size_t n = e - p;
    p = nl ? nl + 1 : end;
    st->lines++;
    if (n && line[n - 1] == '\r') n--;
    size_t k = 0;
    while (k < n && (line[k] == ' ' || line[k] == '\t')) k++;
    if (k == n) continue; /* blank line */
    json_t *root = NULL;
    const char *text = NULL;
    size_t tlen = 0;
    al_err bad;
    if (jsonl_line(line, n, field, where, st->lines, &root, &text, &tlen, &bad)) {
      json_decref(root);
      if (!o->skip_bad_lines) return al_fail(err, "%s", bad.msg);
      if (!st->skipped++) snprintf(st->first_skip, sizeof st->first_skip, "%.255s", bad.msg);
      continue;
    }
    int rc = deliver(fn, ctx, text, tlen, st, err);
    json_decref(root);
    if (rc) return -1;
    if (prog) al_progress_update(prog, p - data);
  }
  return 0;
}

int al_corpus_each_doc_buf(const char *data, size_t len, const char *where, const al_corpus_opts *o, al_doc_fn fn,
                           void *ctx, al_corpus_stats *st, al_progress *prog, al_err *err) {
  al_corpus_stats local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  al_corpus_format f = o->format;
  if (f == AL_CORPUS_AUTO)
    f = ends_with(where, ".jsonl") || ends_with(where, ".json") || ends_with(where, ".ndjson") ? AL_CORPUS_JSONL
                                                                                                 : AL_CORPUS_TEXT;
  int rc = f == AL_CORPUS_JSONL ? each_jsonl_doc(data, len, where, o, fn, ctx, st, prog, err)
                                : each_text_doc(data, len, fn, ctx, st, prog, err);
  if (!rc && prog) al_progress_update(prog, len);
  return rc;
}

int al_corpus_each_doc(const char *path, const al_corpus_opts *o, al_doc_fn fn, void *ctx, al_corpus_stats *st,
                       al_progress *prog, al_err *err) {
  al_map m;
  if (al_map_file(path, &m, err)) return -1;
  int rc = al_corpus_each_doc_buf(m.data ? m.data : "", m.len, path, o, fn, ctx, st, prog, err);
  al_unmap(&m);
  return rc;
}

/* ---- tokenizing ---- */

typedef struct {
  const al_tok *tok;
  int32_t eot;
  int32_t *ids;
  size_t n, cap;
  al_shard_writer *w; /* NULL: keep every token in ids */
  al_corpus_stats *st;
} tok_ctx;

static int tokenize_doc(void *p, const char *doc, size_t len, al_err *err) {
  tok_ctx *c = p;
  if (al_tok_encode(c->tok, doc, len, 0, &c->ids, &c->n, &c->cap, err) < 0) return -1;
  if (c->n == c->cap) c->ids = al_realloc(c->ids, (c->cap = c->cap * 2 + 16) * sizeof *c->ids);
  c->ids[c->n++] = c->eot;
  if (!c->w) return 0;
  c->st->tokens += c->n;
  int rc = al_shard_writer_append(c->w, c->ids, c->n, err);
  c->n = 0;
  return rc;
}

static int tok_eot(const al_tok *tok, al_err *err) {
  int eot = al_tok_eot(tok);
  if (eot < 0) return al_fail(err, "the tokenizer has no <|endoftext|> token to separate documents");
  return eot;
}

int al_corpus_tokenize_buf(const char *data, size_t len, const char *where, const al_corpus_opts *o,
                           const al_tok *tok, int32_t **ids, size_t *n, al_corpus_stats *st, al_err *err) {
  al_corpus_stats local;
  if (!st) st = &local;
  *ids = NULL;
  *n = 0;
  tok_ctx c = {tok, 0, NULL, 0, 0, NULL, st};
  if ((c.eot = tok_eot(tok, err)) < 0) return -1;
  if (al_corpus_each_doc_buf(data, len, where, o, tokenize_doc, &c, st, NULL, err)) {
    free(c.ids);
    return -1;
  }
  st->tokens = c.n;
  *ids = c.ids;
  *n = c.n;
  return 0;
}

int al_corpus_tokenize(const char *path, const al_corpus_opts *o, const al_tok *tok, int32_t **ids, size_t *n,
                       al_corpus_stats *st, al_err *err) {
  al_map m;
  if (al_map_file(path, &m, err)) return -1;
  int rc = al_corpus_tokenize_buf(m.data ? m.data : "", m.len, path, o, tok, ids, n, st, err);
  al_unmap(&m);
  return rc;
}

/* Adds one file's counts to a running total. */
static void stats_add(al_corpus_stats *t, const al_corpus_stats *f) {
  if (!t->skipped && f->skipped) memcpy(t->first_skip, f->first_skip, sizeof t->first_skip);
  t->docs += f->docs;
  t->bytes += f->bytes;
  t->lines += f->lines;
  t->skipped += f->skipped;
  t->tokens += f->tokens;
}

/* Tokenizes one corpus file into c's shard writer; fs gets its counts. */
static int file_to_shard(const char *in, const al_corpus_opts *o, tok_ctx *c, int progress, al_corpus_stats *fs,
                         al_err *err) {
  al_map m;
  if (al_map_file(in, &m, err)) return -1;
  c->st = fs;
  al_progress prog;
  al_progress_start(&prog, "tokenize", m.len, "B");
  int rc = al_corpus_each_doc_buf(m.data ? m.data : "", m.len, in, o, tokenize_doc, c, fs, progress ? &prog : NULL,
                                  err);
  if (progress && !rc) {
    snprintf(prog.extra, sizeof prog.extra, "%llu docs, %llu tokens", (unsigned long long)fs->docs,
             (unsigned long long)fs->tokens);
    al_progress_finish(&prog);
  }
  al_unmap(&m);
  return rc;
}

int al_corpus_to_shard(const char *in, const al_corpus_opts *o, const al_tok *tok, const char *out, int progress,
                       al_corpus_stats *st, al_err *err) {
  al_corpus_stats local;
  if (!st) st = &local;
  memset(st, 0, sizeof *st);
  int eot = tok_eot(tok, err);
  if (eot < 0) return -1;
  al_paths p;
  if (al_paths_expand(&p, in, err)) return -1;
  /* every input readable before the output is created */
  for (int i = 0; i < p.n; i++) {
    al_map m;
    if (al_map_file(p.paths[i], &m, err)) {
      al_paths_free(&p);
      return -1;
    }
    al_unmap(&m);
  }
  al_shard_writer w;
  if (al_shard_writer_open(&w, out, al_tok_vocab_size(tok), eot, err)) {
    al_paths_free(&p);
    return -1;
  }
  tok_ctx c = {tok, eot, NULL, 0, 0, &w, NULL};
  int rc = 0;
  for (int i = 0; i < p.n && !rc; i++) {
    al_corpus_stats fs = {0};
    rc = file_to_shard(p.paths[i], o, &c, progress, &fs, err);
    stats_add(st, &fs);
  }
  free(c.ids);
  al_paths_free(&p);
  if (rc) {
    al_shard_writer_abort(&w);
    return -1;
  }
  return al_shard_writer_commit(&w, err);
}
