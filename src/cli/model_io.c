/* Model + tokenizer loading shared by sample, score and serve-like commands. */
#include <string.h>
#include "cli/model_io.h"

int cli_load_model(const char *dir, al_model *m, al_tok **tok, al_err *err) {
  return al_model_load_dir_tok(m, tok, dir, err);
}

int cli_encode(const al_tok *tok, const char *text, int32_t **ids, int *n, al_err *err) {
  size_t len = 0, cap = 0;
  *ids = NULL;
  if (al_tok_encode(tok, text, strlen(text), 1, ids, &len, &cap, err) < 0) return -1;
  *n = (int)len;
  return 0;
}
