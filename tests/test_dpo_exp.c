/* The planted-preference experiment of `alab dpo` (include/alab/dpo_exp.h)
 * at a small scale:
 * - the world: held-out prompts share no word with training prompts, SFT
 *   answers are polite about half the time, pairs differ only by " please.";
 * - a run directory with config.json, metrics.jsonl (one line per arm, seed
 *   and evaluation), results.json (every seed's rate and KL at each step for
 *   both arms, DPO and DPO + NLL, their intervals, the headline), plots and
 *   report.html; both arms start from the same SFT model (equal step-0
 *   rates); KL at step 0 is 0 (the policy is the reference) and positive
 *   after DPO; seed1/ holds the data and the SFT, DPO and DPO + NLL model
 *   directories, whose cards name the data's
 *   SHA-256 (recomputed with sha256sum), the base model, the KL measured and
 *   the evaluation appended;
 * - the numbers do not depend on the thread count (1 and 2 threads give the
 *   same results.json but for its time). */
#include <jansson.h>
#include "alab/json.h"
#include "exp/dpo_internal.h"
#include "test.h"

static void world(void) {
  char *sft = dpo_world_sft(3, 400), *pairs = dpo_world_pairs(3, 50), *held = dpo_world_heldout(3, 50);
  int polite = 0, n = 0;
  for (char *l = sft; (l = strstr(l, "\"completion\": ")); l++, n++) polite += !strncmp(strchr(l, '.') - 7, " please", 7);
  CHECK(n == 400 && polite > 160 && polite < 240, "%d of %d SFT answers polite", polite, n);
  const char *train_words[] = {"cat", "dog", "sun", "owl", "toy"}, *held_words[] = {"bee", "cow", "yak"};
  for (int i = 0; i < 5; i++) CHECK(!strstr(held, train_words[i]), "held-out prompts use the training word %s", train_words[i]);
  for (int i = 0; i < 3; i++) CHECK(!strstr(sft, held_words[i]) && !strstr(pairs, held_words[i]), "training uses %s", held_words[i]);
  json_t *j = json_loadb(pairs, strchr(pairs, '\n') - pairs, 0, NULL);
  const char *c = json_string_value(json_object_get(j, "chosen")), *r = json_string_value(json_object_get(j, "rejected"));
  CHECK(c && r && dpo_world_preferred(c, strlen(c)) && !dpo_world_preferred(r, strlen(r)) &&
            !strncmp(c, r, strlen(r) - 1) && !strcmp(c + strlen(r) - 1, " please."),
        "a pair: %s / %s", c, r);
  json_decref(j);
  CHECK(dpo_world_preferred(" a b please.", 12) && !dpo_world_preferred(" please. x", 10), "classification");
  free(sft), free(pairs), free(held);
}

static json_t *load(const char *dir, const char *name) {
  char *p = al_path_join(dir, name);
  json_t *j = NULL;
  al_err err;
  CHECK_OK(al_json_load_file(p, &j, &err), err);
  free(p);
  return j ? j : json_object();
}

static void sha_of(const char *path, char hex[65]) {
  char cmd[4200], *out;
  snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
  CHECK(test_sh(cmd, &out) == 0, "sha256sum");
  memcpy(hex, out, 64), hex[64] = 0;
  free(out);
}

int main(void) {
  world();
  char *root = test_tmpdir("dpo_exp"), *d1 = al_path_join(root, "t1"), *d2 = al_path_join(root, "t2");
  al_dpo_exp_cfg c;
  al_dpo_exp_defaults(&c, 1);
  c.seeds = 2, c.n_sft = 300, c.n_pairs = 100, c.n_eval = 8, c.samples = 2, c.sft_steps = 30, c.dpo_steps = 8, c.evals = 2;
  c.layers = 1, c.embd = 32, c.heads = 2, c.batch = 8, c.threads = 1, c.dpo_lr = 1e-3; /* a visible move in 8 steps */
  al_err err;
  al_quiet = 1;
  CHECK_OK(al_dpo_exp_run(&c, d1, &err), err);
  c.threads = 2;
  CHECK_OK(al_dpo_exp_run(&c, d2, &err), err);
  json_t *r1 = load(d1, "results.json"), *r2 = load(d2, "results.json");
  json_object_del(r1, "seconds"), json_object_del(r2, "seconds");
  CHECK(json_equal(r1, r2), "1 and 2 threads give different results");
  const json_t *rate = json_object_get(r1, "rate"), *kl = json_object_get(r1, "kl"), *steps = json_object_get(r1, "steps");
  const json_t *rate_nll = json_object_get(r1, "rate_nll"), *kl_nll = json_object_get(r1, "kl_nll");
  CHECK(json_array_size(rate_nll) == 3 && json_array_size(kl_nll) == 3, "the DPO + NLL arm's three evaluation steps");
  CHECK(json_array_size(rate) == 3 && json_array_size(kl) == 3 && json_array_size(steps) == 3, "three evaluation steps");
  CHECK(json_number_value(json_array_get(steps, 1)) == 4 && json_number_value(json_array_get(steps, 2)) == 8, "steps 0, 4, 8");
  for (int s = 0; s < 2; s++) {
    double k0 = json_number_value(json_array_get(json_object_get(json_array_get(kl, 0), "seeds"), s));
    double k2 = json_number_value(json_array_get(json_object_get(json_array_get(kl, 2), "seeds"), s));
    double r0 = json_number_value(json_array_get(json_object_get(json_array_get(rate, 0), "seeds"), s));
    CHECK(k0 == 0 && k2 > 0 && r0 >= 0 && r0 <= 1, "seed %d: KL %g then %g, rate %g", s + 1, k0, k2, r0);
    double n0 = json_number_value(json_array_get(json_object_get(json_array_get(rate_nll, 0), "seeds"), s));
    double nk2 = json_number_value(json_array_get(json_object_get(json_array_get(kl_nll, 2), "seeds"), s));
    CHECK(n0 == r0 && nk2 > 0 && nk2 != k2, "seed %d: DPO + NLL starts at rate %g (DPO %g), ends at KL %g (DPO %g)", s + 1, n0, r0,
          nk2, k2);
  }
  CHECK(json_array_size(json_object_get(json_object_get(r1, "dpo_rate"), "seeds")) == 2 &&
            json_array_size(json_object_get(json_object_get(r1, "dpo_nll_rate"), "seeds")) == 2 &&
            json_array_size(json_object_get(r1, "headline")) == 3,
        "every seed of the final rate, and the headline");
  /* one metrics line per arm, seed and evaluation */
  char *mp = al_path_join(d1, "metrics.jsonl"), *text = NULL;
  CHECK_OK(al_read_file(mp, &text, NULL, &err), err);
  int lines = 0;
  for (char *p = text; p && *p; p++) lines += *p == '\n';
  CHECK(lines == 12, "%d metrics lines, want 12", lines);
  free(text), free(mp);
  const char *files[] = {"config.json", "rate.svg", "kl.svg", "report.html", "index.html", "seed1/sft/model.safetensors",
                         "seed1/dpo/MODEL_CARD.md", "seed1/heldout_prompts.txt", "seed1/dpo_nll/model_card.json"};
  for (int i = 0; i < 9; i++) {
    char *p = al_path_join(d1, files[i]);
    CHECK(al_file_exists(p), "%s missing", files[i]);
    free(p);
  }
  /* the DPO model's card */
  char *seed1 = al_path_join(d1, "seed1"), *pairs = al_path_join(seed1, "pairs.jsonl"), *sst = al_path_join(seed1, "sft/model.safetensors");
  json_t *card = load(seed1, "dpo/model_card.json");
  char hex[65];
  sha_of(pairs, hex);
  json_t *d0 = json_array_get(json_object_get(card, "data"), 0);
  CHECK(d0 && !strcmp(json_string_value(json_object_get(d0, "sha256")), hex), "the card's pairs hash");
  sha_of(sst, hex);
  CHECK(!strcmp(json_string_value(json_object_get(json_object_get(card, "base_model"), "model_sha256")), hex), "base model = SFT");
  double klc = json_number_value(json_object_get(json_object_get(card, "kl_from_reference"), "value"));
  double klr = json_number_value(json_array_get(json_object_get(json_array_get(kl, 2), "seeds"), 0));
  CHECK(rel_err(klc, klr) < 1e-9, "card KL %g, results %g", klc, klr);
  const json_t *ev = json_array_get(json_object_get(card, "evaluations"), 0);
  CHECK(ev && rel_err(json_number_value(json_object_get(ev, "value")),
                          json_number_value(json_array_get(json_object_get(json_array_get(rate, 2), "seeds"), 0))) < 1e-9,
        "the evaluation appended to the card is the final rate");
  CHECK(!strcmp(json_string_value(json_object_get(json_object_get(card, "limitations"), "internal_audit")), "unknown"),
        "unknowns marked");
  json_t *nll_card = load(seed1, "dpo_nll/model_card.json");
  const char *obj = json_string_value(json_object_get(json_object_get(nll_card, "objective"), "name"));
  CHECK(obj && strstr(obj, "rpo_alpha"), "the DPO + NLL card's objective: %s", obj ? obj : "(none)");
  json_decref(nll_card);
  json_decref(card), json_decref(r1), json_decref(r2);
  free(seed1), free(pairs), free(sst), free(d1), free(d2), free(root);
  return test_summary();
}
