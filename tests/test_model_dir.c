/* Model directories: config.json round trip and refusals (one per bad key),
 * model save/load bit-exact, loading HF variants (transformer. prefix, mask
 * buffers, tied lm_head, F16/BF16), and one refusal per broken checkpoint:
 * missing tensor, wrong shape, wrong dtype, unexpected or duplicate tensor,
 * untied head, missing files. Plus a fuzz of config.json. */
#include <stdint.h>
#include "alab/json.h"
#include "alab/model.h"
#include "alab/safetensors.h"
#include "alab/tok.h"
#include "test.h"

static const al_model_config CFG = {.vocab_size = 257, .n_positions = 16, .n_layer = 2, .n_head = 2, .n_embd = 8, .init_std = 0.02f};

static char *join(const char *a, const char *b) { return al_path_join(a, b); }

/* Writes cfg to dir/config.json with key set to value (NULL value: removed). */
static void write_config_with(const char *dir, const char *key, json_t *value) {
  al_err err;
  char *p = join(dir, "config.json");
  CHECK_OK(al_config_save(&CFG, p, &err), err);
  json_t *j;
  CHECK_OK(al_json_load_file(p, &j, &err), err);
  if (value) json_object_set_new(j, key, value);
  else json_object_del(j, key);
  CHECK_OK(al_json_save_file(p, j, &err), err);
  json_decref(j);
  free(p);
}

/* layer_norm_epsilon as config.json says after saving c. */
static double saved_eps(const al_model_config *c, const char *dir) {
  al_err err;
  char *p = join(dir, "eps.json");
  CHECK_OK(al_config_save(c, p, &err), err);
  json_t *j;
  CHECK_OK(al_json_load_file(p, &j, &err), err);
  double eps = json_real_value(json_object_get(j, "layer_norm_epsilon"));
  json_decref(j);
  free(p);
  return eps;
}

static void test_config(const char *dir) {
  al_err err;
  char *p = join(dir, "config.json");
  CHECK_OK(al_config_save(&CFG, p, &err), err);
  al_model_config c;
  CHECK_OK(al_config_load(&c, p, &err), err);
  CHECK(!strcmp(c.arch, "gpt2") && c.vocab_size == CFG.vocab_size && c.n_positions == CFG.n_positions &&
            c.n_layer == CFG.n_layer && c.n_head == CFG.n_head && c.n_embd == CFG.n_embd && c.init_std == CFG.init_std &&
            c.scalar_head == 0,
        "config round trip");
  CHECK(saved_eps(&c, dir) == 1e-5, "eps round trip");
  al_model_config again; /* what was read, written and read again is the same */
  char *p2 = join(dir, "config2.json");
  CHECK_OK(al_config_save(&c, p2, &err), err);
  CHECK_OK(al_config_load(&again, p2, &err), err);
  CHECK(memcmp(&again, &c, sizeof c) == 0, "config read -> write -> read is a fixed point");
  free(p2);
  char *text;
  size_t len;
  CHECK_OK(al_read_file(p, &text, &len, &err), err);
  const char *want[] = {"\"model_type\": \"gpt2\"", "\"GPT2LMHeadModel\"", "\"n_inner\": null", "\"activation_function\": \"gelu_new\"",
                        "\"tie_word_embeddings\": true", "\"eos_token_id\": 256", "\"n_ctx\": 16"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) CHECK(strstr(text, want[i]), "config.json lacks %s", want[i]);
  free(text);
  /* eps and std written as the short decimals, not float widening noise */
  json_t *j;
  CHECK_OK(al_json_load_file(p, &j, &err), err);
  CHECK(json_real_value(json_object_get(j, "layer_norm_epsilon")) == 1e-5, "eps written as 1e-5");
  CHECK(json_real_value(json_object_get(j, "initializer_range")) == 0.02, "std written as 0.02");
  json_decref(j);

  struct { const char *key; json_t *value; const char *needle; } bad[] = {
      {"model_type", json_string("bert"), "model_type 'bert' is not supported"},
      {"model_type", NULL, "field 'model_type' is missing"},
      {"activation_function", json_string("relu"), "activation_function 'relu' is not supported"},
      {"activation_function", json_integer(1), "'activation_function' must be a string"},
      {"n_inner", json_integer(100), "n_inner = 100 is not supported"},
      {"tie_word_embeddings", json_false(), "tie_word_embeddings = false is not supported"},
      {"scale_attn_by_inverse_layer_idx", json_true(), "scale_attn_by_inverse_layer_idx = true"},
      {"scale_attn_weights", json_false(), "scale_attn_weights = false"},
      {"add_cross_attention", json_true(), "add_cross_attention = true"},
      {"n_layer", NULL, "field 'n_layer' is missing"},
      {"vocab_size", NULL, "field 'vocab_size' is missing"},
      {"n_embd", json_string("8"), "field 'n_embd' must be an integer"},
      {"n_head", json_integer(3), "n_embd 8 is not divisible by n_head 3"},
      {"n_positions", json_integer(0), "n_positions = 0 is out of range"},
      {"n_layer", json_integer(1LL << 40), "n_layer = 1099511627776 is out of range"},
      {"layer_norm_epsilon", json_string("small"), "field 'layer_norm_epsilon' must be a number"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_config_with(dir, bad[i].key, bad[i].value);
    CHECK_FAILS_WITH(al_config_load(&c, p, &err), err, bad[i].needle);
    CHECK(strstr(err.msg, "config.json"), "message names the file: %s", err.msg);
  }
  /* accepted alternatives: HF's other tanh GELU, n_inner spelled out, keys absent */
  write_config_with(dir, "activation_function", json_string("gelu_pytorch_tanh"));
  CHECK_OK(al_config_load(&c, p, &err), err);
  write_config_with(dir, "n_inner", json_integer(32));
  CHECK_OK(al_config_load(&c, p, &err), err);
  write_config_with(dir, "layer_norm_epsilon", NULL);
  CHECK_OK(al_config_load(&c, p, &err), err);
  CHECK(saved_eps(&c, dir) == 1e-5, "default eps");
  CHECK_OK(al_write_file_atomic(p, "{\"model_type\": \"gpt2\",\n \"n_layer\": }", 37, &err), err);
  CHECK_FAILS_WITH(al_config_load(&c, p, &err), err, "config.json:2:");
  CHECK_OK(al_write_file_atomic(p, "[1]", 3, &err), err);
  CHECK_FAILS_WITH(al_config_load(&c, p, &err), err, "expected a JSON object");
  free(p);
}

/* Fills a file of model tensors whose names go through rename (NULL: as is). */
static void write_tensors(const char *path, const al_model *m, const char *prefix, al_st_tensor *extra, int nextra) {
  al_err err;
  int n = m->ntensors + nextra;
  al_st_tensor *t = al_calloc((size_t)n, sizeof *t);
  char (*names)[96] = al_calloc((size_t)m->ntensors, 96);
  for (int i = 0; i < m->ntensors; i++) {
    snprintf(names[i], 96, "%s%s", prefix, m->tensors[i].name);
    t[i].name = names[i];
    t[i].dtype = "F32";
    t[i].ndim = m->tensors[i].ndim;
    for (int d = 0; d < t[i].ndim; d++) t[i].shape[d] = m->tensors[i].shape[d];
    t[i].data = m->params + m->tensors[i].offset;
  }
  for (int i = 0; i < nextra; i++) t[m->ntensors + i] = extra[i];
  CHECK_OK(al_st_write(path, t, n, NULL, &err), err);
  free(names);
  free(t);
}

static int same_params(const al_model *a, const al_model *b) {
  return a->nparams == b->nparams && memcmp(a->params, b->params, a->nparams * sizeof(float)) == 0;
}

static void test_model_round_trip(const char *dir) {
  al_err err;
  al_model m, back;
  CHECK_OK(al_model_init(&m, &CFG, 42, &err), err);
  al_tok *tok = al_tok_byte();
  char *md = join(dir, "model/nested");
  CHECK_OK(al_model_save_dir(&m, tok, md, &err), err);
  const char *files[] = {"config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json"};
  for (int i = 0; i < 5; i++) {
    char *f = join(md, files[i]);
    CHECK(al_file_exists(f), "%s not written", files[i]);
    free(f);
  }
  CHECK_OK(al_model_load_dir(&back, md, &err), err);
  CHECK(same_params(&m, &back), "params differ after a round trip");
  CHECK(memcmp(&back.cfg, &m.cfg, sizeof m.cfg) == 0, "config differs");
  /* names and order as HF writes them */
  char *st = join(md, "model.safetensors");
  al_st_file f;
  CHECK_OK(al_st_open(&f, st, &err), err);
  CHECK(f.n == m.ntensors && strcmp(f.entries[0].name, "wte.weight") == 0 && al_st_find(&f, "h.1.mlp.c_proj.weight") &&
            al_st_meta(&f, "format") && strcmp(al_st_meta(&f, "format"), "pt") == 0,
        "file layout");
  al_st_close(&f);
  al_model_free(&back);
  free(st);

  /* a tokenizer larger than the model's vocabulary is refused */
  al_model_config small = CFG;
  small.vocab_size = 100;
  al_model ms;
  CHECK_OK(al_model_init(&ms, &small, 1, &err), err);
  CHECK_FAILS_WITH(al_model_save_dir(&ms, tok, md, &err), err, "the tokenizer has 257 tokens but the model's vocab_size is 100");
  al_model_free(&ms);
  al_tok_free(tok);
  free(md);
  al_model_free(&m);
}

/* HF-style checkpoints written by hand; each case one directory. */
static void test_variants(const char *dir) {
  al_err err;
  al_model m, back;
  CHECK_OK(al_model_init(&m, &CFG, 7, &err), err);
  char *md = join(dir, "variants"), *cfgp = join(md, "config.json"), *st = join(md, "model.safetensors");
  CHECK_OK(al_mkdir_p(md, &err), err);
  CHECK_OK(al_config_save(&CFG, cfgp, &err), err);
  const al_tensor *wte = al_model_tensor(&m, "wte.weight");
  float *mask = al_calloc(16 * 16, sizeof(float)), masked_bias = -1e4f;

  /* GPT2LMHeadModel style: prefix, mask buffers, tied lm_head */
  al_st_tensor extra[3] = {{"transformer.h.0.attn.bias", "F32", 4, {1, 1, 16, 16}, mask},
                           {"transformer.h.1.attn.masked_bias", "F32", 0, {0}, &masked_bias},
                           {"lm_head.weight", "F32", 2, {257, 8}, m.params + wte->offset}};
  write_tensors(st, &m, "transformer.", extra, 3);
  CHECK_OK(al_model_load_dir(&back, md, &err), err);
  CHECK(same_params(&m, &back), "prefixed checkpoint loads the same params");
  al_model_free(&back);

  /* untied head */
  float *other = al_malloc(wte->numel * sizeof(float));
  memcpy(other, m.params + wte->offset, wte->numel * sizeof(float));
  other[5] += 1.0f;
  extra[2].data = other;
  write_tensors(st, &m, "transformer.", extra + 2, 1);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "lm_head.weight differs from wte.weight");
  extra[2].shape[0] = 256;
  write_tensors(st, &m, "", extra + 2, 1);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "tensor 'lm_head.weight' has shape [256, 8], but the config needs [257, 8]");
  extra[2].shape[0] = 257;
  free(other);

  /* duplicate: with and without the prefix */
  al_st_tensor dup = {"transformer.ln_f.bias", "F32", 1, {8}, m.params + al_model_tensor(&m, "ln_f.bias")->offset};
  write_tensors(st, &m, "", &dup, 1);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "tensor 'ln_f.bias' is given twice");
  /* unexpected tensor */
  al_st_tensor score = {"score.weight", "F32", 1, {8}, m.params};
  write_tensors(st, &m, "", &score, 1);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "unexpected tensor 'score.weight'");

  /* F16 / BF16 checkpoints, one dtype per file, from random finite bit patterns */
  for (int bf = 0; bf < 2; bf++) {
    al_rng r;
    al_rng_seed(&r, 3);
    al_model want;
    CHECK_OK(al_model_init(&want, &CFG, 0, &err), err);
    uint16_t *bits = al_malloc(m.nparams * 2);
    for (size_t i = 0; i < m.nparams; i++) {
      uint16_t b;
      do b = (uint16_t)al_rng_below(&r, 65536);
      while (bf ? ((b >> 7) & 255) == 255 : ((b >> 10) & 31) == 31);
      bits[i] = b;
      want.params[i] = bf ? al_bf16_to_f32(b) : al_f16_to_f32(b);
    }
    al_st_tensor *t = al_calloc((size_t)m.ntensors, sizeof *t);
    for (int i = 0; i < m.ntensors; i++) {
      t[i] = (al_st_tensor){m.tensors[i].name, bf ? "BF16" : "F16", m.tensors[i].ndim,
                            {m.tensors[i].shape[0], m.tensors[i].shape[1]}, bits + m.tensors[i].offset};
    }
    CHECK_OK(al_st_write(st, t, m.ntensors, NULL, &err), err);
    CHECK_OK(al_model_load_dir(&back, md, &err), err);
    CHECK(same_params(&want, &back), "%s checkpoint converts exactly", bf ? "BF16" : "F16");
    al_model_free(&back);
    /* wrong dtype: one I16 tensor */
    t[3].dtype = "I16";
    CHECK_OK(al_st_write(st, t, m.ntensors, NULL, &err), err);
    CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "tensor 'h.0.ln_1.bias': dtype I16 cannot be read as floats");
    /* missing tensor */
    t[3].dtype = bf ? "BF16" : "F16";
    t[5] = t[m.ntensors - 1];
    CHECK_OK(al_st_write(st, t, m.ntensors - 1, NULL, &err), err);
    CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "tensor 'h.0.attn.c_attn.bias' is missing");
    free(t);
    free(bits);
    al_model_free(&want);
  }

  /* wrong shape: c_attn stored [3C, C] (a Linear layout, not Conv1D) */
  write_tensors(st, &m, "", NULL, 0);
  al_st_file f;
  CHECK_OK(al_st_open(&f, st, &err), err);
  al_st_close(&f);
  {
    al_st_tensor *t = al_calloc((size_t)m.ntensors, sizeof *t);
    for (int i = 0; i < m.ntensors; i++)
      t[i] = (al_st_tensor){m.tensors[i].name, "F32", m.tensors[i].ndim, {m.tensors[i].shape[0], m.tensors[i].shape[1]},
                            m.params + m.tensors[i].offset};
    t[4].shape[0] = 24, t[4].shape[1] = 8;
    CHECK_OK(al_st_write(st, t, m.ntensors, NULL, &err), err);
    CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err,
                     "tensor 'h.0.attn.c_attn.weight' has shape [24, 8], but the config needs [8, 24]");
    t[4].shape[0] = 8, t[4].shape[1] = 24;
    t[2].ndim = 2, t[2].shape[0] = 1, t[2].shape[1] = 8; /* ln_1.weight as [1, 8] */
    CHECK_OK(al_st_write(st, t, m.ntensors, NULL, &err), err);
    CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "tensor 'h.0.ln_1.weight' has shape [1, 8], but the config needs [8]");
    free(t);
  }
  /* a config that disagrees with the tensors (n_layer 3: h.2.* missing) */
  write_tensors(st, &m, "", NULL, 0);
  al_model_config c3 = CFG;
  c3.n_layer = 3;
  CHECK_OK(al_config_save(&c3, cfgp, &err), err);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "tensor 'h.2.ln_1.weight' is missing");
  CHECK_OK(al_config_save(&CFG, cfgp, &err), err);
  /* a truncated model.safetensors */
  char *data;
  size_t len;
  CHECK_OK(al_read_file(st, &data, &len, &err), err);
  CHECK_OK(al_write_file_atomic(st, data, len / 2, &err), err);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "truncated");
  free(data);
  /* missing files */
  remove(st);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "model.safetensors: cannot open");
  remove(cfgp);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "config.json: cannot open");
  free(mask);
  free(md), free(cfgp), free(st);
  al_model_free(&m);
}

/* Random byte mutations of a valid config.json: refused with a message or accepted. */
static void test_config_fuzz(const char *dir) {
  al_err err;
  char *p = join(dir, "config.json"), *fz = join(dir, "fuzz.json");
  CHECK_OK(al_config_save(&CFG, p, &err), err);
  char *orig;
  size_t len;
  CHECK_OK(al_read_file(p, &orig, &len, &err), err);
  static const char pieces[] = "0123456789{}[]\",:-.e truenllfa";
  al_rng r;
  al_rng_seed(&r, 11);
  int ok = 0, failed = 0, silent = 0;
  char *buf = al_malloc(len);
  for (int it = 0; it < 3000; it++) {
    memcpy(buf, orig, len);
    size_t n = len;
    for (int k = 1 + (int)al_rng_below(&r, 3); k > 0; k--) {
      size_t i = al_rng_below(&r, n);
      if (al_rng_below(&r, 4) == 0) buf[i] = (char)al_rng_below(&r, 256);
      else buf[i] = pieces[al_rng_below(&r, sizeof pieces - 1)];
    }
    if (al_rng_below(&r, 10) == 0) n = al_rng_below(&r, n);
    FILE *f = fopen(fz, "wb"); /* plain write: 3000 fsyncs would dominate the test */
    CHECK(f && fwrite(buf, 1, n, f) == n && fclose(f) == 0, "cannot write %s", fz);
    al_model_config c;
    err.msg[0] = 0;
    if (al_config_load(&c, fz, &err) == 0) {
      ok++;
      if (al_model_config_check(&c, &err)) silent++;
    } else {
      failed++;
      if (!err.msg[0]) silent++;
    }
  }
  CHECK(silent == 0, "%d mutants failed without a message or loaded an invalid config", silent);
  CHECK(ok > 0 && failed > 0, "fuzz explored both outcomes (%d ok, %d refused)", ok, failed);
  free(buf), free(orig), free(p), free(fz);
}

int main(void) {
  char *dir = test_tmpdir("model_dir");
  test_config(dir);
  test_model_round_trip(dir);
  test_variants(dir);
  test_config_fuzz(dir);
  free(dir);
  return test_summary();
}
