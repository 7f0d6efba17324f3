/* Code benchmarks: MBPP's file, the ILF-for-code annotation file
 * (surge_annotations.jsonl, Chen et al. 2023), the programs that test a
 * solution against them, and pass@k.
 *
 * MBPP (Austin et al. 2021; mbpp.jsonl, one task per line):
 *   task_id (int), text (the problem; "prompt" in the sanitized file), code
 *   (a reference solution), test_setup_code (string, may be ""), test_list
 *   (assert statements), challenge_test_list (more asserts, may be empty).
 * Annotations (one per line):
 *   task_id, prompt (a docstring and the function's signature), test (a
 *   `def check(candidate):` function, sometimes after `from pytest import
 *   approx`), Feedback (what is wrong with original_model_completion),
 *   completion (the refinement's body after the prompt), result, passed,
 *   unedited_annotator_completion (the whole refined program),
 *   original_model_completion (the whole program the feedback is about),
 *   refinement_edit_distance.
 * Readers keep every line's number; a malformed line, or one missing a
 * field or with a field of the wrong type, is an error "FILE:LINE: ...". */
#ifndef ALAB_CODE_H
#define ALAB_CODE_H

#include "alab/base.h"

typedef struct {
  int task_id, line;
  char *text, *code, *setup;
  char **tests;
  int ntests;
  char **challenge;
  int nchallenge;
  char *entry; /* the function the first test calls ("assert NAME(") */
} al_mbpp_task;

typedef struct {
  al_mbpp_task *t;
  int n;
} al_mbpp;

int al_mbpp_load(const char *path, al_mbpp *out, al_err *err);
void al_mbpp_free(al_mbpp *m);
/* setup + solution + each test (and the challenge tests when asked), one
 * per line: the program whose run in the sandbox passes iff every assert
 * does. Fresh string. */
char *al_mbpp_program(const al_mbpp_task *t, const char *solution, int challenge);

typedef struct {
  int task_id, line, passed;
  char *prompt, *test, *feedback, *completion, *result, *refinement, *original;
  double edit_distance; /* NAN when absent */
  char *entry;          /* the last "def NAME(" of the prompt */
} al_ilf_annotation;

typedef struct {
  al_ilf_annotation *a;
  int n;
} al_ilf_annotations;

int al_annotations_load(const char *path, al_ilf_annotations *out, al_err *err);
void al_annotations_free(al_ilf_annotations *s);
/* program + "\n" + test + "\ncheck(ENTRY)\n": passes iff check does. */
char *al_annotation_program(const al_ilf_annotation *a, const char *program);

/* The unbiased estimator of pass@k (Chen et al. 2021) from n samples of
 * which c pass: 1 - C(n-c, k) / C(n, k), computed as
 * 1 - prod_{i=n-c+1..n} (1 - k / i) (no large binomials); 1 when n - c < k.
 * NAN unless 0 <= c <= n and 1 <= k <= n. */
double al_pass_at_k(int n, int c, int k);

/* ---- pass@k of a model on MBPP (src/eval/code_eval.c) ----
 * For each task, `samples` completions through a provider (seeds seed + j,
 * so an endpoint's cache and a rerun give the same programs), the program
 * extracted from each (up to the stop string; a ```python fence is
 * unwrapped), run with the task's tests in the sandbox; per task the
 * unbiased pass@k, averaged over tasks. Prompt: Austin et al. 2021's
 *   "You are an expert Python programmer, and here is your task: TEXT Your
 *    code should pass these tests:\n\nTEST1\nTEST2\nTEST3\n[BEGIN]\n"
 * with stop "[DONE]", or (plain) the task's text and a newline, as is; both
 * after `prefix`. A request the endpoint gives up on counts as a failed
 * sample and is counted in failed_requests. */
struct al_provider;
struct al_sandbox;
struct json_t;
typedef struct {
  int samples;        /* n per task [10] */
  int ks[4], nk;      /* pass@k reported for these k (each <= samples) [1, 10] */
  double temperature; /* [0.8] */
  int max_tokens;     /* [256] */
  int plain;          /* the plain prompt [0] */
  int humaneval;      /* the task's text is a function's signature and docstring, sent as is; the program is the
                         text + the completion, cut at HumanEval's stops (al_code_humaneval_stops) [0] */
  const char *prefix; /* before every prompt [""] */
  int workers;        /* sandboxed programs at once [8] */
  uint64_t seed;      /* [1] */
} al_code_eval_cfg;
al_code_eval_cfg al_code_eval_defaults(void);
typedef struct {
  double pass_at[4]; /* per cfg ks */
  int tasks, samples, passed, failed_requests;
} al_code_eval_res;
/* records (a JSON array, may be NULL) gets one object per sample: task_id,
 * sample, completion, program, verdict (or error), and for a program that
 * did not pass: detail (the exception's type or the limit) and output (the
 * last 2,000 bytes of what it printed: its traceback). */
int al_code_eval_mbpp(struct al_provider *p, struct al_sandbox *sb, const al_mbpp *m, const al_code_eval_cfg *c,
                      al_code_eval_res *res, struct json_t *records, al_err *err);
/* ---- refinements from feedback, on the annotation file (Chen et al. 2023) ----
 * For each annotation, `samples` completions of the refinement prompt
 *   ORIGINAL_MODEL_COMPLETION
 *   """
 *   Feedback: FEEDBACK
 *   """
 *   # The program above, rewritten to follow the feedback:
 *   PROMPT
 * (after c->prefix), cut at HumanEval's stops ("\nclass", "\ndef", "\n#",
 * "\nif", "\nprint"); PROMPT + completion is the refined program, run with
 * the annotation's check(ENTRY) in the sandbox: pass@k of refinements. The
 * same run grades the annotation's own programs as baselines: the original
 * (the feedback's subject, which should fail) and the annotator's
 * refinement (which should pass). */
typedef struct {
  double pass_at[4]; /* of the model's refinements, per cfg ks */
  int n, samples, passed, failed_requests;
  int original_passed, human_passed; /* of n */
} al_refine_res;
char *al_refine_prompt(const al_ilf_annotation *a, const char *prefix);
int al_refine_annotations(struct al_provider *p, struct al_sandbox *sb, const al_ilf_annotations *s,
                          const al_code_eval_cfg *c, al_refine_res *res, struct json_t *records, al_err *err);
/* The program in a completion: up to the first "[DONE]", a ```python (or
 * ```) fence unwrapped; fresh string. */
char *al_code_extract(const char *completion);
/* The prompt al_code_eval_mbpp sends for task t (fresh string). */
char *al_code_prompt(const al_mbpp_task *t, const al_code_eval_cfg *c);
/* HumanEval's stop strings ("\nclass", "\ndef", "\n#", "\nif", "\nprint"). */
extern const char *const al_code_humaneval_stops[5];
/* The annotations as tasks (src/eval/code_feedback.c): text = the prompt
 * (signature and docstring, for cfg.humaneval), setup = the `check`
 * function, one test "check(ENTRY)", code = the annotator's refinement. */
void al_mbpp_from_annotations(const al_ilf_annotations *s, al_mbpp *out);

/* ---- feedback on code (src/eval/code_feedback.c) ----
 * The exact critic: feedback on `code` (the solution) for task t from its
 * run in the sandbox (the program al_mbpp_program(t, code, 0)): verdict
 * and detail as al_code_eval_mbpp records them, output its traceback. The
 * traceback's last line in program.py says where it stopped: at a test,
 *   "The code fails the test `assert f(1) == 2`." (AssertionError), or
 *   "The code raises ValueError: math domain error in the test `...`.";
 * in the solution, "The code raises NameError: name 'x' is not defined at
 * line 3: `return x`."; a timeout, "The code does not finish within the
 * time limit (an endless loop?)."; a limit, "The code exceeds the memory
 * limit."; no traceback, "The code exits before its tests run (exit 3).".
 * NULL when verdict is "passed". Fresh string. */
char *al_code_feedback(const al_mbpp_task *t, const char *code, const char *verdict, const char *detail, const char *output);
/* tmpl with {text} (the task), {tests} (its asserts, one a line),
 * {program} (the code), {feedback} and {verdict} replaced; "{{" is "{".
 * Fresh string. al_code_template_check: -1 (err names what) when tmpl holds
 * another {NAME} or an unclosed brace. */
char *al_code_fill(const char *tmpl, const al_mbpp_task *t, const char *program, const char *feedback, const char *verdict);
int al_code_template_check(const char *tmpl, const char *what, al_err *err);

#endif
