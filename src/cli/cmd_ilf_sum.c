/* alab ilf summaries: the summaries loop of ILF with each role a model
 * directory or an OpenAI-compatible endpoint (al_ilf_sum_ep_run in
 * include/alab/ilf.h). */
#include <stdio.h>
#include <string.h>
#include "alab/ilf.h"
#include "cli/flags.h"
#include "cli/ilf_flags.h"

int cmd_ilf_sum(int argc, char **argv) {
  al_ilf_sum_ep_cfg c = {.n_ilf = 64, .n_eval = 32, .samples = 2, .temperature = 1, .ilf_steps = 40, .ilf_lr = 1e-3,
                         .batch = 8, .seed = 1};
  al_http_cfg http = al_http_cfg_default();
  ilf_endpoint_flags ef = {0};
  const char *out = NULL, *critic = "exact", *selector = "exact";
  int64_t seed = 1, steps = c.ilf_steps;
  int quiet = 0, facts = 5;
  flag_def f[] = {
      {"out", FLAG_STRING, &out, "the run directory"},
      {"policy", FLAG_STRING, &c.policy, "the summariser: a model directory (then finetuned) or an endpoint URL (http://HOST:PORT/v1#MODEL; without #MODEL, --api-model)"},
      {"refiner", FLAG_STRING, &c.refiner, "the refiner (reads the summary and the feedback): a model directory or an endpoint URL"},
      {"critic", FLAG_STRING, &critic, "the feedback: exact (the story world's exact critic), or a model directory or endpoint URL "
                                       "prompted with the story and the summary"},
      {"selector", FLAG_STRING, &selector, "which refinements are kept: exact (those that say what the feedback says), all (every "
                                           "one, untested), or a model directory or endpoint URL judging Yes/No by log-probs"},
      {"stories", FLAG_INT, &c.n_ilf, "stories the policy summarises for ILF", "[1, 100000]"},
      {"eval-stories", FLAG_INT, &c.n_eval, "held-out stories for the fact accuracy before and after", "[1, 100000]"},
      {"samples", FLAG_INT, &c.samples, "summaries per held-out story", "[1, 1000]"},
      {"temperature", FLAG_DOUBLE, &c.temperature, "the policy's sampling temperature", "[0, 10]"},
      {"ilf-steps", FLAG_I64, &steps, "finetuning steps on the kept refinements (a local policy)", "[1, inf)"},
      {"ilf-lr", FLAG_DOUBLE, &c.ilf_lr, "finetuning learning rate", "(0, 1]"},
      {"batch", FLAG_INT, &c.batch, "finetuning batch", "[1, 4096]"},
      {"facts", FLAG_INT, &facts, "facts a summary lists: 5 (hero, buddy, object, place, plot) or 3 (object, place, plot: "
                                   "the toy summariser's, trained by alab ilf)", "[3, 5]"},
      {"seed", FLAG_I64, &seed, "the stories' and the samples' seed", "[0, inf)"},
      ILF_ENDPOINT_FLAGS(ef, http),
      {"threads", FLAG_INT, &c.threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab ilf summaries --policy DIR|URL --refiner DIR|URL [--critic exact|DIR|URL] [--selector exact|DIR|URL] "
                  "--out DIR [flags]",
                  "Imitation learning from language feedback on summaries (Scheurer et al. 2023), on the story world: the "
                  "policy summarises stories as their key facts, the critic names a missing or wrong fact, the refiner "
                  "fixes it, the selector keeps the refinements that incorporate the feedback; a policy given as a model "
                  "directory is finetuned on them and its fact accuracy measured before and after.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  const char *me = "alab ilf summaries";
  if (!out || !c.policy || !c.refiner) return fprintf(stderr, "%s: --out, --policy and --refiner are required (see --help)\n", me), 2;
  c.critic = strcmp(critic, "exact") ? critic : NULL;
  c.judge = strcmp(selector, "exact") ? selector : NULL;
  if (facts != 3 && facts != 5) return fprintf(stderr, "%s: --facts %d: give 3 or 5\n", me, facts), 2;
  c.seed = (uint64_t)seed, c.ilf_steps = steps, c.names = facts == 5;
  ilf_endpoint_apply(&ef, out, &http);
  c.http = &http;
  al_quiet = quiet;
  al_err err;
  if (al_ilf_sum_ep_run(&c, out, &err)) return fprintf(stderr, "%s: %s\n", me, err.msg), 1;
  printf("ilf summaries: results in %s/results.json\n", out);
  return 0;
}
