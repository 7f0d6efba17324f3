/* Llama's hyperparameters and its config.json keys (transformers'
 * LlamaConfig): model_type "llama", vocab_size, hidden_size,
 * intermediate_size, num_hidden_layers, num_attention_heads,
 * num_key_value_heads (absent or null: num_attention_heads),
 * max_position_embeddings, rms_norm_eps, rope_theta, rope_scaling (only null),
 * hidden_act ("silu"), head_dim (absent or hidden_size / heads),
 * tie_word_embeddings, attention_bias, mlp_bias, bos/eos_token_id,
 * initializer_range. "architectures" is written by the caller. */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "model/llama.h"

_Static_assert(sizeof(llama_hparams) <= sizeof(((al_model_config *)0)->arch_hparams), "llama_hparams too large");

llama_hparams llama_hparams_of(const al_model_config *c) {
  llama_hparams h;
  memcpy(&h, c->arch_hparams, sizeof h);
  if (h.rms_norm_eps == 0) h.rms_norm_eps = 1e-6f;
  if (h.rope_theta == 0) h.rope_theta = 10000.0f;
  if (h.n_kv_head == 0) h.n_kv_head = c->n_head;
  if (h.intermediate_size == 0) h.intermediate_size = (8 * c->n_embd / 3 + 15) / 16 * 16;
  return h;
}

void llama_hparams_set(al_model_config *c, const llama_hparams *h) { memcpy(c->arch_hparams, h, sizeof *h); }

void llama_defaults(al_model_config *c) {
  llama_hparams h = llama_hparams_of(c);
  llama_hparams_set(c, &h);
}

int llama_check(const al_model_config *c, al_err *err) {
  llama_hparams h = llama_hparams_of(c);
  if (!(h.rms_norm_eps > 0) || h.rms_norm_eps > 1) return al_fail(err, "rms_norm_eps %g must be in (0, 1]", h.rms_norm_eps);
  if (!(h.rope_theta > 1) || h.rope_theta > 1e12f) return al_fail(err, "rope_theta %g must be in (1, 1e12]", h.rope_theta);
  if (h.n_kv_head < 1 || h.n_kv_head > c->n_head || c->n_head % h.n_kv_head)
    return al_fail(err, "num_key_value_heads %d must divide num_attention_heads %d", h.n_kv_head, c->n_head);
  if ((c->n_embd / c->n_head) % 2)
    return al_fail(err, "head size %d (hidden_size %d / num_attention_heads %d) must be even for rotary embeddings",
                   c->n_embd / c->n_head, c->n_embd, c->n_head);
  if (h.intermediate_size < 1 || h.intermediate_size > (1 << 20))
    return al_fail(err, "intermediate_size %d out of range [1, 1048576]", h.intermediate_size);
  for (int i = 0; i < 3; i++) {
    int v = i == 0 ? h.tie_word_embeddings : i == 1 ? h.attention_bias : h.mlp_bias;
    if (v != 0 && v != 1)
      return al_fail(err, "%s %d must be 0 or 1", i == 0 ? "tie_word_embeddings" : i == 1 ? "attention_bias" : "mlp_bias", v);
  }
  return 0;
}

/* The shortest decimal that reads back as the same float. */
static json_t *short_real(float f) {
  char s[32];
  for (int p = 1; p <= 9; p++) {
    snprintf(s, sizeof s, "%.*g", p, (double)f);
    if ((float)strtod(s, NULL) == f) break;
  }
  return json_real(strtod(s, NULL));
}

void llama_config_write(json_t *j, const al_model_config *c, int eos) {
  llama_hparams h = llama_hparams_of(c);
  json_object_set_new(j, "model_type", json_string("llama"));
  json_object_set_new(j, "vocab_size", json_integer(c->vocab_size));
  json_object_set_new(j, "hidden_size", json_integer(c->n_embd));
  json_object_set_new(j, "intermediate_size", json_integer(h.intermediate_size));
  json_object_set_new(j, "num_hidden_layers", json_integer(c->n_layer));
  json_object_set_new(j, "num_attention_heads", json_integer(c->n_head));
  json_object_set_new(j, "num_key_value_heads", json_integer(h.n_kv_head));
  json_object_set_new(j, "head_dim", json_integer(c->n_embd / c->n_head));
  json_object_set_new(j, "max_position_embeddings", json_integer(c->n_positions));
  json_object_set_new(j, "hidden_act", json_string("silu"));
  json_object_set_new(j, "rms_norm_eps", short_real(h.rms_norm_eps));
  json_object_set_new(j, "rope_theta", short_real(h.rope_theta));
  json_object_set_new(j, "rope_scaling", json_null());
  json_object_set_new(j, "attention_bias", json_boolean(h.attention_bias));
  json_object_set_new(j, "mlp_bias", json_boolean(h.mlp_bias));
  json_object_set_new(j, "attention_dropout", json_real(0.0));
  json_object_set_new(j, "pretraining_tp", json_integer(1));
  json_object_set_new(j, "initializer_range", short_real(c->init_std));
  json_object_set_new(j, "tie_word_embeddings", json_boolean(h.tie_word_embeddings));
  json_object_set_new(j, "use_cache", json_true());
  json_object_set_new(j, "bos_token_id", json_integer(h.bos_token_id ? h.bos_token_id - 1 : eos));
  json_object_set_new(j, "eos_token_id", json_integer(h.eos_token_id ? h.eos_token_id - 1 : eos));
  json_object_set_new(j, "torch_dtype", json_string("float32"));
}

static int get_dim(const json_t *j, const char *key, int *out, const char *path, al_err *err) {
  long long v;
  if (al_json_get_int(j, key, &v, path, err)) return -1;
  if (v < 1 || v > (1 << 30)) return al_fail(err, "%s: %s = %lld is out of range (1..2^30)", path, key, v);
  *out = (int)v;
  return 0;
}

/* A boolean key, absent or null meaning dflt. */
static int get_bool(const json_t *j, const char *key, int dflt, int *out, const char *path, al_err *err) {
  const json_t *v = json_object_get(j, key);
  *out = dflt;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_boolean(v)) return al_fail(err, "%s: field '%s' must be true or false", path, key);
  *out = json_is_true(v);
  return 0;
}

/* bos/eos_token_id: an id, or a list of ids (the first is kept), stored + 1. */
static int get_token(const json_t *j, const char *key, int *out, const char *path, al_err *err) {
  const json_t *v = json_object_get(j, key);
  if (v && json_is_array(v) && json_array_size(v) > 0) v = json_array_get(v, 0);
  if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= (1 << 24))
    return al_fail(err, "%s: field '%s' must be a token id (or a list of them)", path, key);
  *out = (int)json_integer_value(v) + 1;
  return 0;
}

int llama_config_read(const json_t *j, al_model_config *c, const char *path, al_err *err) {
  llama_hparams h = {0};
  if (get_dim(j, "vocab_size", &c->vocab_size, path, err) || get_dim(j, "hidden_size", &c->n_embd, path, err) ||
      get_dim(j, "num_hidden_layers", &c->n_layer, path, err) ||
      get_dim(j, "num_attention_heads", &c->n_head, path, err) ||
      get_dim(j, "intermediate_size", &h.intermediate_size, path, err))
    return -1;
  long long npos = 2048, kv = c->n_head, head_dim = c->n_embd / c->n_head;
  const json_t *kvj = json_object_get(j, "num_key_value_heads"), *hd = json_object_get(j, "head_dim");
  if (al_json_opt_int(j, "max_position_embeddings", &npos, path, err) ||
      (kvj && !json_is_null(kvj) && al_json_opt_int(j, "num_key_value_heads", &kv, path, err)) ||
      (hd && !json_is_null(hd) && al_json_opt_int(j, "head_dim", &head_dim, path, err)))
    return -1;
  if (c->n_embd % c->n_head)
    return al_fail(err, "%s: hidden_size %d is not divisible by num_attention_heads %d", path, c->n_embd, c->n_head);
  if (kv < 1 || kv > c->n_head || c->n_head % kv)
    return al_fail(err, "%s: num_key_value_heads %lld must divide num_attention_heads %d", path, kv, c->n_head);
  if (head_dim != c->n_embd / c->n_head)
    return al_fail(err, "%s: head_dim %lld is not supported (alab needs hidden_size / num_attention_heads = %d)", path,
                   head_dim, c->n_embd / c->n_head);
  if (npos < 1 || npos > 65536)
    return al_fail(err, "%s: max_position_embeddings %lld out of range [1, 65536]", path, npos);
  c->n_positions = (int)npos;
  h.n_kv_head = (int)kv;
  const json_t *act = json_object_get(j, "hidden_act");
  if (act && !json_is_null(act) && (!json_is_string(act) || strcmp(json_string_value(act), "silu") != 0))
    return al_fail(err, "%s: hidden_act must be \"silu\" (Llama's SwiGLU)", path);
  const json_t *rs = json_object_get(j, "rope_scaling");
  if (rs && !json_is_null(rs)) {
    const json_t *ty = json_is_object(rs) ? json_object_get(rs, "rope_type") : NULL;
    if (!ty && json_is_object(rs)) ty = json_object_get(rs, "type");
    return al_fail(err, "%s: rope_scaling of type '%.40s' is not supported (alab implements plain rotary positions: "
                        "rope_scaling must be null)", path, ty && json_is_string(ty) ? json_string_value(ty) : "?");
  }
  double eps = 1e-6, theta = 10000.0, std = 0.02;
  if (al_json_opt_double(j, "rms_norm_eps", &eps, path, err) || al_json_opt_double(j, "rope_theta", &theta, path, err) ||
      al_json_opt_double(j, "initializer_range", &std, path, err))
    return -1;
  if (!(eps > 0) || eps > 1) return al_fail(err, "%s: rms_norm_eps %g must be in (0, 1]", path, eps);
  if (!(theta > 1) || theta > 1e12) return al_fail(err, "%s: rope_theta %g must be in (1, 1e12]", path, theta);
  if (get_bool(j, "tie_word_embeddings", 0, &h.tie_word_embeddings, path, err) ||
      get_bool(j, "attention_bias", 0, &h.attention_bias, path, err) ||
      get_bool(j, "mlp_bias", 0, &h.mlp_bias, path, err) || get_token(j, "bos_token_id", &h.bos_token_id, path, err) ||
      get_token(j, "eos_token_id", &h.eos_token_id, path, err))
    return -1;
  h.rms_norm_eps = (float)eps;
  h.rope_theta = (float)theta;
  llama_hparams_set(c, &h);
  c->init_std = (float)std;
  return 0;
}

/* HF Llama checkpoints may hold the rotary inv_freq buffers (model.layers.N.self_attn.rotary_emb.inv_freq). */
int llama_is_buffer(const char *name) {
  static const char suffix[] = "rotary_emb.inv_freq";
  size_t n = strlen(name), k = sizeof suffix - 1;
  return n >= k && strcmp(name + n - k, suffix) == 0;
}
