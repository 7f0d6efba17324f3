/* tokenizer.json of the Llama 3 / Qwen2 kind: a Split(Regex, Isolated)
 * pre-tokenizer before ByteLevel. A vocabulary trained by alab is written as
 * such a tokenizer.json with a pattern that differs from GPT-2's (digits in
 * groups of at most 3, a non-letter before letters joins them, newlines kept
 * with punctuation); alab's encoding of texts must equal an independent
 * reference (tests/node/bpe_ref.mjs, JavaScript regex + BPE), and differ from
 * the GPT-2 pattern's on the digit text (the pattern is in effect). The parts
 * alab does not implement (a normalizer, byte_fallback, Metaspace) and a
 * regex that does not compile are refused with the part named. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/tok.h"
#include "test.h"

static const char PATTERN[] = "'(?:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                              "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char *TEXTS[] = {
    "Call 5551234 now, it's 2024! Tom's 12 dogs",
    "Once upon a time,\n\n  there was\r\na cat...  ???\n",
    "don't we've they'll I'm she'd",
    "na\xc3\xafve caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80 $100.50 (x+y)=z",
    "    indented   code();\n\tif (a) { return 42; }",
};
enum { NTEXTS = sizeof TEXTS / sizeof TEXTS[0] };

/* {"model": {"type": "BPE", "vocab", "merges"}, "normalizer", "pre_tokenizer", "added_tokens"} from alab's files */
static json_t *tokenizer_json(const char *dir, const char *pattern) {
  al_err err;
  char *vp = al_path_join(dir, "vocab.json"), *mp = al_path_join(dir, "merges.txt"), *text = NULL;
  json_t *vocab = NULL, *merges = json_array();
  size_t n = 0;
  CHECK_OK(al_json_load_file(vp, &vocab, &err), err);
  CHECK_OK(al_read_file(mp, &text, &n, &err), err);
  for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
    if (line[0] != '#') json_array_append_new(merges, json_string(line));
  json_t *eot = json_object_get(vocab, "<|endoftext|>");
  json_t *j = json_pack("{s:s, s:[{s:O, s:s, s:b}], s:n, s:{s:s, s:[{s:s, s:{s:s}, s:s, s:b}, {s:s, s:b, s:b, s:b}]}, "
                        "s:n, s:{s:s}, s:{s:s, s:o, s:o}}",
                        "version", "1.0", "added_tokens", "id", eot, "content", "<|endoftext|>", "special", 1,
                        "normalizer", "pre_tokenizer", "type", "Sequence", "pretokenizers", "type", "Split", "pattern",
                        "Regex", pattern, "behavior", "Isolated", "invert", 0, "type", "ByteLevel", "add_prefix_space",
                        0, "trim_offsets", 1, "use_regex", 0, "post_processor", "decoder", "type", "ByteLevel", "model",
                        "type", "BPE", "vocab", vocab, "merges", merges);
  free(vp), free(mp), free(text);
  return j;
}

static void refuse(const char *dir, json_t *base, const char *key, json_t *value, const char *needle) {
  al_err err;
  json_t *j = json_deep_copy(base);
  if (!strcmp(key, "byte_fallback")) json_object_set_new(json_object_get(j, "model"), key, value);
  else json_object_set_new(j, key, value);
  char *p = al_path_join(dir, "bad.json");
  CHECK_OK(al_json_save_file(p, j, &err), err);
  al_tok *t = NULL;
  CHECK_FAILS_WITH(al_tok_load_tokenizer_json(&t, p, &err), err, needle);
  al_tok_free(t);
  json_decref(j);
  free(p);
}

int main(void) {
  al_err err;
  char *dir = test_tmpdir("tok_json_regex");
  /* a vocabulary with merges inside words, digits and punctuation */
  al_buf corpus = {0};
  for (int r = 0; r < 30; r++)
    for (int i = 0; i < NTEXTS; i++) al_buf_append(&corpus, TEXTS[i], strlen(TEXTS[i]));
  al_tok *trained = NULL;
  CHECK_OK(al_tok_train(&trained, corpus.data, corpus.len, 420, &err), err);
  CHECK_OK(al_tok_save(trained, dir, &err), err);
  json_t *tj = tokenizer_json(dir, PATTERN), *texts = json_array();
  char *tp = al_path_join(dir, "tokenizer.json"), *sp = al_path_join(dir, "texts.json"), cmd[8192], *out = NULL;
  CHECK_OK(al_json_save_file(tp, tj, &err), err);
  for (int i = 0; i < NTEXTS; i++) json_array_append_new(texts, json_string(TEXTS[i]));
  CHECK_OK(al_json_save_file(sp, texts, &err), err);
  snprintf(cmd, sizeof cmd, "node '%s/tests/node/bpe_ref.mjs' '%s' '%s'", getenv("ALAB_SRC"), tp, sp);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "the JavaScript reference failed (rc %d): is node installed?", rc);
  json_t *ref = rc == 0 ? json_loads(out, 0, NULL) : NULL;
  al_tok *t = NULL;
  CHECK_OK(al_tok_load_tokenizer_json(&t, tp, &err), err);
  int differ_from_gpt2 = 0;
  for (int i = 0; t && ref && i < NTEXTS; i++) {
    int32_t *ids = NULL, *g = NULL;
    size_t n = 0, cap = 0, ng = 0, capg = 0;
    al_tok_encode(t, TEXTS[i], strlen(TEXTS[i]), 0, &ids, &n, &cap, &err);
    al_tok_encode(trained, TEXTS[i], strlen(TEXTS[i]), 0, &g, &ng, &capg, &err);
    const json_t *r = json_array_get(ref, i);
    int same = json_array_size(r) == n;
    for (size_t k = 0; same && k < n; k++) same = json_integer_value(json_array_get(r, k)) == ids[k];
    CHECK(same, "text %d: alab's %zu ids differ from the reference's %zu", i, n, json_array_size(r));
    differ_from_gpt2 |= ng != n || memcmp(g, ids, n * sizeof *ids) != 0;
    char *back = NULL;
    size_t blen = 0;
    CHECK_OK(al_tok_decode(t, ids, n, &back, &blen, &err), err);
    CHECK(blen == strlen(TEXTS[i]) && !memcmp(back, TEXTS[i], blen), "text %d decodes back", i);
    free(back), free(ids), free(g);
  }
  CHECK(differ_from_gpt2, "the custom pattern is in effect (some text splits unlike GPT-2's)");
  refuse(dir, tj, "normalizer", json_pack("{s:s}", "type", "NFC"), "normalizer 'NFC' is not supported");
  refuse(dir, tj, "byte_fallback", json_true(), "model.byte_fallback is not supported");
  refuse(dir, tj, "pre_tokenizer", json_pack("{s:s, s:s}", "type", "Metaspace", "replacement", "_"),
         "pre_tokenizer of type 'Metaspace' is not supported");
  json_t *badrx = tokenizer_json(dir, "(\\p{L}+");
  refuse(dir, badrx, "decoder", json_null(), "pre_tokenizer.pretokenizers[0].pattern.Regex: the regex does not compile");
  json_decref(badrx);
  al_tok_free(t);
  al_tok_free(trained);
  json_decref(tj), json_decref(texts), json_decref(ref);
  al_buf_free(&corpus);
  free(out), free(tp), free(sp), free(dir);
  return test_summary();
}
