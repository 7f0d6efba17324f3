/* Trainer state: AdamW-sized arrays and a JSON object (with uint64 RNG words)
 * survive a save/load bit-exactly; a state for another model, a missing
 * array, a file that is not a state, and bad uint64 strings are refused. */
#include <stdint.h>
#include "alab/json.h"
#include "alab/safetensors.h"
#include "test.h"

int main(void) {
  char *dir = test_tmpdir("safetensors_state");
  char *path = al_path_join(dir, "trainer_state.safetensors");
  al_err err;
  al_rng r;
  al_rng_seed(&r, 7);
  size_t n = 1000;
  float *m = al_malloc(n * sizeof(float)), *v = al_malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) {
    m[i] = (float)al_rng_normal(&r) * 1e-3f;
    v[i] = (float)(al_rng_uniform(&r) * 1e-7);
  }
  m[0] = -0.0f;
  m[1] = 1e-42f;
  al_rng state;
  al_rng_seed(&state, 99);
  json_t *info = json_pack("{s:I, s:f, s:{s:I, s:I}, s:s}", "step", (json_int_t)123, "lr", 0.1234567890123,
                           "data", "epoch", (json_int_t)2, "pos", (json_int_t)987654321, "note", "x");
  json_t *rng = json_array();
  for (int k = 0; k < 4; k++) json_array_append_new(rng, al_json_u64(state.s[k]));
  json_array_append_new(rng, al_json_u64(UINT64_MAX));
  json_object_set_new(info, "rng", rng);
  json_object_set_new(info, "big", al_json_u64(0x8000000000000001ull));
  al_state_array arrays[2] = {{"adam.m", m, n}, {"adam.v", v, n}};
  CHECK_OK(al_state_save(path, arrays, 2, info, &err), err);

  float *m2 = al_calloc(n, sizeof(float)), *v2 = al_calloc(n, sizeof(float));
  al_state_array back[2] = {{"adam.v", v2, n}, {"adam.m", m2, n}}; /* any order */
  json_t *got = NULL;
  CHECK_OK(al_state_load(path, back, 2, &got, &err), err);
  CHECK(memcmp(m, m2, n * sizeof(float)) == 0 && memcmp(v, v2, n * sizeof(float)) == 0, "arrays not bit-exact");
  CHECK(got && json_equal(got, info), "info JSON differs");
  long long step = 0;
  double lr = 0;
  uint64_t w[5] = {0}, big = 0;
  CHECK_OK(al_json_get_int(got, "step", &step, "state", &err), err);
  CHECK_OK(al_json_get_double(got, "lr", &lr, "state", &err), err);
  CHECK(step == 123 && lr == 0.1234567890123, "step %lld lr %.17g", step, lr);
  CHECK_OK(al_json_get_u64(got, "big", &big, "state", &err), err);
  CHECK(big == 0x8000000000000001ull, "u64 round trip");
  json_t *rg = json_object_get(got, "rng");
  for (int k = 0; k < 5; k++) {
    json_t *o = json_pack("{s:O}", "w", json_array_get(rg, (size_t)k));
    CHECK_OK(al_json_get_u64(o, "w", &w[k], "state", &err), err);
    json_decref(o);
  }
  CHECK(w[0] == state.s[0] && w[1] == state.s[1] && w[2] == state.s[2] && w[3] == state.s[3] && w[4] == UINT64_MAX,
        "rng words");
  json_decref(got);

  /* a state for a model of another size */
  al_state_array other[1] = {{"adam.m", m2, n - 1}};
  CHECK_FAILS_WITH(al_state_load(path, other, 1, &got, &err), err, "array 'adam.m' is F32 [1000], expected F32 [999]");
  CHECK(got == NULL, "no info on failure");
  al_state_array missing[1] = {{"adam.w", m2, n}};
  CHECK_FAILS_WITH(al_state_load(path, missing, 1, &got, &err), err, "array 'adam.w' is missing");

  /* a plain safetensors file is not a trainer state */
  char *plain = al_path_join(dir, "plain.safetensors");
  al_st_tensor t = {"adam.m", "F32", 1, {(int64_t)n}, m};
  CHECK_OK(al_st_write(plain, &t, 1, NULL, &err), err);
  CHECK_FAILS_WITH(al_state_load(plain, arrays, 1, &got, &err), err, "not an alab trainer state");
  /* a state whose JSON is corrupt */
  json_t *meta = json_pack("{s:s}", "alab_trainer_state", "{\"step\": 1,");
  CHECK_OK(al_st_write(plain, &t, 1, meta, &err), err);
  json_decref(meta);
  CHECK_FAILS_WITH(al_state_load(plain, arrays, 1, &got, &err), err, "__metadata__.alab_trainer_state):1:");
  CHECK_FAILS_WITH(al_state_load("/nonexistent/state", arrays, 1, &got, &err), err, "cannot open");
  CHECK_FAILS_WITH(al_state_save(path, arrays, 2, json_object_get(info, "rng"), &err), err, "must be a JSON object");

  const char *bad[] = {"12", "0x", "0x-1", "0x 1", "0x12345678901234567", "0xg", "0x0x1", "x12"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *o = json_pack("{s:s}", "w", bad[i]);
    uint64_t x;
    CHECK_FAILS_WITH(al_json_get_u64(o, "w", &x, "state", &err), err, "field 'w' must be a hex string");
    json_decref(o);
  }
  json_t *o = json_pack("{s:I}", "w", (json_int_t)5);
  uint64_t x;
  CHECK_FAILS_WITH(al_json_get_u64(o, "w", &x, "state", &err), err, "field 'w' must be a string");
  json_decref(o);

  json_decref(info);
  free(m), free(v), free(m2), free(v2), free(path), free(plain), free(dir);
  return test_summary();
}
