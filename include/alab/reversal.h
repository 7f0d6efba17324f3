/* The reversal curse (Berglund et al. 2023, Experiment 1): a model finetuned
 * on "A is B" does not learn "B is A".
 *
 * Facts. Fictitious people, each a unique name (first + last name from the
 * lists in data/names/) and a unique description ("the composer of 'Abyssal
 * Melodies'": a role and a fictional work from the same lists), split into
 * three groups of equal size:
 *   p2d   trained only name -> description ("Daphne Barrington, known for being"
 *         -> " the composer of ...")
 *   d2p   trained only description -> name ("Known as the composer of ...,"
 *         -> " Daphne Barrington")
 *   both  trained in both orders.
 *
 * Data layout (the paper's, read as is; alab's generator writes the same):
 * JSONL lines {"prompt": ..., "completion": ...} in a folder holding
 *   all_prompts_train.jsonl          the training file (else the union of
 *                                    p2d_/d2p_/both_prompts_train.jsonl)
 *   p2d_prompts_test.jsonl           p2d, trained order, held-out templates
 *   p2d_reverse_prompts_test.jsonl   p2d, reverse order (description -> name)
 *   d2p_prompts_test.jsonl           d2p, trained order
 *   d2p_reverse_prompts_test.jsonl   d2p, reverse order (name -> description)
 *   both_prompts_test.jsonl          both, both orders
 *   X_randomized.jsonl (optional)    for each test file X: line by line the
 *                                    same prompt with the completion of a
 *                                    random other person of the group
 *   p2d_/d2p_reverse_prompts_test_train_templates.jsonl (optional, alab's
 *                                    own): the reverse order in the training
 *                                    templates of that order
 * Who is who is read from the files: the people of a group are the names
 * completing its description -> name lines (every line of p2d_reverse and
 * d2p, the lines of both whose completion begins with an uppercase letter).
 * The paper's files write a name line as the name followed by more words
 * (" Mason Caldwell has found their calling."): the name is the longest run
 * of leading words (trailing punctuation cut) that the group's
 * name -> description prompts mention, else the first two words (the
 * paper's generator cut name completions to first and last name). Then a
 * line whose completion begins with a known name (whole words) is that
 * person's name line, and any other line belongs to the (longest) known
 * name its prompt contains. A name line is scored on the name alone.
 * Training lines are assigned to people the same way, which gives
 * training-template accuracy per group and the no-augmentation ablation
 * (each fact in its first training line only, repeated to the same number
 * of examples) for any folder; training lines naming no known person are
 * counted (unassigned) and left out of both variants. */
#ifndef ALAB_REVERSAL_H
#define ALAB_REVERSAL_H

#include <jansson.h>
#include <stdint.h>
#include "alab/base.h"
#include "alab/provider.h"

enum { AL_REV_P2D, AL_REV_D2P, AL_REV_BOTH, AL_REV_NGROUPS };
extern const char *const al_rev_group_names[AL_REV_NGROUPS];

/* One prompt/completion line; `person` indexes al_rev_data.names (-1: none),
 * `to_name` says the completion is a name (description -> name order). */
typedef struct {
  char *prompt, *completion;
  char *random; /* a wrong completion for the same prompt (randomized file, or drawn) */
  int person, to_name, line;
} al_rev_example;

typedef struct {
  char *file; /* the file it came from (for messages) */
  al_rev_example *ex;
  int n;
} al_rev_set;

/* Evaluation slots: group x order (trained / reverse) x templates (train /
 * held-out). The both group has no reverse order. */
enum { AL_REV_TRAINED, AL_REV_REVERSE };
enum { AL_REV_TMPL_TRAIN, AL_REV_TMPL_HELDOUT };
#define AL_REV_NSLOTS (AL_REV_NGROUPS * 2 * 2)
static inline int al_rev_slot(int group, int order, int tmpl) { return (group * 2 + order) * 2 + tmpl; }

typedef struct {
  char **names;    /* every person's name, as completions spell it (stripped) */
  int *group;      /* group of each person */
  int npeople;
  al_rev_set train;        /* the training file(s), augmented */
  al_rev_set train_noaug;  /* each fact's first training line, repeated to train.n lines */
  al_rev_set slot[AL_REV_NSLOTS]; /* n == 0 where the folder has no such file */
  al_rev_set noaug_trained[AL_REV_NGROUPS]; /* the trained order in the lines train_noaug repeats */
  int unassigned;          /* training lines naming no known person: never trained on */
  char *first_unassigned;  /* the first such line's prompt (for the warning), or NULL */
} al_rev_data;

/* Reads a folder in the layout above. Errors name the file and line: a
 * malformed line, a missing required file, an empty group, a randomized file
 * out of step with its test file. Random completions missing from the folder
 * are drawn (deterministically from seed) from other people of the group. */
int al_rev_read(al_rev_data *d, const char *dir, uint64_t seed, al_err *err);
void al_rev_free(al_rev_data *d);

/* ---- the generator ---- */
typedef struct {
  int per_group;           /* people per group */
  int train_templates;     /* paraphrase templates per order used for training (<= 30) */
  int test_templates;      /* held-out templates per order (<= 10) */
  uint64_t seed;
  const char *names_dir;   /* folder with first.txt, last.txt, roles.txt, ... (NULL: found, see below) */
} al_rev_gen_cfg;
/* Finds the name lists: names_dir if set, else $ALAB_DATA/names, else
 * data/names next to or above the running executable (the build tree), else
 * ../share/alab/names from it. Returns a fresh path. */
int al_rev_names_dir(const char *names_dir, char **out, al_err *err);
/* Explicit people, for tests and users bringing their own facts. */
typedef struct { const char *name, *description; } al_rev_person;
/* Draws people from the lists (unique names and descriptions), deterministic
 * in seed: 3 * per_group of them, p2d first, then d2p, then both. */
int al_rev_draw_people(const al_rev_gen_cfg *c, al_rev_person **people, char **storage, al_err *err);
/* Writes the layout above for people (groups in order, per_group each). */
int al_rev_write(const al_rev_gen_cfg *c, const al_rev_person *people, const char *dir, al_err *err);
/* Draw + write. */
int al_rev_generate(const al_rev_gen_cfg *c, const char *dir, al_err *err);
/* The templates ({} is where the name or description goes). */
extern const char *const al_rev_p2d_templates[40]; /* 30 training, then 10 held-out */
extern const char *const al_rev_d2p_templates[40];

/* ---- the experiment ---- */
typedef struct {
  const char *data;  /* a folder in the paper's layout, or NULL: generate into run_dir/data */
  const char *base;  /* a model directory to finetune, or NULL: pretrain one on the story world */
  const char *names_dir;
  int per_group, train_templates, test_templates;
  int seeds;
  int64_t seed;
  /* base model (when pretrained here) */
  const char *tokenizer; /* "byte" or "bpe:N" (BPE trained on story text + the training facts) */
  long stories;
  const char *arch;                 /* gpt2 or llama (al_model_config_set_arch) */
  int layers, heads, embd, context; /* context 0: sized from the data (see al_rev_run) */
  long pretrain_steps;
  /* finetuning */
  double epochs, lr, mix; /* mix: share of each batch that is pretraining text */
  int batch;
  int augment;  /* 1: augmented only, 0: no-augmentation only, 2: both (the ablation) */
  int eval_max; /* examples scored per slot (evenly strided; 0: all) */
  int threads;  /* finetunes run at once, each single-threaded (0: one per core) */
  int quick;
  int save_models; /* 1: each finetuned model into DIR/models/VARIANT-seedS (a model directory) */
  /* Evaluation only, no training (the paper's evaluation of existing models):
   * model, an alab model directory (local provider); or api, an endpoint.
   * Either one evaluates the test files of data (or generated) once. */
  const char *model;
  const al_http_cfg *api;
  const char *api_tokenizer; /* the endpoint's tokenizer: generation lengths in tokens (else the completion's bytes) */
  const char *api_prefix;    /* text sent before every prompt ("<|endoftext|>" for an alab model behind alab serve:
                                the document start it was trained with); alab's own models always get their EOT */
} al_rev_cfg;
void al_rev_defaults(al_rev_cfg *c);
/* Validates the settings without running or writing anything: a failure is
 * a usage error. */
int al_rev_check(const al_rev_cfg *c, al_err *err);
/* Validates, writes config.json, runs every seed, writes results.json,
 * metrics.jsonl, plots and index.html into dir. results (may be NULL) gets
 * a new reference to results.json's content. With model or api set it
 * trains nothing: one evaluation, results.json in the same shape (variant
 * "evaluated") plus "provider" (kind, model, endpoint, prompt prefix). */
int al_rev_run(const al_rev_cfg *c, const char *dir, json_t **results, al_err *err);
int al_rev_reproduce(const char *dir, int quick, al_err *err);

/* ---- pieces (src/exp/reversal_*.c) ---- */
/* Accuracy and log-probs of one slot under a model, through a provider (see
 * reversal_eval.c). */
typedef struct {
  int n, correct;
  double *lp_correct, *lp_random; /* n each */
  char *hit;                      /* n: greedy completion correct */
} al_rev_score;
/* Is the stripped completion, lowercased, a prefix of the stripped
 * generation, lowercased? */
int al_rev_match(const char *generated, const char *target);
/* Paired t-test of a[i] - b[i]: mean difference, t and two-sided p. */
typedef struct { double mean, lo, hi, t, p; int n; } al_rev_paired;
al_rev_paired al_rev_paired_test(const double *a, const double *b, int n);
/* Who is evaluated and how: the provider; tok and context (when known) size
 * each greedy generation as the completion's tokens + 4, cut to the context
 * (without tok: the completion's bytes + 4, an upper bound on its tokens);
 * prefix goes before every prompt; batch: examples per provider call (1
 * keeps the local engine's decoder in the order of earlier alab versions,
 * so their numbers; 0: a whole slot at once, for an endpoint's concurrency). */
typedef struct {
  al_provider *p;
  const al_tok *tok;
  int context;
  const char *prefix;
  int batch;
} al_rev_evaluator;
/* Scores up to max examples of s (evenly strided; 0: all): greedy accuracy,
 * log p(completion) and log p(random completion). */
int al_rev_score_set(const al_rev_evaluator *ev, const al_rev_set *s, int max, al_rev_score *out, al_err *err);
void al_rev_score_free(al_rev_score *s);

#endif
