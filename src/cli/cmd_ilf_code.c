/* alab ilf code: one round of ILF for code with each role a model directory
 * or an OpenAI-compatible endpoint (al_ilf_code_run in include/alab/ilf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/ilf.h"
#include "cli/flags.h"
#include "cli/ilf_flags.h"

int cmd_ilf_code(int argc, char **argv) {
  al_ilf_code_cfg c = al_ilf_code_defaults();
  al_http_cfg http = al_http_cfg_default();
  ilf_endpoint_flags ef = {0};
  const char *out = NULL, *critic = "exact", *selector = "tests", *ks = "1";
  int64_t seed = 1, steps = c.ilf_steps;
  int quiet = 0;
  c.eval.samples = 4;
  flag_def f[] = {
      {"out", FLAG_STRING, &out, "the run directory"},
      {"mbpp", FLAG_STRING, &c.mbpp, "MBPP-format tasks the policy attempts (JSONL: task_id, text or prompt, code, test_list)"},
      {"annotations", FLAG_STRING, &c.annotations, "instead of --mbpp: the ILF-for-code annotation file (surge_annotations.jsonl): "
                                                   "its original programs and their feedback"},
      {"eval-mbpp", FLAG_STRING, &c.eval_mbpp, "held-out MBPP-format tasks for pass@k before and after (default: the ILF tasks)"},
      {"limit", FLAG_INT, &c.limit, "only the first N ILF tasks (0: all)", "[0, 1000000]"},
      {"policy", FLAG_STRING, &c.policy, "writes the programs: a model directory (then finetuned) or an endpoint URL "
                                         "(http://HOST:PORT/v1#MODEL; without #MODEL, --api-model)"},
      {"critic", FLAG_STRING, &critic, "the feedback: exact (the failing test or the exception, from the sandbox's traceback), "
                                       "or a model directory or endpoint URL prompted with --critic-template"},
      {"refiner", FLAG_STRING, &c.refiner, "rewrites a failing program from its feedback: a model directory or an endpoint URL"},
      {"selector", FLAG_STRING, &selector, "which refinements are kept: tests (those that pass the task's tests in the sandbox) "
                                           "or all (every one, the untested ablation)"},
      {"critic-template", FLAG_STRING, &c.critic_template, "the critic's prompt with {text}, {tests}, {program}, {verdict} "
                                                           "(default: Austin et al.'s task, the code, a request for one sentence)"},
      {"refine-template", FLAG_STRING, &c.refine_template, "the refiner's prompt with {text}, {tests}, {program}, {feedback}, "
                                                           "{verdict}; its reply is cut at [DONE] (MBPP tasks)"},
      {"refinements", FLAG_INT, &c.refinements, "refinements per failure: 1 (greedy) or more, sampled at "
                                                 "--refine-temperature, the first that passes kept", "[1, 1000]"},
      {"refine-temperature", FLAG_DOUBLE, &c.refine_temperature, "the refiner's temperature when --refinements > 1", "[0, 10]"},
      {"samples", FLAG_INT, &c.eval.samples, "programs per evaluation task (n of pass@k)", "[1, 10000]"},
      {"k", FLAG_STRING, &ks, "the k of pass@k, comma-separated, each <= --samples (at most 4)"},
      {"temperature", FLAG_DOUBLE, &c.temperature, "the policy's temperature in the ILF round", "[0, 10]"},
      {"eval-temperature", FLAG_DOUBLE, &c.eval.temperature, "the policy's temperature in the evaluation", "[0, 10]"},
      {"max-tokens", FLAG_INT, &c.eval.max_tokens, "tokens per program at most", "[1, 1000000]"},
      {"plain-prompt", FLAG_BOOL, &c.eval.plain, "send an MBPP task's text and a newline as is, not Austin et al.'s prompt"},
      {"prefix", FLAG_STRING, &c.eval.prefix, "text before every policy (and annotation refiner) prompt"},
      {"ilf-steps", FLAG_I64, &steps, "finetuning steps on the kept refinements (a directory policy)", "[1, inf)"},
      {"ilf-lr", FLAG_DOUBLE, &c.ilf_lr, "finetuning learning rate", "(0, 1]"},
      {"batch", FLAG_INT, &c.batch, "finetuning batch", "[1, 4096]"},
      {"seed", FLAG_I64, &seed, "evaluation sample j uses seed + j; the round seed + 11", "[0, inf)"},
      {"workers", FLAG_INT, &c.eval.workers, "sandboxed programs run at once", "[1, 256]"},
      {"timeout", FLAG_DOUBLE, &c.sandbox.wall_s, "wall-clock limit per program, seconds (MBPP's harness: 3)", "(0, 3600]"},
      {"unsafe-no-sandbox", FLAG_BOOL, &c.sandbox.unsafe_no_sandbox,
       "run programs without namespaces where bubblewrap cannot create them (resource limits only)"},
      ILF_ENDPOINT_FLAGS(ef, http),
      {"threads", FLAG_INT, &c.threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab ilf code (--mbpp FILE | --annotations FILE) --policy DIR|URL --refiner DIR|URL [--critic exact|DIR|URL] "
                  "--out DIR [flags]",
                  "Imitation learning from language feedback for code (Chen et al. 2023), one round: the policy writes a "
                  "program per task, each runs with its tests in the sandbox, the critic (or the annotation file) gives "
                  "feedback on the failures, the refiner rewrites them, the refinements that pass the tests are kept; a "
                  "policy given as a model directory is finetuned on them and pass@k measured before and after.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  const char *me = "alab ilf code";
  if (!out || !c.policy || !c.refiner || !c.mbpp == !c.annotations)
    return fprintf(stderr, "%s: --out, --policy, --refiner and one of --mbpp or --annotations are required (see --help)\n", me), 2;
  if (strcmp(selector, "tests") && strcmp(selector, "all"))
    return fprintf(stderr, "%s: --selector %s: give tests or all\n", me, selector), 2;
  if (c.annotations && strcmp(critic, "exact"))
    return fprintf(stderr, "%s: --critic %s: with --annotations the feedback is the file's (give no --critic)\n", me, critic), 2;
  if (ilf_parse_ks(me, ks, &c.eval)) return 2;
  c.critic = strcmp(critic, "exact") ? critic : NULL;
  c.keep_all = !strcmp(selector, "all");
  c.eval.seed = (uint64_t)seed, c.ilf_steps = steps;
  al_err err;
  if (c.critic_template && al_code_template_check(c.critic_template, "--critic-template", &err)) return fprintf(stderr, "%s: %s\n", me, err.msg), 2;
  if (c.refine_template && al_code_template_check(c.refine_template, "--refine-template", &err)) return fprintf(stderr, "%s: %s\n", me, err.msg), 2;
  ilf_endpoint_apply(&ef, out, &http);
  c.http = &http;
  al_quiet = quiet;
  if (al_ilf_code_run(&c, out, &err)) return fprintf(stderr, "%s: %s\n", me, err.msg), 1;
  printf("ilf code: results in %s/results.json\n", out);
  return 0;
}
