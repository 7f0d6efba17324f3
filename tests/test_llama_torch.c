/* Llama against PyTorch (tests/oracle/llama_torch.py, a Llama written from
 * Hugging Face's definitions in plain torch, run with /usr/bin/python3):
 * logits, loss, every parameter gradient and the parameters after 3 AdamW
 * steps, for a model with grouped-query attention, an untied head and
 * rope_theta 50000, and one with multi-query attention, a tied head and
 * attention/MLP biases; the scalar head (LlamaForSequenceClassification);
 * and KV-cache decoding against the full forward. alab writes the model
 * directory, so the oracle reading it also checks alab's written layout
 * (names, [out, in] Linear weights, config keys). Never skipped: a missing
 * torch is a failure. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/nn.h"
#include "model/llama.h"
#include "oracle_compare.h"

/* perturb norms and biases so that every term is exercised */
static void perturb_vectors(al_model *m, al_rng *rng) {
  for (int i = 0; i < m->ntensors; i++)
    if (m->tensors[i].ndim == 1)
      for (size_t k = 0; k < m->tensors[i].numel; k++) m->params[m->tensors[i].offset + k] += 0.1f * (float)al_rng_normal(rng);
}

static int run_oracle(const char *what, const char *dir, const char *mdir, json_t *batch, al_st_file *f) {
  al_err err;
  char *bpath = al_path_join(dir, "batch.json"), *opath = al_path_join(dir, "torch.safetensors");
  CHECK_OK(al_json_save_file(bpath, batch, &err), err);
  json_decref(batch);
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/llama_torch.py' grad '%s' '%s' '%s'", getenv("ALAB_SRC"),
           mdir, bpath, opath);
  int rc = system(cmd);
  CHECK(rc == 0, "%s: the PyTorch oracle failed (rc %d): is python3-torch installed?", what, rc);
  if (rc == 0 && al_st_open(f, opath, &err)) {
    CHECK(0, "%s: cannot read torch output: %s", what, err.msg);
    rc = -1;
  }
  free(bpath), free(opath);
  return rc == 0 ? 0 : -1;
}

/* KV-cache decoding of sequence 0 of the batch: fed at once (logits of every
 * row) and one token at a time, against the full forward's logits. */
static void check_decoding(al_model *m, const int32_t *in, int T, const float *full, const char *what) {
  al_err err;
  int V = m->cfg.vocab_size;
  float *all = al_alloc_floats((size_t)T * V), *one = al_alloc_floats((size_t)T * V);
  al_decoder *d = al_decoder_new(m);
  CHECK_OK(al_decoder_feed(d, in, T, all, &err), err);
  al_decoder_truncate(d, 0);
  for (int t = 0; t < T; t++) {
    CHECK_OK(al_decoder_feed(d, in + t, 1, NULL, &err), err);
    memcpy(one + (size_t)t * V, al_decoder_logits(d), V * sizeof(float));
  }
  double e1 = tensor_rel_err(all, full, (size_t)T * V), e2 = tensor_rel_err(one, full, (size_t)T * V);
  CHECK(e1 <= 1e-5 && e2 <= 1e-5, "%s: decoder logits differ from the forward's: %.3e (chunk), %.3e (one by one)", what,
        e1, e2);
  al_decoder_free(d);
  free(all), free(one);
}

static void run_config(const char *what, al_model_config cfg, int B, int T, uint64_t seed) {
  al_err err;
  char *dir = test_tmpdir(what);
  al_model m;
  CHECK_OK(al_model_init(&m, &cfg, seed, &err), err);
  al_rng rng;
  al_rng_seed(&rng, seed + 1);
  perturb_vectors(&m, &rng);
  char *mdir = al_path_join(dir, "model");
  CHECK_OK(al_model_save_dir(&m, NULL, mdir, &err), err);
  int N = B * T;
  int32_t *in = al_malloc(N * sizeof(int32_t)), *tg = al_malloc(N * sizeof(int32_t));
  json_t *jin = json_array(), *jtg = json_array();
  for (int i = 0; i < N; i++) {
    in[i] = (int32_t)al_rng_below(&rng, cfg.vocab_size);
    tg[i] = i % 7 == 3 ? -1 : (int32_t)al_rng_below(&rng, cfg.vocab_size);
    json_array_append_new(jin, json_integer(in[i]));
    json_array_append_new(jtg, json_integer(tg[i]));
  }
  nn_adamw_cfg ac = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-6f, .weight_decay = 0.1f};
  json_t *batch = json_pack("{s:i, s:i, s:o, s:o, s:{s:i, s:f, s:f, s:f, s:f, s:f}}", "B", B, "T", T, "inputs", jin,
                            "targets", jtg, "adam", "steps", 3, "lr", (double)ac.lr, "beta1", (double)ac.beta1, "beta2",
                            (double)ac.beta2, "eps", (double)ac.eps, "weight_decay", (double)ac.weight_decay);
  al_st_file f;
  if (run_oracle(what, dir, mdir, batch, &f) == 0) {
    float loss = al_model_forward(&m, in, tg, B, T);
    compare_tol(&f, "logits", al_model_logits(&m), (size_t)N * cfg.vocab_size, 1e-4, what);
    compare_tol(&f, "loss", &loss, 1, 1e-4, what);
    check_decoding(&m, in, T, al_model_logits(&m), what);
    al_model_zero_grad(&m);
    al_model_backward(&m, 1.0f);
    double g = compare_model(&f, "grad", &m, m.grads, 1e-4, what);
    printf("%s: %d tensors, worst gradient error %.2e\n", what, m.ntensors, g);
    float *mom = al_alloc_floats(m.nparams), *var = al_alloc_floats(m.nparams);
    for (int step = 1; step <= 3; step++) {
      al_model_forward(&m, in, tg, B, T);
      al_model_zero_grad(&m);
      al_model_backward(&m, 1.0f);
      for (int i = 0; i < m.ntensors; i++) {
        const al_tensor *t = &m.tensors[i];
        nn_adamw_update(m.params + t->offset, m.grads + t->offset, mom + t->offset, var + t->offset, t->numel, step,
                        &ac, t->decay);
      }
    }
    compare_model(&f, "adam", &m, m.params, 1e-4, what);
    free(mom), free(var);
    al_st_close(&f);
  }
  free(in), free(tg), free(mdir), free(dir);
  al_model_free(&m);
}

static void run_scalar(const char *what, al_model_config cfg, int B, int T, uint64_t seed) {
  al_err err;
  char *dir = test_tmpdir(what);
  al_model m;
  cfg.scalar_head = 1;
  CHECK_OK(al_model_init(&m, &cfg, seed, &err), err);
  al_rng rng;
  al_rng_seed(&rng, seed + 1);
  perturb_vectors(&m, &rng);
  char *mdir = al_path_join(dir, "model");
  CHECK_OK(al_model_save_dir(&m, NULL, mdir, &err), err);
  int32_t *in = al_malloc(sizeof(int32_t) * B * T), *pos = al_malloc(sizeof(int32_t) * B);
  float *dv = al_alloc_floats(B), *values = al_alloc_floats(B);
  json_t *jin = json_array(), *jpos = json_array(), *jdv = json_array();
  for (int i = 0; i < B * T; i++) {
    in[i] = (int32_t)al_rng_below(&rng, cfg.vocab_size);
    json_array_append_new(jin, json_integer(in[i]));
  }
  for (int b = 0; b < B; b++) {
    pos[b] = b == 0 ? T - 1 : (int32_t)al_rng_below(&rng, T);
    dv[b] = (float)al_rng_normal(&rng);
    json_array_append_new(jpos, json_integer(pos[b]));
    json_array_append_new(jdv, json_real(dv[b]));
  }
  json_t *batch = json_pack("{s:i, s:i, s:o, s:o, s:o}", "B", B, "T", T, "inputs", jin, "score_pos", jpos,
                            "score_dvalues", jdv);
  al_st_file f;
  if (run_oracle(what, dir, mdir, batch, &f) == 0) {
    CHECK_OK(al_model_forward_scalar(&m, in, pos, B, T, values, &err), err);
    compare_tol(&f, "values", values, B, 1e-4, what);
    al_model_zero_grad(&m);
    al_model_backward_scalar(&m, dv);
    compare_model(&f, "grad", &m, m.grads, 1e-4, what);
    al_st_close(&f);
  }
  free(in), free(pos), free(dv), free(values), free(mdir), free(dir);
  al_model_free(&m);
}

int main(void) {
  /* grouped-query attention (4 query heads on 2 key/value heads), untied head, rope_theta 50000 */
  al_model_config a = {.arch = "llama", .vocab_size = 53, .n_positions = 32, .n_layer = 2, .n_head = 4, .n_embd = 32};
  llama_hparams ha = {.rms_norm_eps = 1e-5f, .rope_theta = 50000.0f, .n_kv_head = 2, .intermediate_size = 40};
  llama_hparams_set(&a, &ha);
  run_config("llama_gqa_untied", a, 2, 9, 7);
  run_scalar("llama_scalar", a, 3, 6, 13);
  /* multi-query attention, tied head, every bias */
  al_model_config b = {.arch = "llama", .vocab_size = 29, .n_positions = 16, .n_layer = 1, .n_head = 2, .n_embd = 16};
  llama_hparams hb = {.n_kv_head = 1, .intermediate_size = 24, .tie_word_embeddings = 1, .attention_bias = 1, .mlp_bias = 1};
  llama_hparams_set(&b, &hb);
  run_config("llama_mqa_tied_bias", b, 3, 5, 11);
  return test_summary();
}
