/* The parts of a tokenizer.json around its BPE model that alab implements,
 * checked so that a tokenizer is either encoded exactly as its file says or
 * refused with the part named:
 *   normalizer      null
 *   model           byte_fallback absent or false
 *   pre_tokenizer   null or {"type": "ByteLevel", "add_prefix_space": false,
 *                   "use_regex": true}: GPT-2's pattern (pretok.c);
 *                   or {"type": "Sequence", "pretokenizers": [
 *                     {"type": "Split", "pattern": {"Regex": R},
 *                      "behavior": "Isolated", "invert": false},
 *                     {"type": "ByteLevel", "add_prefix_space": false,
 *                      "use_regex": false}]}: the pattern R (Llama 3, Qwen2)
 * (add_prefix_space and invert may be absent; "trim_offsets" is ignored:
 * offsets are not computed). */
#include <string.h>
#include "alab/json.h"
#include "tok/tok_internal.h"

static const char *type_of(const json_t *j) {
  const json_t *t = json_is_object(j) ? json_object_get(j, "type") : NULL;
  return t && json_is_string(t) ? json_string_value(t) : "";
}

/* A boolean field that must be absent or want. */
static int flag_is(const json_t *j, const char *key, int want) {
  const json_t *v = json_object_get(j, key);
  return !v || json_is_null(v) || (json_is_boolean(v) && json_is_true(v) == want);
}

/* ByteLevel with add_prefix_space false and use_regex as given (absent: true). */
static int byte_level(const json_t *j, int use_regex) {
  const json_t *r = json_object_get(j, "use_regex");
  int regex = !r || json_is_null(r) || json_is_true(r);
  return !strcmp(type_of(j), "ByteLevel") && flag_is(j, "add_prefix_space", 0) && regex == use_regex;
}

int tok_read_pipeline(al_tok *t, const void *rootp, const char *path, al_err *err) {
  const json_t *root = rootp;
  const json_t *norm = json_object_get(root, "normalizer"), *model = json_object_get(root, "model");
  if (norm && !json_is_null(norm))
    return al_fail(err, "%s: normalizer '%s' is not supported (alab reads byte-level BPE tokenizers, which have none)",
                   path, type_of(norm));
  if (!flag_is(model, "byte_fallback", 0))
    return al_fail(err, "%s: model.byte_fallback is not supported (a SentencePiece-style tokenizer, not byte-level BPE)",
                   path);
  const json_t *pre = json_object_get(root, "pre_tokenizer");
  if (!pre || json_is_null(pre) || byte_level(pre, 1)) return 0;
  const json_t *seq = json_object_get(pre, "pretokenizers");
  if (!strcmp(type_of(pre), "Sequence") && json_is_array(seq) && json_array_size(seq) == 2 &&
      byte_level(json_array_get(seq, 1), 0)) {
    const json_t *split = json_array_get(seq, 0), *pat = json_object_get(split, "pattern");
    const json_t *beh = json_object_get(split, "behavior"), *rx = json_is_object(pat) ? json_object_get(pat, "Regex") : NULL;
    if (!strcmp(type_of(split), "Split") && rx && json_is_string(rx) && json_is_string(beh) &&
        !strcmp(json_string_value(beh), "Isolated") && flag_is(split, "invert", 0)) {
      char why[512];
      if (tok_pretok_compile(t, json_string_value(rx), why, sizeof why))
        return al_fail(err, "%s: pre_tokenizer.pretokenizers[0].pattern.Regex: %s", path, why);
      return 0;
    }
  }
  return al_fail(err, "%s: pre_tokenizer of type '%s' is not supported (alab implements ByteLevel, and Sequence of "
                      "Split(Regex, Isolated) + ByteLevel without regex)", path, type_of(pre));
}
