/* Loading and saving tokenizer files.
 *
 * vocab.json (= OpenAI's encoder.json): a JSON object {key: id}; a key is the
 *   token's bytes through GPT-2's byte-to-unicode mapping (bytemap.c), except
 *   "<|endoftext|>", which is the special end-of-text token.
 * merges.txt (= vocab.bpe): an optional first line "#version: ..."; then one
 *   merge per line, "left right" (two keys separated by one space), in rank
 *   order (first line = applied first). Empty lines are ignored.
 * tokenizer.json (Hugging Face tokenizers): model.type "BPE", model.vocab as
 *   above, model.merges as "left right" strings or [left, right] pairs, and
 *   added_tokens [{id, content, ...}], which become special tokens (matched
 *   only when encoding with allow_special). Of the pipeline around the model,
 *   the byte-level kinds are read (src/tok/pipeline.c): no
 *   normalizer, and a pre_tokenizer that is GPT-2's ByteLevel (use_regex) or
 *   a Sequence of Split(Regex, "Isolated") and ByteLevel without regex (the
 *   Llama 3 / Qwen2 kind, whose regex is compiled per tokenizer); any other
 *   (Metaspace, byte_fallback, Digits, ...) is refused by name, never
 *   encoded differently from what it says. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "alab/json.h"
#include "tok/tok_internal.h"

static const char EOT[] = "<|endoftext|>";

/* Fails with "path:line:column: invalid UTF-8" at the first bad byte. */
static int check_utf8(const char *path, const char *s, size_t n, al_err *err) {
  size_t bad = tok_utf8_check(s, n);
  if (bad == n) return 0;
  size_t line = 1, col = 1;
  for (size_t i = 0; i < bad; i++) {
    if (s[i] == '\n') line++, col = 1;
    else col++;
  }
  return al_fail(err, "%s:%zu:%zu: invalid UTF-8 (byte 0x%02X)", path, line, col, (unsigned char)s[bad]);
}

/* Adds every entry of a vocab object; `added` (may be NULL) maps ids to the
 * tokenizer.json added tokens, which are made special. */
static int add_vocab(al_tok *t, const json_t *vocab, const char *where, al_err *err) {
  if (!json_is_object(vocab)) return al_fail(err, "%s: the vocabulary must be a JSON object {token: id}", where);
  const char *key;
  json_t *v;
  al_buf bytes = {0};
  char why[256];
  int rc = 0;
  json_object_foreach((json_t *)vocab, key, v) {
    if (!json_is_integer(v)) {
      rc = al_fail(err, "%s: key \"%s\": the id must be an integer", where, key);
      break;
    }
    json_int_t id = json_integer_value(v);
    size_t n = strlen(key);
    int special = strcmp(key, EOT) == 0;
    if (special) al_buf_append(&bytes, "", 0), bytes.len = 0, al_buf_append(&bytes, key, n);
    else if (tok_key_to_bytes(key, n, &bytes, why, sizeof why)) {
      rc = al_fail(err, "%s: key \"%s\" (id %lld): %s", where, key, (long long)id, why);
      break;
    }
    if (id < 0 || id > INT32_MAX || tok_set(t, (int32_t)id, bytes.data, bytes.len, special, why, sizeof why)) {
      if (id < 0 || id > INT32_MAX) snprintf(why, sizeof why, "id %lld is out of range", (long long)id);
      rc = al_fail(err, "%s: key \"%s\": %s", where, key, why);
      break;
    }
  }
  al_buf_free(&bytes);
  return rc;
}

/* One merge given as two keys; `where` names the line or array element. */
static int add_merge_keys(al_tok *t, const char *l, size_t nl, const char *r, size_t nr, const char *where,
                          al_err *err) {
  al_buf b = {0};
  char why[256];
  int32_t id[2];
  const char *part[2] = {l, r};
  size_t len[2] = {nl, nr};
  for (int k = 0; k < 2; k++) {
    if (tok_key_to_bytes(part[k], len[k], &b, why, sizeof why)) {
      al_buf_free(&b);
      return al_fail(err, "%s: \"%.*s\": %s", where, (int)len[k], part[k], why);
    }
    const tok_sentry *e = b.len ? tok_smap_get(&t->by_bytes, b.data, b.len, tok_hash_bytes(b.data, b.len)) : NULL;
    if (!e) {
      al_buf_free(&b);
      return al_fail(err, "%s: merge part \"%.*s\" is not in the vocabulary", where, (int)len[k], part[k]);
    }
    id[k] = (int32_t)e->v0;
  }
  al_buf_free(&b);
  if (tok_add_merge(t, id[0], id[1], why, sizeof why))
    return al_fail(err, "%s: merge \"%.*s %.*s\": %s", where, (int)nl, l, (int)nr, r, why);
  return 0;
}

static int parse_merges(al_tok *t, const char *path, const char *s, size_t n, al_err *err) {
  size_t line = 0, i = 0;
  char where[4200];
  while (i < n) {
    size_t e = i;
    while (e < n && s[e] != '\n') e++;
    size_t end = e > i && s[e - 1] == '\r' ? e - 1 : e;
    line++;
    const char *p = s + i;
    size_t len = end - i;
    i = e + 1;
    if (len == 0 || (line == 1 && len >= 8 && memcmp(p, "#version", 8) == 0)) continue;
    snprintf(where, sizeof where, "%s:%zu", path, line);
    const char *sp = memchr(p, ' ', len);
    if (!sp || sp == p || sp == p + len - 1 || memchr(sp + 1, ' ', (size_t)(p + len - sp - 1)))
      return al_fail(err, "%s: expected two tokens separated by one space, got \"%.*s\"", where,
                     (int)(len < 80 ? len : 80), p);
    if (add_merge_keys(t, p, (size_t)(sp - p), sp + 1, (size_t)(p + len - sp - 1), where, err)) return -1;
  }
  return 0;
}

/* BPE makes a token of two or more bytes only by a merge, so every such
 * (non-special) token of the vocabulary is the result of some merge: GPT-2's
 * 50000 merges make exactly its 50000 longer tokens. A token no merge makes
 * means merges.txt lost lines (truncated) or belongs to another vocabulary;
 * loading it anyway would silently change the tokenization. */
static int check_merges_cover(const al_tok *t, const char *merges_path, al_err *err) {
  uint8_t *made = al_calloc((size_t)t->n_ids + 1, 1);
  for (int i = 0; i < t->n_merges; i++) made[t->m_id[i]] = 1;
  int missing = 0, first = -1;
  for (int id = 0; id < t->n_ids; id++)
    if (t->present[id] && !t->special[id] && t->tok_len[id] > 1 && !made[id] && !missing++) first = id;
  free(made);
  if (!missing) return 0;
  return al_fail(err, "%s: %d tokens of the vocabulary are made by no merge (the first: id %d), so the file is "
                      "truncated or belongs to another vocabulary (%d merges read)",
                 merges_path, missing, first, t->n_merges);
}

int tok_parse_files(al_tok **out, const char *vocab_text, size_t vlen, const char *vocab_path, const char *merges_text,
                    size_t mlen, const char *merges_path, al_err *err) {
  *out = NULL;
  json_t *vocab = NULL;
  al_tok *t = NULL;
  int rc = -1;
  if (check_utf8(vocab_path, vocab_text, vlen, err) || al_json_parse(vocab_text, vlen, vocab_path, &vocab, err)) goto done;
  t = tok_new();
  if (add_vocab(t, vocab, vocab_path, err) || tok_finish(t, vocab_path, err)) goto done;
  if (check_utf8(merges_path, merges_text, mlen, err) || parse_merges(t, merges_path, merges_text, mlen, err) ||
      check_merges_cover(t, merges_path, err))
    goto done;
  rc = 0;
done:
  json_decref(vocab);
  if (rc) al_tok_free(t);
  else *out = t;
  return rc;
}

int al_tok_load_files(al_tok **out, const char *vocab_path, const char *merges_path, al_err *err) {
  *out = NULL;
  char *v = NULL, *m = NULL;
  size_t vl, ml;
  int rc = -1;
  if (!al_read_file(vocab_path, &v, &vl, err) && !al_read_file(merges_path, &m, &ml, err))
    rc = tok_parse_files(out, v, vl, vocab_path, m, ml, merges_path, err);
  free(v);
  free(m);
  return rc;
}

/* added_tokens: each {id, content} becomes a special token; an id the vocab
 * already holds must carry the same content there. */
static int add_added_tokens(al_tok *t, const json_t *added, const char *path, al_err *err) {
  if (!added || json_is_null(added)) return 0;
  if (!json_is_array(added)) return al_fail(err, "%s: added_tokens must be an array", path);
  char where[4200], why[256];
  size_t k;
  json_t *a;
  json_array_foreach(added, k, a) {
    snprintf(where, sizeof where, "%s: added_tokens[%zu]", path, k);
    long long id;
    const char *content;
    if (al_json_get_int(a, "id", &id, where, err) || al_json_get_string(a, "content", &content, where, err)) return -1;
    size_t n = strlen(content);
    if (id >= 0 && id < t->n_ids && t->present[id]) {
      size_t have;
      const char *s = tok_bytes_of(t, (int32_t)id, &have);
      if (have == n && memcmp(s, content, n) == 0) {
        tok_make_special(t, (int32_t)id);
        continue;
      }
      return al_fail(err, "%s: id %lld (\"%s\") is already another token in model.vocab", where, id, content);
    }
    if (id < 0 || id > INT32_MAX || tok_set(t, (int32_t)id, content, n, 1, why, sizeof why))
      return al_fail(err, "%s: \"%s\": %s", where, content, id < 0 || id > INT32_MAX ? "id out of range" : why);
  }
  return 0;
}

int tok_parse_tokenizer_json(al_tok **out, const char *text, size_t len, const char *path, al_err *err) {
  *out = NULL;
  json_t *root = NULL;
  al_tok *t = NULL;
  int rc = -1;
  char where[4200];
  if (check_utf8(path, text, len, err) || al_json_parse(text, len, path, &root, err)) goto done;
  const json_t *model = json_object_get(root, "model");
  if (!json_is_object(model)) {
    al_fail(err, "%s: field 'model' is missing or not an object", path);
    goto done;
  }
  const json_t *type = json_object_get(model, "type"), *merges = json_object_get(model, "merges");
  if (type && (!json_is_string(type) || strcmp(json_string_value(type), "BPE") != 0)) {
    al_fail(err, "%s: model.type is %s; only \"BPE\" is supported", path,
            json_is_string(type) ? json_string_value(type) : "not a string");
    goto done;
  }
  if (!json_is_array(merges)) {
    al_fail(err, "%s: model.merges is missing or not an array", path);
    goto done;
  }
  t = tok_new();
  snprintf(where, sizeof where, "%s: model.vocab", path);
  if (add_vocab(t, json_object_get(model, "vocab"), where, err) || tok_finish(t, where, err)) goto done;
  size_t k;
  json_t *m;
  json_array_foreach(merges, k, m) {
    snprintf(where, sizeof where, "%s: model.merges[%zu]", path, k);
    if (json_is_string(m)) {
      const char *s = json_string_value(m), *sp = strchr(s, ' ');
      size_t n = strlen(s);
      if (!sp || sp == s || !sp[1] || strchr(sp + 1, ' ')) {
        al_fail(err, "%s: expected \"left right\" (one space), got \"%s\"", where, s);
        goto done;
      }
      if (add_merge_keys(t, s, (size_t)(sp - s), sp + 1, (size_t)(s + n - sp - 1), where, err)) goto done;
    } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
               json_is_string(json_array_get(m, 1))) {
      const char *l = json_string_value(json_array_get(m, 0)), *r = json_string_value(json_array_get(m, 1));
      if (add_merge_keys(t, l, strlen(l), r, strlen(r), where, err)) goto done;
    } else {
      al_fail(err, "%s: a merge must be \"left right\" or [\"left\", \"right\"]", where);
      goto done;
    }
  }
  if (add_added_tokens(t, json_object_get(root, "added_tokens"), path, err) ||
      tok_read_pipeline(t, root, path, err) || tok_read_post_processor(t, root, path, err))
    goto done;
  rc = 0;
done:
  json_decref(root);
  if (rc) al_tok_free(t);
  else *out = t;
  return rc;
}

int al_tok_load_tokenizer_json(al_tok **out, const char *path, al_err *err) {
  *out = NULL;
  char *text;
  size_t len;
  if (al_read_file(path, &text, &len, err)) return -1;
  int rc = tok_parse_tokenizer_json(out, text, len, path, err);
  free(text);
  return rc;
}

int al_tok_load(al_tok **out, const char *dir, al_err *err) {
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISREG(st.st_mode)) { /* a file: tokenizer.json by its name, else tokenizer.bin */
    size_t n = strlen(dir);
    return n >= 5 && !strcmp(dir + n - 5, ".json") ? al_tok_load_tokenizer_json(out, dir, err)
                                                    : al_tok_load_llama2c(out, dir, err);
  }
  static const char *pairs[2][2] = {{"vocab.json", "merges.txt"}, {"encoder.json", "vocab.bpe"}};
  for (int k = 0; k < 2; k++) {
    char *v = al_path_join(dir, pairs[k][0]), *m = al_path_join(dir, pairs[k][1]);
    int hv = al_file_exists(v), hm = al_file_exists(m), rc = 0;
    if (hv && hm) {
      rc = al_tok_load_files(out, v, m, err) || tok_read_add_bos(*out, dir, err);
      if (rc && *out) al_tok_free(*out), *out = NULL;
    }
    else if (hv || hm) rc = al_fail(err, "%s: has %s but not %s", dir, hv ? pairs[k][0] : pairs[k][1], hv ? pairs[k][1] : pairs[k][0]);
    free(v);
    free(m);
    if (hv || hm) return rc;
  }
  char *j = al_path_join(dir, "tokenizer.json"), *b = al_path_join(dir, "tokenizer.bin");
  int rc = al_file_exists(j)   ? al_tok_load_tokenizer_json(out, j, err)
           : al_file_exists(b) ? al_tok_load_llama2c(out, b, err)
                               : al_fail(err, "%s: no tokenizer files (expected vocab.json + merges.txt, encoder.json + "
                                              "vocab.bpe, tokenizer.json, or llama2.c's tokenizer.bin)", dir);
  free(j);
  free(b);
  return rc;
}

/* Writes the key of id `id` into b (specials as they are). */
static void key_of(const al_tok *t, int32_t id, al_buf *b) {
  size_t n;
  const char *s = tok_bytes_of(t, id, &n);
  b->len = 0;
  if (t->special[id]) al_buf_append(b, s, n);
  else tok_bytes_to_key(s, n, b);
}

int al_tok_save(const al_tok *t, const char *dir, al_err *err) {
  if (al_mkdir_p(dir, err)) return -1;
  if (t->sp) {
    char *bp = al_path_join(dir, "tokenizer.bin");
    int rc = tok_sp_save(t, bp, err);
    free(bp);
    return rc;
  }
  json_t *vocab = json_object();
  al_buf key = {0}, merges = {0};
  for (int32_t id = 0; id < t->n_ids; id++) {
    if (!t->present[id]) continue;
    key_of(t, id, &key);
    json_object_set_new(vocab, key.data, json_integer(id));
  }
  al_buf_append(&merges, "#version: 0.2\n", 14);
  for (int r = 0; r < t->n_merges; r++) {
    key_of(t, t->m_left[r], &key);
    al_buf_append(&merges, key.data, key.len);
    al_buf_append(&merges, " ", 1);
    key_of(t, t->m_right[r], &key);
    al_buf_append(&merges, key.data, key.len);
    al_buf_append(&merges, "\n", 1);
  }
  char *vp = al_path_join(dir, "vocab.json"), *mp = al_path_join(dir, "merges.txt");
  int rc = al_json_save_file(vp, vocab, err);
  if (!rc) rc = al_write_file_atomic(mp, merges.data, merges.len, err);
  free(vp);
  free(mp);
  json_decref(vocab);
  al_buf_free(&key);
  al_buf_free(&merges);
  return rc;
}
