/* Hugging Face Llama directories in and out.
 *
 * tests/oracle/llama_torch.py hf-dir writes a directory the way transformers
 * saves a sharded BF16 LlamaForCausalLM (config.json, two shards,
 * model.safetensors.index.json, a rotary inv_freq buffer) and the logits
 * its torch Llama computes; alab loads it and must give the same logits,
 * from the full forward and from the KV-cache decoder. alab then writes the
 * model back and reads it again (the oracle reading alab's writing is
 * test_llama_torch). `alab export --dtype bf16 --max-shard-mb` writes a
 * random float32 Llama in BF16 shards: the oracle (read-dir) finds every
 * tensor in the shard the index names, total_size right, and each value
 * torch's own bfloat16 rounding of alab's float32 save; alab reads the shards
 * back to the oracle's logits. Malformed configs and indexes are refused with
 * errors that name the problem; the index parser gets a fuzz-style pass. */
#include <jansson.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/tok.h"
#include "model/llama.h"
#include "oracle_compare.h"

static char *g_dir; /* the oracle's directory */

/* A copy of the oracle's directory (symlinks to its shards) whose
 * config.json has key set to value (stolen; NULL deletes the key). */
static char *mutated(const char *name, const char *key, json_t *value) {
  al_err err;
  char *d = test_tmpdir(name), cmd[4096];
  snprintf(cmd, sizeof cmd, "ln -s '%s'/model-0000*.safetensors '%s'/model.safetensors.index.json '%s'/", g_dir, g_dir, d);
  CHECK(system(cmd) == 0, "symlinks in %s", d);
  char *src = al_path_join(g_dir, "config.json"), *dst = al_path_join(d, "config.json");
  json_t *j;
  CHECK_OK(al_json_load_file(src, &j, &err), err);
  if (value) json_object_set_new(j, key, value);
  else json_object_del(j, key);
  CHECK_OK(al_json_save_file(dst, j, &err), err);
  json_decref(j);
  free(src), free(dst);
  return d;
}

static void refused(const char *name, const char *key, json_t *value, const char *needle) {
  al_err err;
  al_model m;
  char *d = mutated(name, key, value);
  CHECK_FAILS_WITH(al_model_load_dir(&m, d, &err), err, needle);
  free(d);
}

/* A copy whose index is `text`. */
static int load_with_index(const char *name, const char *text, al_err *err) {
  char *d = mutated(name, "rms_norm_eps", json_real(1e-5));
  char *ip = al_path_join(d, "model.safetensors.index.json");
  unlink(ip);
  al_err e2;
  CHECK_OK(al_write_file_atomic(ip, text, strlen(text), &e2), e2);
  al_model m;
  int rc = al_model_load_dir(&m, d, err);
  if (rc == 0) al_model_free(&m);
  free(ip), free(d);
  return rc;
}

static void check_logits(al_model *m, const al_st_file *ex, const char *what) {
  al_err err;
  const al_st_entry *ei = al_st_find(ex, "inputs");
  CHECK(ei != NULL, "expected.safetensors has inputs");
  if (!ei) return;
  int T = (int)ei->numel, V = m->cfg.vocab_size;
  float *fin = al_alloc_floats(T), *logits = al_alloc_floats((size_t)T * V);
  int32_t *in = al_malloc(T * sizeof(int32_t));
  CHECK_OK(al_st_read_f32(ex, ei, fin, &err), err);
  for (int t = 0; t < T; t++) in[t] = (int32_t)fin[t];
  al_model_forward(m, in, NULL, 1, T);
  char w[128];
  snprintf(w, sizeof w, "%s (forward)", what);
  compare_tol(ex, "logits", al_model_logits(m), (size_t)T * V, 1e-4, w);
  al_decoder *d = al_decoder_new(m);
  CHECK_OK(al_decoder_feed(d, in, T, logits, &err), err);
  snprintf(w, sizeof w, "%s (KV-cache decoder)", what);
  compare_tol(ex, "logits", logits, (size_t)T * V, 1e-4, w);
  al_decoder_free(d);
  free(fin), free(logits), free(in);
}

/* A random float32 Llama (GQA, untied, theta 50000) saved by alab, exported
 * in BF16 shards, read by the oracle and by alab. */
static void check_bf16_shards(void) {
  al_err err;
  char *f32 = test_tmpdir("llama_hf_f32"), *sh = test_tmpdir("llama_hf_bf16"), cmd[8192];
  al_model_config c = {.arch = "llama", .vocab_size = 300, .n_positions = 64, .n_layer = 2, .n_head = 4, .n_embd = 32};
  llama_hparams hp = {.rope_theta = 50000.0f, .n_kv_head = 2, .intermediate_size = 40};
  llama_hparams_set(&c, &hp);
  al_model m, back;
  CHECK_OK(al_model_init(&m, &c, 11, &err), err);
  al_tok *tok = al_tok_byte();
  CHECK_OK(al_model_save_dir(&m, tok, f32, &err), err);
  al_tok_free(tok);
  al_model_free(&m);
  /* 24 KiB shards: the 300x32 embedding and head (18.75 KiB each) and the layers' matrices spread over several */
  snprintf(cmd, sizeof cmd, "'%s' export --model '%s' --out '%s' --dtype bf16 --max-shard-mb 0.0234375 "
           "2>&1 && /usr/bin/python3 '%s/tests/oracle/llama_torch.py' read-dir '%s' '%s' '%s/oracle.safetensors'",
           getenv("ALAB_BIN"), f32, sh, getenv("ALAB_SRC"), sh, f32, sh);
  char *out = NULL;
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "export in BF16 shards read by the oracle (index, dtype, torch's rounding): %s", out);
  free(out);
  char *ip = al_path_join(sh, "model.safetensors.index.json"), *single = al_path_join(sh, "model.safetensors");
  json_t *index = NULL, *files = json_object();
  CHECK_OK(al_json_load_file(ip, &index, &err), err);
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(index, "weight_map"), k, v) json_object_set(files, json_string_value(v), v);
  CHECK(json_object_size(files) >= 3 && !al_file_exists(single), "%zu shards of 24 KiB at most, no model.safetensors",
        json_object_size(files));
  json_decref(index), json_decref(files);
  CHECK_OK(al_model_load_dir(&back, sh, &err), err);
  if (!err.msg[0]) {
    char *op = al_path_join(sh, "oracle.safetensors");
    al_st_file ex;
    CHECK_OK(al_st_open(&ex, op, &err), err);
    if (!err.msg[0]) check_logits(&back, &ex, "alab's BF16 shards");
    al_st_close(&ex);
    al_model_free(&back);
    free(op);
  }
  free(ip), free(single), free(f32), free(sh);
}

int main(void) {
  al_err err;
  g_dir = test_tmpdir("llama_hf_oracle");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/llama_torch.py' hf-dir '%s' 5", getenv("ALAB_SRC"), g_dir);
  int rc = system(cmd);
  CHECK(rc == 0, "the PyTorch oracle failed (rc %d): is python3-torch installed?", rc);
  if (rc) return test_summary();
  al_st_file ex;
  char *exp = al_path_join(g_dir, "expected.safetensors");
  CHECK_OK(al_st_open(&ex, exp, &err), err);

  /* the oracle's sharded BF16 directory */
  al_model m;
  CHECK_OK(al_model_load_dir(&m, g_dir, &err), err);
  CHECK(!strcmp(m.cfg.arch, "llama") && m.cfg.n_layer == 2 && m.cfg.n_head == 4, "config read");
  CHECK(al_model_tensor(&m, "lm_head.weight") != NULL, "untied head has lm_head.weight");
  check_logits(&m, &ex, "torch's BF16 shards");

  /* written back by alab (F32, one file) and read again: the same parameters */
  char *out = test_tmpdir("llama_hf_written");
  CHECK_OK(al_model_save_dir(&m, NULL, out, &err), err);
  al_model back;
  CHECK_OK(al_model_load_dir(&back, out, &err), err);
  CHECK(back.nparams == m.nparams && !memcmp(back.params, m.params, m.nparams * sizeof(float)),
        "parameters survive a save and load");
  check_logits(&back, &ex, "alab's rewrite");
  char *cfgp = al_path_join(out, "config.json");
  json_t *j;
  CHECK_OK(al_json_load_file(cfgp, &j, &err), err);
  const json_t *archs = json_object_get(j, "architectures");
  CHECK(archs && !strcmp(json_string_value(json_array_get(archs, 0)), "LlamaForCausalLM"), "architectures");
  CHECK(json_integer_value(json_object_get(j, "num_key_value_heads")) == 2 &&
            json_real_value(json_object_get(j, "rope_theta")) == 50000.0 &&
            json_is_false(json_object_get(j, "tie_word_embeddings")) &&
            json_integer_value(json_object_get(j, "bos_token_id")) == 1 &&
            json_integer_value(json_object_get(j, "eos_token_id")) == 2,
        "config.json keeps kv heads, rope_theta, untied head, bos/eos");
  json_decref(j);
  al_model_free(&back);
  al_model_free(&m);

  check_bf16_shards();

  /* malformed configs */
  refused("llama_bad_heads", "num_attention_heads", json_integer(5), "not divisible by num_attention_heads 5");
  refused("llama_bad_kv", "num_key_value_heads", json_integer(3), "num_key_value_heads 3 must divide");
  refused("llama_bad_rope", "rope_scaling", json_pack("{s:s, s:f}", "rope_type", "yarn", "factor", 4.0),
          "rope_scaling of type 'yarn' is not supported");
  refused("llama_bad_act", "hidden_act", json_string("gelu"), "hidden_act must be \"silu\"");
  refused("llama_bad_headdim", "head_dim", json_integer(16), "head_dim 16 is not supported");
  refused("llama_bad_theta", "rope_theta", json_real(-1.0), "rope_theta -1 must be in");
  refused("llama_no_size", "intermediate_size", NULL, "intermediate_size");
  refused("llama_misshapen", "intermediate_size", json_integer(48), "tensor 'model.layers.0.mlp.down_proj.weight' has shape [32, 40], but the config needs [32, 48]");
  /* a config needing ~137 GB of parameters against a small file: a shape error, nothing allocated */
  refused("llama_huge", "hidden_size", json_integer(65536), "but the config needs");
  refused("llama_missing", "num_hidden_layers", json_integer(3), "tensor 'model.layers.2.input_layernorm.weight' is missing");
  refused("llama_tied_mismatch", "tie_word_embeddings", json_true(), "lm_head.weight differs from model.embed_tokens.weight");

  /* malformed indexes, and a fuzz-style pass over the real one cut short or with bytes flipped */
  CHECK_FAILS_WITH(load_with_index("llama_idx_a", "{\"weight_map\": 3}", &err), err, "'weight_map' object");
  CHECK_FAILS_WITH(load_with_index("llama_idx_b", "{\"weight_map\": {\"model.norm.weight\": \"../x\"}}", &err), err,
                   "is not a file name in the model directory");
  CHECK_FAILS_WITH(load_with_index("llama_idx_c",
                                   "{\"weight_map\": {\"model.norm.weight\": \"model-00001-of-00002.safetensors\"}}", &err),
                   err, "but weight_map");
  char *ip = al_path_join(g_dir, "model.safetensors.index.json");
  size_t n = 0;
  char *text = NULL;
  CHECK_OK(al_read_file(ip, &text, &n, &err), err);
  al_rng rng;
  al_rng_seed(&rng, 3);
  int refusals = 0;
  for (int it = 0; text && it < 40; it++) {
    char *t = al_malloc(n + 1);
    memcpy(t, text, n + 1);
    if (it % 2) t[al_rng_below(&rng, n)] = (char)al_rng_below(&rng, 256);
    else t[al_rng_below(&rng, n)] = 0;
    if (!memchr(t, 0, n)) t[n] = 0;
    err.msg[0] = 0;
    if (load_with_index("llama_idx_fuzz", t, &err)) {
      refusals++;
      CHECK(err.msg[0] != 0, "a refused index says why");
    }
    free(t);
  }
  CHECK(refusals > 0, "fuzzed indexes: some refused");
  free(text), free(ip), free(exp), free(cfgp), free(out);
  al_st_close(&ex);
  return test_summary();
}
