/* `alab ilf`: imitation learning from language feedback (Scheurer et al.
 * 2023; Chen et al. 2023), on a toy program-synthesis world that runs on
 * alab's own models in minutes, with the real selector: tests executed in
 * the sandbox (include/alab/sandbox.h).
 *
 * Per seed:
 *   1. a policy (a small byte-level GPT-2) is trained from scratch on tasks
 *      "# sort down, take 3, add 1" -> one-line Python programs, where a
 *      share of the demonstrations are wrong in a systematic way (order
 *      flipped with p_wrong[0], count with p_wrong[1], op with p_wrong[2]);
 *   2. a refiner (same size) is trained on (task, wrong program, feedback)
 *      -> the program with the named mistake fixed;
 *   3. the policy writes one program for each of n_ilf tasks; each runs
 *      against its tests in the sandbox; for each failure the exact critic
 *      writes feedback (the first wrong component, as a sentence), the
 *      refiner writes a refinement (greedy), and the refinement runs
 *      against the tests;
 *   4. ILF: the policy is finetuned on (task -> refinement) for the
 *      refinements that pass; the ablation ("untested"): on every
 *      refinement, as if no tests were run;
 *   5. pass@1 (and pass@samples) of the base, ILF and untested policies on
 *      n_eval fresh tasks, `samples` programs each at temperature 1, every
 *      program run in the sandbox; the unbiased estimator of pass@k.
 * Results: every seed, means and 95% t-intervals over seeds of pass@1 and
 * of the gains (ILF - base, untested - base, ILF - untested, paired by
 * seed).
 *
 * Run directory: config.json, metrics.jsonl (one line per seed and
 * policy), results.json ("headline"), pass1.svg, and seed1/ with every
 * intermediate: policy_data.jsonl and refiner_data.jsonl (the training
 * sets), ilf.jsonl (per task: prompt, tests, output, verdict, feedback,
 * refinement, its verdict, kept), eval_{base,ilf,untested}.jsonl (per
 * sample: prompt, program, verdict) and the model directories policy/,
 * refiner/, policy_ilf/.
 * Then the summaries loop (al_ilf_sum_cfg below) into summaries/. */
#ifndef ALAB_ILF_H
#define ALAB_ILF_H
#include "alab/sandbox.h"

/* The summaries loop on the story world (Scheurer et al. 2023's setting),
 * run by al_ilf_run after the code loop into DIR/summaries when seeds > 0.
 * Per seed: a summariser (story -> "hero: Lily; buddy: Tom; object: kite;
 * place: park; plot: lost") is trained on demonstrations that drop the
 * place, or name another object or plot, with p_wrong; a refiner on
 * (summary, feedback) -> the summary with the named fact fixed; the
 * summariser summarises n_ilf stories (temperature 1), the exact critic
 * names the first missing, wrong or extra fact, the refiner refines, the
 * exact selector keeps the refinements that incorporate the feedback; ILF
 * finetunes on those, the ablation on every refinement; fact accuracy
 * (facts right / facts in the story) of the three summarisers on n_eval
 * fresh stories, `samples` summaries each. Byte-pair tokens (a vocab-sized
 * BPE trained per seed on the training sets), so a story fits 320 tokens. */
typedef struct {
  int seeds;                 /* 0: no summaries loop */
  int n_policy, n_refiner;
  double p_wrong[3];         /* place dropped, object replaced, plot replaced */
  long policy_steps, refiner_steps, ilf_steps;
  double lr, ilf_lr;
  int n_ilf, n_eval, samples;
  const char *arch;          /* the summariser and refiner: gpt2 or llama (al_model_config_set_arch) */
  int vocab, layers, heads, embd, batch;
  int names;                 /* 1: summaries list the hero and the buddy too (0 by default: see docs/ilf.md) */
} al_ilf_sum_cfg;
void al_ilf_sum_defaults(al_ilf_sum_cfg *c, int quick);

typedef struct {
  double acc[3], exact[3];   /* base, ilf, untested: mean fact accuracy, share of summaries exactly right */
  int attempted, with_feedback, selected, improved, selected_improved;
  int selected_exact, unchanged; /* selected refinements with every fact right; refinements equal to their summary */
  /* the refiner before the loop, on 200 held-out (summary, feedback) pairs of its training distribution: shares refined
     exactly, with the named fact set to the feedback's value, and with it set to another value (not copied) */
  double refiner_exact, refiner_value, refiner_other;
} al_ilf_sum_seed;

typedef struct {
  int seeds;
  al_ilf_sum_seed *s;
  al_stat acc[3], gain_ilf, gain_untested, ilf_vs_untested;
} al_ilf_sum_result;

typedef struct {
  int seeds;
  int n_policy, n_refiner;   /* training examples of the policy and of the refiner */
  double p_wrong[3];         /* order, count, op: how often a policy demonstration is wrong */
  long policy_steps, refiner_steps, ilf_steps;
  double lr, ilf_lr;
  int n_ilf;                 /* tasks the policy attempts for ILF */
  int n_eval, samples;       /* evaluation tasks and programs per task */
  int ntests;                /* asserts per task */
  const char *arch; /* the policy and the refiner: gpt2 or llama (al_model_config_set_arch) */
  int layers, heads, embd, batch;
  int threads;               /* seeds at once (0: al_default_threads()) */
  int workers;               /* sandboxed programs at once per seed */
  al_sandbox_config sandbox;
  al_ilf_sum_cfg sum;        /* the summaries loop */
} al_ilf_cfg;

/* Full scale; quick: fewer seeds, steps and tasks (minutes on 2 cores). */
void al_ilf_defaults(al_ilf_cfg *c, int quick);

typedef struct {
  double pass1[3], passk[3]; /* base, ilf, untested */
  int attempted, failed, refined_passed, parsed; /* ILF phase: tasks, failures, refinements that pass, that parse */
} al_ilf_seed;

typedef struct {
  int seeds;
  al_ilf_seed *s;            /* seeds of them */
  al_stat pass1[3], gain_ilf, gain_untested, ilf_vs_untested;
  al_ilf_sum_result sum;     /* seeds 0 when the summaries loop did not run */
} al_ilf_result;
/* The summaries loop alone into dir (threads: seeds at once). */
int al_ilf_sum_run(const al_ilf_sum_cfg *c, int threads, const char *dir, al_ilf_sum_result *res, al_err *err);

/* Runs the experiment into dir; res (may be NULL) gets the numbers (free
 * with al_ilf_result_free). */
int al_ilf_run(const al_ilf_cfg *c, const char *dir, al_ilf_result *res, al_err *err);
void al_ilf_result_free(al_ilf_result *r);
int al_ilf_reproduce(const char *dir, int quick, al_err *err);

/* `alab ilf eval`: pass@k of an alab model directory or an OpenAI-compatible
 * endpoint on an MBPP file (al_code_eval_mbpp in include/alab/code.h), or of
 * its refinements from the feedback of an annotation file, with the file's
 * original programs and the annotators' refinements graded as baselines
 * (al_refine_annotations).
 * Run directory: config.json, metrics.jsonl (one line per sample: task_id,
 * sample, completion, program, verdict), results.json ({"pass@K": ...,
 * "tasks", "samples", "passed", "failed_requests", "provider", "headline"}). */
#include "alab/code.h"
#include "alab/provider.h"
typedef struct {
  const char *mbpp;           /* the MBPP JSONL file, or */
  const char *annotations;    /* the ILF-for-code annotation file: pass@k of refinements from its feedback */
  int limit;                  /* its first `limit` tasks (0: all) */
  const char *model;          /* an alab model directory, or */
  const al_http_cfg *http;    /* an OpenAI-compatible endpoint */
  int threads;                /* the local provider's */
  al_code_eval_cfg eval;
  al_sandbox_config sandbox;
} al_ilf_eval_cfg;
int al_ilf_eval_run(const al_ilf_eval_cfg *c, const char *dir, al_err *err);

/* `alab ilf summaries`: the summaries loop with each role a model directory
 * or an endpoint URL (http://...), one round on n_ilf stories of the story
 * world; the critic and the judge may be NULL (the exact critic, the exact
 * selector). The judge reads "Summary: S / Feedback: F / Refinement: R /
 * Does the refinement incorporate the feedback? Answer:" and is scored
 * " Yes" against " No" (include/alab/judge.h). A policy that is a model
 * directory is finetuned on the kept refinements and measured again. */
typedef struct {
  const char *policy, *refiner, *critic, *judge; /* model directories or endpoint URLs; critic, judge NULL: exact;
                                                    judge "all": every refinement kept (the untested ablation) */
  const al_http_cfg *http;   /* settings shared by the endpoints (each role's URL replaces base_url) */
  int n_ilf, n_eval, samples;
  double temperature;        /* the policy's */
  long ilf_steps;
  double ilf_lr;
  int batch, threads;
  int names;                 /* 1: summaries list the hero and the buddy (the story world's five facts); 0: three */
  uint64_t seed;
} al_ilf_sum_ep_cfg;
int al_ilf_sum_ep_run(const al_ilf_sum_ep_cfg *c, const char *dir, al_err *err);

/* `alab ilf code`: one round of ILF for code (Chen et al. 2023) on
 * MBPP-format tasks or the annotation file, each role a model directory or
 * an endpoint URL (http://HOST/v1#MODEL; as `alab ilf summaries`):
 *   1. the policy writes one program per task (al_code_eval_mbpp's prompt,
 *      temperature `temperature`), run with the task's tests in the
 *      sandbox; with an annotation file, the programs are the file's
 *      original_model_completion;
 *   2. feedback on each failure: the exact critic (critic NULL: the failing
 *      test or the exception, from the sandbox's traceback,
 *      al_code_feedback), a critic model prompted with critic_template, or
 *      the annotation file's Feedback;
 *   3. the refiner (greedy; or `refinements` samples) rewrites the program
 *      from refine_template (MBPP) or al_refine_prompt (annotations);
 *   4. the selector: the refinement's run with the task's tests in the
 *      sandbox (keep_all: every refinement, the untested ablation);
 *   5. a policy that is a model directory is finetuned on prompt -> kept
 *      refinement (saved as policy_ilf/); pass@k of the policy before and
 *      after on the evaluation tasks (eval_mbpp, or the ILF tasks when NULL),
 *      with the paired difference of per-task pass@1 and its 95% interval.
 *      An endpoint policy is measured once, and the round reports the
 *      share of tasks solved before and after one refinement of each failure.
 * Run directory: config.json, ilf.jsonl (per task: task_id, program, verdict,
 * feedback, critic's prompt, refinement, its verdict, kept), keep.jsonl and
 * all.jsonl (SFT sets), eval_base.jsonl, eval_ilf.jsonl, policy_ilf/,
 * results.json (headline, each endpoint's requests, retries, failures and
 * cache hits). */
typedef struct {
  const char *mbpp;            /* MBPP-format tasks the policy attempts, or */
  const char *annotations;     /* the annotation file: its programs and its feedback */
  const char *eval_mbpp;       /* held-out MBPP-format tasks for pass@k (NULL: the ILF tasks) */
  int limit;                   /* the first `limit` ILF tasks (0: all) */
  const char *policy, *refiner, *critic; /* model directories or endpoint URLs; critic NULL: the exact critic */
  const char *critic_template, *refine_template; /* al_code_fill templates (NULL: the defaults below) */
  int keep_all;                /* keep every refinement (the untested ablation) */
  int refinements;             /* refinements per failure: 1 greedy [1], or more sampled at refine_temperature, the
                                  first that passes chosen (Chen et al. 2023 sample several) */
  double refine_temperature;   /* [0.8] */
  const al_http_cfg *http;     /* settings shared by the endpoints */
  al_code_eval_cfg eval;       /* the policy's prompt and the evaluation's samples, k, temperature */
  double temperature;          /* the policy's in the ILF round */
  long ilf_steps;
  double ilf_lr;
  int batch, threads;
  al_sandbox_config sandbox;
} al_ilf_code_cfg;
extern const char *const al_ilf_code_critic_template, *const al_ilf_code_refine_template;
al_ilf_code_cfg al_ilf_code_defaults(void);
int al_ilf_code_run(const al_ilf_code_cfg *c, const char *dir, al_err *err);
#endif
