/* The whole model against PyTorch: logits, loss, every parameter gradient,
 * and the parameters after 3 AdamW steps, for two configurations; and the
 * scalar head (reward/value models): its values and every parameter's
 * gradient of a weighted sum of them.
 *
 * C writes the model directory (config.json + model.safetensors) and the
 * batch; tests/oracle/gpt2_torch.py, an independent GPT-2 in torch (Debian
 * python3-torch, run with /usr/bin/python3), computes the same quantities and
 * writes them back as safetensors. Agreement is measured per tensor as
 * max|alab - torch| / max|torch| <= 1e-4 (a relative error per element would
 * divide by gradients that are zero up to rounding). Never skipped: a missing
 * torch is a failure. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/model.h"
#include "alab/nn.h"
#include "alab/safetensors.h"
#include "test.h"
#include "oracle_compare.h"

/* the oracle's tolerance: max|alab - torch| / max|torch| per tensor */
#define TOL 1e-4

/* perturb biases and LayerNorm parameters so that every term is exercised */
static void perturb_vectors(al_model *m, al_rng *rng) {
  for (int i = 0; i < m->ntensors; i++)
    if (m->tensors[i].ndim == 1)
      for (size_t k = 0; k < m->tensors[i].numel; k++) m->params[m->tensors[i].offset + k] += 0.1f * (float)al_rng_normal(rng);
}

/* Runs the oracle on model directory mdir and batch (stolen); opens its output. */
static int run_oracle(const char *cfgname, const char *dir, const char *mdir, json_t *batch, al_st_file *f) {
  al_err err;
  char *bpath = al_path_join(dir, "batch.json"), *opath = al_path_join(dir, "torch.safetensors");
  CHECK_OK(al_json_save_file(bpath, batch, &err), err);
  json_decref(batch);
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/gpt2_torch.py' '%s' '%s' '%s'", getenv("ALAB_SRC"), mdir,
           bpath, opath);
  int rc = system(cmd);
  CHECK(rc == 0, "%s: the PyTorch oracle failed (rc %d): is python3-torch installed?", cfgname, rc);
  if (rc == 0 && al_st_open(f, opath, &err)) {
    CHECK(0, "%s: cannot read torch output: %s", cfgname, err.msg);
    rc = -1;
  }
  free(bpath), free(opath);
  return rc == 0 ? 0 : -1;
}

static void run_config(const char *cfgname, al_model_config cfg, int B, int T, uint64_t seed) {
  al_err err;
  char *dir = test_tmpdir(cfgname);
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
    tg[i] = i % 7 == 3 ? -1 : (int32_t)al_rng_below(&rng, cfg.vocab_size); /* some ignored targets */
    json_array_append_new(jin, json_integer(in[i]));
    json_array_append_new(jtg, json_integer(tg[i]));
  }
  /* eps 1e-6, not 1e-8: Adam's early steps move each weight by about lr *
   * g / (|g| + eps), so for a gradient at float-rounding level (~1e-8) an eps
   * of 1e-8 would make the comparison test rounding noise, not the optimizer
   * (measured: 2.4e-4 on one such weight with 1e-8, all <= 1e-4 with 1e-6). */
  nn_adamw_cfg ac = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-6f, .weight_decay = 0.1f};
  json_t *batch = json_pack("{s:i, s:i, s:o, s:o, s:{s:i, s:f, s:f, s:f, s:f, s:f}}", "B", B, "T", T, "inputs", jin,
                            "targets", jtg, "adam", "steps", 3, "lr", (double)ac.lr, "beta1", (double)ac.beta1, "beta2",
                            (double)ac.beta2, "eps", (double)ac.eps, "weight_decay", (double)ac.weight_decay);
  al_st_file f;
  if (run_oracle(cfgname, dir, mdir, batch, &f)) return;
  float loss = al_model_forward(&m, in, tg, B, T);
  compare_tol(&f, "logits", al_model_logits(&m), (size_t)N * cfg.vocab_size, TOL, cfgname);
  compare_tol(&f, "loss", &loss, 1, TOL, cfgname);
  al_model_zero_grad(&m);
  al_model_backward(&m, 1.0f);
  compare_model(&f, "grad", &m, m.grads, TOL, cfgname);
  /* 3 AdamW steps on the same batch, decay on 2-D tensors only */
  float *mom = al_alloc_floats(m.nparams), *var = al_alloc_floats(m.nparams);
  for (int step = 1; step <= 3; step++) {
    al_model_forward(&m, in, tg, B, T);
    al_model_zero_grad(&m);
    al_model_backward(&m, 1.0f);
    for (int i = 0; i < m.ntensors; i++) {
      const al_tensor *t = &m.tensors[i];
      nn_adamw_update(m.params + t->offset, m.grads + t->offset, mom + t->offset, var + t->offset, t->numel, step, &ac,
                      t->decay);
    }
  }
  compare_model(&f, "adam", &m, m.params, TOL, cfgname);
  al_st_close(&f);
  free(mom), free(var), free(in), free(tg), free(mdir), free(dir);
  al_model_free(&m);
}

/* The scalar head: values[b] = score . h[b, pos[b]] and the gradient of
 * sum_b dv[b] values[b] w.r.t. every parameter (score.weight and the trunk). */
static void run_scalar(const char *cfgname, al_model_config cfg, int B, int T, uint64_t seed) {
  al_err err;
  char *dir = test_tmpdir(cfgname);
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
    pos[b] = b == 0 ? T - 1 : (int32_t)al_rng_below(&rng, T); /* the last token, as HF reads it, and others */
    dv[b] = (float)al_rng_normal(&rng);
    json_array_append_new(jpos, json_integer(pos[b]));
    json_array_append_new(jdv, json_real(dv[b]));
  }
  json_t *batch = json_pack("{s:i, s:i, s:o, s:o, s:o}", "B", B, "T", T, "inputs", jin, "score_pos", jpos,
                            "score_dvalues", jdv);
  al_st_file f;
  if (run_oracle(cfgname, dir, mdir, batch, &f) == 0) {
    CHECK_OK(al_model_forward_scalar(&m, in, pos, B, T, values, &err), err);
    compare_tol(&f, "values", values, B, TOL, cfgname);
    al_model_zero_grad(&m);
    al_model_backward_scalar(&m, dv);
    compare_model(&f, "grad", &m, m.grads, TOL, cfgname);
    al_st_close(&f);
  }
  free(in), free(pos), free(dv), free(values), free(mdir), free(dir);
  al_model_free(&m);
}

int main(void) {
  al_model_config a = {.vocab_size = 37, .n_positions = 16, .n_layer = 1, .n_head = 1, .n_embd = 8};
  run_config("torch_small", a, 2, 5, 7);
  al_model_config b = {.vocab_size = 61, .n_positions = 24, .n_layer = 3, .n_head = 4, .n_embd = 32};
  run_config("torch_multi", b, 3, 17, 11);
  run_scalar("torch_scalar", b, 3, 9, 13);
  return test_summary();
}
