/* alab overopt: reward-model overoptimisation under best-of-n (Gao, Schulman
 * and Hilton 2022) with the story world's exact gold reward. */
#include <stdio.h>
#include "alab/exp.h"
#include "alab/overopt.h"
#include "cli/flags.h"

int cmd_overopt(int argc, char **argv) {
  al_overopt_cfg c;
  al_overopt_defaults(&c);
  const char *out = NULL, *rm_layers = "1,4", *pairs = "100,400";
  int quiet = 0;
  int64_t seed = (int64_t)c.seed, stories = c.stories, steps = c.policy_steps;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "run directory (created): config.json, results.json, metrics.jsonl, plots, index.html, report.html"},
      {"seeds", FLAG_INT, &c.seeds, "seeds: comparison samples, their labels, the proxies' initial heads and data order, the best-of-n samples", "[2, 64]"},
      {"seed", FLAG_I64, &seed, "base seed (the policy's too)"},
      {"policy", FLAG_STRING, &c.policy, "a language model directory (with its tokenizer) as the policy, instead of training one"},
      {"tokenizer", FLAG_STRING, &c.tokenizer, "the policy's tokenizer: bpe:N learnt from its stories, or byte"},
      {"stories", FLAG_I64, &stories, "story-world stories the policy trains on", "[10, inf)"},
      FLAG_ARCH(c.arch),
      {"layers", FLAG_INT, &c.layers, "policy: transformer blocks", "[1, 64]"},
      {"heads", FLAG_INT, &c.heads, "policy: attention heads", "[1, 64]"},
      {"embd", FLAG_INT, &c.embd, "policy: channels", "[1, 4096]"},
      {"context", FLAG_INT, &c.context, "policy: context (a story and its samples must fit)", "[16, 4096]"},
      {"batch", FLAG_INT, &c.batch, "policy: sequences per step", "[1, 4096]"},
      {"policy-steps", FLAG_I64, &steps, "policy: training steps", "[1, inf)"},
      {"policy-lr", FLAG_DOUBLE, &c.policy_lr, "policy: peak learning rate", "(0, inf)"},
      {"rm-layers", FLAG_STRING, &rm_layers, "proxy sizes: each proxy is the policy's first K layers and a scalar head (a list)"},
      {"pairs", FLAG_STRING, &pairs, "comparisons each proxy trains on (a list; each proxy size gets each)"},
      {"bt-scale", FLAG_DOUBLE, &c.bt_scale, "labels: P(a preferred to b) = sigmoid(s (gold(a) - gold(b)))", "(0, inf)"},
      {"rm-epochs", FLAG_DOUBLE, &c.rm_epochs, "proxy training: epochs over its comparisons", "(0, inf)"},
      {"rm-lr", FLAG_DOUBLE, &c.rm_lr, "proxy training: peak learning rate", "(0, inf)"},
      {"rm-batch", FLAG_INT, &c.rm_batch, "proxy training: comparisons per step", "[1, 4096]"},
      {"n", FLAG_INT, &c.N, "best-of-n: samples per seed (N); n = 1, 2, 4, ..., N estimated from them", "[2, 65536]"},
      {"max-new", FLAG_INT, &c.max_new, "most tokens per sampled story", "[1, 1048576]"},
      {"temperature", FLAG_DOUBLE, &c.temperature, "the policy's sampling temperature", "[0, inf)"},
      {"rl-iters", FLAG_INT, &c.rl_iters, "RL against every proxy: batches of rollouts (RLOO from the policy, the world's 3 openings x --rl-k samples each); 0: no RL", "[0, 100000]"},
      {"rl-window", FLAG_INT, &c.rl_window, "RL: batches in the first window after the start (batch 0, the initial policy); each later window is twice the one before (d and rewards averaged over a window)", "[1, 100000]"},
      {"rl-k", FLAG_INT, &c.rl_k, "RL: samples per opening per batch (RLOO's leave-one-out group)", "[2, 4096]"},
      {"rl-lr", FLAG_DOUBLE, &c.rl_lr, "RL: learning rate (constant, AdamW without weight decay)", "(0, inf)"},
      {"rl-beta-kl", FLAG_DOUBLE, &c.rl_beta_kl, "RL: KL penalty per token (TRL's kl_coef)", "[0, inf)"},
      {"threads", FLAG_INT, &c.threads, "jobs at once, each single-threaded; the policy trains on all (0: OMP_NUM_THREADS if set, else all cores)", FLAG_THREADS_RANGE},
      {"quick", FLAG_BOOL, &c.quick, "record the run as quick scale (as reproduce does)"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab overopt --out DIR [flags]",
                  "Reward-model overoptimisation (Gao, Schulman and Hilton 2022): a policy trained on the story world; "
                  "proxy reward models of several sizes trained on comparisons of its samples labelled by Bradley-Terry "
                  "on the world's exact gold reward; best-of-n (and with --rl-iters, RL) against each proxy, gold and proxy reward against "
                  "d = sqrt(KL), R(d) = d (alpha - beta d) (RL: d (alpha - beta log d)) fitted to gold per seed, 95% intervals over seeds "
                  "(docs/overopt.md).",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (quiet) al_quiet = 1;
  if (!out) {
    fprintf(stderr, "alab overopt: --out DIR is required (see --help)\n");
    return 2;
  }
  c.seed = (uint64_t)seed, c.stories = stories, c.policy_steps = steps;
  al_err err;
  if ((c.n_rm_layers = al_parse_int_list(rm_layers, c.rm_layers, AL_OVEROPT_MAX_GRID, "--rm-layers", &err)) < 0 ||
      (c.n_pairs = al_parse_int_list(pairs, c.pairs, AL_OVEROPT_MAX_GRID, "--pairs", &err)) < 0 || al_overopt_check(&c, &err)) {
    fprintf(stderr, "alab overopt: %s\n", err.msg);
    return 2;
  }
  if (al_overopt_run(&c, out, &err)) {
    fprintf(stderr, "alab overopt: %s\n", err.msg);
    return 1;
  }
  al_log("alab overopt: results in %s/results.json, report %s/report.html", out, out);
  return 0;
}
