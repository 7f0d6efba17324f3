/* Hugging Face model directories for GPT-2:
 *   config.json        GPT2Config keys (model_type "gpt2", n_layer, ...)
 *   model.safetensors  the parameters under HF names, F32, Conv1D weights
 *                      [in, out] (the layout of the parameter buffer)
 *   vocab.json, merges.txt  when a tokenizer is given
 * On load, names may carry the "transformer." prefix (GPT2LMHeadModel
 * checkpoints) or not (GPT2Model ones, and what alab writes); HF's attention
 * mask buffers (h.N.attn.bias, h.N.attn.masked_bias) are skipped; an
 * lm_head.weight is accepted only if it equals wte.weight, since the head is
 * tied. F16, BF16 and F64 tensors are converted to float32. */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/model.h"
#include "alab/safetensors.h"
#include "alab/tok.h"

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

/* bos/eos: the tokenizer's <|endoftext|> when known, else the last id (which
 * is where alab's tokenizers put it, as GPT-2 does with 50256). The keys of
 * extra (may be NULL; a training run's settings) follow GPT-2's. */
static int config_save(const al_gpt2_config *c, int eos, const json_t *extra, const char *path, al_err *err) {
  if (al_gpt2_config_check(c, err)) return al_fail_prefix(err, "%s", path);
  if (eos < 0) eos = c->vocab_size - 1;
  json_t *j = json_object();
  json_object_set_new(j, "architectures", json_pack("[s]", "GPT2LMHeadModel"));
  json_object_set_new(j, "model_type", json_string("gpt2"));
  json_object_set_new(j, "vocab_size", json_integer(c->vocab_size));
  json_object_set_new(j, "n_positions", json_integer(c->n_positions));
  json_object_set_new(j, "n_ctx", json_integer(c->n_positions));
  json_object_set_new(j, "n_embd", json_integer(c->n_embd));
  json_object_set_new(j, "n_layer", json_integer(c->n_layer));
  json_object_set_new(j, "n_head", json_integer(c->n_head));
  json_object_set_new(j, "n_inner", json_null());
  json_object_set_new(j, "activation_function", json_string("gelu_new"));
  json_object_set_new(j, "layer_norm_epsilon", short_real(c->layer_norm_epsilon));
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
  if (extra) json_object_update(j, (json_t *)extra);
  /* 16 digits print short_real's doubles as the decimals they came from. */
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16));
  json_decref(j);
  size_t n = strlen(text);
  text = al_realloc(text, n + 2);
  memcpy(text + n, "\n", 2);
  int rc = al_write_file_atomic(path, text, n + 1, err);
  free(text);
  return rc;
}

int al_config_save(const al_gpt2_config *c, const char *path, al_err *err) { return config_save(c, -1, NULL, path, err); }

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

int al_config_load(al_gpt2_config *c, const char *path, al_err *err) {
  json_t *j;
  if (al_json_load_file(path, &j, err)) return -1;
  int rc = -1;
  const char *s;
  if (!json_is_object(j)) {
    al_fail(err, "%s: expected a JSON object", path);
    goto done;
  }
  if (al_json_get_string(j, "model_type", &s, path, err)) goto done;
  if (strcmp(s, "gpt2") != 0) {
    al_fail(err, "%s: model_type '%.80s' is not supported (expected \"gpt2\")", path, s);
    goto done;
  }
  memset(c, 0, sizeof *c);
  if (get_dim(j, "vocab_size", &c->vocab_size, path, err) || get_dim(j, "n_positions", &c->n_positions, path, err) ||
      get_dim(j, "n_embd", &c->n_embd, path, err) || get_dim(j, "n_layer", &c->n_layer, path, err) ||
      get_dim(j, "n_head", &c->n_head, path, err))
    goto done;
  const json_t *act = json_object_get(j, "activation_function");
  if (act && !json_is_null(act)) {
    if (!json_is_string(act)) {
      al_fail(err, "%s: field 'activation_function' must be a string", path);
      goto done;
    }
    s = json_string_value(act);
    if (strcmp(s, "gelu_new") != 0 && strcmp(s, "gelu_pytorch_tanh") != 0) {
      al_fail(err, "%s: activation_function '%.80s' is not supported (expected \"gelu_new\" or \"gelu_pytorch_tanh\")",
              path, s);
      goto done;
    }
  }
  long long inner = 4LL * c->n_embd;
  if (al_json_opt_int(j, "n_inner", &inner, path, err)) goto done;
  if (inner != 4LL * c->n_embd) {
    al_fail(err, "%s: n_inner = %lld is not supported (must be null or 4 * n_embd = %d)", path, inner, 4 * c->n_embd);
    goto done;
  }
  if (check_bool(j, "tie_word_embeddings", 1, "alab ties the output head to wte", path, err) ||
      check_bool(j, "scale_attn_weights", 1, "attention scores are scaled by 1/sqrt(head size)", path, err) ||
      check_bool(j, "scale_attn_by_inverse_layer_idx", 0, "not implemented", path, err) ||
      check_bool(j, "add_cross_attention", 0, "alab has no encoder", path, err))
    goto done;
  double eps = 1e-5, std = 0.02;
  if (al_json_opt_double(j, "layer_norm_epsilon", &eps, path, err) ||
      al_json_opt_double(j, "initializer_range", &std, path, err))
    goto done;
  c->layer_norm_epsilon = (float)eps;
  c->init_std = (float)std;
  if (al_gpt2_config_check(c, err)) {
    al_fail_prefix(err, "%s", path);
    goto done;
  }
  rc = 0;
done:
  json_decref(j);
  return rc;
}

int al_model_save_dir(const al_model *m, const struct al_tok *tok, const char *dir, al_err *err) {
  return al_model_save_dir_with(m, tok, NULL, dir, err);
}

/* The parameters are checked finite first: a diverged model is never written. */
int al_model_save_dir_with(const al_model *m, const struct al_tok *tok, const json_t *extra_config, const char *dir,
                           al_err *err) {
  if (tok && al_tok_vocab_size(tok) > m->cfg.vocab_size)
    return al_fail(err, "%s: the tokenizer has %d tokens but the model's vocab_size is %d", dir, al_tok_vocab_size(tok),
                   m->cfg.vocab_size);
  if (al_mkdir_p(dir, err)) return -1;
  al_st_tensor *t = al_calloc((size_t)m->ntensors, sizeof *t);
  for (int i = 0; i < m->ntensors; i++) {
    const al_tensor *x = &m->tensors[i];
    t[i].name = x->name;
    t[i].dtype = "F32";
    t[i].ndim = x->ndim;
    for (int d = 0; d < x->ndim; d++) t[i].shape[d] = x->shape[d];
    t[i].data = m->params + x->offset;
  }
  json_t *meta = json_pack("{s:s}", "format", "pt"); /* transformers refuses files without it */
  char *st = al_path_join(dir, "model.safetensors"), *cfg = al_path_join(dir, "config.json");
  int rc = 0;
  for (int i = 0; i < m->ntensors && !rc; i++)
    rc = al_check_finite(m->params + m->tensors[i].offset, m->tensors[i].numel, st, m->tensors[i].name, err);
  if (!rc) rc = al_st_write(st, t, m->ntensors, meta, err);
  if (!rc) rc = config_save(&m->cfg, tok ? al_tok_eot(tok) : -1, extra_config, cfg, err);
  if (!rc && tok) rc = al_tok_save(tok, dir, err);
  json_decref(meta);
  free(t);
  free(st);
  free(cfg);
  return rc;
}

/* HF's non-parameter attention buffers: h.N.attn.bias and h.N.attn.masked_bias. */
static int is_attn_buffer(const char *name) {
  if (strncmp(name, "h.", 2) != 0) return 0;
  const char *p = name + 2;
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') p++;
  return strcmp(p, ".attn.bias") == 0 || strcmp(p, ".attn.masked_bias") == 0;
}

static int same_shape(const al_st_entry *e, const al_tensor *t) {
  if (e->ndim != t->ndim) return 0;
  for (int d = 0; d < t->ndim; d++)
    if (e->shape[d] != t->shape[d]) return 0;
  return 1;
}

static int shape_error(const al_st_file *f, const al_st_entry *e, const al_tensor *t, al_err *err) {
  char got[160], want[160];
  int64_t ws[2] = {t->ndim > 0 ? t->shape[0] : 0, t->ndim > 1 ? t->shape[1] : 0};
  al_st_shape_str(e->shape, e->ndim, got, sizeof got);
  al_st_shape_str(ws, t->ndim, want, sizeof want);
  return al_fail(err, "%s: tensor '%.200s' has shape %s, but the config needs %s", f->where, e->name, got, want);
}

/* Fills m->params from f. lm_head.weight is only checked against wte (or
 * used as wte when the file has no wte, as a tied checkpoint may). */
static int fill_params(al_model *m, const al_st_file *f, al_err *err) {
  const al_st_entry **src = al_calloc((size_t)m->ntensors, sizeof *src);
  const al_st_entry *head = NULL;
  const al_tensor *wte = al_model_tensor(m, "wte.weight");
  int rc = -1;
  for (int i = 0; i < f->n; i++) {
    const al_st_entry *e = &f->entries[i];
    const char *name = strncmp(e->name, "transformer.", 12) == 0 ? e->name + 12 : e->name;
    if (is_attn_buffer(name)) continue;
    if (strcmp(e->name, "lm_head.weight") == 0) {
      head = e;
      continue;
    }
    const al_tensor *t = al_model_tensor(m, name);
    if (!t) {
      al_fail(err, "%s: unexpected tensor '%.200s' (not a GPT-2 parameter)", f->where, e->name);
      goto done;
    }
    int k = (int)(t - m->tensors);
    if (src[k]) {
      al_fail(err, "%s: tensor '%.200s' is given twice ('%.200s' and '%.200s')", f->where, name, src[k]->name, e->name);
      goto done;
    }
    if (!same_shape(e, t)) {
      shape_error(f, e, t, err);
      goto done;
    }
    src[k] = e;
  }
  if (head && !same_shape(head, wte)) {
    shape_error(f, head, wte, err);
    goto done;
  }
  if (head && !src[wte - m->tensors]) src[wte - m->tensors] = head;
  for (int k = 0; k < m->ntensors; k++)
    if (!src[k]) {
      al_fail(err, "%s: tensor '%s' is missing", f->where, m->tensors[k].name);
      goto done;
    }
  for (int k = 0; k < m->ntensors; k++)
    if (al_st_read_f32(f, src[k], m->params + m->tensors[k].offset, err) ||
        al_check_finite(m->params + m->tensors[k].offset, m->tensors[k].numel, f->where, src[k]->name, err))
      goto done;
  if (head && src[wte - m->tensors] != head) {
    float *h = al_malloc(sizeof(float) * wte->numel);
    int differ = al_st_read_f32(f, head, h, err) || memcmp(h, m->params + wte->offset, sizeof(float) * wte->numel);
    free(h);
    if (differ) {
      al_fail(err, "%s: lm_head.weight differs from wte.weight; alab ties the output head to the token embedding, "
                   "so an untied head cannot be loaded", f->where);
      goto done;
    }
  }
  rc = 0;
done:
  free(src);
  return rc;
}

int al_model_load_dir(al_model *m, const char *dir, al_err *err) {
  memset(m, 0, sizeof *m);
  char *cfgp = al_path_join(dir, "config.json"), *stp = al_path_join(dir, "model.safetensors");
  al_gpt2_config cfg;
  al_st_file f;
  int rc = -1;
  if (al_config_load(&cfg, cfgp, err)) goto done;
  if (al_st_open(&f, stp, err)) goto done;
  if (al_model_alloc(m, &cfg, err) == 0) {
    rc = fill_params(m, &f, err);
    if (rc) al_model_free(m);
  }
  al_st_close(&f);
done:
  free(cfgp);
  free(stp);
  return rc;
}
