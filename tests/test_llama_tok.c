/* The tokenizers of the Llama family beyond byte-level BPE:
 * - llama2.c's tokenizer.bin: tests/oracle/llama2c_tok.py writes one and the
 *   ids run.c's encoder gives for ten texts (code points, byte fallback,
 *   tied scores, a piece below -1e10, invalid UTF-8); alab's encoding
 *   (whole text with BOS and dummy prefix, and a continuation) must equal
 *   them, decode back to the bytes, and the file written back must be the
 *   same bytes. Malformed files are refused naming the problem.
 * - tokenizer.json's post_processor: TemplateProcessing's BOS (alone and in
 *   a Sequence after ByteLevel) is put first by al_tok_encode_start; an EOS
 *   template, another processor, or an id that is not the token are refused;
 *   tokenizer_config.json's add_bos_token (vocab.json + merges.txt) is read,
 *   written back by a model save, and refused when bos_token is no token.
 * - the CLI on a llama2.c checkpoint + tokenizer.bin: `alab score` prints the
 *   library's log-prob of the oracle's ids, `alab sample` continues the
 *   prompt, `alab serve` answers an echo request with the library's
 *   log-probs, --tokenizer finds a tokenizer.bin elsewhere, and `alab export`
 *   turns it into a directory that scores the same and back into the same
 *   bytes. */
#include <jansson.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/llama2c.h"
#include "alab/model.h"
#include "alab/tok.h"
#include "model/llama.h"
#include "serve_echo.h"
#include "test.h"

static int32_t *ids_of(const json_t *a, size_t *n) {
  *n = json_array_size(a);
  int32_t *v = al_malloc((*n + 1) * sizeof *v);
  for (size_t i = 0; i < *n; i++) v[i] = (int32_t)json_integer_value(json_array_get(a, i));
  return v;
}

static int same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
  return na == nb && (na == 0 || !memcmp(a, b, na * sizeof *a));
}

static void check_oracle(const al_tok *t, const json_t *exp) {
  al_err err;
  const json_t *texts = json_object_get(exp, "texts");
  CHECK(al_tok_vocab_size(t) == json_integer_value(json_object_get(exp, "vocab")), "vocabulary size %d",
        al_tok_vocab_size(t));
  CHECK(al_tok_bos(t) == 1 && al_tok_eot(t) == 1, "BOS and end of text are <s> (1): %d %d", al_tok_bos(t), al_tok_eot(t));
  for (size_t i = 0; i < json_array_size(texts); i++) {
    const char *hex = json_string_value(json_array_get(texts, i));
    size_t len = strlen(hex) / 2;
    char *text = al_malloc(len + 1);
    for (size_t k = 0; k < len; k++) {
      unsigned v;
      sscanf(hex + 2 * k, "%2x", &v);
      text[k] = (char)v;
    }
    size_t ne, nw, n = 0, cap = 0;
    int32_t *want = ids_of(json_array_get(json_object_get(exp, "start"), i), &nw), *ids = NULL;
    CHECK_OK(al_tok_encode_start(t, text, len, 1, &ids, &n, &cap, &err) < 0, err);
    CHECK(same_ids(ids, n, want, nw), "text %zu (%s): start encoding differs from run.c's (%zu vs %zu ids)", i, hex, n, nw);
    free(want);
    n = 0;
    want = ids_of(json_array_get(json_object_get(exp, "cont"), i), &ne);
    CHECK_OK(al_tok_encode(t, text, len, 1, &ids, &n, &cap, &err) < 0, err);
    CHECK(same_ids(ids, n, want, ne), "text %zu (%s): continuation encoding differs from run.c's (%zu vs %zu ids)", i,
          hex, n, ne);
    char *back = NULL;
    size_t blen = 0;
    CHECK_OK(al_tok_decode(t, ids, n, &back, &blen, &err), err);
    CHECK(back && blen == len && !memcmp(back, text, len), "text %zu decodes back to its bytes", i);
    free(back), free(want), free(ids), free(text);
  }
}

static void write_text(const char *path, const char *s) {
  al_err err;
  CHECK_OK(al_write_file_atomic(path, s, strlen(s), &err), err);
}

static void check_bad_files(const char *dir, const char *good_path) {
  al_err err;
  char *d, *p = al_path_join(dir, "bad.bin");
  size_t n;
  al_tok *t = NULL;
  CHECK_OK(al_read_file(good_path, &d, &n, &err), err);
  write_text(p, "");
  CHECK_FAILS_WITH(al_tok_load_llama2c(&t, p, &err), err, "too short");
  int32_t big = 1 << 30;
  CHECK_OK(al_write_file_atomic(p, &big, 4, &err), err);
  CHECK_FAILS_WITH(al_tok_load_llama2c(&t, p, &err), err, "max_token_length");
  CHECK_OK(al_write_file_atomic(p, d, 4 + 8 + 3, &err), err); /* <unk>'s piece cut short */
  CHECK_FAILS_WITH(al_tok_load_llama2c(&t, p, &err), err, "id 0 at byte 4");
  float nan = NAN;
  memcpy(d + 4, &nan, 4);
  CHECK_OK(al_write_file_atomic(p, d, n, &err), err);
  CHECK_FAILS_WITH(al_tok_load_llama2c(&t, p, &err), err, "not finite");
  int32_t huge = 99999;
  memcpy(d + 8, &huge, 4);
  memset(d + 4, 0, 4);
  CHECK_OK(al_write_file_atomic(p, d, n, &err), err);
  CHECK_FAILS_WITH(al_tok_load_llama2c(&t, p, &err), err, "length is not in 1..max_token_length");
  /* every truncation of the good file either loads or fails cleanly */
  free(d);
  CHECK_OK(al_read_file(good_path, &d, &n, &err), err);
  int crashes = 0;
  for (size_t k = 0; k < n; k += 37) {
    CHECK_OK(al_write_file_atomic(p, d, k, &err), err);
    if (al_tok_load_llama2c(&t, p, &err) == 0) al_tok_free(t);
    else crashes += err.msg[0] == 0;
  }
  CHECK(crashes == 0, "every failed truncation says why");
  free(d), free(p);
}

/* A byte tokenizer's tokenizer.json (alab's byte vocabulary plus <s> = 257)
 * with the given post_processor JSON. */
static void post_json(const char *dir, const char *post, al_tok **t, al_err *err) {
  char *vp = al_path_join(dir, "vocab.json"), *vocab, *jp = al_path_join(dir, "tokenizer.json");
  size_t n;
  al_tok *b = al_tok_byte();
  al_tok_save(b, dir, err);
  al_tok_free(b);
  al_read_file(vp, &vocab, &n, err);
  al_buf s = {0};
  al_buf_printf(&s, "{\"model\": {\"type\": \"BPE\", \"vocab\": %s, \"merges\": []}, \"added_tokens\": [{\"id\": 257, "
                    "\"content\": \"<s>\", \"special\": true}], \"post_processor\": %s}", vocab, post);
  write_text(jp, s.data);
  *t = NULL;
  al_tok_load_tokenizer_json(t, jp, err);
  al_buf_free(&s);
  free(vp), free(vocab), free(jp);
}

/* vocab.json + merges.txt with tokenizer_config.json's add_bos_token (as
 * transformers' GPT2Tokenizer reads it): the BOS is applied, kept when alab
 * saves a model with the tokenizer, and refused when it is no token. */
static void check_add_bos(const char *dir) {
  al_err err;
  char *a = al_path_join(dir, "add_bos"), *b = al_path_join(dir, "add_bos_saved"), *cp = al_path_join(a, "tokenizer_config.json");
  al_tok *t = al_tok_byte(), *u = NULL, *v = NULL;
  CHECK_OK(al_tok_save(t, a, &err), err);
  al_tok_free(t), t = NULL;
  write_text(cp, "{\"add_bos_token\": true, \"bos_token\": {\"content\": \"<|endoftext|>\"}}");
  CHECK_OK(al_tok_load(&t, a, &err), err);
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  if (t) CHECK_OK(al_tok_encode_start(t, "hi", 2, 1, &ids, &n, &cap, &err) < 0, err);
  CHECK(t && al_tok_bos(t) == 256 && n == 3 && ids[0] == 256, "add_bos_token puts <|endoftext|> first");
  al_model_config c = {.arch = "llama", .vocab_size = 257, .n_positions = 16, .n_layer = 1, .n_head = 2, .n_embd = 16};
  al_model m;
  CHECK_OK(al_model_init(&m, &c, 1, &err), err);
  if (t) CHECK_OK(al_model_save_dir(&m, t, b, &err), err);
  CHECK_OK(al_tok_load(&u, b, &err), err);
  CHECK(u && al_tok_bos(u) == 256, "the BOS survives alab's save of the model directory");
  write_text(cp, "{\"add_bos_token\": true, \"bos_token\": \"<bos>\"}");
  CHECK_FAILS_WITH(al_tok_load(&v, a, &err), err, "bos_token \"<bos>\" is not a token");
  al_model_free(&m);
  al_tok_free(t), al_tok_free(u), al_tok_free(v);
  free(ids), free(a), free(b), free(cp);
}

#define TEMPLATE(single, id) \
  "{\"type\": \"TemplateProcessing\", \"single\": " single ", \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [" id "], \"tokens\": [\"<s>\"]}}}"
#define BOS_A "[{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}]"

static void check_post_processor(const char *dir) {
  al_err err;
  al_tok *t;
  static const char *with_bos[] = {TEMPLATE(BOS_A, "257"),
                                   "{\"type\": \"Sequence\", \"processors\": [{\"type\": \"ByteLevel\", \"trim_offsets\": "
                                   "false}, " TEMPLATE(BOS_A, "257") "]}"};
  for (int k = 0; k < 2; k++) {
    post_json(dir, with_bos[k], &t, &err);
    CHECK(t && al_tok_bos(t) == 257, "post-processor %d: BOS 257 (%s)", k, t ? "" : err.msg);
    if (!t) continue;
    int32_t *ids = NULL;
    size_t n = 0, cap = 0;
    CHECK_OK(al_tok_encode_start(t, "hi", 2, 1, &ids, &n, &cap, &err) < 0, err);
    CHECK(n == 3 && ids[0] == 257 && ids[1] == 'h' && ids[2] == 'i', "BOS first, then the text");
    n = 0;
    CHECK_OK(al_tok_encode(t, "hi", 2, 1, &ids, &n, &cap, &err) < 0, err);
    CHECK(n == 2 && ids[0] == 'h', "a continuation has no BOS");
    free(ids);
    al_tok_free(t);
  }
  check_add_bos(dir);
  post_json(dir, "{\"type\": \"ByteLevel\"}", &t, &err);
  CHECK(t && al_tok_bos(t) == -1, "ByteLevel post-processor: no BOS");
  al_tok_free(t);
  post_json(dir, TEMPLATE("[{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}]", "257"), &t, &err);
  CHECK(t && al_tok_bos(t) == -1, "template of the sequence alone: no BOS");
  al_tok_free(t);
  post_json(dir, TEMPLATE("[{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"<s>\"}}]", "257"), &t,
            &err);
  CHECK(!t && strstr(err.msg, "post_processor.single") && strstr(err.msg, "EOS"), "an appended token is refused: %s",
        err.msg);
  post_json(dir, TEMPLATE(BOS_A, "65"), &t, &err);
  CHECK(!t && strstr(err.msg, "special_tokens[\"<s>\"]: id 65"), "an id that is not <s> is refused: %s", err.msg);
  post_json(dir, "{\"type\": \"RobertaProcessing\"}", &t, &err);
  CHECK(!t && strstr(err.msg, "post-processor 'RobertaProcessing'"), "another post-processor is refused: %s", err.msg);
}

/* A small random Llama in llama2.c's layout beside the tokenizer.bin, driven through the CLI. */
static void check_cli(const char *dir, const json_t *exp) {
  al_err err;
  const char *bin = getenv("ALAB_BIN");
  char *mp = al_path_join(dir, "model.bin"), *other = al_path_join(dir, "elsewhere"), cmd[8192], *out = NULL;
  al_model_config c = {.arch = "llama", .vocab_size = (int)json_integer_value(json_object_get(exp, "vocab")),
                       .n_positions = 128, .n_layer = 2, .n_head = 4, .n_embd = 32};
  llama_hparams hp = {.rms_norm_eps = 1e-5f, .rope_theta = 10000.0f, .n_kv_head = 2, .intermediate_size = 64};
  llama_hparams_set(&c, &hp);
  al_model m;
  CHECK_OK(al_model_init(&m, &c, 7, &err), err);
  CHECK_OK(al_llama2c_save(&m, mp, &err), err);
  al_model_free(&m);
  al_tok *tok;
  CHECK_OK(al_model_load_tok(&m, &tok, mp, NULL, &err), err); /* tokenizer.bin beside it */
  if (err.msg[0]) return;
  size_t np, nc;
  /* texts[1] = "Once upon a time" (start), texts[2] = "the cat sat on the mat." (continuation) */
  int32_t *p = ids_of(json_array_get(json_object_get(exp, "start"), 1), &np);
  int32_t *k = ids_of(json_array_get(json_object_get(exp, "cont"), 2), &nc);
  al_decoder *d = al_decoder_new(&m);
  double sum = 0;
  int greedy;
  CHECK_OK(al_score_continuation(d, p, (int)np, k, (int)nc, &sum, NULL, &greedy, &err), err);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s' && mv '%s/tokenizer.bin' '%s/' && '%s' score --model '%s' --prompt 'Once upon a "
           "time' --continuation 'the cat sat on the mat.' --threads 1 2>&1; mv '%s/tokenizer.bin' '%s/'",
           other, dir, other, bin, mp, other, dir);
  int rc = test_sh(cmd, &out);
  CHECK(rc != 0 || strstr(out, "tokenizer.bin beside it"), "without tokenizer.bin beside the checkpoint: %s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "cp '%s/tokenizer.bin' '%s/' && mv '%s/tokenizer.bin' '%s/tok.moved' && '%s' score --model "
           "'%s' --tokenizer '%s/tokenizer.bin' --prompt 'Once upon a time' --continuation 'the cat sat on the mat.' "
           "--threads 1; rc=$?; mv '%s/tok.moved' '%s/tokenizer.bin'; exit $rc",
           dir, other, dir, dir, bin, mp, other, dir, dir);
  rc = test_sh(cmd, &out);
  json_t *j = rc == 0 && out ? json_loads(out, 0, NULL) : NULL;
  CHECK(j && fabs(json_number_value(json_object_get(j, "logprob")) - sum) <= 1e-6 * fabs(sum) &&
            json_integer_value(json_object_get(j, "continuation_tokens")) == (json_int_t)nc,
        "alab score --tokenizer prints the library's log-prob %.8f of run.c's ids: %s", sum, out);
  json_decref(j);
  free(out);
  /* exported as a Hugging Face directory (tokenizer.bin inside) it scores the same; exported back, the same bytes */
  snprintf(cmd, sizeof cmd, "'%s' export --model '%s' --out '%s/hf' 2>/dev/null && '%s' export --model '%s/hf' --format "
           "llama2c --out '%s/again.bin' 2>/dev/null && cmp '%s' '%s/again.bin' && '%s' score --model '%s/hf' --prompt "
           "'Once upon a time' --continuation 'the cat sat on the mat.' --threads 1", bin, mp, dir, bin, dir, dir, mp, dir,
           bin, dir);
  rc = test_sh(cmd, &out);
  j = rc == 0 && out ? json_loads(out, 0, NULL) : NULL;
  CHECK(j && fabs(json_number_value(json_object_get(j, "logprob")) - sum) <= 1e-6 * fabs(sum),
        "export to a directory and back to llama2.c (identical bytes); the directory scores %.8f: %s", sum, out);
  json_decref(j);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' sample --model '%s' --prompt 'Once upon a time' --tokens 8 --temperature 0 "
           "--threads 1 2>/dev/null", bin, mp);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0 && !strncmp(out, "Once upon a time", 16) && strlen(out) > 17, "alab sample on model.bin: %s", out);
  free(out);
  /* serve: the echo of the whole text (BOS, dummy prefix) with the library's log-probs */
  check_serve_echo(mp, "model.bin", "Once upon a time", tok, d, "llama2.c checkpoint (BOS first)");
  free(p), free(k);
  al_decoder_free(d);
  al_tok_free(tok);
  al_model_free(&m);
  free(mp), free(other);
}

int main(void) {
  al_err err;
  char *dir = test_tmpdir("llama_tok"), cmd[4096];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/llama2c_tok.py' '%s'", getenv("ALAB_SRC"), dir);
  int rc = system(cmd);
  CHECK(rc == 0, "the Python reference failed (rc %d)", rc);
  char *tp = al_path_join(dir, "tokenizer.bin"), *ep = al_path_join(dir, "expected.json"), *again = al_path_join(dir, "again");
  json_t *exp = NULL;
  CHECK_OK(al_json_load_file(ep, &exp, &err), err);
  al_tok *t = NULL, *t2 = NULL;
  CHECK_OK(al_tok_load(&t, tp, &err), err);
  if (t && exp) {
    check_oracle(t, exp);
    CHECK_OK(al_tok_save(t, again, &err), err);
    char *a, *b, *ap = al_path_join(again, "tokenizer.bin");
    size_t na = 0, nb = 0;
    CHECK_OK(al_read_file(tp, &a, &na, &err), err);
    CHECK_OK(al_read_file(ap, &b, &nb, &err), err);
    CHECK(na == nb && !memcmp(a, b, na), "tokenizer.bin written back is the same %zu bytes", na);
    CHECK_OK(al_tok_load(&t2, again, &err), err); /* a directory holding tokenizer.bin */
    if (t2) check_oracle(t2, exp);
    free(a), free(b), free(ap);
    check_bad_files(dir, tp);
    check_cli(dir, exp);
  }
  check_post_processor(dir);
  al_tok_free(t), al_tok_free(t2);
  json_decref(exp);
  free(tp), free(ep), free(again), free(dir);
  return test_summary();
}
