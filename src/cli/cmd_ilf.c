/* alab ilf: imitation learning from language feedback on the toy code world
 * (include/alab/ilf.h), every program run in the sandbox. */
#include <stdio.h>
#include <string.h>
#include "alab/ilf.h"
#include "cli/flags.h"

int cmd_ilf_eval(int argc, char **argv); /* src/cli/cmd_ilf_eval.c */
int cmd_ilf_sum(int argc, char **argv);  /* src/cli/cmd_ilf_sum.c */
int cmd_ilf_code(int argc, char **argv); /* src/cli/cmd_ilf_code.c */

int cmd_ilf(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "eval")) return cmd_ilf_eval(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "summaries")) return cmd_ilf_sum(argc - 1, argv + 1);
  if (argc > 1 && !strcmp(argv[1], "code")) return cmd_ilf_code(argc - 1, argv + 1);
  const char *out = NULL;
  al_ilf_cfg c;
  al_ilf_defaults(&c, 0);
  const char *arch = c.arch;
  int quick = 0, quiet = 0, seeds = 0, threads = 0, unsafe = 0, n_ilf = 0, n_eval = 0, samples = 0;
  int64_t policy_steps = 0, refiner_steps = 0, ilf_steps = 0, sum_steps[3] = {0, 0, 0};
  int sum_seeds = 0, no_summaries = 0;
  double wall = c.sandbox.wall_s;
  flag_def f[] = {
      {"out", FLAG_STRING, &out, "the run directory"},
      {"quick", FLAG_BOOL, &quick, "the quick scale (fewer steps and tasks)"},
      {"seeds", FLAG_INT, &seeds, "seeds of the code loop (0: the default, 6)", "[0, 99]"},
      FLAG_ARCH(arch),
      {"policy-steps", FLAG_I64, &policy_steps, "steps training the policy (0: the scale's default, 500; --quick 300)", "[0, inf)"},
      {"refiner-steps", FLAG_I64, &refiner_steps, "steps training the refiner (0: the scale's default, 500; --quick 300)", "[0, inf)"},
      {"ilf-steps", FLAG_I64, &ilf_steps, "finetuning steps on the refinements (0: the scale's default, 100; --quick 60)", "[0, inf)"},
      {"ilf-tasks", FLAG_INT, &n_ilf, "tasks the policy attempts for ILF (0: the scale's default, 320; --quick 160)", "[0, 100000]"},
      {"eval-tasks", FLAG_INT, &n_eval, "held-out evaluation tasks (0: the scale's default, 96; --quick 48)", "[0, 100000]"},
      {"samples", FLAG_INT, &samples, "programs sampled per evaluation task (0: the scale's default, 8; --quick 4)", "[0, 1000]"},
      {"p-wrong-order", FLAG_DOUBLE, &c.p_wrong[0], "share of the policy's demonstrations with the order flipped", "[0, 1]"},
      {"p-wrong-count", FLAG_DOUBLE, &c.p_wrong[1], "share with a wrong count", "[0, 1]"},
      {"p-wrong-op", FLAG_DOUBLE, &c.p_wrong[2], "share with a wrong operation", "[0, 1]"},
      {"workers", FLAG_INT, &c.workers, "sandboxed programs run at once per seed", "[1, 256]"},
      {"timeout", FLAG_DOUBLE, &wall, "wall-clock limit per program, seconds", "(0, 3600]"},
      {"unsafe-no-sandbox", FLAG_BOOL, &unsafe, "run the generated programs without namespaces where bubblewrap cannot "
                                                "create them (resource limits only: the programs see the machine)"},
      {"summary-seeds", FLAG_INT, &sum_seeds, "seeds of the summaries loop (0: the scale's default, 5; --quick 3)", "[0, 99]"},
      {"summary-policy-steps", FLAG_I64, &sum_steps[0], "steps training the summariser (0: default, 600; --quick 300)", "[0, inf)"},
      {"summary-refiner-steps", FLAG_I64, &sum_steps[1], "steps training the summaries' refiner (0: the default, 1200)",
       "[0, inf)"},
      {"summary-ilf-steps", FLAG_I64, &sum_steps[2], "finetuning steps on the selected summaries (0: default, 80; --quick 40)",
       "[0, inf)"},
      {"no-summaries", FLAG_BOOL, &no_summaries, "only the code loop"},
      {"threads", FLAG_INT, &threads, "seeds trained at once (0: every core)", "[0, 1024]"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab ilf --out DIR [flags]\n       alab ilf eval --mbpp FILE (--model DIR | --api-base URL) --out DIR: pass@k on MBPP\n"
                  "       alab ilf summaries --policy DIR|URL --refiner DIR|URL --out DIR: the summaries loop through providers\n"
                  "       alab ilf code --mbpp FILE --policy DIR|URL --refiner DIR|URL --out DIR: the code loop through providers",
                  "Imitation learning from language feedback (Scheurer et al. 2023; Chen et al. 2023) on a toy code world: "
                  "a policy writes one-line Python programs, an exact critic writes feedback on the failures, a refiner "
                  "model fixes them, the refinements that pass their tests in the sandbox are kept, the policy is "
                  "finetuned on them; pass@1 before and after, and against keeping every refinement untested. Then the same "
                  "loop on summaries of the story world (OUT/summaries): a summariser lists a story's key facts, the exact "
                  "critic names a missing or wrong one, a refiner model fixes it, the refinements that incorporate the "
                  "feedback are kept; fact accuracy before and after.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  if (!out) return fprintf(stderr, "alab ilf: --out is required (see --help)\n"), 2;
  double pw[3] = {c.p_wrong[0], c.p_wrong[1], c.p_wrong[2]};
  int workers = c.workers;
  al_ilf_defaults(&c, quick);
  for (int i = 0; i < 3; i++) c.p_wrong[i] = pw[i];
  c.workers = workers, c.threads = threads, c.sandbox.wall_s = wall, c.sandbox.unsafe_no_sandbox = unsafe;
  c.arch = c.sum.arch = arch;
  if (seeds) c.seeds = seeds;
  if (policy_steps) c.policy_steps = policy_steps;
  if (refiner_steps) c.refiner_steps = refiner_steps;
  if (ilf_steps) c.ilf_steps = ilf_steps;
  if (n_ilf) c.n_ilf = n_ilf;
  if (n_eval) c.n_eval = n_eval;
  if (samples) c.samples = samples;
  if (sum_seeds) c.sum.seeds = sum_seeds;
  if (no_summaries) c.sum.seeds = 0;
  if (sum_steps[0]) c.sum.policy_steps = sum_steps[0];
  if (sum_steps[1]) c.sum.refiner_steps = sum_steps[1];
  if (sum_steps[2]) c.sum.ilf_steps = sum_steps[2];
  al_quiet = quiet;
  al_err err;
  if (al_ilf_run(&c, out, NULL, &err)) return fprintf(stderr, "alab ilf: %s\n", err.msg), 1;
  printf("ilf: results in %s/results.json, report %s/report.html\n", out, out);
  return 0;
}
