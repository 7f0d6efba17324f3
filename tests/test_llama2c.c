/* llama2.c checkpoints: tests/oracle/llama_torch.py llama2c writes one (7-int
 * header, Meta's interleaved rotary layout, shared or own classifier) with
 * logits computed in llama2.c's own rotary convention; alab loads it (which
 * permutes wq/wk into rotate_half order) and must give those logits, from
 * the forward and from the KV-cache decoder. alab's own writing reads back
 * to the same parameters, and again matches the logits. Bad files (short,
 * wrong size for the header, heads not dividing, the versioned format) are
 * refused with messages naming the problem. */
#include <unistd.h>
#include "alab/llama2c.h"
#include "oracle_compare.h"

static void check_logits(al_model *m, const al_st_file *ex, const char *what) {
  al_err err;
  const al_st_entry *ei = al_st_find(ex, "inputs");
  CHECK(ei != NULL, "expected file has inputs");
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
  snprintf(w, sizeof w, "%s (decoder)", what);
  compare_tol(ex, "logits", logits, (size_t)T * V, 1e-4, w);
  al_decoder_free(d);
  free(fin), free(logits), free(in);
}

static void write_bytes(const char *path, const void *p, size_t n) {
  al_err err;
  unlink(path);
  CHECK_OK(al_write_file_atomic(path, p, n, &err), err);
}

static void run(const char *what, int shared) {
  al_err err;
  char *dir = test_tmpdir(what), cmd[4096];
  char *bin = al_path_join(dir, "model.bin"), *again = al_path_join(dir, "again.bin");
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/llama_torch.py' llama2c '%s' 9 %d", getenv("ALAB_SRC"),
           bin, shared);
  int rc = system(cmd);
  CHECK(rc == 0, "%s: the PyTorch oracle failed (rc %d): is python3-torch installed?", what, rc);
  if (rc) return;
  char exp[4200];
  snprintf(exp, sizeof exp, "%s.expected.safetensors", bin);
  al_st_file ex;
  CHECK_OK(al_st_open(&ex, exp, &err), err);
  al_model m, back;
  CHECK_OK(al_llama2c_load(&m, bin, &err), err);
  if (err.msg[0]) return;
  CHECK((al_model_tensor(&m, "lm_head.weight") == NULL) == shared, "%s: classifier shared iff the header says", what);
  check_logits(&m, &ex, what);
  CHECK_OK(al_llama2c_save(&m, again, &err), err);
  CHECK_OK(al_llama2c_load(&back, again, &err), err);
  CHECK(back.nparams == m.nparams && !memcmp(back.params, m.params, m.nparams * sizeof(float)),
        "%s: alab's llama2.c file reads back to the same parameters", what);
  al_model_free(&back);
  /* the file's bytes equal the oracle's, except freq_cis, which run.c never reads */
  char *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  CHECK_OK(al_read_file(bin, &a, &na, &err), err);
  CHECK_OK(al_read_file(again, &b, &nb, &err), err);
  size_t C = 32, hs = 8, T = 24, V = 41, fc = T * hs * 4, tail = shared ? 0 : V * C * 4;
  CHECK(na == nb && !memcmp(a, b, na - tail - fc) && !memcmp(a + na - tail, b + nb - tail, tail),
        "%s: alab writes the oracle's layout byte for byte", what);

  /* malformed files */
  al_model bad;
  write_bytes(again, a, 20);
  CHECK_FAILS_WITH(al_llama2c_load(&bad, again, &err), err, "too short for llama2.c's 28-byte header");
  write_bytes(again, a, na - 4);
  CHECK_FAILS_WITH(al_llama2c_load(&bad, again, &err), err, "but its header");
  int32_t h[7];
  memcpy(h, a, sizeof h);
  int32_t h2[7];
  memcpy(h2, h, sizeof h);
  h2[3] = 5; /* 32 % 5 */
  memcpy(a, h2, sizeof h2);
  write_bytes(again, a, na);
  CHECK_FAILS_WITH(al_llama2c_load(&bad, again, &err), err, "n_heads 5 must divide dim 32");
  memcpy(h2, h, sizeof h), h2[4] = 3;
  memcpy(a, h2, sizeof h2);
  write_bytes(again, a, na);
  CHECK_FAILS_WITH(al_llama2c_load(&bad, again, &err), err, "n_kv_heads 3 must divide n_heads");
  memcpy(h2, h, sizeof h), h2[1] = 0;
  memcpy(a, h2, sizeof h2);
  write_bytes(again, a, na);
  CHECK_FAILS_WITH(al_llama2c_load(&bad, again, &err), err, "hidden_dim = 0 is out of range");
  /* a header that would need terabytes: refused from the file size, before allocating */
  int32_t huge[7] = {65536, 1 << 20, 256, 256, 256, 1 << 24, 65536};
  memcpy(a, huge, sizeof huge);
  write_bytes(again, a, na);
  CHECK_FAILS_WITH(al_llama2c_load(&bad, again, &err), err, "but its header (dim 65536");
  memcpy(h2, h, sizeof h), h2[0] = 0x616b3432;
  memcpy(a, h2, sizeof h2);
  write_bytes(again, a, na);
  CHECK_FAILS_WITH(al_llama2c_load(&bad, again, &err), err, "versioned format");
  /* a fuzz-style pass: random headers never crash, and a refusal says why */
  al_rng rng;
  al_rng_seed(&rng, 17);
  for (int it = 0; it < 60; it++) {
    memcpy(h2, h, sizeof h);
    h2[al_rng_below(&rng, 7)] = (int32_t)(al_rng_below(&rng, 1u << 31) - (it % 3 ? 0 : (1u << 30)));
    memcpy(a, h2, sizeof h2);
    write_bytes(again, a, na);
    err.msg[0] = 0;
    if (al_llama2c_load(&bad, again, &err) == 0) al_model_free(&bad);
    else CHECK(err.msg[0] != 0, "a refused header says why");
  }
  free(a), free(b);
  al_model_free(&m);
  al_st_close(&ex);
  free(bin), free(again), free(dir);
}

int main(void) {
  run("llama2c_shared", 1);
  run("llama2c_own_classifier", 0);
  return test_summary();
}
