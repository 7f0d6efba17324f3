/* Parameters memory-mapped from model.safetensors when the file is the
 * parameter buffer (F32, the table's tensors in its order): the loaded model
 * holds exactly the saved numbers in a private mapping; writing to them
 * (training) never changes the file; a NaN in a mapped file is still
 * refused with the tensor's name; a file in another order loads the same
 * numbers through the copying reader, unmapped. Also measures how long
 * opening a 110M-parameter model takes. */
#include <time.h>
#include <unistd.h>
#include "alab/model.h"
#include "alab/safetensors.h"
#include "model/llama.h"
#include "test.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(void) {
  al_err err;
  char *dir = test_tmpdir("model_map"), *md = al_path_join(dir, "m"), *rd = al_path_join(dir, "reordered");
  al_model_config c = {.arch = "llama", .vocab_size = 300, .n_positions = 64, .n_layer = 2, .n_head = 4, .n_embd = 64};
  llama_hparams h = {.n_kv_head = 2};
  llama_hparams_set(&c, &h);
  al_model m, a, b;
  CHECK_OK(al_model_init(&m, &c, 3, &err), err);
  CHECK_OK(al_model_save_dir(&m, NULL, md, &err), err);
  CHECK_OK(al_model_load_dir(&a, md, &err), err);
  CHECK(a.params_map != NULL, "an alab-written F32 file is mapped");
  CHECK(a.nparams == m.nparams && !memcmp(a.params, m.params, m.nparams * sizeof(float)), "mapped numbers are the saved ones");
  for (size_t i = 0; i < a.nparams; i++) a.params[i] = 7.0f; /* copy-on-write */
  CHECK_OK(al_model_load_dir(&b, md, &err), err);
  CHECK(!memcmp(b.params, m.params, m.nparams * sizeof(float)), "writing the mapped parameters leaves the file as it was");
  al_model_free(&a);
  al_model_free(&b);

  /* the same tensors in reverse order: read, not mapped, same numbers */
  al_st_tensor *t = al_calloc((size_t)m.ntensors, sizeof *t);
  for (int i = 0; i < m.ntensors; i++) {
    const al_tensor *x = &m.tensors[m.ntensors - 1 - i];
    t[i] = (al_st_tensor){.name = x->name, .dtype = "F32", .ndim = x->ndim, .shape = {x->shape[0], x->shape[1]},
                          .data = m.params + x->offset};
  }
  CHECK(system("true") == 0, "shell");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/config.json' '%s/'", rd, md, rd);
  CHECK(system(cmd) == 0, "copy config");
  char *rp = al_path_join(rd, "model.safetensors");
  CHECK_OK(al_st_write(rp, t, m.ntensors, NULL, &err), err);
  CHECK_OK(al_model_load_dir(&b, rd, &err), err);
  CHECK(b.params_map == NULL && !memcmp(b.params, m.params, m.nparams * sizeof(float)), "reordered file: read, same numbers");
  al_model_free(&b);

  /* a NaN in a mappable file */
  m.params[m.tensors[3].offset + 1] = NAN;
  t[0] = (al_st_tensor){0};
  for (int i = 0; i < m.ntensors; i++) {
    const al_tensor *x = &m.tensors[i];
    t[i] = (al_st_tensor){.name = x->name, .dtype = "F32", .ndim = x->ndim, .shape = {x->shape[0], x->shape[1]},
                          .data = m.params + x->offset};
  }
  char *sp = al_path_join(md, "model.safetensors");
  CHECK_OK(al_st_write(sp, t, m.ntensors, NULL, &err), err);
  char needle[128];
  snprintf(needle, sizeof needle, "tensor '%s' holds NaN", m.tensors[3].name);
  CHECK_FAILS_WITH(al_model_load_dir(&b, md, &err), err, needle);
  al_model_free(&m);

  /* opening a stories110M-shaped model (12 layers, 768 channels, vocab 32000) */
  al_model_config big = {.arch = "llama", .vocab_size = 32000, .n_positions = 1024, .n_layer = 12, .n_head = 12, .n_embd = 768};
  al_model_alloc(&m, &big, &err);
  char *bd = al_path_join(dir, "big");
  CHECK_OK(al_model_save_dir(&m, NULL, bd, &err), err);
  al_model_free(&m);
  double t0 = now();
  CHECK_OK(al_model_load_dir(&b, bd, &err), err);
  double dt = now() - t0;
  printf("opened a %zu-parameter model in %.3f s (mapped: %s)\n", b.nparams, dt, b.params_map ? "yes" : "no");
  CHECK(b.params_map != NULL, "the big model is mapped");
  al_model_free(&b);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", bd);
  CHECK(system(cmd) == 0, "clean up");
  free(t), free(rp), free(sp), free(bd), free(md), free(rd), free(dir);
  return test_summary();
}
