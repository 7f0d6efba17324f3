/* --arch for the experiments (al_model_config_set_arch, FLAG_ARCH): `alab
 * collapse --part lm --arch llama` trains its generations of Llama models end
 * to end at a small scale. Its config.json names the architecture, every
 * seed's generation-0 model learned (held-out loss below ln V - 1), and the
 * numbers differ from the same run with --arch gpt2 (the flag reaches the
 * models). An unknown --arch is a usage error (exit 2) naming the known ones. */
#include <jansson.h>
#include "alab/json.h"
#include "test.h"

#define RUN_FLAGS "--part lm --lm-tokens 3000 --lm-gens 2 --seeds 2 --lm-steps 60 --lm-heldout 2000 --threads 1 --quiet"

/* Runs collapse with --arch arch into dir/arch; returns generation 0's per-seed test losses (2) and the recorded arch. */
static int run(const char *dir, const char *arch, double loss[2], char *recorded, size_t n) {
  al_err err;
  char cmd[4096], *out = NULL, *rd = al_path_join(dir, arch);
  snprintf(cmd, sizeof cmd, "'%s' collapse " RUN_FLAGS " --arch %s --out '%s' 2>&1", getenv("ALAB_BIN"), arch, rd);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "collapse --arch %s: rc %d: %s", arch, rc, out);
  free(out);
  json_t *cfg = NULL, *res = NULL;
  char *cp = al_path_join(rd, "config.json"), *rp = al_path_join(rd, "results.json");
  recorded[0] = 0;
  if (!rc && !al_json_load_file(cp, &cfg, &err) && !al_json_load_file(rp, &res, &err)) {
    const json_t *a = json_object_get(json_object_get(json_object_get(cfg, "lm"), "model"), "architecture");
    snprintf(recorded, n, "%s", json_is_string(a) ? json_string_value(a) : "(none)");
    const json_t *g0 = json_array_get(
        json_object_get(json_object_get(json_object_get(json_object_get(res, "lm"), "quantities"), "test_nats_per_token"),
                        "replace"),
        0);
    const json_t *seeds = json_object_get(g0, "seeds");
    for (int s = 0; s < 2; s++) loss[s] = json_is_number(json_array_get(seeds, s)) ? json_number_value(json_array_get(seeds, s)) : NAN;
  }
  json_decref(cfg), json_decref(res);
  free(cp), free(rp), free(rd);
  return rc;
}

int main(void) {
  char *dir = test_tmpdir("llama_exp"), rec[32], cmd[4096], *out = NULL;
  double ll[2] = {NAN, NAN}, lg[2] = {NAN, NAN};
  if (run(dir, "llama", ll, rec, sizeof rec) == 0) {
    CHECK(!strcmp(rec, "llama"), "config.json lm.model.architecture is llama: %s", rec);
    for (int s = 0; s < 2; s++)
      CHECK(ll[s] < log(512.0) - 1, "seed %d: the Llama of generation 0 learned: held-out %.3f < ln 512 - 1 = %.3f", s, ll[s],
            log(512.0) - 1);
  }
  if (run(dir, "gpt2", lg, rec, sizeof rec) == 0) {
    CHECK(!strcmp(rec, "gpt2"), "config.json lm.model.architecture is gpt2: %s", rec);
    CHECK(ll[0] != lg[0] && ll[1] != lg[1], "--arch reaches the models: llama %.6f %.6f vs gpt2 %.6f %.6f", ll[0], ll[1],
          lg[0], lg[1]);
  }
  snprintf(cmd, sizeof cmd, "'%s' collapse " RUN_FLAGS " --arch mamba --out '%s/bad' 2>&1", getenv("ALAB_BIN"), dir);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 2 && strstr(out, "--arch 'mamba' is not an architecture") && strstr(out, "\"llama\""),
        "unknown --arch: exit %d: %s", rc, out);
  free(out);
  free(dir);
  return test_summary();
}
