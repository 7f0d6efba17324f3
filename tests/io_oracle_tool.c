/* Helper of tests/io_torch_oracle.py (not a test by itself):
 *   io_oracle_tool write DIR V P L H C SEED
 *       builds a GPT-2 with that config and seed, saves it as a model
 *       directory, and dumps the raw parameter buffer to DIR/params.f32;
 *   io_oracle_tool check DIR
 *       loads the model directory DIR (written by PyTorch) and compares every
 *       parameter bit-exactly with DIR/expected.f32 (float32, HF order).
 * Exit status 0 on success; errors go to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/model.h"

static int fail(const char *what, const al_err *err) {
  fprintf(stderr, "io_oracle_tool: %s: %s\n", what, err->msg);
  return 1;
}

int main(int argc, char **argv) {
  al_err err;
  al_model m;
  if (argc == 9 && strcmp(argv[1], "write") == 0) {
    al_model_config c = {.vocab_size = atoi(argv[3]), .n_positions = atoi(argv[4]), .n_layer = atoi(argv[5]),
                        .n_head = atoi(argv[6]), .n_embd = atoi(argv[7]), .init_std = 0.02f};
    if (al_model_init(&m, &c, (uint64_t)atoll(argv[8]), &err)) return fail("init", &err);
    /* biases and LayerNorm are 0 / 1 after init: give them values too */
    for (size_t i = 0; i < m.nparams; i++)
      if (m.params[i] == 0.0f || m.params[i] == 1.0f) m.params[i] += 1e-3f * (float)(i % 97);
    if (al_model_save_dir(&m, NULL, argv[2], &err)) return fail("save", &err);
    char *raw = al_path_join(argv[2], "params.f32");
    if (al_write_file_atomic(raw, m.params, m.nparams * sizeof(float), &err)) return fail("dump", &err);
    free(raw);
  } else if (argc == 3 && strcmp(argv[1], "check") == 0) {
    if (al_model_load_dir(&m, argv[2], &err)) return fail("load", &err);
    char *raw = al_path_join(argv[2], "expected.f32"), *data;
    size_t len;
    if (al_read_file(raw, &data, &len, &err)) return fail("expected", &err);
    if (len != m.nparams * sizeof(float)) {
      fprintf(stderr, "io_oracle_tool: expected.f32 holds %zu bytes, the model %zu params\n", len, m.nparams);
      len = 0; /* nothing compared: fail below */
    }
    const float *want = (const float *)data;
    int bad = len == 0;
    for (int t = 0; t < m.ntensors && !bad; t++)
      for (size_t i = 0; i < m.tensors[t].numel && !bad; i++) {
        size_t k = m.tensors[t].offset + i;
        if (memcmp(&m.params[k], &want[k], sizeof(float)) != 0) {
          fprintf(stderr, "io_oracle_tool: %s[%zu] = %.9g, PyTorch wrote %.9g\n", m.tensors[t].name, i, m.params[k],
                  want[k]);
          bad = 1;
        }
      }
    if (!bad) printf("io_oracle_tool: %d tensors, %zu params equal\n", m.ntensors, m.nparams);
    free(data);
    free(raw);
    al_model_free(&m);
    return bad;
  } else {
    fprintf(stderr, "usage: io_oracle_tool write DIR V P L H C SEED | check DIR\n");
    return 2;
  }
  al_model_free(&m);
  return 0;
}
