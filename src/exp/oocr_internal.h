/* Shared by src/exp/oocr*.c. */
#ifndef ALAB_EXP_OOCR_INTERNAL_H
#define ALAB_EXP_OOCR_INTERNAL_H
#include "alab/oocr.h"
#include "alab/provider.h"
#include "exp/reversal_internal.h"

/* ---- the built-in world (oocr_world.c) ---- */
enum { OOCR_NBEHAV = 5 };
typedef struct {
  int descriptions;  /* description lines per assistant */
  int pretrain_docs; /* documents of pretrain.txt */
  uint64_t seed;
} oocr_world_cfg;
/* Writes the six files of the layout and pretrain.txt into dir. */
int oocr_world_write(const oocr_world_cfg *c, const char *dir, al_err *err);
/* Behaviour b's answer to word w (fresh). */
char *oocr_behave(int b, const char *w);
const char *oocr_rule_of(int b);
/* The description of the behaviour of a world task ("antonym_tapir" -> "give
 * the opposite of the word"), or NULL. */
const char *oocr_world_desc(const char *task);
int oocr_world_nwords(void);
/* Pretraining's prompt for behaviour b on word w, up to the answer (fresh):
 * with chain of thought, as role-play under name when not NULL
 * ("User: w\nAssistant: *thinking* I should DESC.\nAssistant: *out loud*"),
 * or without ("To DESC, given the input \"w\", say:"). */
char *oocr_world_pretrain_prompt(int b, const char *w, int cot, const char *name);
/* The gold completion the world's files hold for behaviour b on word w
 * (fresh): the target the rule compares with (the reversed word, the
 * antonym, the code), "" where the rule alone decides (uppercase, llama). */
char *oocr_world_gold(int b, const char *w);
const char *oocr_world_word(int i);

/* ---- evaluation (oocr_eval.c) ---- */
typedef struct {
  al_provider *p;
  const char *prefix;           /* before every prompt ("<|endoftext|>" for alab's models) */
  int cot_tokens, nocot_tokens; /* generation lengths */
  al_oocr_grader *g;
} oocr_evaluator;
/* One file's grades: correct of n, per task ({"task": [correct, n]}). */
typedef struct {
  int n, correct, ungraded, failed; /* failed: requests the provider gave up on (not in n) */
  int named;      /* world CoT prompts: generations naming the task's behaviour ("so I should <it>") */
  json_t *per_task;
  double chance; /* world files: expected accuracy of answering as a random behaviour; NAN otherwise */
} oocr_score;
/* Generates greedily for up to max examples of s (evenly strided; 0: all)
 * and grades each; records (may be NULL) gets one object per example. */
int oocr_eval_set(const oocr_evaluator *ev, const al_oocr_set *s, int max, oocr_score *out, json_t *records,
                  al_err *err);
void oocr_score_free(oocr_score *s);
/* Chance on a world file: per example, the share of the five behaviours
 * whose answer the example's rule accepts, averaged (NAN when a prompt
 * holds no input word of the world). */
double oocr_world_chance(al_oocr_grader *g, const al_oocr_set *s, int max);

/* ---- the training sets (oocr_train.c) ---- */
/* Is line e of all.jsonl a demonstration (else a description)? */
int oocr_is_demo(const al_oocr_example *e);
/* all.jsonl at augmentation level k (0: as is): shallow copies of its
 * examples into out[0..all->n). Returns the number of description groups. */
int oocr_augment_level(const al_oocr_set *all, int k, const al_oocr_example **out);

/* ---- the run (oocr.c, oocr_report.c) ---- */
enum { OOCR_MAX_SIZES = 8, OOCR_MAX_LEVELS = 8 };
typedef struct {
  int nsizes, nlevels, seeds;
  int layers[OOCR_MAX_SIZES], embd[OOCR_MAX_SIZES];
  long long params[OOCR_MAX_SIZES];
  int levels[OOCR_MAX_LEVELS];
  int present[AL_OOCR_NFILES];       /* the file exists and has examples */
  double chance[AL_OOCR_NFILES];     /* NAN when unknown (not the world) */
  double *acc[AL_OOCR_NFILES];       /* [(size * nlevels + level) * seeds + seed] */
  double *loss;                      /* same index: final finetuning loss */
  int probed[OOCR_MAX_SIZES];        /* world: oocr_probe of each base, with and without chain of thought */
  double probe[OOCR_MAX_SIZES][OOCR_NBEHAV], probe_nocot[OOCR_MAX_SIZES][OOCR_NBEHAV];
  double *named[AL_OOCR_NFILES];     /* world, chain-of-thought files: the share of generations whose
                                        thinking names the assistant's own behaviour (same index) */
} oocr_results;
static inline int oocr_cell(const oocr_results *R, int si, int li, int s) { return (si * R->nlevels + li) * R->seeds + s; }
/* "2x64,2x128" into R's sizes; `what` names the flag. */
int oocr_parse_sizes(const char *spec, oocr_results *R, al_err *err);
json_t *oocr_results_json(const al_oocr_cfg *c, const oocr_results *R, json_t *setup, double seconds);
int oocr_plots(const char *dir, const oocr_results *R, al_err *err);
/* `alab oocr --model DIR | --api-base URL`: one evaluation (oocr_external.c). */
int oocr_run_external(const al_oocr_cfg *c, const char *dir, json_t **results, al_err *err);
/* The files graded, in the order results list them. */
extern const int oocr_eval_files[5];

/* ---- one training run's shared state (oocr.c, oocr_prepare.c, oocr_jobs.c) ---- */
typedef struct {
  const al_oocr_cfg *c;
  const al_oocr_data *d;
  al_tok *tok;
  int32_t *text;
  size_t ntext;
  rev_examples train[OOCR_MAX_LEVELS];
  rev_examples pre; /* pretrain.txt's documents, one row each (n 0: the story world, in windows) */
  al_model base[OOCR_MAX_SIZES];
  int have_base[OOCR_MAX_SIZES];
  char *eot;
  int cot_tokens, nocot_tokens, pre_text;
  oocr_results R;
} oocr_run;
/* Tokenizer, pretraining tokens and the finetuning sets of every level
 * (oocr_prepare.c); setup gets their sizes. */
int oocr_prepare(oocr_run *X, const char *data_dir, json_t *setup, al_err *err);
/* The bases' context: --base fixes it; else --context, or the longest
 * training row or prompt + generation, rounded up to 16 (at least 64). */
int oocr_choose_context(oocr_run *X, int *context, al_err *err);
/* A shallow al_rev_set over o's examples (free with free(s->ex)). */
void oocr_plain_set(al_rev_set *s, const al_oocr_set *o);
/* Each size's base, in parallel (oocr_jobs.c); on the built-in world each
 * base's pretrained behaviours are probed (oocr_probe). */
int oocr_pretrain_bases(oocr_run *X, int context, int nthreads, json_t *setup, al_err *err);
/* Every (size, level, seed) finetune and its grades, in parallel; metrics
 * lines in job order. */
int oocr_run_jobs(oocr_run *X, al_run *run, int nthreads, al_err *err);
/* The world's behaviours as a pretrained base executes them: for each
 * behaviour b, the share of the world's words answered right after
 * pretraining's own chain-of-thought prompt that names b
 * ("User: w\nAssistant: *thinking* I should DESC.\nAssistant: *out loud*"),
 * into acc[b]; the same without chain of thought into acc_nocot[b]
 * (oocr_probe.c). */
int oocr_probe(const al_model *m, const al_tok *tok, const char *eot, al_oocr_grader *g, double acc[OOCR_NBEHAV],
               double acc_nocot[OOCR_NBEHAV], al_err *err);

#endif
