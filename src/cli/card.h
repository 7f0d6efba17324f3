/* The disclosure card of a training command (alab/model_card.h): started
 * with the base model, finished with the run's numbers and written into
 * the model directory. */
#ifndef ALAB_CLI_CARD_H
#define ALAB_CLI_CARD_H
#include "alab/model_card.h"
#include "alab/train.h"

/* A card for trainer ("alab sft") whose base model is init (NULL: random
 * initialisation); NULL with err filled when init has no readable weights. */
al_card *cli_card_start(const char *trainer, const char *init, al_err *err);
/* Adds each comma-separated data file of spec in role (a spec that is not a
 * file, such as story:N, as generated data). */
int cli_card_data(al_card *c, const char *role, const char *spec, long records, al_err *err);
/* Does dir hold a card? A resume of a finished run writes it only when it
 * does not (a kill between the last checkpoint and the card). */
int cli_card_exists(const char *dir);
/* The run's steps, time, losses, seed and threads (unknown when this call
 * trained nothing: a finished run resumed); writes the card into
 * tc->out_dir, keeping its evaluations when the run was resumed (the same
 * model), and frees the card. */
int cli_card_finish(al_card *c, const al_train_cfg *tc, const al_train_result *res, al_err *err);
#endif
