/* Disclosure cards (include/alab/model_card.h): a card filled from a run
 * holds its data files' SHA-256 (recomputed here by coreutils' sha256sum,
 * not by alab) and sizes, the base model's and reward model's weight hashes,
 * the base model's own objective (lineage) and the reward model's held-out
 * accuracy read from its card; every field not given is "unknown" in the
 * JSON and in MODEL_CARD.md; an evaluation appended to a card (and to a
 * directory without one) is kept, with 4 processes appending at once none is
 * lost; a rewrite of a new model drops the old model's evaluations, of a
 * resumed one keeps them; no temp file is left. */
#include <jansson.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/model.h"
#include "alab/model_card.h"
#include "test.h"

static void sha_of(const char *path, char hex[65]) {
  char cmd[4200], *out;
  snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
  CHECK(test_sh(cmd, &out) == 0 && strlen(out) >= 64, "sha256sum %s failed", path);
  memcpy(hex, out, 64);
  hex[64] = 0;
  free(out);
}

static json_t *load_card(const char *dir) {
  char *p = al_path_join(dir, AL_CARD_JSON);
  json_t *j = NULL;
  al_err err;
  CHECK_OK(al_json_load_file(p, &j, &err), err);
  free(p);
  return j;
}

static char *read_md(const char *dir) {
  char *p = al_path_join(dir, AL_CARD_MD), *text = NULL;
  size_t len;
  al_err err;
  CHECK_OK(al_read_file(p, &text, &len, &err), err);
  free(p);
  return text ? text : al_strdup("");
}

static const char *sget(const json_t *o, const char *path) { /* "a.b" */
  char k[64];
  const char *dot = strchr(path, '.');
  if (!dot) return json_string_value(json_object_get(o, path));
  snprintf(k, sizeof k, "%.*s", (int)(dot - path), path);
  return sget(json_object_get(o, k), dot + 1);
}

static int no_temps(const char *dir) {
  char cmd[4200], *out;
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '\\.tmp\\.' || true", dir);
  test_sh(cmd, &out);
  int n = atoi(out);
  free(out);
  return n == 0;
}

int main(void) {
  al_err err;
  char *dir = test_tmpdir("model_card"), *base = al_path_join(dir, "base"), *rmd = al_path_join(dir, "rm"),
       *out = al_path_join(dir, "out"), *data = al_path_join(dir, "pairs.jsonl"), *bare = al_path_join(dir, "bare");
  al_model_config cfg = {.vocab_size = 31, .n_positions = 8, .n_layer = 1, .n_head = 1, .n_embd = 8};
  al_model m;
  CHECK_OK(al_model_init(&m, &cfg, 1, &err), err);
  CHECK_OK(al_model_save_dir(&m, NULL, base, &err), err);
  CHECK_OK(al_model_save_dir(&m, NULL, out, &err), err);
  CHECK_OK(al_model_save_dir(&m, NULL, bare, &err), err);
  m.params[0] += 1;
  CHECK_OK(al_model_save_dir(&m, NULL, rmd, &err), err);
  al_model_free(&m);
  const char *pairs = "{\"prompt\": \"a\", \"chosen\": \" b\", \"rejected\": \" c\"}\n";
  CHECK_OK(al_write_file_atomic(data, pairs, strlen(pairs), &err), err);

  /* the base model's card (an SFT) and the reward model's (with its accuracy) */
  al_card *bc = al_card_new("alab sft");
  al_card_objective(bc, "masked_lm", "CE on completion tokens", NULL);
  CHECK_OK(al_card_write(bc, base, 0, &err), err);
  al_card_free(bc);
  al_card *rc = al_card_new("alab rm train");
  al_card_set(rc, "heldout_accuracy", json_real(0.8125));
  CHECK_OK(al_card_write(rc, rmd, 0, &err), err);
  al_card_free(rc);

  /* a card with some fields given, the rest unknown */
  al_card *c = al_card_new("alab dpo");
  CHECK_OK(al_card_base_model(c, base, &err), err);
  CHECK_OK(al_card_data_file(c, "preference", data, 1, &err), err);
  al_card_data_generated(c, "prompts", "planted:7", "a rule's labels", -1);
  al_card_objective(c, "dpo", "-log sigmoid(beta * margin)", json_pack("{s:f}", "beta", 0.1));
  CHECK_OK(al_card_reward_model(c, rmd, NAN, &err), err);
  al_card_kl(c, 0.25, "mean over samples");
  al_card_training(c, 40, 1.5, 0.3, NAN, 7, 2);
  CHECK_FAILS_WITH(al_card_data_file(c, "train", "/nonexistent/file.jsonl", 1, &err), err, "/nonexistent/file.jsonl");
  CHECK_FAILS_WITH(al_card_base_model(c, "/nonexistent/dir", &err), err, "base model");
  CHECK_OK(al_card_write(c, out, 0, &err), err);
  al_card_free(c);

  json_t *j = load_card(out);
  char hex[65];
  json_t *d0 = json_array_get(json_object_get(j, "data"), 0), *d1 = json_array_get(json_object_get(j, "data"), 1);
  sha_of(data, hex);
  CHECK(d0 && !strcmp(json_string_value(json_object_get(d0, "sha256")), hex), "data sha256 %s, sha256sum %s",
        json_string_value(json_object_get(d0, "sha256")), hex);
  CHECK(json_integer_value(json_object_get(d0, "bytes")) == (json_int_t)strlen(pairs), "data bytes");
  CHECK(json_integer_value(json_object_get(d0, "records")) == 1, "records");
  CHECK(d1 && !strcmp(sget(d1, "generated"), "planted:7") && !strcmp(sget(d1, "records"), AL_CARD_UNKNOWN),
        "generated data, unknown count");
  char *bst = al_path_join(base, "model.safetensors"), *rst = al_path_join(rmd, "model.safetensors");
  sha_of(bst, hex);
  CHECK(!strcmp(sget(j, "base_model.model_sha256"), hex), "base model hash");
  CHECK(!strcmp(sget(j, "base_model.objective"), "masked_lm") && !strcmp(sget(j, "base_model.trainer"), "alab sft"),
        "base model lineage from its card");
  sha_of(rst, hex);
  CHECK(!strcmp(sget(j, "reward_model.model_sha256"), hex), "reward model hash");
  CHECK(json_real_value(json_object_get(json_object_get(j, "reward_model"), "heldout_accuracy")) == 0.8125,
        "reward model accuracy from its card");
  CHECK(json_real_value(json_object_get(json_object_get(j, "kl_from_reference"), "value")) == 0.25, "kl");
  CHECK(!strcmp(sget(j, "training.val_loss"), AL_CARD_UNKNOWN), "a NaN loss is unknown");
  const char *unknowns[] = {"feedback.kind", "feedback.source", "limitations.known_limits",
                            "limitations.internal_audit", "limitations.external_audit"};
  for (int i = 0; i < 5; i++) CHECK(sget(j, unknowns[i]) && !strcmp(sget(j, unknowns[i]), AL_CARD_UNKNOWN), "%s unknown", unknowns[i]);
  CHECK(!strcmp(sget(j, "model_dir"), out) && !strcmp(sget(j, "trainer"), "alab dpo"), "dir and trainer");
  json_decref(j);
  char *md = read_md(out);
  CHECK(strstr(md, "## Reward model") && strstr(md, "| heldout_accuracy | 0.8125 |") && strstr(md, "| kind | unknown |"),
        "MODEL_CARD.md renders the fields: %s", md);
  CHECK(strstr(md, "| beta | 0.1 |") && strstr(md, "## Evaluations\n\nnone yet"), "hyperparameters, no evaluation yet");
  free(md);

  /* evaluations: appended, kept through a resumed rewrite, dropped for a new model */
  json_t *ev = json_pack("{s:s, s:s, s:f}", "task", "t.csv", "metric", "accuracy", "value", 0.75);
  CHECK_OK(al_card_append_eval(out, ev, &err), err);
  json_decref(ev);
  j = load_card(out);
  json_t *e0 = json_array_get(json_object_get(j, "evaluations"), 0);
  CHECK(e0 && !strcmp(sget(e0, "task"), "t.csv") && sget(e0, "date") && !strcmp(sget(j, "trainer"), "alab dpo"),
        "evaluation appended with its date, the rest of the card kept");
  json_decref(j);
  md = read_md(out);
  CHECK(strstr(md, "| task | metric | value | date |") && strstr(md, "| t.csv | accuracy | 0.75 |"), "evaluation row: %s", md);
  free(md);
  for (int p = 0; p < 4; p++) /* four processes appending at once */
    if (fork() == 0) {
      for (int k = 0; k < 5; k++) {
        json_t *e = json_pack("{s:i, s:i}", "proc", p, "k", k);
        if (al_card_append_eval(out, e, &err)) _exit(1);
        json_decref(e);
      }
      _exit(0);
    }
  int st, ok = 1;
  for (int p = 0; p < 4; p++) ok &= wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  j = load_card(out);
  CHECK(ok && json_array_size(json_object_get(j, "evaluations")) == 21, "21 evaluations after concurrent appends, got %zu",
        json_array_size(json_object_get(j, "evaluations")));
  json_decref(j);
  c = al_card_new("alab dpo");
  CHECK_OK(al_card_write(c, out, 1, &err), err);
  j = load_card(out);
  CHECK(json_array_size(json_object_get(j, "evaluations")) == 21, "a resumed run keeps the evaluations");
  json_decref(j);
  CHECK_OK(al_card_write(c, out, 0, &err), err);
  al_card_free(c);
  j = load_card(out);
  CHECK(json_array_size(json_object_get(j, "evaluations")) == 0, "a new model starts with none");
  json_decref(j);
  CHECK(no_temps(out), "temp files left in %s", out);

  /* a model alab did not train: a card of unknowns plus the evaluation */
  ev = json_pack("{s:s}", "task", "x.csv");
  CHECK_OK(al_card_append_eval(bare, ev, &err), err);
  json_decref(ev);
  j = load_card(bare);
  CHECK(!strcmp(sget(j, "trainer"), AL_CARD_UNKNOWN) && !strcmp(sget(j, "base_model"), AL_CARD_UNKNOWN) &&
            !strcmp(sget(j, "objective.name"), AL_CARD_UNKNOWN) && json_array_size(json_object_get(j, "evaluations")) == 1,
        "unknown card with one evaluation");
  json_decref(j);
  CHECK_FAILS_WITH(al_card_append_eval("/nonexistent/dir", ev = json_object(), &err), err, "/nonexistent/dir");
  json_decref(ev);
  free(bst), free(rst);
  free(dir), free(base), free(rmd), free(out), free(data), free(bare);
  return test_summary();
}
