/* The start of a text: the BOS a tokenizer puts first, and encoding a whole
 * text with it.
 *
 * tokenizer.json's post_processor, as alab reads it:
 *   null, or ByteLevel                       no BOS (ByteLevel only trims offsets)
 *   TemplateProcessing with "single"
 *     [{"SpecialToken": {"id": X}}, {"Sequence": {"id": "A"}}]
 *                                            BOS = the one id special_tokens[X].ids
 *     [{"Sequence": {"id": "A"}}]           no BOS
 *   Sequence of the above ("processors")     Llama 3: ByteLevel + TemplateProcessing
 * Anything else (an EOS appended, Bert/Roberta processing, two specials) is
 * refused by name, so a text is never encoded differently from what the file
 * says. tokenizer.bin's BOS is <s> (id 1), set by its reader (sp.c).
 *
 * vocab.json + merges.txt have no post-processor: tokenizer_config.json's
 * "add_bos_token": true with its "bos_token" says the same, as transformers'
 * GPT2Tokenizer reads it (alab writes it for a tokenizer that has a BOS). */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "tok/tok_internal.h"

static const char *type_of(const json_t *j) {
  const json_t *t = json_is_object(j) ? json_object_get(j, "type") : NULL;
  return t && json_is_string(t) ? json_string_value(t) : "";
}

/* The "id" of a template item {"SpecialToken": {...}} or {"Sequence": {...}}. */
static const char *item_id(const json_t *item, const char *kind) {
  const json_t *o = json_is_object(item) ? json_object_get(item, kind) : NULL;
  const json_t *id = json_is_object(o) ? json_object_get(o, "id") : NULL;
  return json_is_string(id) ? json_string_value(id) : NULL;
}

static int template_bos(al_tok *t, const json_t *tp, const char *where, al_err *err) {
  const json_t *single = json_object_get(tp, "single");
  size_t n = json_is_array(single) ? json_array_size(single) : 0;
  const char *a = n ? item_id(json_array_get(single, n - 1), "Sequence") : NULL;
  const char *x = n == 2 ? item_id(json_array_get(single, 0), "SpecialToken") : NULL;
  if (n == 1 && a && !strcmp(a, "A")) return 0;
  if (n != 2 || !a || strcmp(a, "A") || !x)
    return al_fail(err, "%s.single: alab implements [SpecialToken, Sequence A] (a BOS) or [Sequence A]; this "
                        "template has %zu items in another form (an EOS or a second special token is not applied)",
                   where, n);
  const json_t *spec = json_object_get(json_object_get(tp, "special_tokens"), x);
  const json_t *ids = json_object_get(spec, "ids");
  const json_t *id = json_is_array(ids) && json_array_size(ids) == 1 ? json_array_get(ids, 0) : NULL;
  if (!json_is_integer(id))
    return al_fail(err, "%s.special_tokens[\"%s\"].ids: missing, or not one integer id", where, x);
  json_int_t v = json_integer_value(id);
  size_t len;
  const char *s = v >= 0 && v < t->n_ids ? al_tok_token(t, (int32_t)v, &len) : NULL;
  if (!s || len != strlen(x) || memcmp(s, x, len))
    return al_fail(err, "%s.special_tokens[\"%s\"]: id %lld is not the token \"%s\" in the vocabulary", where, x,
                   (long long)v, x);
  t->bos = (int32_t)v;
  return 0;
}

static int one_processor(al_tok *t, const json_t *p, const char *where, al_err *err) {
  const char *type = type_of(p);
  if (!strcmp(type, "ByteLevel")) return 0;
  if (!strcmp(type, "TemplateProcessing")) return template_bos(t, p, where, err);
  return al_fail(err, "%s: post-processor '%s' is not supported (alab implements ByteLevel and TemplateProcessing)",
                 where, type);
}

int tok_read_post_processor(al_tok *t, const void *rootp, const char *path, al_err *err) {
  const json_t *post = json_object_get(rootp, "post_processor");
  char where[4200];
  if (!post || json_is_null(post)) return 0;
  if (strcmp(type_of(post), "Sequence")) {
    snprintf(where, sizeof where, "%s: post_processor", path);
    return one_processor(t, post, where, err);
  }
  const json_t *list = json_object_get(post, "processors"), *p;
  size_t k;
  if (!json_is_array(list)) return al_fail(err, "%s: post_processor.processors is missing or not an array", path);
  json_array_foreach(list, k, p) {
    snprintf(where, sizeof where, "%s: post_processor.processors[%zu]", path, k);
    if (one_processor(t, p, where, err)) return -1;
  }
  return 0;
}

int tok_read_add_bos(al_tok *t, const char *dir, al_err *err) {
  char *path = al_path_join(dir, "tokenizer_config.json");
  json_t *j = NULL;
  int rc = 0;
  if (al_file_exists(path) && !(rc = al_json_load_file(path, &j, err)) && json_is_true(json_object_get(j, "add_bos_token"))) {
    const json_t *b = json_object_get(j, "bos_token");
    if (json_is_object(b)) b = json_object_get(b, "content");
    const char *s = json_is_string(b) ? json_string_value(b) : NULL;
    size_t n = s ? json_string_length(b) : 0, len;
    for (int32_t id = 0; s && id < t->n_ids && t->bos < 0; id++) {
      const char *tk = al_tok_token(t, id, &len);
      if (tk && len == n && !memcmp(tk, s, n)) t->bos = id;
    }
    if (t->bos < 0)
      rc = al_fail(err, "%s: add_bos_token is true but bos_token %s%s%s is not a token of the vocabulary", path,
                   s ? "\"" : "", s ? s : "is missing (or not a string)", s ? "\"" : "");
  }
  json_decref(j);
  free(path);
  return rc;
}

long al_tok_encode_start(const al_tok *t, const char *text, size_t len, int allow_special, int32_t **ids, size_t *n,
                         size_t *cap, al_err *err) {
  if (!text && len) return al_fail(err, "encode: NULL text of length %zu", len);
  if (*n + len + 2 > *cap) {
    size_t c = *cap ? *cap : 256;
    while (c < *n + len + 2) c *= 2;
    *ids = al_realloc(*ids, c * sizeof **ids);
    *cap = c;
  }
  long k = 0;
  if (t->bos >= 0) (*ids)[(*n)++] = t->bos, k = 1;
  long r = t->sp ? tok_sp_encode(t, text, len, 1, *ids + *n, err)
                 : al_tok_encode(t, text, len, allow_special, ids, n, cap, err);
  if (r < 0) {
    *n -= (size_t)k;
    return -1;
  }
  if (t->sp) *n += (size_t)r;
  return k + r;
}
