/* GPT-2's hyperparameters and its config.json keys (GPT2Config): model_type
 * "gpt2", vocab_size, n_positions (n_ctx), n_embd, n_layer, n_head, n_inner
 * (null or 4 * n_embd), activation_function (gelu_new), layer_norm_epsilon,
 * initializer_range, and the booleans whose other values alab does not
 * implement. "architectures" is written by the caller (src/io/model_dir.c). */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "model/gpt2.h"

_Static_assert(sizeof(gpt2_hparams) <= sizeof(((al_model_config *)0)->arch_hparams), "gpt2_hparams too large");

gpt2_hparams gpt2_hparams_of(const al_model_config *c) {
  gpt2_hparams h;
  memcpy(&h, c->arch_hparams, sizeof h);
  if (h.layer_norm_epsilon == 0) h.layer_norm_epsilon = 1e-5f;
  return h;
}

void gpt2_hparams_set(al_model_config *c, const gpt2_hparams *h) { memcpy(c->arch_hparams, h, sizeof *h); }

void gpt2_defaults(al_model_config *c) {
  gpt2_hparams h = gpt2_hparams_of(c);
  gpt2_hparams_set(c, &h);
}

int gpt2_check(const al_model_config *c, al_err *err) {
  float eps = gpt2_hparams_of(c).layer_norm_epsilon;
  if (!(eps > 0) || eps > 1) return al_fail(err, "layer_norm_epsilon %g must be in (0, 1]", eps);
  return 0;
}

/* The shortest decimal that reads back as the same float, as a double, so
 * config.json says 1e-05 rather than 9.9999997473787516e-06. */
static json_t *short_real(float f) {
  char s[32];
  for (int p = 1; p <= 9; p++) {
    snprintf(s, sizeof s, "%.*g", p, (double)f);
    if ((float)strtod(s, NULL) == f) break;
  }
  return json_real(strtod(s, NULL));
}

void gpt2_config_write(json_t *j, const al_model_config *c, int eos) {
  json_object_set_new(j, "model_type", json_string("gpt2"));
  json_object_set_new(j, "vocab_size", json_integer(c->vocab_size));
  json_object_set_new(j, "n_positions", json_integer(c->n_positions));
  json_object_set_new(j, "n_ctx", json_integer(c->n_positions));
  json_object_set_new(j, "n_embd", json_integer(c->n_embd));
  json_object_set_new(j, "n_layer", json_integer(c->n_layer));
  json_object_set_new(j, "n_head", json_integer(c->n_head));
  json_object_set_new(j, "n_inner", json_null());
  json_object_set_new(j, "activation_function", json_string("gelu_new"));
  json_object_set_new(j, "layer_norm_epsilon", short_real(gpt2_hparams_of(c).layer_norm_epsilon));
  json_object_set_new(j, "initializer_range", short_real(c->init_std));
  json_object_set_new(j, "resid_pdrop", json_real(0.0));
  json_object_set_new(j, "embd_pdrop", json_real(0.0));
  json_object_set_new(j, "attn_pdrop", json_real(0.0));
  json_object_set_new(j, "scale_attn_weights", json_true());
  json_object_set_new(j, "use_cache", json_true());
  json_object_set_new(j, "tie_word_embeddings", json_true());
  json_object_set_new(j, "bos_token_id", json_integer(eos));
  json_object_set_new(j, "eos_token_id", json_integer(eos));
  json_object_set_new(j, "torch_dtype", json_string("float32"));
}

static int get_dim(const json_t *j, const char *key, int *out, const char *path, al_err *err) {
  long long v;
  if (al_json_get_int(j, key, &v, path, err)) return -1;
  if (v < 1 || v > (1 << 30)) return al_fail(err, "%s: %s = %lld is out of range (1..2^30)", path, key, v);
  *out = (int)v;
  return 0;
}

/* A boolean key that must be absent or equal to want (the only semantics alab implements). */
static int check_bool(const json_t *j, const char *key, int want, const char *why, const char *path, al_err *err) {
  const json_t *v = json_object_get(j, key);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_boolean(v)) return al_fail(err, "%s: field '%s' must be true or false", path, key);
  if (json_is_true(v) != want)
    return al_fail(err, "%s: %s = %s is not supported (%s)", path, key, want ? "false" : "true", why);
  return 0;
}

int gpt2_config_read(const json_t *j, al_model_config *c, const char *path, al_err *err) {
  if (get_dim(j, "vocab_size", &c->vocab_size, path, err) || get_dim(j, "n_positions", &c->n_positions, path, err) ||
      get_dim(j, "n_embd", &c->n_embd, path, err) || get_dim(j, "n_layer", &c->n_layer, path, err) ||
      get_dim(j, "n_head", &c->n_head, path, err))
    return -1;
  const json_t *act = json_object_get(j, "activation_function");
  if (act && !json_is_null(act)) {
    if (!json_is_string(act)) return al_fail(err, "%s: field 'activation_function' must be a string", path);
    const char *s = json_string_value(act);
    if (strcmp(s, "gelu_new") != 0 && strcmp(s, "gelu_pytorch_tanh") != 0)
      return al_fail(err,
                     "%s: activation_function '%.80s' is not supported (expected \"gelu_new\" or \"gelu_pytorch_tanh\")",
                     path, s);
  }
  long long inner = 4LL * c->n_embd;
  if (al_json_opt_int(j, "n_inner", &inner, path, err)) return -1;
  if (inner != 4LL * c->n_embd)
    return al_fail(err, "%s: n_inner = %lld is not supported (must be null or 4 * n_embd = %d)", path, inner,
                   4 * c->n_embd);
  if (check_bool(j, "tie_word_embeddings", 1, "alab ties the output head to wte", path, err) ||
      check_bool(j, "scale_attn_weights", 1, "attention scores are scaled by 1/sqrt(head size)", path, err) ||
      check_bool(j, "scale_attn_by_inverse_layer_idx", 0, "not implemented", path, err) ||
      check_bool(j, "add_cross_attention", 0, "alab has no encoder", path, err))
    return -1;
  double eps = 1e-5, std = 0.02;
  if (al_json_opt_double(j, "layer_norm_epsilon", &eps, path, err) ||
      al_json_opt_double(j, "initializer_range", &std, path, err))
    return -1;
  gpt2_hparams h = {.layer_norm_epsilon = (float)eps};
  if (h.layer_norm_epsilon == 0) return al_fail(err, "%s: layer_norm_epsilon %g must be in (0, 1]", path, eps);
  gpt2_hparams_set(c, &h);
  c->init_std = (float)std;
  return 0;
}

/* HF's non-parameter attention buffers: h.N.attn.bias and h.N.attn.masked_bias. */
int gpt2_is_buffer(const char *name) {
  if (strncmp(name, "h.", 2) != 0) return 0;
  const char *p = name + 2;
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') p++;
  return strcmp(p, ".attn.bias") == 0 || strcmp(p, ".attn.masked_bias") == 0;
}
