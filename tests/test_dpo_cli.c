/* `alab dpo --data --policy` end to end on a tiny byte-level model made by
 * `alab train`: metrics.jsonl carries TRL's names (rewards/chosen,
 * rewards/rejected, rewards/accuracies, rewards/margins, logps/chosen,
 * logps/rejected) and the held-out ones; the model directory's card names
 * the pairs' SHA-256 (sha256sum), the policy as base model (its weights'
 * hash), the objective, no reward model, the KL as unknown (not measured
 * here); a resume of the finished run does nothing; IPO runs; `alab eval`
 * on the trained directory appends its result to the card; malformed pairs
 * are exit 1 naming FILE:LINE; usage errors are exit 2. */
#include <jansson.h>
#include "alab/json.h"
#include "test.h"

static char *bin, *root;

static int run(const char *args, char **out) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "cd '%s' && OMP_NUM_THREADS=1 '%s' %s 2>&1", root, bin, args);
  return test_sh(cmd, out);
}

static json_t *card(const char *dir) {
  char *p = al_path_join(root, dir), *q = al_path_join(p, "model_card.json");
  json_t *j = NULL;
  al_err err;
  CHECK_OK(al_json_load_file(q, &j, &err), err);
  free(p), free(q);
  return j ? j : json_object();
}

static void sha(const char *rel, char hex[65]) {
  char cmd[4200], *out;
  snprintf(cmd, sizeof cmd, "cd '%s' && sha256sum '%s'", root, rel);
  CHECK(test_sh(cmd, &out) == 0, "sha256sum %s", rel);
  memcpy(hex, out, 64), hex[64] = 0;
  free(out);
}

int main(void) {
  bin = getenv("ALAB_BIN");
  root = test_tmpdir("dpo_cli");
  al_err err;
  al_buf b = {0};
  for (int i = 0; i < 24; i++)
    al_buf_printf(&b, "{\"prompt\": \"Q%d:\", \"chosen\": \" yes %d.\", \"rejected\": \" no %d.\"}\n", i, i, i);
  char *pairs = al_path_join(root, "pairs.jsonl"), *bad = al_path_join(root, "bad.jsonl"), *task = al_path_join(root, "t.csv");
  CHECK_OK(al_write_file_atomic(pairs, b.data, b.len, &err), err);
  al_buf_free(&b);
  const char *badtext = "{\"prompt\": \"a\", \"chosen\": \" b\", \"rejected\": \" c\"}\n{\"prompt\": \"a\", \"chosen\": 3, \"rejected\": \"c\"}\n";
  CHECK_OK(al_write_file_atomic(bad, badtext, strlen(badtext), &err), err);
  const char *csv = "prompt,classes,answer_index\n\"Q1:\",\"[' yes', ' no']\",0\n\"Q2:\",\"[' yes', ' no']\",0\n";
  CHECK_OK(al_write_file_atomic(task, csv, strlen(csv), &err), err);
  char *out;
  int rc = run("train --data story:100 --tokenizer byte --layers 1 --heads 2 --embd 16 --context 32 --seq-len 32 --steps 2 "
               "--out base --quiet --threads 1", &out);
  CHECK(rc == 0, "alab train: %s", out);
  free(out);
  rc = run("dpo --data pairs.jsonl --policy base --out d --steps 4 --batch 4 --seq-len 16 --eval-every 2 --val-frac 0.25 --quiet", &out);
  CHECK(rc == 0, "alab dpo: %s", out);
  free(out);
  char *mp = al_path_join(root, "d/metrics.jsonl"), *text = NULL;
  CHECK_OK(al_read_file(mp, &text, NULL, &err), err);
  const char *names[] = {"\"rewards/chosen\"", "\"rewards/rejected\"", "\"rewards/accuracies\"", "\"rewards/margins\"",
                         "\"logps/chosen\"", "\"logps/rejected\"", "\"val_rewards/accuracies\"", "\"val_loss\""};
  for (int i = 0; i < 8; i++) CHECK(text && strstr(text, names[i]), "metrics.jsonl lacks %s", names[i]);
  free(text), free(mp);
  json_t *c = card("d");
  char hex[65];
  sha("pairs.jsonl", hex);
  json_t *d0 = json_array_get(json_object_get(c, "data"), 0);
  CHECK(d0 && !strcmp(json_string_value(json_object_get(d0, "sha256")), hex) &&
            json_integer_value(json_object_get(d0, "records")) == 24,
        "the pairs' hash and count");
  sha("base/model.safetensors", hex);
  CHECK(!strcmp(json_string_value(json_object_get(json_object_get(c, "base_model"), "model_sha256")), hex) &&
            !strcmp(json_string_value(json_object_get(json_object_get(c, "base_model"), "objective")), "lm"),
        "the policy is the base model, an LM by its own card");
  CHECK(!strcmp(json_string_value(json_object_get(json_object_get(c, "objective"), "name")), "dpo") &&
            !strncmp(json_string_value(json_object_get(c, "reward_model")), "none: ", 6) &&
            !strcmp(json_string_value(json_object_get(c, "kl_from_reference")), "unknown") &&
            json_real_value(json_object_get(json_object_get(json_object_get(c, "objective"), "hyperparameters"), "beta")) == 0.1,
        "objective, reward model, KL and beta");
  json_decref(c);
  rc = run("dpo --data pairs.jsonl --policy base --out d --steps 4 --batch 4 --seq-len 16 --eval-every 2 --val-frac 0.25 "
           "--quiet --resume", &out);
  CHECK(rc == 0 && strstr(out, "nothing to do"), "resuming the finished run: %s", out);
  free(out);
  rc = run("dpo --data pairs.jsonl --policy base --out i --loss ipo --beta 0.5 --steps 2 --batch 4 --seq-len 16 --quiet", &out);
  c = card("i");
  CHECK(rc == 0 && !strcmp(json_string_value(json_object_get(json_object_get(c, "objective"), "name")), "ipo"), "IPO: %s", out);
  json_decref(c);
  free(out);
  /* an evaluation of the trained model lands in its card */
  rc = run("eval --model d --task t.csv --quiet --out ev", &out);
  c = card("d");
  json_t *ev = json_array_get(json_object_get(c, "evaluations"), 0);
  CHECK(rc == 0 && ev && strstr(json_string_value(json_object_get(ev, "task")), "t.csv") &&
            json_integer_value(json_object_get(ev, "n")) == 2 && json_is_object(json_object_get(ev, "metrics")),
        "alab eval appended its result: %s", out);
  json_decref(c);
  free(out);
  rc = run("dpo --data bad.jsonl --policy base --out x --quiet", &out);
  CHECK(rc == 1 && strstr(out, "bad.jsonl:2: field \"chosen\""), "bad pairs: %d %s", rc, out);
  free(out);
  rc = run("dpo --out x --data pairs.jsonl", &out);
  CHECK(rc == 2 && strstr(out, "--policy"), "no policy: %d %s", rc, out);
  free(out);
  rc = run("dpo --out x --loss hinge", &out);
  CHECK(rc == 2 && strstr(out, "--loss hinge"), "unknown loss: %d %s", rc, out);
  free(out);
  rc = run("dpo --out x --rpo-alpha -0.5", &out);
  CHECK(rc == 2 && strstr(out, "--rpo-alpha -0.5"), "negative rpo_alpha: %d %s", rc, out);
  free(out);
  /* TRL's rpo_alpha: nll_loss logged for training and held-out steps */
  rc = run("dpo --data pairs.jsonl --policy base --out r --steps 2 --batch 4 --seq-len 16 --eval-every 2 --val-frac 0.25 "
           "--rpo-alpha 1 --quiet", &out);
  CHECK(rc == 0, "alab dpo --rpo-alpha 1: %s", out);
  free(out);
  char *rm = al_path_join(root, "r/metrics.jsonl"), *mt = NULL;
  CHECK_OK(al_read_file(rm, &mt, NULL, &err), err);
  CHECK(mt && strstr(mt, "\"nll_loss\"") && strstr(mt, "\"val_nll_loss\""), "nll_loss and val_nll_loss logged: %s", mt ? mt : "");
  free(mt), free(rm);
  free(pairs), free(bad), free(task), free(root);
  return test_summary();
}
