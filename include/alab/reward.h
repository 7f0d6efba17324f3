/* Reward models: a GPT-2 trunk with the scalar head (score.weight, see
 * alab/model.h) read at the last non-padding token of prompt + response,
 * trained on preference pairs with the Bradley-Terry loss
 *   loss = mean_b -log sigmoid(r_c[b] - r_r[b] - margin[b])
 *          + center * mean_b (r_c[b] + r_r[b])^2
 * (TRL's RewardTrainer: the optional per-pair "margin" column and
 * center_rewards_coefficient, which keeps rewards near zero). Metrics as TRL
 * logs them: accuracy = mean(r_c > r_r) (without the margin), margin =
 * mean(r_c - r_r), mean_reward and sd_reward over all 2B rewards.
 *
 * On disk a reward model is a GPT2ForSequenceClassification directory
 * (num_labels 1, score.weight [1, n_embd], no bias) whose config.json also
 * has pad_token_id, the end-of-text token; transformers reads the reward at
 * the rightmost token that is not pad_token_id, which is where alab reads it. */
#ifndef ALAB_REWARD_H
#define ALAB_REWARD_H
#include <stdint.h>
#include "alab/model.h"
#include "alab/preference.h"
#include "alab/tok.h"
#include "alab/train.h"

typedef struct {
  double loss, accuracy, margin, mean_reward, sd_reward;
} al_rm_stats;

/* The loss above over B pairs (margin may be NULL: all 0), and its metrics
 * into st (may be NULL). */
double al_rm_loss_forward(const float *rc, const float *rr, const float *margin, int B, double center,
                          al_rm_stats *st);
/* d(loss)/d r_c[b] = (-sigmoid(-d_b) + 2 center (r_c[b] + r_r[b])) / B and
 * d(loss)/d r_r[b] = (sigmoid(-d_b) + 2 center (r_c[b] + r_r[b])) / B,
 * d_b = r_c[b] - r_r[b] - margin[b], times scale, written (not added) to
 * drc, drr. */
void al_rm_loss_backward(const float *rc, const float *rr, const float *margin, int B, double center, float scale,
                         float *drc, float *drr);

/* Preference pairs as token sequences: sequence 2i is prompt + chosen of
 * pair i, 2i+1 prompt + rejected (each text tokenized whole). */
typedef struct {
  int32_t *ids;   /* every sequence's tokens, one after another */
  size_t *off;    /* 2n + 1 offsets into ids */
  float *margin;  /* n */
  long *line;     /* n: the pair's line in its file */
  long n;
  int pad;        /* the padding token (the tokenizer's end-of-text) */
} al_rm_data;

/* Fails when the tokenizer has no end-of-text token (the padding). */
int al_rm_data_tokenize(const al_pref_set *s, const al_tok *tok, al_rm_data *d, al_err *err);
void al_rm_data_free(al_rm_data *d);

/* One row of T tokens: ids[0..len) (its last T when longer), then pad.
 * Returns the position of its last token (where the reward is read). */
int al_rm_row(const int32_t *ids, size_t len, int T, int pad, int32_t *row);
/* Fills rows [2B, T] for pairs idx[0..B): row b is pair idx[b]'s chosen,
 * row B + b its rejected, right-padded with d->pad; pos[r] = the row's last
 * token. A sequence longer than T keeps its last T tokens (the reward is
 * read at the end); returns how many were cut. margin[b] = the pair's. */
int al_rm_fill_rows(const al_rm_data *d, const long *idx, int B, int T, int32_t *inputs, int32_t *pos, float *margin);

/* The reward model as an objective of the training loop (alab/train.h):
 * micro-batches of cfg->batch pairs as 2 x batch rows of cfg->seq_len tokens,
 * pairs in a permutation drawn per epoch from (cfg->seed, epoch) (file order
 * without cfg->shuffle); center is center_rewards_coefficient (0: off).
 * Logs accuracy, margin, mean_reward, sd_reward and truncated (sequences cut
 * to their last seq_len tokens, a count); with val (may be NULL), the
 * held-out loss and val_accuracy, val_margin, val_mean_reward, val_sd_reward
 * over every held-out pair. train and val must outlive the objective. */
int al_objective_rm(al_objective *o, const al_model *m, const al_train_cfg *cfg, const al_rm_data *train,
                    const al_rm_data *val, double center, al_err *err);

/* The reward of each of n texts (prompt + response, tokenized whole): the
 * scalar head at the last token, the text cut to its last n_positions
 * tokens. rm must have the scalar head. */
int al_rm_score_texts(al_model *rm, const al_tok *tok, const char *const *texts, int n, float *rewards, al_err *err);
/* The same for n token sequences, sequence i = ids[off[i]..off[i+1]) (none
 * empty; rows padded with pad, each cut to its last n_positions tokens). */
int al_rm_score_ids(al_model *rm, const int32_t *ids, const size_t *off, int n, int pad, float *rewards, al_err *err);

/* Saves rm as a GPT2ForSequenceClassification directory (pad_token_id = the
 * tokenizer's end-of-text, as the model directory writes it for every scalar
 * head; extra (may be NULL) adds keys to config.json). */
int al_rm_save(const al_model *rm, const al_tok *tok, const struct json_t *extra, const char *dir, al_err *err);
/* A reward model from a language model: the same trunk (copied) and a new
 * score.weight drawn from N(0, init_std) by seed. */
int al_rm_from_lm(al_model *rm, const al_model *lm, uint64_t seed, al_err *err);
/* Loads a reward model directory; one without score.weight (a language
 * model) is refused, saying so. */
int al_rm_load(al_model *rm, const char *dir, al_err *err);
#endif
