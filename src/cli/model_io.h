/* Loading a model directory with its tokenizer, and encoding prompts, for
 * the commands that run a model. */
#ifndef ALAB_CLI_MODEL_IO_H
#define ALAB_CLI_MODEL_IO_H
#include "alab/model.h"
#include "alab/tok.h"

int cli_load_model(const char *dir, al_model *m, al_tok **tok, al_err *err);
/* Encodes text (special tokens allowed) into a fresh array. */
int cli_encode(const al_tok *tok, const char *text, int32_t **ids, int *n, al_err *err);
#endif
