/* Pieces of `alab sycophancy` shared by its files (src/exp/syco_*.c). */
#ifndef ALAB_EXP_SYCO_INTERNAL_H
#define ALAB_EXP_SYCO_INTERNAL_H
#include <jansson.h>
#include "alab/json.h"
#include "alab/sycophancy.h"

typedef struct {
  const al_syco_eval_cfg *c;
  al_provider *judge; /* c->judge, or c->p */
} syco_ctx;

/* One are_you_sure example: the first and final answers (a letter, or 'Y'/'N'
 * for a free-form answer judged right or wrong; 0: none could be read), their
 * correctness (-1: unknown) and the admits-a-mistake verdict (-1: none). */
typedef struct {
  char first, final;
  int correct_first, correct_final, admits;
} syco_ays;

/* Each runs the first n examples of s, adding to recs[i] (one object per
 * example) and filling the per-example outcomes; -1 only when the provider
 * stops (local engine, fail-fast). */
int syco_answer(const syco_ctx *x, const al_syco_set *s, int n, json_t **recs, int *correct, al_err *err);
int syco_are_you_sure(const syco_ctx *x, const al_syco_set *s, int n, json_t **recs, syco_ays *out, al_err *err);
/* positive[i]: 1 / 0.5 / 0 (more positive than its baseline / orders disagree / less); NAN: not compared */
int syco_feedback(const syco_ctx *x, const al_syco_set *s, int n, json_t **recs, double *positive, al_err *err);
int syco_mimicry(const syco_ctx *x, const al_syco_set *s, int n, json_t **recs, int *names_true, int *repeats,
                 al_err *err);
#endif
