/* Heads as options of one model, saved and loaded by name.
 *
 * A reward model is the GPT-2 trunk plus the scalar head: it is saved the way
 * Hugging Face's GPT2ForSequenceClassification is (config.json
 * "architectures": ["GPT2ForSequenceClassification"] with one label;
 * model.safetensors "transformer.*" and "score.weight" [1, n_embd]) and loads
 * back bit-identical. The scalar head does not change the trunk: a model with
 * it gives the same LM logits, bit for bit, as one without, from the same
 * seed. Bad directories are refused with the tensor or field named.
 * (The values and gradients themselves are checked against PyTorch in
 * test_gpt2_torch and against finite differences in test_nn_grad.) */
#include <jansson.h>
#include "alab/json.h"
#include "alab/model.h"
#include "alab/safetensors.h"
#include "test.h"

static const al_model_config CFG = {.vocab_size = 29, .n_positions = 12, .n_layer = 2, .n_head = 2, .n_embd = 16};
enum { B = 2, T = 7 };
static const int32_t IN[B * T] = {1, 5, 9, 2, 28, 3, 3, 10, 0, 5, 7, 7, 21, 4};
static const int32_t POS[B] = {6, 3};

/* config.json of dir with key set to value (NULL: removed) */
static void edit_config(const char *dir, const char *key, json_t *value) {
  al_err err;
  char *p = al_path_join(dir, "config.json");
  json_t *j;
  CHECK_OK(al_json_load_file(p, &j, &err), err);
  if (value) json_object_set_new(j, key, value);
  else json_object_del(j, key);
  CHECK_OK(al_json_save_file(p, j, &err), err);
  json_decref(j);
  free(p);
}

static void test_save_load(const char *dir) {
  al_err err;
  al_model_config c = CFG;
  c.scalar_head = 1;
  al_model m, back;
  CHECK_OK(al_model_init(&m, &c, 3, &err), err);
  const al_tensor *score = al_model_tensor(&m, "score.weight");
  CHECK(score && score->ndim == 2 && score->shape[0] == 1 && score->shape[1] == 16 && m.score == m.params + score->offset,
        "score.weight [1, 16] in the table");
  float *sd = m.score;
  double ss = 0;
  for (int i = 0; i < 16; i++) ss += (double)sd[i] * sd[i];
  CHECK(ss > 0, "score.weight initialised (not zero)");
  char *md = al_path_join(dir, "rm");
  CHECK_OK(al_model_save_dir(&m, NULL, md, &err), err);

  /* the files, as transformers names them */
  char *cp = al_path_join(md, "config.json"), *sp = al_path_join(md, "model.safetensors");
  json_t *j;
  CHECK_OK(al_json_load_file(cp, &j, &err), err);
  json_t *archs = json_object_get(j, "architectures"), *labels = json_object_get(j, "id2label");
  CHECK(json_array_size(archs) == 1 && !strcmp(json_string_value(json_array_get(archs, 0)), "GPT2ForSequenceClassification"),
        "architectures is GPT2ForSequenceClassification");
  CHECK(json_object_size(labels) == 1 && json_object_get(labels, "0"), "one label");
  json_decref(j);
  al_st_file f;
  CHECK_OK(al_st_open(&f, sp, &err), err);
  const al_st_entry *e = al_st_find(&f, "score.weight");
  CHECK(e && e->ndim == 2 && e->shape[0] == 1 && e->shape[1] == 16, "score.weight [1, 16] in the file");
  CHECK(al_st_find(&f, "transformer.wte.weight") && al_st_find(&f, "transformer.h.1.mlp.c_proj.bias") &&
            !al_st_find(&f, "wte.weight") && f.n == m.ntensors,
        "trunk saved under transformer.*");
  al_st_close(&f);

  /* loads back with the head, bit-identical */
  CHECK_OK(al_model_load_dir(&back, md, &err), err);
  CHECK(back.cfg.scalar_head == 1 && back.nparams == m.nparams, "the head is loaded");
  CHECK(back.nparams == m.nparams && memcmp(back.params, m.params, m.nparams * sizeof(float)) == 0, "params identical");
  float v1[B], v2[B];
  CHECK_OK(al_model_forward_scalar(&m, IN, POS, B, T, v1, &err), err);
  CHECK_OK(al_model_forward_scalar(&back, IN, POS, B, T, v2, &err), err);
  CHECK(memcmp(v1, v2, sizeof v1) == 0, "values identical after load");
  al_model_free(&back);

  /* a sequence classifier without score.weight, or with two labels */
  al_st_tensor *t = al_calloc((size_t)m.ntensors, sizeof *t);
  char (*names)[80] = al_calloc((size_t)m.ntensors, sizeof *names);
  int n = 0;
  for (int i = 0; i < m.ntensors; i++) {
    if (!strcmp(m.tensors[i].name, "score.weight")) continue;
    snprintf(names[n], sizeof names[n], "transformer.%s", m.tensors[i].name);
    t[n] = (al_st_tensor){names[n], "F32", m.tensors[i].ndim, {m.tensors[i].shape[0], m.tensors[i].shape[1]},
                          m.params + m.tensors[i].offset};
    n++;
  }
  CHECK_OK(al_st_write(sp, t, n, NULL, &err), err);
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "tensor 'score.weight' is missing");
  edit_config(md, "architectures", json_pack("[s]", "GPT2LMHeadModel")); /* then it is a language model */
  CHECK_OK(al_model_load_dir(&back, md, &err), err);
  CHECK(back.cfg.scalar_head == 0 && back.score == NULL, "an LM config loads without the head");
  al_model_free(&back);
  edit_config(md, "architectures", json_pack("[s]", "GPT2ForSequenceClassification"));
  edit_config(md, "id2label", json_pack("{s:s, s:s}", "0", "LABEL_0", "1", "LABEL_1"));
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "GPT2ForSequenceClassification with 2 labels is not supported");
  edit_config(md, "architectures", json_string("GPT2ForSequenceClassification"));
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "config.json: field 'architectures' must be an array");
  edit_config(md, "architectures", NULL);
  edit_config(md, "model_type", json_string("mamba"));
  CHECK_FAILS_WITH(al_model_load_dir(&back, md, &err), err, "model_type 'mamba' is not supported (expected \"gpt2\", \"llama\")");
  free(names), free(t), free(cp), free(sp), free(md);
  al_model_free(&m);
}

/* The head is an option of the same model: the trunk, its initialisation
 * and its LM logits do not change when the scalar head is added. */
static void test_same_trunk(void) {
  al_err err;
  al_model lm, rm;
  al_model_config c = CFG;
  CHECK_OK(al_model_init(&lm, &c, 9, &err), err);
  c.scalar_head = 1;
  CHECK_OK(al_model_init(&rm, &c, 9, &err), err);
  CHECK(rm.ntensors == lm.ntensors + 1 && rm.nparams == lm.nparams + 16, "one more tensor of n_embd");
  CHECK(memcmp(rm.params, lm.params, lm.nparams * sizeof(float)) == 0, "same trunk from the same seed");
  al_model_forward(&lm, IN, NULL, B, T);
  al_model_forward(&rm, IN, NULL, B, T);
  CHECK(memcmp(al_model_logits(&lm), al_model_logits(&rm), sizeof(float) * B * T * c.vocab_size) == 0,
        "same LM logits with the scalar head");
  float v[B];
  CHECK_FAILS_WITH(al_model_forward_scalar(&lm, IN, POS, B, T, v, &err), err, "no scalar head");
  al_model_free(&lm);
  al_model_free(&rm);
}

int main(void) {
  char *dir = test_tmpdir("model_heads");
  test_save_load(dir);
  test_same_trunk();
  free(dir);
  return test_summary();
}
