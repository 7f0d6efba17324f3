/* Sycophancy (Sharma et al. 2023, "Towards Understanding Sycophancy in
 * Language Models"): the four SycophancyEval tasks on any provider, read
 * unchanged from the paper's released JSONL files, and the mechanism on
 * alab's own models (docs/sycophancy.md).
 *
 * The released layout, one JSON object per line:
 *   {"prompt": [{"type": "human"|"ai", "content": "..."}, ...],
 *    "base": {...}, "metadata": {"prompt_template": "...", ...}}
 * An "ai" turn at the end of the prompt is a prefill the model continues
 * (sent through the provider's prefill path). Fields read, per task (every
 * other field is ignored):
 *   answer        base.question, base.answer (a list of accepted answers, or
 *                 one string), base.correct_answer, base.incorrect_answer
 *                 (optional), metadata.prompt_template
 *   are_you_sure  base.question (optional), base.correct_letter with
 *                 base.letters (multiple choice; letters default "ABCDE"), or
 *                 base.answer / base.correct_answer (free-form)
 *   feedback      base.dataset, base.text (or base.correct_solution, the
 *                 math items), metadata.prompt_template_type ("" for the
 *                 baseline, "I really like", "I really dislike", "I wrote",
 *                 "I did not write"; when absent, read off
 *                 metadata.prompt_template)
 *   mimicry       base.attribution (the true poet),
 *                 metadata.incorrect_attribution (the poet the user names;
 *                 optional)
 * Errors name FILE:LINE and the field. */
#ifndef ALAB_SYCOPHANCY_H
#define ALAB_SYCOPHANCY_H
#include <jansson.h>
#include "alab/base.h"
#include "alab/provider.h"

typedef enum { AL_SYCO_ANSWER, AL_SYCO_ARE_YOU_SURE, AL_SYCO_FEEDBACK, AL_SYCO_MIMICRY, AL_SYCO_NTASKS } al_syco_task;
/* "answer", "are_you_sure", "feedback", "mimicry" (also the files' names) */
extern const char *const al_syco_task_names[AL_SYCO_NTASKS];

/* The feedback templates, in the paper's order; BASE is the unbiased one. */
typedef enum { AL_FB_BASE, AL_FB_LIKE, AL_FB_DISLIKE, AL_FB_WROTE, AL_FB_NOT_WROTE, AL_FB_NTYPES } al_fb_type;
extern const char *const al_fb_type_names[AL_FB_NTYPES]; /* "", "I really like", ... */

#define AL_SYCO_MAX_TURNS 64 /* turns in a prompt, at most (a longer one is an error) */
typedef struct {
  int ai;        /* 0: "human" (the user), 1: "ai" (the assistant) */
  char *content;
} al_syco_turn;

typedef struct {
  al_syco_turn *turns; /* the prompt, the prefill (a final ai turn) excluded */
  int nturns;
  char *prefill;       /* the final ai turn, or NULL */
  char *dataset, *question, *correct_answer, *incorrect_answer;
  char **answers;      /* accepted answers (answer; are_you_sure free-form) */
  int nanswers;
  char *correct_letter, *letters; /* are_you_sure multiple choice */
  char *template;      /* metadata.prompt_template ("" when absent) */
  al_fb_type fb;       /* feedback */
  char *text;          /* feedback: the text commented on (the pairing key) */
  char *attribution, *incorrect_attribution; /* mimicry */
  long line;           /* 1-based line in the file */
} al_syco_example;

typedef struct {
  al_syco_task task;
  char *path;
  al_syco_example *ex;
  int n;
} al_syco_set;

int al_syco_read(const char *path, al_syco_task task, al_syco_set *out, al_err *err);
/* The same over text in memory; `where` names it in errors. */
int al_syco_read_buf(const char *data, size_t len, const char *where, al_syco_task task, al_syco_set *out, al_err *err);
void al_syco_set_free(al_syco_set *s);

/* ---- matching (src/eval/syco_match.c) ---- */
/* The answer normalisation of SQuAD/TriviaQA evaluation: lowercase, ASCII
 * punctuation removed, the articles a/an/the dropped, whitespace collapsed.
 * Fresh string. */
char *al_syco_normalize(const char *s);
/* 1 when some accepted answer, normalised, occurs in the normalised response
 * as whole words. */
int al_syco_answer_match(const char *response, const char *const *answers, int n);
/* The first of `letters` standing alone in text (not inside a word): "B) 4",
 * "(C)", "answer is D." give B, C, D; 0 when none. */
char al_syco_letter(const char *text, const char *letters);
/* 1 when needle occurs in hay, ignoring ASCII case. */
int al_syco_mentions(const char *hay, const char *needle);

/* ---- the four tasks through a provider (src/exp/syco_eval*.c) ---- */
typedef struct {
  const char *files[AL_SYCO_NTASKS]; /* NULL: task not run */
  al_provider *p;     /* the model evaluated (borrowed) */
  al_provider *judge; /* feedback's pairwise judge and are_you_sure's admits-a-mistake judge (borrowed; NULL: p) */
  int limit;          /* first N lines of each file (0: all) */
  int max_tokens;     /* per reply */
  int judge_max_tokens;
  int answer_judge;   /* answer and are_you_sure free-form: grade by the judge instead of string matching */
  int nboot;          /* bootstrap resamples for the intervals */
  uint64_t seed;
} al_syco_eval_cfg;
al_syco_eval_cfg al_syco_eval_defaults(void);
/* Runs every task with a file into run directory dir: config.json,
 * metrics.jsonl (one record per example: every request sent, every reply,
 * every judge call), results.json ("headline" and per-task metrics with 95%
 * intervals), index.html, report.html. results (may be NULL) gets a new
 * reference. A request that fails is recorded with its error and left out
 * of the metrics; -1 only when the provider stops (local engine, fail-fast). */
int al_syco_eval_run(const al_syco_eval_cfg *c, const char *dir, json_t **results, al_err *err);

/* ---- the mechanism (src/exp/syco_mech*.c) ---- */
typedef struct {
  int facts;         /* objects in the fact world (3/4 in the preference data, 1/4 held out) */
  int options;       /* colours an object can have */
  double p;          /* labeller bias: probability a pair's label prefers the response agreeing with the user */
  double p_control;  /* the control's bias (0) */
  int pairs;         /* preference pairs for the preference model */
  int N;             /* best-of-n samples per prompt: n = 1..N */
  int prompts;       /* wrong-belief prompts about held-out objects, for best-of-n and RL */
  double policy_agree; /* the base policy's probability of agreeing with the user's belief */
  double policy_truth; /* otherwise, its probability of stating the true colour (else another wrong one) */
  int seeds;
  int64_t seed;
  /* preference model (a GPT-2 trunk with the scalar head) */
  const char *arch; /* gpt2 or llama, of the preference model and the RL policy (al_model_config_set_arch) */
  int layers, heads, embd;
  long steps;
  double lr;
  int batch;
  /* RL: a policy language model of the same shape trained policy_steps on
   * the base policy's answers, then rl_iters batches of RLOO (0: no RL) */
  long policy_steps, rl_iters;
  int threads;       /* seeds trained at once, each single-threaded (0: one per core) */
  int quick;
} al_syco_mech_cfg;
/* The defaults: `alab sycophancy`, which `alab reproduce --quick` runs. */
void al_syco_mech_defaults(al_syco_mech_cfg *c);
/* Validates the settings without running anything: a failure is a usage error. */
int al_syco_mech_check(const al_syco_mech_cfg *c, al_err *err);
/* Runs both conditions x seeds (src/exp/syco_mech.c says what) into run
 * directory dir: config.json, metrics.jsonl (every seed's numbers),
 * results.json (headline, per condition the means with 95% intervals over
 * seeds, "reproduced"), the plots, index.html, report.html. Same seed: same
 * numbers, whatever threads. results (may be NULL) gets a new reference. */
int al_syco_mech_run(const al_syco_mech_cfg *c, const char *dir, json_t **results, al_err *err);
/* The registry's entry: the defaults (quick), or 5 seeds and more data. */
int al_syco_reproduce(const char *dir, int quick, al_err *err);
#endif
