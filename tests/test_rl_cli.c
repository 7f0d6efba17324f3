/* alab rl through the command line:
 * - on the user's models (a policy pretrained in the built-in world, saved
 *   as a model directory, and a reward model directory), PPO and RLOO write
 *   a language model directory (GPT2LMHeadModel, no score.weight), its
 *   disclosure card (objective, reward model, KL) and DIR/trainer/metrics.jsonl
 *   with TRL's metric names, one line per optimizer step;
 * - the prompts file (TRL's prompt-only JSONL) is checked line by line: bad
 *   JSON, a missing or conversational "prompt", an empty file each exit 1
 * *   naming FILE:LINE; 150 fuzzed files never crash it (exit 1, a message);
 * - usage errors exit 2;
 * - the built-in experiment at a tiny scale writes results.json with its
 *   headline, findings and every seed, and the three plots. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/reward.h"
#include "alab/rl_world.h"
#include "test.h"

static char *root;

static int alab(const char *args, char **out) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' rl %s --quiet --threads 1 2>&1", getenv("ALAB_BIN"), args);
  return test_sh(cmd, out);
}

static void write_text(const char *path, const char *text) {
  al_err err;
  CHECK_OK(al_write_file_atomic(path, text, strlen(text), &err), err);
}

static void user_models(void) {
  al_err err;
  al_model pol, rm;
  al_tok *tok;
  CHECK_OK(al_rlw_pretrain(&pol, &tok, 1, 2, 16, 20, 3, &err), err);
  char *pdir = al_path_join(root, "policy"), *rdir = al_path_join(root, "rm"), *prompts = al_path_join(root, "p.jsonl");
  CHECK_OK(al_model_save_dir(&pol, tok, pdir, &err), err);
  CHECK_OK(al_rm_from_lm(&rm, &pol, 5, &err), err);
  CHECK_OK(al_rm_save(&rm, tok, NULL, rdir, &err), err);
  write_text(prompts, "{\"prompt\": \"ab:\"}\n\n{\"prompt\": \"hc:\", \"extra\": 1}\n");
  const char *algos[2] = {"ppo", "rloo"};
  for (int a = 0; a < 2; a++) {
    char args[4096], *out, *odir = al_path_join(root, algos[a]);
    snprintf(args, sizeof args, "--policy '%s' --rm '%s' --prompts '%s' --out '%s' --algo %s --iters 2 --prompts-per-iter 2 "
             "--k 2 --max-new 13 --lr 1e-3", pdir, rdir, prompts, odir, algos[a]);
    int rc = alab(args, &out);
    CHECK(rc == 0, "alab rl --algo %s: exit %d: %s", algos[a], rc, out);
    free(out);
    char *cfg = al_path_join(odir, "config.json"), *card = al_path_join(odir, "model_card.json"),
         *met = al_path_join(odir, "trainer/metrics.jsonl");
    json_t *c = NULL, *k = NULL;
    CHECK_OK(al_json_load_file(cfg, &c, &err), err);
    CHECK(c && !strcmp(json_string_value(json_array_get(json_object_get(c, "architectures"), 0)), "GPT2LMHeadModel"),
          "%s: the policy is saved as a language model", algos[a]);
    CHECK_OK(al_json_load_file(card, &k, &err), err);
    const char *obj = k ? json_string_value(json_object_get(json_object_get(k, "objective"), "name")) : NULL;
    CHECK(obj && !strcmp(obj, a ? "RLOO" : "PPO"), "card objective %s", obj ? obj : "(none)");
    CHECK(k && json_is_object(json_object_get(k, "reward_model")) && json_is_object(json_object_get(k, "kl_from_reference")),
          "the card names the reward model and the KL");
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(al_read_file(met, &text, &len, &err), err);
    if (!text) text = al_strdup(""), len = 0;
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    int want = 2 * (a ? 4 : 4 * 2); /* iters x epochs x minibatches (RLOO: TRL's RLOOConfig, 4 x 1) */
    CHECK(lines == want, "%s: %d metrics lines, want %d", algos[a], lines, want);
    const char *names[] = {"objective/kl", "objective/entropy", "objective/scores", "objective/rlhf_reward",
                           "policy/clipfrac_avg", "policy/approxkl_avg", "val/vpred", "val/error"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) CHECK(strstr(text, names[i]), "metrics lack %s", names[i]);
    free(text);
    json_decref(c), json_decref(k);
    free(cfg), free(card), free(met), free(odir);
  }
  /* the prompts file, checked line by line */
  struct { const char *text, *want; } bad[] = {
      {"{\"prompt\": \"ab:\"}\n{\"prompt\": \"ab:\"\n", "p.jsonl:2"},
      {"{\"text\": \"ab:\"}\n", "p.jsonl:1: want an object with a string field \"prompt\""},
      {"{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n", "conversational prompts are not supported"},
      {"{\"prompt\": \"\"}\n", "p.jsonl:1: the prompt is empty"},
      {"\n\n", "no prompts"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_text(prompts, bad[i].text);
    char args[4096], *out;
    snprintf(args, sizeof args, "--policy '%s' --rm '%s' --prompts '%s' --out '%s/bad' --iters 1", pdir, rdir, prompts, root);
    int rc = alab(args, &out);
    CHECK(rc == 1 && strstr(out, bad[i].want), "bad prompts %zu: exit %d, want 1 and '%s': %s", i, rc, bad[i].want, out);
    free(out);
  }
  al_rng r;
  al_rng_seed(&r, 9);
  const char *seed_text = "{\"prompt\": \"ab:\", \"x\": [1, 2.5, null, \"\\u00e9\"]}\n";
  for (int it = 0; it < 150; it++) { /* fuzz: a valid line with bytes flipped, cut or repeated */
    char buf[256];
    size_t n = strlen(seed_text);
    memcpy(buf, seed_text, n);
    for (int k = 0; k < 3; k++) buf[al_rng_below(&r, n)] = (char)al_rng_below(&r, 256);
    if (al_rng_below(&r, 2)) n = al_rng_below(&r, n);
    al_err err;
    char *path = prompts;
    CHECK_OK(al_write_file_atomic(path, buf, n, &err), err);
    char args[4096], *out;
    snprintf(args, sizeof args, "--policy '%s' --rm '%s' --prompts '%s' --out '%s/fuzz' --iters 1 --k 2 --prompts-per-iter 1 "
             "--max-new 2", pdir, rdir, prompts, root);
    int rc = alab(args, &out);
    CHECK(rc == 0 || (rc == 1 && strstr(out, "alab rl: ")), "fuzz %d: exit %d: %s", it, rc, out);
    free(out);
  }
  /* usage errors */
  const char *usage[] = {"--policy x --out y", "--algo dqn --out y", "--rm x --out y", "--policy x --prompts p --rm r --k 1 --out y",
                         "--bt-scale 0 --out y", "--proxy-lr -1 --out y", "--rloo-epochs 0 --out y"};
  for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
    char *out;
    int rc = alab(usage[i], &out);
    CHECK(rc == 2, "'%s': exit %d, want 2: %s", usage[i], rc, out);
    free(out);
  }
  al_model_free(&pol), al_model_free(&rm);
  al_tok_free(tok);
  free(pdir), free(rdir), free(prompts);
}

static void experiment(void) {
  char args[4096], *out, *dir = al_path_join(root, "exp");
  snprintf(args, sizeof args, "--out '%s' --seeds 2 --exp-iters 8 --window 2 --proxy-pairs 16 --proxy-steps 20", dir);
  int rc = alab(args, &out);
  CHECK(rc == 0, "the built-in experiment at a tiny scale: exit %d: %s", rc, out);
  free(out);
  al_err err;
  json_t *r = NULL;
  char *res = al_path_join(dir, "results.json");
  CHECK_OK(al_json_load_file(res, &r, &err), err);
  CHECK(json_array_size(json_object_get(r, "headline")) == 4, "four headline lines");
  const char *keys[] = {"rloo_gold_rise", "ppo_gold_rise", "final_kl_beta_lo_minus_hi", "proxy_gold_peak_minus_start",
                        "proxy_gold_peak_minus_end"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    CHECK(json_array_size(json_object_get(json_object_get(r, keys[i]), "seeds")) == 2, "%s: every seed", keys[i]);
  CHECK(json_array_size(json_object_get(json_object_get(r, "ppo"), "gold")) == 8, "a gold series per batch");
  /* the proxy described on held-out samples and normalised to sd 1 (Ziegler et al.'s gain) */
  const json_t *ph = json_object_get(r, "proxy_heldout");
  double corr = json_number_value(json_object_get(ph, "gold_correlation")), sd = json_number_value(json_object_get(ph, "raw_sd"));
  double gain = json_number_value(json_object_get(ph, "gain")), g0 = json_number_value(json_object_get(r, "initial_policy_gold"));
  CHECK(fabs(corr) <= 1 && sd > 0 && fabs(gain * sd - 1) < 1e-9 && g0 > -0.84 && g0 < 0.5,
        "proxy: correlation %g, raw sd %g, gain %g; initial gold %g", corr, sd, gain, g0);
  /* the spurious feature probed: independent letters, 'a' with probability q; their mean gold against the closed
   * form (L q - 2 (L - 1) q^2) / L (per-response sd at most 0.25: 256 responses give se <= 0.016) */
  const json_t *pb = json_object_get(r, "proxy_probe");
  CHECK(json_array_size(pb) == 8, "proxy_probe: 8 letter distributions");
  for (size_t j = 0; j < json_array_size(pb); j++) {
    const json_t *e = json_array_get(pb, j);
    double q = json_number_value(json_object_get(e, "p_a")), g = json_number_value(json_object_get(e, "gold"));
    double exact = (12 * q - 2 * 11 * q * q) / 12, cf = json_number_value(json_object_get(e, "gold_closed_form"));
    CHECK(fabs(cf - exact) < 1e-9 && fabs(g - exact) < 0.065 && json_is_number(json_object_get(e, "proxy")),
          "proxy_probe p_a %g: gold %g, closed form %g (expected %g)", q, g, cf, exact);
  }
  /* response lengths: the world's 12 letters in every response (--fixed-len 1, the default: the end-of-text masked) */
  const json_t *rt = json_object_get(r, "proxy_response_tokens");
  const char *when[] = {"start", "gold_low", "end"};
  for (int w = 0; w < 3; w++) {
    const json_t *seeds = json_object_get(json_object_get(rt, when[w]), "seeds");
    CHECK(json_array_size(seeds) == 2, "proxy_response_tokens.%s: every seed", when[w]);
    for (size_t i = 0; i < json_array_size(seeds); i++) {
      double t = json_number_value(json_array_get(seeds, i));
      CHECK(t == 12, "proxy_response_tokens.%s seed %zu: %g tokens", when[w], i, t);
    }
  }
  /* a's and touching pairs per response where the gold starts, peaks, bottoms out and ends: #aa = (#a - 12 gold) / 2 */
  const char *at[] = {"start", "gold_peak", "gold_low", "end"};
  for (int w = 0; w < 4; w++) {
    const json_t *e = json_object_get(json_object_get(r, "proxy_a_per_response"), at[w]);
    const json_t *a = json_object_get(json_object_get(e, "a"), "seeds"), *aa = json_object_get(json_object_get(e, "aa"), "seeds");
    CHECK(json_array_size(a) == 2 && json_array_size(aa) == 2, "proxy_a_per_response.%s: every seed", at[w]);
    for (size_t i = 0; i < json_array_size(a); i++) {
      double na = json_number_value(json_array_get(a, i)), naa = json_number_value(json_array_get(aa, i));
      CHECK(na >= 0 && na <= 12 && naa > -1e-6 && naa <= na, "proxy_a_per_response.%s seed %zu: %g a, %g aa", at[w], i, na, naa);
    }
  }
  const json_t *cv = json_object_get(r, "proxy_curve");
  CHECK(json_array_size(json_object_get(cv, "points")) == 3 && json_is_object(json_object_get(cv, "fit")),
        "the proxy run as Gao et al.'s curve: 3 windows after the first, fitted");
  const char *svg[] = {"gold.svg", "kl.svg", "proxy.svg", "overopt_gold_rl.svg", "report.html"};
  for (size_t i = 0; i < sizeof svg / sizeof svg[0]; i++) {
    char *p = al_path_join(dir, svg[i]);
    CHECK(al_file_exists(p), "%s written", svg[i]);
    free(p);
  }
  /* --rloo-epochs reaches the rloo condition alone: with 1 pass instead of 4 the rloo rollouts differ from the
   * second batch on, the ppo ones (the same streams) are the same numbers */
  char *dir1 = al_path_join(root, "exp1");
  snprintf(args, sizeof args, "--out '%s' --seeds 2 --exp-iters 4 --window 2 --proxy-pairs 16 --proxy-steps 20 --rloo-epochs 1",
           dir1);
  rc = alab(args, &out);
  CHECK(rc == 0, "--rloo-epochs 1: exit %d: %s", rc, out);
  free(out);
  json_t *r1 = NULL;
  char *res1 = al_path_join(dir1, "results.json");
  CHECK_OK(al_json_load_file(res1, &r1, &err), err);
  int rloo_differs = 0, ppo_same = 1;
  for (int i = 0; i < 4; i++)
    for (int s = 0; s < 2; s++) {
      const char *cond[] = {"rloo", "ppo"};
      double v[2][2];
      for (int c = 0; c < 2; c++)
        for (int w = 0; w < 2; w++) {
          const json_t *pt = json_array_get(json_object_get(json_object_get(w ? r1 : r, cond[c]), "kl"), (size_t)i);
          v[c][w] = json_number_value(json_array_get(json_object_get(pt, "seeds"), (size_t)s));
        }
      rloo_differs += v[0][0] != v[0][1];
      ppo_same &= v[1][0] == v[1][1];
    }
  CHECK(rloo_differs >= 4 && ppo_same, "--rloo-epochs 1 vs 4: rloo KL differs in %d of 8 (batch, seed), ppo the same: %d",
        rloo_differs, ppo_same);
  json_t *cfg1 = NULL;
  char *cpath = al_path_join(dir1, "config.json");
  CHECK_OK(al_json_load_file(cpath, &cfg1, &err), err);
  CHECK(json_integer_value(json_object_get(cfg1, "rloo_epochs")) == 1, "config.json records rloo_epochs");
  json_decref(cfg1), json_decref(r1);
  free(cpath), free(res1), free(dir1);
  json_decref(r);
  free(res), free(dir);
}

int main(void) {
  root = test_tmpdir("rl_cli");
  user_models();
  experiment();
  free(root);
  return test_summary();
}
