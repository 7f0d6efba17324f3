/* alab rl: RLOO or PPO with a KL penalty against a reward model on your
 * models and prompts (--policy, --rm or --gold-story, --prompts), or, with
 * no model arguments, the built-in experiment (include/alab/rl_exp.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/gold.h"
#include "alab/json.h"
#include "alab/reward.h"
#include "alab/rl.h"
#include "alab/rl_exp.h"
#include "cli/card.h"
#include "cli/flags.h"
#include "cli/model_io.h"

/* TRL's prompt-only dataset: one JSON object per line with a string
 * "prompt" (blank lines skipped); errors name the file and line. */
static int read_prompts(const char *path, json_t **keep, const char ***prompts, int *n, al_err *err) {
  char *data;
  size_t len;
  if (al_read_file(path, &data, &len, err)) return -1;
  *keep = json_array(), *prompts = NULL, *n = 0;
  long line = 0;
  int rc = 0;
  for (char *p = data, *end; p < data + len && !rc; p = end + 1) {
    end = memchr(p, '\n', data + len - p);
    if (!end) end = data + len;
    line++;
    if (end == p || (end - p == 1 && *p == '\r')) continue;
    char where[600];
    snprintf(where, sizeof where, "%.500s:%ld", path, line);
    json_t *j;
    const char *s;
    if (al_json_parse(p, end - p, where, &j, err)) rc = -1;
    else if (!json_is_object(j) || !json_is_string(json_object_get(j, "prompt"))) {
      rc = al_fail(err, "%s: want an object with a string field \"prompt\" (TRL's prompt-only form%s)", where,
                   json_is_array(json_object_get(j, "prompt")) ? "; conversational prompts are not supported" : "");
      json_decref(j);
    } else if (!*(s = json_string_value(json_object_get(j, "prompt")))) {
      rc = al_fail(err, "%s: the prompt is empty", where);
      json_decref(j);
    } else {
      json_array_append_new(*keep, j);
      *prompts = al_realloc(*prompts, sizeof(char *) * (size_t)(*n + 1));
      (*prompts)[(*n)++] = s;
    }
  }
  free(data);
  if (!rc && *n == 0) rc = al_fail(err, "%s: no prompts (one JSON object with \"prompt\" per line)", path);
  return rc;
}

/* Training on the user's models: the policy is also the frozen reference. */
static int train_user(const char *policy_dir, const char *rm_dir, int gold_story, const char *prompts_path,
                      const char *out, al_rl_cfg *r, al_train_cfg *tc, long iters, int ckpt_iters, al_err *err) {
  al_model pol = {0}, ref = {0}, rm = {0};
  al_tok *tok = NULL, *ref_tok = NULL, *rm_tok = NULL;
  json_t *keep = NULL;
  const char **prompts = NULL;
  int np = 0, rc = read_prompts(prompts_path, &keep, &prompts, &np, err);
  if (!rc) rc = cli_load_model(policy_dir, &pol, &tok, err) || cli_load_model(policy_dir, &ref, &ref_tok, err);
  if (!rc && rm_dir) rc = al_rm_load(&rm, rm_dir, err) || al_tok_load(&rm_tok, rm_dir, err);
  al_bon_scorer rs = {&rm, rm_tok, NULL}, gs = {NULL, NULL, al_gold_story};
  al_rl_setup s = {r, &ref, tok, prompts, np, rm_dir ? &rs : &gs, gold_story ? &gs : NULL};
  al_rl_run_cfg rcfg = {iters, ckpt_iters};
  al_train_result res = {0};
  al_rl_log log = {0};
  al_card *card = NULL;
  if (!rc) rc = !(card = cli_card_start("alab rl", policy_dir, err));
  if (!rc) rc = al_rl_train(&pol, &s, tc, &rcfg, out, &res, &log, err);
  if (!rc) {
    printf("rl: %ld steps in %.1f s; %ld response tokens sampled (%.0f tokens/s); generation %.1f s, updates %.1f s\n",
           res.steps_done, res.seconds, log.tokens, log.sample_s > 0 ? log.tokens / log.sample_s : 0, log.rollout_s,
           log.update_s);
    if (log.nbatches)
      printf("rl: last batch: objective/scores %.4f, objective/kl %.4f%s", log.scores[log.nbatches - 1],
             log.kl[log.nbatches - 1], gold_story ? "" : "\n");
    if (log.nbatches && gold_story) printf(", objective/gold %.4f\n", log.gold[log.nbatches - 1]);
    rc = cli_card_data(card, "prompts", prompts_path, np, err);
    if (!rc) {
      al_card_feedback(card, "a reward model's scalar score", rm_dir ? rm_dir : "the story world's exact gold reward");
      json_t *hp = json_pack("{s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "prompts_per_iter",
                             r->prompts_per_iter, "k", r->k, "max_new", r->max_new, "epochs", r->epochs, "minibatches",
                             r->minibatches, "beta_kl", r->beta_kl, "clip", r->clip, "clip_v", r->clip_v, "vf_coef",
                             r->vf_coef, "gamma", r->gamma, "lam", r->lam, "lr", tc->lr);
      al_card_objective(card, r->algo == AL_RL_PPO ? "PPO" : "RLOO",
                        r->algo == AL_RL_PPO ? "clipped surrogate on GAE advantages of score - beta_kl * log(pi/ref) per token, plus vf_coef * clipped value loss"
                                             : "clipped REINFORCE with the leave-one-out baseline over k samples of score - beta_kl * sum log(pi/ref)",
                        hp);
      if (rm_dir) rc = al_card_reward_model(card, rm_dir, NAN, err);
      else al_card_no_reward_model(card, "the reward is the story world's exact gold (--gold-story)");
    }
    if (!rc && log.nbatches) al_card_kl(card, log.kl[log.nbatches - 1], "k1: mean over the last batch's responses of sum_t log pi - log ref (TRL's objective/kl)");
    if (!rc) {
      al_card_training(card, res.steps_done, res.seconds, res.final_loss, NAN, tc->seed, al_get_threads());
      rc = al_card_write(card, out, res.start_step > 0, err) ? al_fail_prefix(err, "model card") : 0;
    }
  }
  al_card_free(card);
  al_rl_log_free(&log);
  al_model_free(&pol), al_model_free(&ref), al_model_free(&rm);
  al_tok_free(tok), al_tok_free(ref_tok), al_tok_free(rm_tok);
  free(prompts);
  json_decref(keep);
  return rc;
}

int cmd_rl(int argc, char **argv) {
  const char *policy = NULL, *rm = NULL, *prompts = NULL, *out = NULL, *algo = "rloo";
  int gold_story = 0, threads = 0, quiet = 0, quick = 0, ckpt_iters = 0;
  al_rl_cfg r;
  al_rl_defaults(&r, AL_RL_RLOO);
  int epochs = 0, minibatches = 0, whiten = -1;
  al_rl_exp_cfg ec;
  al_rl_exp_defaults(&ec);
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.lr = 1e-5, tc.warmup_steps = 0, tc.min_lr_frac = 1, tc.weight_decay = 0, tc.eval_every = 0;
  int64_t iters = 100, seed = 1;
  flag_def f[] = {
      {"out", FLAG_STRING, &out, "output: the trained model directory (with --policy), or the experiment's run directory"},
      {"policy", FLAG_STRING, &policy, "the language model directory to train (also the frozen reference)"},
      {"rm", FLAG_STRING, &rm, "the reward model directory (GPT2ForSequenceClassification, from alab rm train)"},
      {"gold-story", FLAG_BOOL, &gold_story, "with --policy: the story world's exact gold reward (docs/overopt.md): "
                                             "the reward without --rm, logged as objective/gold with it"},
      {"prompts", FLAG_STRING, &prompts, "with --policy: prompts, TRL's prompt-only JSONL ({\"prompt\": ...} per line)"},
      {"algo", FLAG_STRING, &algo, "with --policy: rloo or ppo"},
      {"iters", FLAG_I64, &iters, "with --policy: batches of rollouts", "[1, inf)"},
      {"prompts-per-iter", FLAG_INT, &r.prompts_per_iter, "with --policy: prompts per batch of rollouts", "[1, 65536]"},
      {"k", FLAG_INT, &r.k, "with --policy: responses sampled per prompt (RLOO: at least 2)", "[1, 4096]"},
      {"max-new", FLAG_INT, &r.max_new, "with --policy: most tokens per response", "[1, 65536]"},
      {"min-new", FLAG_INT, &r.min_new, "with --policy: the end-of-text is masked (never sampled, renormalised in every log-prob) for a response's first N tokens", "[0, 65536]"},
      {"epochs", FLAG_INT, &epochs, "with --policy: passes over each batch of rollouts (0: 4, TRL's RLOOConfig and PPOConfig num_ppo_epochs)", "[0, 1000]"},
      {"minibatches", FLAG_INT, &minibatches, "with --policy: minibatches per pass (0: RLOO 1, PPO 2)", "[0, 65536]"},
      {"beta-kl", FLAG_DOUBLE, &r.beta_kl, "with --policy: the KL penalty per token (TRL's kl_coef)", "[0, inf)"},
      {"clip", FLAG_DOUBLE, &r.clip, "with --policy: the ratio's clip range (TRL's cliprange)", "(0, inf)"},
      {"clip-v", FLAG_DOUBLE, &r.clip_v, "with --policy: PPO's value clip range (cliprange_value)", "(0, inf)"},
      {"vf-coef", FLAG_DOUBLE, &r.vf_coef, "with --policy: PPO's value loss weight", "[0, inf)"},
      {"gamma", FLAG_DOUBLE, &r.gamma, "with --policy: PPO's discount", "[0, 1]"},
      {"lam", FLAG_DOUBLE, &r.lam, "with --policy: PPO's GAE lambda", "[0, 1]"},
      {"whiten", FLAG_INT, &whiten, "with --policy: whiten advantages (-1: PPO yes, RLOO no)", "[-1, 1]"},
      {"lr", FLAG_DOUBLE, &tc.lr, "learning rate (constant; experiment: its own default unless given)", "(0, inf)"},
      {"grad-clip", FLAG_DOUBLE, &tc.grad_clip, "with --policy: clip the global gradient norm (0: off)", "[0, inf)"},
      {"seed", FLAG_I64, &seed, "prompt order and sampling (experiment: pretraining, proxy data, first RL seed)"},
      {"ckpt-every", FLAG_INT, &ckpt_iters, "with --policy: checkpoint every N batches of rollouts (0: only at the end)", "[0, inf)"},
      {"resume", FLAG_BOOL, &tc.resume, "with --policy: continue the run in --out from its trainer state"},
      {"overwrite", FLAG_BOOL, &tc.overwrite, "with --policy: start anew in an --out holding another run"},
      {"quick", FLAG_BOOL, &quick, "experiment: the quick scale (3 seeds, 100 batches)"},
      {"seeds", FLAG_INT, &ec.seeds, "experiment: RL seeds", "[2, 99]"},
      FLAG_ARCH(ec.arch),
      {"exp-iters", FLAG_INT, &ec.iters, "experiment: batches of rollouts per run (--quick: 100)", "[4, 100000]"},
      {"beta-lo", FLAG_DOUBLE, &ec.beta_lo, "experiment: the smaller beta_kl", "[0, inf)"},
      {"beta-hi", FLAG_DOUBLE, &ec.beta_hi, "experiment: the larger beta_kl", "(0, inf)"},
      {"window", FLAG_INT, &ec.window, "experiment: batches averaged at the start, the end and the peak", "[2, 10000]"},
      {"proxy-pairs", FLAG_INT, &ec.proxy_pairs, "experiment: preference pairs the proxy reward model is trained on", "[16, 1000000]"},
      {"proxy-steps", FLAG_INT, &ec.proxy_steps, "experiment: the proxy's training steps (batches of 16 pairs)", "[1, 1000000]"},
      {"rloo-epochs", FLAG_INT, &ec.rloo_epochs, "experiment: the RLOO condition's passes over each batch of rollouts (TRL's RLOOConfig num_ppo_epochs)", "[1, 1000]"},
      {"proxy-lr", FLAG_DOUBLE, &ec.proxy_lr, "experiment: the learning rate of the run against the proxy", "(0, inf)"},
      {"bt-scale", FLAG_DOUBLE, &ec.bt_scale, "experiment: the proxy's labels, drawn: P(a preferred to b) = sigmoid(s (gold(a) - gold(b))) (12: the logit is the difference of #a - 2 #aa)", "(0, inf)"},
      {"fixed-len", FLAG_INT, &ec.fixed_len, "experiment: 1: every response is the world's 12 letters (the end-of-text masked, --min-new 12); 0: a response ends at the end-of-text (13 tokens at most)", "[0, 1]"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab rl --out DIR [--policy DIR (--rm DIR | --gold-story) --prompts FILE.jsonl] [flags]",
                  "RL from a reward model, as TRL's RLOOTrainer and PPOTrainer: k responses per prompt sampled from the "
                  "policy (batched decoding), reward = the reward model's score at the end minus beta_kl * log(pi/ref) per "
                  "token, then RLOO (leave-one-out baseline) or PPO (value head, GAE, clipped policy and value losses, "
                  "epochs x minibatches per batch). With --policy it trains your model and writes a model directory with "
                  "its disclosure card (the run, metrics.jsonl and trainer state in DIR/trainer; --resume continues a "
                  "killed run exactly). Without, the built-in experiment: RLOO and PPO raise an exact gold reward, a "
                  "larger beta_kl keeps the KL smaller, and a small proxy reward model is optimised (docs/rl.md).",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  if (!out) return fprintf(stderr, "alab rl: --out is required (see --help)\n"), 2;
  int ppo = !strcmp(algo, "ppo");
  if (!ppo && strcmp(algo, "rloo")) return fprintf(stderr, "alab rl: --algo %s: give rloo or ppo\n", algo), 2;
  if (policy && (!prompts || (!rm && !gold_story)))
    return fprintf(stderr, "alab rl: --policy needs --prompts and a reward (--rm or --gold-story)\n"), 2;
  if (!policy && (rm || prompts || gold_story))
    return fprintf(stderr, "alab rl: --rm, --prompts and --gold-story need --policy\n"), 2;
  if (r.min_new > r.max_new) return fprintf(stderr, "alab rl: --min-new %d exceeds --max-new %d\n", r.min_new, r.max_new), 2;
  if (!ppo && r.k < 2 && policy) return fprintf(stderr, "alab rl: --k %d: RLOO needs at least 2 responses per prompt\n", r.k), 2;
  al_quiet = quiet;
  al_set_threads(threads);
  al_err err;
  int rc;
  if (policy) {
    al_rl_cfg d;
    al_rl_defaults(&d, ppo ? AL_RL_PPO : AL_RL_RLOO);
    r.algo = d.algo;
    r.epochs = epochs ? epochs : ppo ? d.epochs : AL_RLOO_TRL_EPOCHS, r.minibatches = minibatches ? minibatches : d.minibatches;
    r.whiten_adv = whiten >= 0 ? whiten : d.whiten_adv;
    r.seed = (uint64_t)seed, tc.seed = (uint64_t)seed;
    static const char *const free_on_resume[] = {"out", "resume", "overwrite", "threads", "quiet", "ckpt-every", NULL};
    json_t *settings = flags_to_json(&cmd, free_on_resume);
    tc.settings = settings;
    rc = train_user(policy, rm, gold_story, prompts, out, &r, &tc, (long)iters, ckpt_iters, &err);
    json_decref(settings);
    if (!rc) printf("rl: the policy is in %s (run: %s/trainer)\n", out, out);
  } else {
    ec.quick = quick, ec.seed = seed;
    if (quick) {
      al_rl_exp_cfg q;
      al_rl_exp_defaults(&q);
      if (ec.seeds == q.seeds) ec.seeds = 3;
      if (ec.iters == q.iters) ec.iters = 100;
    }
    for (int i = 1; i < argc; i++)
      if (!strncmp(argv[i], "--lr", 4)) ec.lr = tc.lr;
    rc = al_rl_exp_run(&ec, out, &err);
    if (!rc) printf("rl: results in %s/results.json, report %s/report.html\n", out, out);
  }
  if (rc) fprintf(stderr, "alab rl: %s\n", err.msg);
  return rc ? 1 : 0;
}
