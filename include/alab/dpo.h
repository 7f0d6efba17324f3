/* Direct preference optimisation (Rafailov et al. 2023) and IPO (Azar et
 * al. 2023) as TRL's DPOTrainer computes them.
 *
 * For a pair (x, y_w, y_l), log pi(y|x) is the sum of the policy's token
 * log-probs over the response tokens (the response and the end-of-text token
 * TRL appends), ref the same under the frozen reference model, and
 *   z = (log pi(y_w|x) - log ref(y_w|x)) - (log pi(y_l|x) - log ref(y_l|x))
 *   sigmoid (DPO):  loss = -log sigmoid(beta z)
 *   ipo:            loss = (z - 1/(2 beta))^2, with every log-prob divided
 *                   by its response's token count first (TRL's IPO)
 * averaged over the pairs of a batch. Logged with TRL's names:
 *   rewards/chosen   = mean beta (log pi(y_w|x) - log ref(y_w|x))
 *   rewards/rejected = mean beta (log pi(y_l|x) - log ref(y_l|x))
 *   rewards/accuracies = mean 1[rewards chosen > rejected]
 *   rewards/margins  = mean (chosen - rejected rewards)
 *   logps/chosen, logps/rejected = mean policy log-probs (per token for IPO).
 * With rpo_alpha > 0 (TRL's rpo_alpha, Pang et al. 2024's RPO) the loss adds
 *   rpo_alpha * nll,  nll = -(sum of the chosen responses' token log-probs)
 *                           / (number of chosen response tokens in the batch)
 * (TRL's nll_loss: the cross-entropy over every chosen token of the batch),
 * logged as nll_loss; it keeps the chosen responses likely, where DPO alone
 * only widens the margin and may lower both (likelihood displacement).
 *
 * Tokenization follows TRL: prompt and response are tokenized separately and
 * the end-of-text token is appended to the response; a row is prompt +
 * response, right-padded with end-of-text. A pair longer than the row
 * keeps the end of its prompt (at least one token) and the start of its
 * response; such rows are counted ("truncated"). */
#ifndef ALAB_DPO_H
#define ALAB_DPO_H
#include <stdint.h>
#include "alab/model.h"
#include "alab/preference.h"
#include "alab/tok.h"
#include "alab/train.h"

typedef enum { AL_DPO_SIGMOID = 0, AL_DPO_IPO } al_dpo_loss_type;

/* ---- the loss over B pairs given the four log-probs of each ---- */
typedef struct {
  double loss, reward_chosen, reward_rejected, accuracy, margin, logp_chosen, logp_rejected;
} al_dpo_stats;
/* pc, pr: policy log-probs of chosen and rejected; rc, rr: the reference's
 * (already normalised for IPO). Fills st (may be NULL); returns the loss. */
double al_dpo_loss_forward(const double *pc, const double *pr, const double *rc, const double *rr, int B, double beta,
                           al_dpo_loss_type type, al_dpo_stats *st);
/* d(loss)/d pc[b] into dpc, d(loss)/d pr[b] into dpr (written, not added). */
void al_dpo_loss_backward(const double *pc, const double *pr, const double *rc, const double *rr, int B, double beta,
                          al_dpo_loss_type type, double *dpc, double *dpr);

/* ---- pairs as tokens ---- */
typedef struct {
  int32_t *ids;  /* per pair: prompt, chosen response, rejected response (each response ends in end-of-text) */
  size_t *off;   /* 3n + 1 offsets into ids */
  long *line;    /* n: the pair's line in its file */
  long n;
  int eot;       /* end-of-text: appended to responses, pads rows */
} al_dpo_data;
/* Fails (naming the line) when a text cannot be tokenized, and when the
 * tokenizer has no end-of-text token. */
int al_dpo_data_tokenize(const al_pref_set *s, const al_tok *tok, al_dpo_data *d, al_err *err);
void al_dpo_data_free(al_dpo_data *d);
/* Fills one row of T inputs and targets for pair p's chosen (which 0) or
 * rejected (1) response: targets are the next token on response positions
 * and -1 elsewhere. Returns the response tokens scored (>= 1) and sets *cut
 * when the sequence did not fit. */
int al_dpo_fill_row(const al_dpo_data *d, long p, int which, int T, int32_t *inputs, int32_t *targets, int *cut);

/* ---- the objective ----
 * Micro-batches of cfg->batch pairs (2 x batch rows of cfg->seq_len: chosen
 * rows first), pairs in a permutation per epoch drawn from (cfg->seed,
 * epoch), file order without cfg->shuffle: a batch is a function of its
 * index, so a resumed run continues exactly. The reference model's
 * log-probs of every training and held-out pair are computed once, here,
 * and cached; ref is not used afterwards. Logs the six TRL metrics above
 * and "truncated" (a count); with val (may be NULL), the held-out loss and
 * val_rewards/..., val_logps/... over every held-out pair. train and val
 * must outlive the objective. */
typedef struct {
  double beta;            /* 0.1, TRL's default */
  al_dpo_loss_type type;  /* AL_DPO_SIGMOID */
  double rpo_alpha;       /* 0: off (TRL's None); the NLL weight on chosen responses */
} al_dpo_cfg;
void al_dpo_defaults(al_dpo_cfg *c);
int al_objective_dpo(al_objective *o, const al_model *m, al_model *ref, const al_train_cfg *cfg, const al_dpo_cfg *dc,
                     const al_dpo_data *train, const al_dpo_data *val, al_err *err);
/* The summed response log-probs of pairs [0, d->n) under m (per token when
 * per_token), chosen into lc and rejected into lr, in batches of B pairs of
 * T-token rows; forward only. */
void al_dpo_logps(al_model *m, const al_dpo_data *d, int B, int T, int per_token, double *lc, double *lr);
/* "sigmoid" / "ipo" */
const char *al_dpo_loss_name(al_dpo_loss_type t);
#endif
