/* Model + tokenizer loading shared by sample, score and serve-like commands. */
#include <string.h>
#include "cli/model_io.h"

int cli_load_model(const char *dir, al_model *m, al_tok **tok, al_err *err) {
  return al_model_load_dir_tok(m, tok, dir, err);
}

int cli_load_model_tok(const char *model, const char *tokenizer, al_model *m, al_tok **tok, al_err *err) {
  return al_model_load_tok(m, tok, model, tokenizer, err);
}

int cli_encode_start(const al_tok *tok, const char *text, int32_t **ids, int *n, al_err *err) {
  size_t len = 0, cap = 0;
  *ids = NULL;
  /* sample's default prompt on a tokenizer whose start is its BOS (<s> has no "<|endoftext|>" text) */
  int bos_only = al_tok_bos(tok) >= 0 && al_tok_eot(tok) == al_tok_bos(tok) && !strcmp(text, "<|endoftext|>");
  if (al_tok_encode_start(tok, bos_only ? "" : text, bos_only ? 0 : strlen(text), 1, ids, &len, &cap, err) < 0)
    return -1;
  *n = (int)len;
  return 0;
}

int cli_encode(const al_tok *tok, const char *text, int32_t **ids, int *n, al_err *err) {
  size_t len = 0, cap = 0;
  *ids = NULL;
  if (al_tok_encode(tok, text, strlen(text), 1, ids, &len, &cap, err) < 0) return -1;
  *n = (int)len;
  return 0;
}
