/* Hugging Face model directories, for any registered architecture:
 *   config.json        "architectures" (the head's HF class), then the
 *                      architecture's keys (GPT-2: GPT2Config, model_type
 *                      "gpt2", n_layer, ...)
 *   model.safetensors  (or shards named by model.safetensors.index.json on load)
 *                      the parameters under HF names, F32, Conv1D weights
 *                      [in, out] (the layout of the parameter buffer); a
 *                      scalar-head model is saved as a sequence classifier:
 *                      "transformer.*" and "score.weight"
 *   vocab.json, merges.txt  when a tokenizer is given
 *   tokenizer_config.json   with it: special tokens and the chat template
 *                      (src/io/chat_template.c)
 * Every tensor is loaded by name. On load, names may carry the
 * "transformer." prefix (GPT2LMHeadModel checkpoints) or not (GPT2Model ones,
 * and what alab writes for a language model); the architecture's
 * non-parameter buffers (GPT-2's attention masks) are skipped; a tied
 * lm_head.weight is accepted only if it equals the tensor it is tied to
 * (GPT-2: wte.weight). F16, BF16 and F64 tensors are converted to float32. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "alab/chat_template.h"
#include "alab/json.h"
#include "alab/llama2c.h"
#include "alab/model.h"
#include "alab/safetensors.h"
#include "alab/tok.h"
#include "io/model_map.h"
#include "model/arch.h"

/* "architectures": the Hugging Face class of the model's head:
 * <hf_class>LMHeadModel, or <hf_class>ForSequenceClassification with one
 * label (id2label/label2id as transformers writes them) for a scalar head. */
static void head_class(const al_arch *a, int scalar_head, char *out, size_t n) {
  if (!scalar_head && a->causal_lm_class) snprintf(out, n, "%s", a->causal_lm_class);
  else snprintf(out, n, "%s%s", a->hf_class, scalar_head ? "ForSequenceClassification" : "LMHeadModel");
}

/* bos/eos: the tokenizer's <|endoftext|> when known, else the last id (which
 * is where alab's tokenizers put it, as GPT-2 does with 50256). The keys of
 * extra (may be NULL; a training run's settings) follow the model's. */
static int config_save(const al_model_config *c, int eos, const json_t *extra, const char *path, al_err *err) {
  if (al_model_config_check(c, err)) return al_fail_prefix(err, "%s", path);
  if (eos < 0) eos = c->vocab_size - 1;
  const al_arch *a = al_arch_find(c->arch[0] ? c->arch : "gpt2");
  char cls[96];
  head_class(a, c->scalar_head, cls, sizeof cls);
  json_t *j = json_object();
  json_object_set_new(j, "architectures", json_pack("[s]", cls));
  a->config_write(j, c, eos);
  if (c->scalar_head) {
    json_object_set_new(j, "id2label", json_pack("{s:s}", "0", "LABEL_0"));
    json_object_set_new(j, "label2id", json_pack("{s:i}", "LABEL_0", 0));
    /* transformers reads a classifier's output at the last token that is
     * not pad_token_id (without one, only batches of one row work) */
    json_object_set_new(j, "pad_token_id", json_integer(eos));
  }
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

int al_config_save(const al_model_config *c, const char *path, al_err *err) { return config_save(c, -1, NULL, path, err); }

/* The head from "architectures" (absent: the LM head); a sequence
 * classifier must have exactly one label. */
static int read_head(const json_t *j, const al_arch *a, al_model_config *c, const char *path, al_err *err) {
  const json_t *archs = json_object_get(j, "architectures");
  if (!archs || json_is_null(archs)) return 0;
  if (!json_is_array(archs) || json_array_size(archs) != 1 || !json_is_string(json_array_get(archs, 0)))
    return al_fail(err, "%s: field 'architectures' must be an array of one class name", path);
  char cls[96];
  head_class(a, 1, cls, sizeof cls);
  if (strcmp(json_string_value(json_array_get(archs, 0)), cls) != 0) return 0;
  c->scalar_head = 1;
  const json_t *labels = json_object_get(j, "id2label");
  long long n = labels && json_is_object(labels) ? (long long)json_object_size(labels) : 1;
  if (al_json_opt_int(j, "num_labels", &n, path, err)) return -1;
  if (n != 1)
    return al_fail(err, "%s: %s with %lld labels is not supported (alab's scalar head has one)", path, cls, n);
  return 0;
}

int al_config_load(al_model_config *c, const char *path, al_err *err) {
  json_t *j;
  if (al_json_load_file(path, &j, err)) return -1;
  int rc = -1;
  const char *s;
  memset(c, 0, sizeof *c);
  if (!json_is_object(j)) {
    al_fail(err, "%s: expected a JSON object", path);
    goto done;
  }
  if (al_json_get_string(j, "model_type", &s, path, err)) goto done;
  const al_arch *a = al_arch_find(s);
  if (!a) {
    char known[256];
    al_arch_names(known, sizeof known);
    al_fail(err, "%s: model_type '%.80s' is not supported (expected %s)", path, s, known);
    goto done;
  }
  snprintf(c->arch, sizeof c->arch, "%s", a->name);
  if (a->config_read(j, c, path, err) || read_head(j, a, c, path, err)) goto done;
  if (al_model_config_check(c, err)) {
    al_fail_prefix(err, "%s", path);
    goto done;
  }
  rc = 0;
done:
  json_decref(j);
  return rc;
}

/* A tokenizer whose texts begin with a BOS (a tokenizer.json's
 * post-processor) keeps it in the vocab.json + merges.txt alab writes:
 * "add_bos_token": true and "bos_token" in tokenizer_config.json, which
 * transformers' GPT2Tokenizer and al_tok_load both apply (a tokenizer.bin
 * directory is read from tokenizer.bin, whose <s> is its own). */
static int save_add_bos(const al_tok *tok, const char *dir, al_err *err) {
  size_t n;
  const char *s = al_tok_token(tok, al_tok_bos(tok), &n);
  char *path = al_path_join(dir, "tokenizer_config.json");
  json_t *j = NULL;
  int rc = al_json_load_file(path, &j, err);
  if (!rc) {
    json_object_set_new(j, "add_bos_token", json_true());
    json_object_set_new(j, "bos_token", json_stringn(s, n));
    rc = al_json_save_file(path, j, err);
  }
  json_decref(j);
  free(path);
  return rc;
}

/* tokenizer_config.json: the chat template (alab's default) and the
 * special tokens, as transformers writes it for GPT-2. */
static int save_tokenizer_config(const al_tok *tok, int n_positions, const char *dir, al_err *err) {
  size_t n = 0;
  const char *eot = al_tok_eot(tok) >= 0 ? al_tok_token(tok, al_tok_eot(tok), &n) : NULL;
  char *special = NULL; /* <|endoftext|> */
  if (eot) {
    special = al_malloc(n + 1);
    memcpy(special, eot, n);
    special[n] = 0;
  }
  int rc = al_tokenizer_config_save(dir, special, n_positions, err);
  free(special);
  if (!rc && al_tok_bos(tok) >= 0) rc = save_add_bos(tok, dir, err);
  return rc;
}

int al_model_save_dir(const al_model *m, const struct al_tok *tok, const char *dir, al_err *err) {
  return al_model_save_dir_with(m, tok, NULL, dir, err);
}

int al_model_save_dir_with(const al_model *m, const struct al_tok *tok, const json_t *extra_config, const char *dir,
                           al_err *err) {
  return al_model_save_dir_opts(m, tok, extra_config, NULL, dir, err);
}

/* The parameters are checked finite first: a diverged model is never written. */
int al_model_save_dir_opts(const al_model *m, const struct al_tok *tok, const json_t *extra_config,
                           const al_save_opts *opts, const char *dir, al_err *err) {
  if (tok && al_tok_vocab_size(tok) > m->cfg.vocab_size)
    return al_fail(err, "%s: the tokenizer has %d tokens but the model's vocab_size is %d", dir, al_tok_vocab_size(tok),
                   m->cfg.vocab_size);
  if (al_mkdir_p(dir, err)) return -1;
  char *cfg = al_path_join(dir, "config.json");
  int rc = al_model_save_weights(m, dir, opts, err);
  if (!rc) rc = config_save(&m->cfg, tok ? al_tok_eot(tok) : -1, extra_config, cfg, err);
  if (!rc && tok) rc = al_tok_save(tok, dir, err);
  if (!rc && tok) rc = save_tokenizer_config(tok, m->cfg.n_positions, dir, err);
  free(cfg);
  return rc;
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

/* Allocates and fills m->params from f. When the output embedding is tied to another
 * tensor (GPT-2: wte), lm_head.weight is only checked against it (or used as
 * it when the file lacks it, as a tied checkpoint may). */
static int fill_params(al_model *m, const al_st_file *f, al_err *err) {
  const al_st_entry **src = al_calloc((size_t)m->ntensors, sizeof *src);
  const al_st_entry *head = NULL;
  const al_tensor *wte = al_model_lm_head(m);
  int tied = strcmp(wte->name, "lm_head.weight") != 0;
  int rc = -1;
  for (int i = 0; i < f->n; i++) {
    const al_st_entry *e = &f->entries[i];
    const char *name = strncmp(e->name, "transformer.", 12) == 0 ? e->name + 12 : e->name;
    if (m->arch->is_buffer(name)) continue;
    if (tied && strcmp(e->name, "lm_head.weight") == 0) {
      head = e;
      continue;
    }
    const al_tensor *t = al_model_tensor(m, name);
    if (!t) {
      al_fail(err, "%s: unexpected tensor '%.200s' (not a parameter of this %s model)", f->where, e->name, m->arch->name);
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
  /* every tensor is there with its shape: only now is the buffer allocated
   * (a config asking for more than the file holds never allocates it) */
  al_model_use_params(m, al_alloc_floats(m->nparams), NULL, 0);
  for (int k = 0; k < m->ntensors; k++)
    if (al_st_read_f32(f, src[k], m->params + m->tensors[k].offset, err) ||
        al_check_finite(m->params + m->tensors[k].offset, m->tensors[k].numel, f->where, src[k]->name, err))
      goto done;
  if (head && src[wte - m->tensors] != head) {
    float *h = al_malloc(sizeof(float) * wte->numel);
    int differ = al_st_read_f32(f, head, h, err) || memcmp(h, m->params + wte->offset, sizeof(float) * wte->numel);
    free(h);
    if (differ) {
      al_fail(err, "%s: lm_head.weight differs from %s; the config ties the output head to the token embedding, "
                   "so an untied head cannot be loaded", f->where, wte->name);
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
  char *cfgp = al_path_join(dir, "config.json");
  al_model_config cfg;
  al_st_set f;
  int rc = -1;
  if (al_config_load(&cfg, cfgp, err)) goto done;
  if (al_st_open_model(&f, dir, err)) goto done;
  if (al_model_alloc_table(m, &cfg, err) == 0) {
    /* mapped when the file is the parameter buffer (src/io/model_map.c), else read */
    rc = al_model_map_params(m, &f, err);
    if (rc == 0) rc = fill_params(m, &f.all, err);
    rc = rc < 0 ? -1 : 0;
    if (rc) al_model_free(m);
  }
  al_st_set_close(&f);
done:
  free(cfgp);
  return rc;
}

int al_model_load_dir_tok(al_model *m, struct al_tok **tok, const char *dir, al_err *err) {
  return al_model_load_tok(m, tok, dir, NULL, err);
}

int al_model_load_tok(al_model *m, struct al_tok **tok, const char *dir, const char *tok_path, al_err *err) {
  *tok = NULL;
  struct stat st;
  int file = stat(dir, &st) == 0 && S_ISREG(st.st_mode); /* a llama2.c checkpoint, its tokenizer.bin beside it */
  char *beside = NULL;
  if (file && !tok_path) {
    const char *slash = strrchr(dir, '/');
    beside = al_malloc((size_t)(slash ? slash - dir + 1 : 0) + sizeof "tokenizer.bin");
    sprintf(beside, "%.*stokenizer.bin", (int)(slash ? slash - dir + 1 : 0), dir);
  }
  const char *tp = tok_path ? tok_path : beside ? beside : dir;
  if (file ? al_llama2c_load(m, dir, err) : al_model_load_dir(m, dir, err)) {
    free(beside);
    return al_fail_prefix(err, "loading model %s", dir);
  }
  if (al_tok_load(tok, tp, err)) {
    al_model_free(m);
    al_fail_prefix(err, "loading the tokenizer of %s%s", dir, beside ? " (llama2.c's tokenizer.bin beside it)" : "");
    free(beside);
    return -1;
  }
  free(beside);
  int tv = al_tok_vocab_size(*tok), mv = m->cfg.vocab_size;
  if (tv > mv) {
    al_tok_free(*tok), *tok = NULL;
    al_model_free(m);
    return al_fail(err, "%s: the tokenizer has %d tokens but the model's vocabulary only %d (vocab_size in config.json); "
                        "the tokenizer files belong to another model",
                   dir, tv, mv);
  }
  return 0;
}
