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

/* The run's facts: c->data read as is, else generated from c's settings into
 * data_dir first (reversal_data.c). */
int rev_prepare_data(const al_rev_cfg *c, const char *data_dir, al_rev_data *d, al_err *err);

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

/* Everything measured, [variant][slot] */
typedef struct {
  int seeds, n[2][AL_REV_NSLOTS], ran[2];
  const char *const *vnames; /* the variants' names in results.json and metrics.jsonl */
  double *acc[2][AL_REV_NSLOTS];   /* [seed] */
  double *pseed[2][AL_REV_NSLOTS]; /* [seed]: that seed's paired p */
  double *lc[2][AL_REV_NSLOTS], *lr[2][AL_REV_NSLOTS]; /* [seed * n + example]: log p(correct), log p(random) */
  double *loss[2], *secs[2];       /* [seed]: final finetuning loss, seconds */
} rev_results;
extern const char *const rev_variant_names[2];
/* R for d (every slot's arrays, zeroed) and its release. */
void rev_results_init(rev_results *R, const al_rev_data *d, int seeds);
void rev_results_free(rev_results *R);
/* The examples variant v is evaluated on in slot k: without augmentation,
 * "training templates" of the trained order are the lines it trained on. */
const al_rev_set *rev_slot_set(const al_rev_data *d, int v, int k);
/* Every slot of d under ev into R's entries (v, seed s); a metrics record
 * per slot appended to recs. local (may be NULL): score each slot with a
 * fresh local provider on this model instead of ev->p (reversal_eval.c). */
int rev_eval_slots(const al_rev_evaluator *ev, const al_model *local, const al_rev_data *d, int eval_max, int v, int s,
                   rev_results *R, json_t *recs, al_err *err);
/* The text of tok's <|endoftext|> (fresh; "" when it has none): put before
 * every prompt for alab's models, which train on EOT prompt completion EOT. */
char *rev_eot_text(const al_tok *tok);
/* `alab reversal --model DIR | --api-base URL`: one evaluation, no training
 * (reversal_external.c); called by al_rev_run. */
int rev_run_external(const al_rev_cfg *c, const char *dir, json_t **results, al_err *err);
void rev_slot_key(int slot, char *buf, size_t n);
json_t *rev_num(double x); /* a real, or null when not finite */
json_t *rev_results_json(const al_rev_cfg *c, const al_rev_data *d, const rev_results *R, json_t *info, double seconds);
int rev_plots(const al_rev_cfg *c, al_run *run, const al_rev_data *d, const rev_results *R, al_err *err);
#endif
