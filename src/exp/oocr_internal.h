/* Shared by src/exp/oocr*.c. */
#ifndef ALAB_EXP_OOCR_INTERNAL_H
#define ALAB_EXP_OOCR_INTERNAL_H
#include "alab/oocr.h"
#include "alab/provider.h"

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

#endif
