/* Loading a model directory with its tokenizer, and encoding prompts, for
 * the commands that run a model. */
#ifndef ALAB_CLI_MODEL_IO_H
#define ALAB_CLI_MODEL_IO_H
#include "alab/model.h"
#include "alab/tok.h"

/* The --model and --tokenizer rows of the commands that open a model with cli_load_model_tok. */
#define CLI_FLAG_MODEL(ptr) {"model", FLAG_STRING, &(ptr), "model directory, or a llama2.c checkpoint file (model.bin)"}
#define CLI_FLAG_TOKENIZER(ptr)                                                                                    \
  {"tokenizer", FLAG_STRING, &(ptr), "tokenizer directory or file (tokenizer.json, llama2.c's tokenizer.bin); "   \
                                     "default: the model's, or tokenizer.bin beside a llama2.c file"}
int cli_load_model(const char *dir, al_model *m, al_tok **tok, al_err *err);
/* The same from a model directory or a llama2.c checkpoint file, with the
 * tokenizer from `tokenizer` (NULL: the model's own; al_model_load_tok). */
int cli_load_model_tok(const char *model, const char *tokenizer, al_model *m, al_tok **tok, al_err *err);
/* Encodes a whole text (a prompt) as the tokenizer does from its start: its
 * BOS first, if it has one (al_tok_encode_start). */
int cli_encode_start(const al_tok *tok, const char *text, int32_t **ids, int *n, al_err *err);
/* Encodes text (special tokens allowed) into a fresh array. */
int cli_encode(const al_tok *tok, const char *text, int32_t **ids, int *n, al_err *err);
#endif
