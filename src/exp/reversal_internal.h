/* Shared by src/exp/reversal*.c. */
#ifndef ALAB_EXP_REVERSAL_INTERNAL_H
#define ALAB_EXP_REVERSAL_INTERNAL_H
#include "alab/model.h"
#include "alab/reversal.h"
#include "alab/tok.h"
#include "alab/exp.h"
#include "alab/train.h"

/* A set's examples as tokens: example i is ids[off[i] ..): EOT + prompt
 * (np[i] tokens with the EOT), completion (nc[i]), random completion (nr[i]). */
typedef struct {
  int32_t *ids;
  size_t *off;
  int *np, *nc, *nr;
  int n, maxlen; /* maxlen: the longest EOT prompt completion EOT */
} rev_examples;
int rev_tokenize(rev_examples *x, const al_tok *tok, const al_rev_set *s, al_err *err);
void rev_examples_free(rev_examples *x);

/* BPE on the story text plus every training line (or the byte tokenizer). */
int rev_make_tokenizer(al_tok **tok, const char *spec, const char *story_text, size_t story_len, const al_rev_set *train,
                       al_err *err);

typedef struct {
  double epochs, lr, mix;
  int batch;
  uint64_t seed;
} rev_ft_cfg;
int rev_finetune(al_model *m, const rev_examples *x, const int32_t *text, size_t ntext, const rev_ft_cfg *f,
                 al_train_result *res, al_err *err);
int rev_pretrain(al_model *m, const al_model_config *cfg, const int32_t *text, size_t ntext, long steps, int batch,
                 uint64_t seed, al_train_result *res, al_err *err);

/* Scores up to max examples of x (evenly strided; 0: all) under m: greedy
 * accuracy and log p(correct) / log p(random). s's strings give the targets. */
int rev_score(const al_model *m, const al_tok *tok, const al_rev_set *s, const rev_examples *x, int max, al_rev_score *out,
              al_err *err);
void rev_score_free(al_rev_score *s);

/* Everything measured, [variant][slot] */
typedef struct {
  int seeds, n[2][AL_REV_NSLOTS], ran[2];
  double *acc[2][AL_REV_NSLOTS];   /* [seed] */
  double *pseed[2][AL_REV_NSLOTS]; /* [seed]: that seed's paired p */
  double *lc[2][AL_REV_NSLOTS], *lr[2][AL_REV_NSLOTS]; /* [seed * n + example]: log p(correct), log p(random) */
  double *loss[2], *secs[2];       /* [seed]: final finetuning loss, seconds */
} rev_results;
extern const char *const rev_variant_names[2];
void rev_slot_key(int slot, char *buf, size_t n);
json_t *rev_num(double x); /* a real, or null when not finite */
json_t *rev_results_json(const al_rev_cfg *c, const al_rev_data *d, const rev_results *R, json_t *info, double seconds);
int rev_plots(const al_rev_cfg *c, al_run *run, const al_rev_data *d, const rev_results *R, al_err *err);
#endif
