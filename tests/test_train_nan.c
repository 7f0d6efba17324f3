/* Non-finite numbers never reach a file and never load:
 * - the diverged run (lr 1e10, a checkpoint every step) ends with an
 *   error naming the step, leaves the last finite checkpoint, and its
 *   metrics.jsonl is JSON throughout;
 * - a model directory holding a NaN or an infinity is refused when loaded,
 *   with the tensor's name, by al_model_load_dir and by alab score, sample,
 *   train --init and serve; and is refused when saved, as is a trainer state;
 * - GELU on NaN and infinities is defined behaviour (UBSan, in the sanitizer
 *   build, aborts on the shift it used to do) and gives NaN for NaN;
 * - al_json_real_or_null writes null for NaN and infinities. */
#include "alab/json.h"
#include "alab/model.h"
#include "alab/nn.h"
#include "alab/safetensors.h"
#include "alab/tok.h"
#include "test.h"

/* "alab ARGS" with stderr folded into *out; returns the exit status. */
static int alab(const char *args, char **out) {
  char cmd[16384];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", getenv("ALAB_BIN"), args);
  return test_sh(cmd, out);
}

static void test_diverged_run(const char *root) {
  char *dir = al_path_join(root, "div"), args[8192], *out;
  snprintf(args, sizeof args,
           "train --out '%s' --data story:300 --layers 1 --heads 1 --embd 16 --context 32 --seq-len 32 --batch 2 "
           "--steps 10 --tokenizer byte --lr 1e10 --ckpt-every 1 --threads 1 --quiet",
           dir);
  int rc = alab(args, &out);
  CHECK(rc == 1 && strstr(out, "training diverged at step 2") && strstr(out, "the last checkpoint (step 1)"),
        "diverged run: exit %d, '%s'", rc, out);
  free(out);
  al_model m;
  al_err err;
  CHECK_OK(al_model_load_dir(&m, dir, &err), err); /* the step-1 checkpoint, finite */
  al_model_free(&m);
  char *path = al_path_join(dir, "metrics.jsonl"), *text;
  int lines = 0, json = 0;
  if (!al_read_file(path, &text, NULL, &err)) {
    for (char *line = text, *end; (end = strchr(line, '\n')); line = end + 1, lines++) {
      json_t *j = json_loadb(line, (size_t)(end - line), 0, NULL);
      json += j != NULL;
      json_decref(j);
    }
    free(text);
  }
  CHECK(lines == 2 && json == 2, "metrics.jsonl: %d of %d lines are JSON (NaN and inf are not)", json, lines);
  free(path);
  free(dir);
}

/* A copy of the model directory base whose tensor `bad` holds x at index 7,
 * written past al_model_save_dir's check with al_st_write. */
static char *bad_model_dir(const char *root, const char *base, const char *name, const char *bad, float x) {
  char *dir = al_path_join(root, name), *st = al_path_join(dir, "model.safetensors"), cmd[8192], *out;
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", dir, base, dir);
  CHECK(test_sh(cmd, &out) == 0, "%s", cmd);
  free(out);
  al_err err;
  al_model m;
  CHECK_OK(al_model_load_dir(&m, base, &err), err);
  const al_tensor *t = al_model_tensor(&m, bad);
  CHECK(t && t->numel > 7, "no tensor %s", bad);
  if (t) m.params[t->offset + 7] = x;
  CHECK_FAILS_WITH(al_model_save_dir(&m, NULL, dir, &err), err, bad); /* refused when saved */
  al_st_tensor *ts = al_calloc((size_t)m.ntensors, sizeof *ts);
  for (int i = 0; i < m.ntensors; i++) {
    ts[i] = (al_st_tensor){.name = m.tensors[i].name, .ndim = m.tensors[i].ndim, .data = m.params + m.tensors[i].offset};
    for (int d = 0; d < m.tensors[i].ndim; d++) ts[i].shape[d] = m.tensors[i].shape[d];
  }
  CHECK_OK(al_st_write(st, ts, m.ntensors, NULL, &err), err);
  free(ts);
  al_model_free(&m);
  free(st);
  return dir;
}

static void test_nan_model_refused(const char *root) {
  char *base = al_path_join(root, "base"), args[8192], *out;
  snprintf(args, sizeof args, "train --out '%s' --data story:50 --tokenizer byte --layers 1 --heads 2 --embd 16 "
           "--context 16 --seq-len 16 --batch 2 --steps 1 --quiet --threads 1", base);
  CHECK(alab(args, &out) == 0, "training the base model: %s", out);
  free(out);
  char *dir = bad_model_dir(root, base, "nan", "h.0.mlp.c_fc.weight", NAN);
  char *inf = bad_model_dir(root, base, "inf", "wpe.weight", -INFINITY);
  const char *want = "model.safetensors: tensor 'h.0.mlp.c_fc.weight' holds NaN at index 7";
  al_model m;
  al_err err;
  CHECK_FAILS_WITH(al_model_load_dir(&m, dir, &err), err, want);
  CHECK_FAILS_WITH(al_model_load_dir(&m, inf, &err), err, "tensor 'wpe.weight' holds an infinity at index 7");
  const char *cmds[] = {"score --model '%s' --prompt a --continuation ' b' --threads 1", "sample --model '%s' --threads 1",
                        "train --init '%s' --out '%s.ft' --data story:50 --tokenizer byte --steps 1 --quiet --threads 1",
                        "serve --model '%s' --port 0 --workers 1"};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    snprintf(args, sizeof args, cmds[i], dir, dir);
    int rc = alab(args, &out);
    CHECK(rc == 1 && strstr(out, want), "alab %s: exit %d, '%s'", args, rc, out);
    free(out);
  }
  free(dir);
  free(inf);
  free(base);
}

static void test_state_refused(const char *root) {
  float x[3] = {1, INFINITY, 2};
  al_state_array a = {"adam.v", x, 3};
  json_t *info = json_object();
  char *path = al_path_join(root, "state.safetensors");
  al_err err;
  CHECK_FAILS_WITH(al_state_save(path, &a, 1, info, &err), err, "tensor 'adam.v' holds an infinity at index 1");
  CHECK(!al_file_exists(path), "a non-finite trainer state was written");
  json_decref(info);
  free(path);
}

static void test_gelu_nonfinite(void) {
  float in[4] = {NAN, INFINITY, -INFINITY, 1.0f}, out[4], d[4] = {1, 1, 1, 1};
  nn_gelu_forward(out, in, 4);
  CHECK(isnan(out[0]) && out[1] == INFINITY && fabsf(out[3] - 0.841192f) < 1e-5f, "gelu(NaN, inf, 1) = %g %g %g", out[0],
        out[1], out[3]);
  nn_gelu_backward(d, in, d, 4);
  CHECK(isnan(d[0]), "gelu'(NaN) = %g", d[0]);
}

static void test_json_real_or_null(void) {
  json_t *a = al_json_real_or_null(NAN), *b = al_json_real_or_null(-INFINITY), *c = al_json_real_or_null(0.25);
  CHECK(json_is_null(a) && json_is_null(b) && json_is_real(c) && json_real_value(c) == 0.25, "real_or_null");
  json_decref(a), json_decref(b), json_decref(c);
}

int main(void) {
  char *root = test_tmpdir("train_nan");
  test_diverged_run(root);
  test_nan_model_refused(root);
  test_state_refused(root);
  test_gelu_nonfinite();
  test_json_real_or_null();
  free(root);
  return test_summary();
}
